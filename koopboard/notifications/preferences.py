"""Who wants which notification how: reads for the delivery core, writes for the settings page.

The reads (``mode_for``, ``settings_for``) never write; the writes leave the commit to the
caller (the view), so one form is one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from koopboard.domain.catalog import Role
from koopboard.domain.notifications import (
    URGENCY,
    DeliveryMode,
    EventGroup,
    EventType,
    default_mode,
)
from koopboard.extensions import db
from koopboard.models import Cooperation, Membership, NotificationPreference, NotificationSettings

# The settings page's choice "as preset for your role": no stored row.
DEFAULT_CHOICE = "default"
ROLE_ORDER = [Role.LEAD, Role.TREASURER, Role.MEMBER, Role.OBSERVER]
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


def modes_for(
    user_ids: list[int], event_type: str, cooperation_id: int, *, concerning: int | None = None
) -> dict[int, str]:
    """ "immediate", "digest" or "off" for each user, in three queries (an event may reach
    hundreds): paused > cooperation override > general row > the default of their roles in
    the cooperation (the most immediate of them; without a role: immediate). The person an
    event is about (``concerning``: a role was given to them) hears of it at once unless
    they chose otherwise."""
    if not user_ids:
        return {}
    paused = set(
        db.session.scalars(
            select(NotificationSettings.user_id).where(
                NotificationSettings.user_id.in_(user_ids), NotificationSettings.paused.is_(True)
            )
        )
    )
    general: dict[int, str] = {}
    override: dict[int, str] = {}
    rows = db.session.execute(
        select(
            NotificationPreference.user_id,
            NotificationPreference.cooperation_id,
            NotificationPreference.mode,
        ).where(
            NotificationPreference.user_id.in_(user_ids),
            NotificationPreference.event_type == event_type,
            (NotificationPreference.cooperation_id == cooperation_id)
            | NotificationPreference.cooperation_id.is_(None),
        )
    )
    for user_id, coop_id, mode in rows:
        (general if coop_id is None else override)[user_id] = mode
    roles: dict[int, list[Role]] = defaultdict(list)
    for user_id, role in db.session.execute(
        select(Membership.user_id, Membership.role).where(
            Membership.cooperation_id == cooperation_id, Membership.user_id.in_(user_ids)
        )
    ):
        roles[user_id].append(role)

    def preset(user_id: int) -> str:
        if user_id == concerning:
            return DeliveryMode.IMMEDIATE.value
        return default_mode(roles[user_id], event_type).value

    return {
        u: DeliveryMode.OFF.value if u in paused else override.get(u) or general.get(u) or preset(u)
        for u in user_ids
    }


def mode_for(user_id: int, event_type: str, cooperation_id: int) -> str:
    """One user's mode for one event type in one cooperation (see ``modes_for``)."""
    return modes_for([user_id], event_type, cooperation_id)[user_id]


def general_modes(user_id: int) -> dict[str, str]:
    """Every event type with the user's general choice, or "default" where they chose none."""
    rows = db.session.execute(
        select(NotificationPreference.event_type, NotificationPreference.mode).where(
            NotificationPreference.user_id == user_id,
            NotificationPreference.cooperation_id.is_(None),
        )
    ).all()
    stored = dict(rows)
    return {e.value: stored.get(e.value, DEFAULT_CHOICE) for e in EventType}


@dataclass(frozen=True)
class RoleDefault:
    """What one event group gets without a choice, and in which cooperations (by role)."""

    mode: str
    where: tuple[tuple[str, str], ...]  # (cooperation title, role key), by title


def role_defaults(user_id: int) -> dict[EventGroup, list[RoleDefault]]:
    """Per event group the defaults of the user's roles, one entry per distinct mode
    (one query). A user without a role gets everything at once (only personal mail)."""
    rows = db.session.execute(
        select(Cooperation.id, Cooperation.title, Membership.role)
        .join(Membership, Membership.cooperation_id == Cooperation.id)
        .where(Membership.user_id == user_id)
        .order_by(Cooperation.title, Cooperation.id)
    ).all()
    by_coop: dict[int, tuple[str, list[Role]]] = {}
    for coop_id, title, role in rows:
        by_coop.setdefault(coop_id, (title, []))[1].append(role)
    result: dict[EventGroup, list[RoleDefault]] = {}
    for group in EventGroup:
        first_type = group.event_types[0].value
        modes: dict[str, list[tuple[str, str]]] = {}
        for title, coop_roles in by_coop.values():
            mode = default_mode(coop_roles, first_type).value
            role = min(coop_roles, key=lambda r: ROLE_ORDER.index(r))
            modes.setdefault(mode, []).append((title, role.value))
        if not modes:
            modes[default_mode([], first_type).value] = []
        result[group] = [
            RoleDefault(mode, tuple(modes[mode]))
            for mode in sorted(modes, key=lambda m: URGENCY.index(DeliveryMode(m)))
        ]
    return result


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
    """Validate every (event type, choice) pair before anything is written; a choice is a
    mode or "default" (the role's preset)."""
    return {
        check_event_type(e): m if m == DEFAULT_CHOICE else check_mode(m) for e, m in modes.items()
    }


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


def _clear_mode(user_id: int, event_type: str) -> None:
    """Back to the role's preset: the general row goes (its removal is in the history)."""
    row = db.session.scalar(
        select(NotificationPreference).where(
            NotificationPreference.user_id == user_id,
            NotificationPreference.event_type == event_type,
            NotificationPreference.cooperation_id.is_(None),
        )
    )
    if row is not None:
        db.session.delete(row)


def save_settings(
    user_id: int,
    *,
    modes: Mapping[str, str],
    digest_days: Iterable[int],
    digest_hour: int,
    paused: bool,
) -> None:
    """Store the general modes ("default": back to the role's preset), the digest schedule
    and the pause switch (caller commits). An explicit mode is kept as chosen, even where it
    equals today's preset: a later change of role does not change it."""
    modes = check_modes(modes)
    days = sorted(set(digest_days))
    if any(d < 1 or d > 7 for d in days):
        raise PreferenceError(_("Bitte wählen Sie Wochentage aus der Liste."))
    if not 0 <= digest_hour <= 23:
        raise PreferenceError(_("Die Uhrzeit muss zwischen 0 und 23 liegen."))
    current = general_modes(user_id)
    for event_type, mode in modes.items():
        if current[event_type] == mode:
            continue
        if mode == DEFAULT_CHOICE:
            _clear_mode(user_id, event_type)
        else:
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
