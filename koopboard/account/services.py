"""What KoopBoard stores about one person, gathered for the Auskunft nach Art. 15 DSGVO.

One query per kind of data, however much there is. Other people appear only as far as the
person's own records need them: cooperation titles, yes; the names and e-mail addresses of
people they invited or gave a role, no (``_OTHER_PERSON``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from koopboard.cooperations.history_labels import history_field, history_value
from koopboard.cooperations.services import history_names
from koopboard.domain.notifications import DeliveryMode, EventType
from koopboard.extensions import db
from koopboard.i18n import quote
from koopboard.models import (
    AccountToken,
    CalendarFeed,
    Cooperation,
    HistoryEntry,
    LoginSession,
    Membership,
    NotificationDelivery,
    NotificationEvent,
    NotificationPreference,
    NotificationSettings,
    User,
)
from koopboard.models.types import utcnow
from koopboard.notifications import inbox

# Records that describe a person: in entries the user wrote about someone else, the label
# and these fields name that other person, so the export leaves them out.
_PERSON_RECORDS = frozenset({"User", "Membership", "AccountToken", "LoginSession"})
_PERSON_FIELDS = frozenset({"email", "name", "user_id", "created_by_id"})
_WEEKDAYS = (
    _l("Montag"),
    _l("Dienstag"),
    _l("Mittwoch"),
    _l("Donnerstag"),
    _l("Freitag"),
    _l("Samstag"),
    _l("Sonntag"),
)
_DAY_KEYS = frozenset(str(n) for n in range(1, 8))


@dataclass(frozen=True)
class Profile:
    name: str
    email: str
    municipality: str | None
    ags: str | None
    is_admin: bool
    is_active: bool
    locale: str | None
    created_at: datetime


@dataclass(frozen=True)
class RoleRow:
    cooperation: str
    role: str
    since: datetime


@dataclass(frozen=True)
class PreferenceRow:
    event_type: str
    mode: str
    cooperation: str | None


@dataclass(frozen=True)
class NotificationSettingsData:
    digest_days: list[str]
    digest_hour: int
    paused: bool
    stored: bool  # False: the defaults apply, nothing is stored


@dataclass(frozen=True)
class NotificationRow:
    created_at: datetime
    event_type: str
    cooperation: str
    content: str
    mode: str
    status: str
    sent_at: datetime | None
    read_at: datetime | None


@dataclass(frozen=True)
class SessionRow:
    signed_in_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class LinkRow:
    purpose: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True)
class CalendarRow:
    created_at: datetime
    rotated_at: datetime | None


@dataclass(frozen=True)
class HistoryRow:
    created_at: datetime
    cooperation: str | None
    record: str
    action: str
    field: str
    old_value: str
    new_value: str


@dataclass(frozen=True)
class PersonalData:
    """Everything stored about one person, ready to show or to serialise."""

    generated_at: datetime
    profile: Profile
    roles: list[RoleRow]
    notification_settings: NotificationSettingsData
    preferences: list[PreferenceRow]
    notifications: list[NotificationRow]
    sessions: list[SessionRow]
    links: list[LinkRow]
    calendar: CalendarRow | None
    account_history: list[HistoryRow] = field(default_factory=list)
    history: list[HistoryRow] = field(default_factory=list)


def roles_of(user: User) -> list[tuple[Cooperation, Membership]]:
    """The user's roles with their cooperations, by title (one query)."""
    rows = db.session.execute(
        select(Cooperation, Membership)
        .join(Membership, Membership.cooperation_id == Cooperation.id)
        .where(Membership.user_id == user.id)
        .order_by(Cooperation.title, Cooperation.id)
    ).all()
    return [(cooperation, membership) for cooperation, membership in rows]


def _label(enum_cls: type, value: str) -> str:
    try:
        return _(enum_cls(value).label)
    except ValueError:
        return value


_STATUS = {
    "pending": _l("wartet auf Versand"),
    "sending": _l("wird versendet"),
    "sent": _l("per E-Mail versendet"),
    "failed": _l("Versand fehlgeschlagen"),
    "digested": _l("in einer Sammel-E-Mail"),
    "skipped": _l("keine E-Mail (abbestellt)"),
}


def _status(value: str) -> str:
    return str(_STATUS.get(value, value))


def _notification_settings(user: User) -> NotificationSettingsData:
    row = db.session.scalar(
        select(NotificationSettings).where(NotificationSettings.user_id == user.id)
    )
    days = (row.digest_days if row else "1,2,3,4,5").split(",")
    return NotificationSettingsData(
        digest_days=[str(_WEEKDAYS[int(d) - 1]) for d in days if d.strip() in _DAY_KEYS],
        digest_hour=row.digest_hour if row else 7,
        paused=bool(row.paused) if row else False,
        stored=row is not None,
    )


def _preferences(user: User) -> list[PreferenceRow]:
    rows = db.session.execute(
        select(NotificationPreference, Cooperation.title)
        .outerjoin(Cooperation, Cooperation.id == NotificationPreference.cooperation_id)
        .where(NotificationPreference.user_id == user.id)
        .order_by(NotificationPreference.cooperation_id.is_not(None), Cooperation.title)
        .order_by(NotificationPreference.event_type)
    ).all()
    return [
        PreferenceRow(_label(EventType, p.event_type), _label(DeliveryMode, p.mode), title)
        for p, title in rows
    ]


def _notifications(user: User) -> list[NotificationRow]:
    rows = db.session.execute(
        select(NotificationDelivery, NotificationEvent, Cooperation.title)
        .join(NotificationEvent, NotificationEvent.id == NotificationDelivery.event_id)
        .join(Cooperation, Cooperation.id == NotificationEvent.cooperation_id)
        .where(NotificationDelivery.user_id == user.id)
        .order_by(NotificationEvent.created_at.desc(), NotificationDelivery.id.desc())
    ).all()
    return [
        NotificationRow(
            created_at=event.created_at,
            event_type=_label(EventType, event.event_type),
            cooperation=title,
            content=inbox.describe(event),
            mode=_label(DeliveryMode, delivery.mode),
            status=_status(delivery.status),
            sent_at=delivery.sent_at,
            read_at=delivery.read_at,
        )
        for delivery, event, title in rows
    ]


def _sessions(user: User) -> list[SessionRow]:
    rows = db.session.scalars(
        select(LoginSession)
        .where(LoginSession.user_id == user.id)
        .order_by(LoginSession.created_at.desc())
    )
    return [SessionRow(row.created_at, row.revoked_at) for row in rows]


def _links(user: User) -> list[LinkRow]:
    """Invitation and password-reset links sent to the person (not those they sent)."""
    rows = db.session.scalars(
        select(AccountToken)
        .where(or_(AccountToken.user_id == user.id, AccountToken.email == user.email))
        .order_by(AccountToken.created_at.desc())
    )
    purposes = {
        "invite": _("Einladung"),
        "coop": _("Einladung in eine Kooperation"),
        "reset": _("Passwort zurücksetzen"),
    }
    return [
        LinkRow(purposes.get(row.purpose, row.purpose), row.created_at, row.expires_at, row.used_at)
        for row in rows
    ]


def _calendar(user: User) -> CalendarRow | None:
    row = db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    return CalendarRow(row.created_at, row.rotated_at) if row else None


def _history_row(
    entry: HistoryEntry, title: str | None, names: dict[tuple[str, str], str], *, own_record: bool
) -> HistoryRow:
    # The same words as the cooperation's history table (its template filters, and the
    # names of the responsible municipality and person instead of their numbers).
    filters = current_app.jinja_env.filters
    about_someone_else = entry.record_type in _PERSON_RECORDS and not own_record
    hidden = _("(Angaben zu einer anderen Person ausgelassen)")
    label = hidden if about_someone_else else entry.record_label
    old, new = entry.old_value, entry.new_value
    if about_someone_else and entry.field in _PERSON_FIELDS:
        old = new = hidden if (old or new) else None
    return HistoryRow(
        created_at=entry.created_at,
        cooperation=title,
        record=f"{filters['record_type_label'](entry.record_type)} {quote(label)}",
        action=filters["history_action_label"](entry.action),
        field=history_field(entry.record_type, entry.field),
        old_value=names.get((entry.field, old or ""))
        or history_value(entry.record_type, entry.field, old),
        new_value=names.get((entry.field, new or ""))
        or history_value(entry.record_type, entry.field, new),
    )


def _history(user: User) -> list[HistoryRow]:
    """Every change the person made, in every cooperation (also ones they have left)."""
    rows = db.session.execute(
        select(HistoryEntry, Cooperation.title)
        .outerjoin(Cooperation, Cooperation.id == HistoryEntry.cooperation_id)
        .where(HistoryEntry.actor_id == user.id)
        .order_by(HistoryEntry.id.desc())
    ).all()
    names = history_names([entry for entry, _title in rows])
    return [
        _history_row(
            entry,
            title,
            names,
            own_record=entry.record_type == "User" and entry.record_id == user.id,
        )
        for entry, title in rows
    ]


def _account_history(user: User) -> list[HistoryRow]:
    """Changes to the account itself (created, password changed), whoever made them."""
    rows = db.session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.record_type == "User", HistoryEntry.record_id == user.id)
        .order_by(HistoryEntry.id.desc())
    ).all()
    return [_history_row(entry, None, {}, own_record=True) for entry in rows]


def personal_data(user: User) -> PersonalData:
    """Everything KoopBoard stores about ``user`` (a constant number of queries)."""
    municipality = user.municipality
    return PersonalData(
        generated_at=utcnow(),
        profile=Profile(
            name=user.name,
            email=user.email,
            municipality=municipality.name if municipality else None,
            ags=municipality.ags if municipality else None,
            is_admin=user.is_admin,
            is_active=user.is_active_account,
            locale=user.locale,
            created_at=user.created_at,
        ),
        roles=[
            RoleRow(cooperation.title, _(membership.role.label), membership.created_at)
            for cooperation, membership in roles_of(user)
        ],
        notification_settings=_notification_settings(user),
        preferences=_preferences(user),
        notifications=_notifications(user),
        sessions=_sessions(user),
        links=_links(user),
        calendar=_calendar(user),
        account_history=_account_history(user),
        history=_history(user),
    )
