"""Who wants which notification how: reads for the delivery core, writes for the settings page.

The reads (``mode_for``, ``settings_for``) never write; the writes leave the commit to the
caller (the view), so one form is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from koopboard.domain.notifications import DeliveryMode, EventType
from koopboard.extensions import db
from koopboard.models import Cooperation, Membership, NotificationPreference, NotificationSettings

DEFAULT_MODE = DeliveryMode.IMMEDIATE.value
DEFAULT_DIGEST_DAYS = "1,2,3,4,5"
DEFAULT_DIGEST_HOUR = 7
EVENT_TYPES = frozenset(e.value for e in EventType)
MODES = frozenset(m.value for m in DeliveryMode)


class PreferenceError(ValueError):
    """A German message for the user: the posted preferences make no sense."""


@dataclass(frozen=True)
class Override:
    """One per-cooperation exception, as the settings page lists it."""

    id: int
    cooperation_id: int
    cooperation_title: str
    event_type: str
    mode: str


def settings_for(user_id: int) -> NotificationSettings:
    """The user's settings row, or a transient default (not added to the session)."""
    row = db.session.scalar(
        select(NotificationSettings).where(NotificationSettings.user_id == user_id)
    )
    if row is not None:
        return row
    return NotificationSettings(
        user_id=user_id,
        digest_days=DEFAULT_DIGEST_DAYS,
        digest_hour=DEFAULT_DIGEST_HOUR,
        paused=False,
    )


def mode_for(user_id: int, event_type: str, cooperation_id: int) -> str:
    """ "immediate", "digest" or "off": paused > cooperation override > general row > default."""
    if settings_for(user_id).paused:
        return DeliveryMode.OFF.value
    rows = db.session.execute(
        select(NotificationPreference.cooperation_id, NotificationPreference.mode).where(
            NotificationPreference.user_id == user_id,
            NotificationPreference.event_type == event_type,
            (NotificationPreference.cooperation_id == cooperation_id)
            | NotificationPreference.cooperation_id.is_(None),
        )
    ).all()
    by_scope = dict(rows)
    return by_scope.get(cooperation_id) or by_scope.get(None) or DEFAULT_MODE


def general_modes(user_id: int) -> dict[str, str]:
    """Every event type with the user's general mode (default filled in)."""
    rows = db.session.execute(
        select(NotificationPreference.event_type, NotificationPreference.mode).where(
            NotificationPreference.user_id == user_id,
            NotificationPreference.cooperation_id.is_(None),
        )
    ).all()
    stored = dict(rows)
    return {e.value: stored.get(e.value, DEFAULT_MODE) for e in EventType}


def overrides_of(user_id: int) -> list[Override]:
    """The user's per-cooperation exceptions, by cooperation title and event type."""
    rows = db.session.execute(
        select(NotificationPreference, Cooperation.title)
        .join(Cooperation, Cooperation.id == NotificationPreference.cooperation_id)
        .where(NotificationPreference.user_id == user_id)
        .order_by(Cooperation.title, NotificationPreference.event_type)
    ).all()
    return [Override(p.id, p.cooperation_id, title, p.event_type, p.mode) for p, title in rows]


def cooperations_of(user_id: int) -> list[tuple[int, str]]:
    """(id, title) of every cooperation the user has a role in: the override choices."""
    rows = db.session.execute(
        select(Cooperation.id, Cooperation.title)
        .join(Membership, Membership.cooperation_id == Cooperation.id)
        .where(Membership.user_id == user_id)
        .order_by(Cooperation.title)
    ).all()
    return [(cid, title) for cid, title in rows]


def check_mode(mode: str) -> str:
    """The mode if known, else a PreferenceError."""
    if mode not in MODES:
        raise PreferenceError(_("Unbekannte Zustellart „%(m)s“.", m=mode))
    return mode


def check_event_type(event_type: str) -> str:
    """The event type if known, else a PreferenceError."""
    if event_type not in EVENT_TYPES:
        raise PreferenceError(_("Unbekannte Art von Benachrichtigung „%(e)s“.", e=event_type))
    return event_type


def check_modes(modes: Mapping[str, str]) -> dict[str, str]:
    """Validate every (event type, mode) pair before anything is written."""
    return {check_event_type(e): check_mode(m) for e, m in modes.items()}


def _settings_row(user_id: int) -> NotificationSettings:
    row = settings_for(user_id)
    if row.id is None:
        db.session.add(row)
    return row


def _set_mode(user_id: int, event_type: str, mode: str, cooperation_id: int | None) -> None:
    row = db.session.scalar(
        select(NotificationPreference).where(
            NotificationPreference.user_id == user_id,
            NotificationPreference.event_type == event_type,
            NotificationPreference.cooperation_id.is_(None)
            if cooperation_id is None
            else NotificationPreference.cooperation_id == cooperation_id,
        )
    )
    if row is None:
        db.session.add(
            NotificationPreference(
                user_id=user_id, event_type=event_type, cooperation_id=cooperation_id, mode=mode
            )
        )
    elif row.mode != mode:
        row.mode = mode


def save_settings(
    user_id: int,
    *,
    modes: Mapping[str, str],
    digest_days: Iterable[int],
    digest_hour: int,
    paused: bool,
) -> None:
    """Store the general modes, the digest schedule and the pause switch (caller commits)."""
    modes = check_modes(modes)
    days = sorted(set(digest_days))
    if any(d < 1 or d > 7 for d in days):
        raise PreferenceError(_("Bitte wählen Sie Wochentage aus der Liste."))
    if not 0 <= digest_hour <= 23:
        raise PreferenceError(_("Die Uhrzeit muss zwischen 0 und 23 liegen."))
    current = general_modes(user_id)
    for event_type, mode in modes.items():
        if current[event_type] != mode:
            _set_mode(user_id, event_type, mode, None)
    row = _settings_row(user_id)
    row.digest_days = ",".join(str(d) for d in days)
    row.digest_hour = digest_hour
    row.paused = paused


def set_general_mode(user_id: int, event_type: str, mode: str) -> None:
    """One general mode (the unsubscribe link sets "off"); caller commits."""
    _set_mode(user_id, check_event_type(event_type), check_mode(mode), None)


def set_override(user_id: int, cooperation_id: int, event_type: str, mode: str) -> None:
    """Add or change the exception for one cooperation; only one the user has a role in."""
    check_event_type(event_type)
    check_mode(mode)
    if cooperation_id not in {cid for cid, _t in cooperations_of(user_id)}:
        raise PreferenceError(_("Bitte wählen Sie eine Ihrer Kooperationen."))
    _set_mode(user_id, event_type, mode, cooperation_id)


def remove_override(user_id: int, preference_id: int) -> bool:
    """Delete one of the user's exceptions; False if it is not theirs (or not an override)."""
    row = db.session.get(NotificationPreference, preference_id)
    if row is None or row.user_id != user_id or row.cooperation_id is None:
        return False
    db.session.delete(row)
    return True
