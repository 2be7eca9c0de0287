"""The in-app list: a user's deliveries, newest first, only while they hold a role.

A user who lost their role in a cooperation no longer sees its events (the same rule as
every page of the cooperation), and cannot mark them read either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import Select, case, func, or_, select, update
from sqlalchemy.orm import aliased

from koopboard.domain.catalog import Role
from koopboard.domain.milestones import BERLIN, MilestoneStatus
from koopboard.domain.notifications import PERSONAL_EVENT_TYPES, EventType
from koopboard.extensions import db
from koopboard.i18n import format_day, format_money, quote
from koopboard.models import (
    Cooperation,
    Membership,
    Municipality,
    NotificationDelivery,
    NotificationEvent,
    User,
)
from koopboard.models.types import utcnow
from koopboard.notifications.delivery.rendering import content_deleted, took_role_themselves
from koopboard.notifications.delivery.rendering import describe as mail_sentence

PAGE_SIZE = 20
BELL_SIZE = 5


@dataclass(frozen=True)
class Item:
    """One entry of the feed, ready to show: who did what, where and when."""

    id: int
    label: str
    cooperation_id: int
    cooperation_title: str
    sentence: str  # "Petra Lehnert (Merchweiler) hat … geändert"
    created_at: datetime
    url: str
    unread: bool

    @property
    def day(self) -> date:
        return self.created_at.astimezone(BERLIN).date()


@dataclass(frozen=True)
class Day:
    day: date
    items: list[Item]


@dataclass(frozen=True)
class Page:
    items: list[Item]
    number: int
    has_next: bool
    unread: int = 0  # of the whole feed (in the chosen cooperation), not only this page
    cooperation_id: int | None = None

    @property
    def days(self) -> list[Day]:
        """The entries grouped by their day in Europe/Berlin, newest first."""
        days: list[Day] = []
        for item in self.items:
            if not days or days[-1].day != item.day:
                days.append(Day(item.day, []))
            days[-1].items.append(item)
        return days


@dataclass(frozen=True)
class Bell:
    """The header's preview: the newest entries and how many are unread."""

    unread: int
    items: list[Item]


def _visible(user_id: int) -> Select:
    """The user's deliveries of cooperations they still have a role in, and those
    addressed to them personally (a join request's answer reaches a municipality without one)."""
    return (
        select(NotificationDelivery.id)
        .join(NotificationEvent, NotificationEvent.id == NotificationDelivery.event_id)
        .outerjoin(
            Membership,
            (Membership.cooperation_id == NotificationEvent.cooperation_id)
            & (Membership.user_id == user_id),
        )
        .where(NotificationDelivery.user_id == user_id, _role_or_personal())
    )


def _role_or_personal():  # noqa: ANN202
    return or_(Membership.id.is_not(None), NotificationEvent.event_type.in_(PERSONAL_EVENT_TYPES))


def unread_count(user_id: int, cooperation_id: int | None = None) -> int:
    """How many visible deliveries the user has not read (one COUNT query)."""
    query = _visible(user_id).where(NotificationDelivery.read_at.is_(None))
    if cooperation_id is not None:
        query = query.where(NotificationEvent.cooperation_id == cooperation_id)
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


_Actor = aliased(User)
_ActorTown = aliased(Municipality)


def _entries(user_id: int) -> Select:
    """Visible deliveries with their event, cooperation, actor and the actor's municipality,
    and (a window over all of them, before any LIMIT) how many are unread: one query."""
    unread = func.sum(case((NotificationDelivery.read_at.is_(None), 1), else_=0)).over()
    return (
        select(
            NotificationDelivery.id,
            NotificationDelivery.read_at,
            NotificationEvent,
            Cooperation.title,
            _Actor.name,
            _ActorTown.name,
            unread,
        )
        .join(NotificationEvent, NotificationEvent.id == NotificationDelivery.event_id)
        .join(Cooperation, Cooperation.id == NotificationEvent.cooperation_id)
        .outerjoin(
            Membership,
            (Membership.cooperation_id == Cooperation.id) & (Membership.user_id == user_id),
        )
        .outerjoin(_Actor, _Actor.id == NotificationEvent.actor_id)
        .outerjoin(_ActorTown, _ActorTown.id == _Actor.municipality_id)
        .where(NotificationDelivery.user_id == user_id, _role_or_personal())
        .order_by(NotificationEvent.created_at.desc(), NotificationDelivery.id.desc())
    )


def _item(row: Any) -> Item:
    delivery_id, read_at, event, title, actor, town, _unread = row
    who = None
    if actor:
        who = _("%(name)s (%(town)s)", name=actor, town=town) if town else actor
    return Item(
        id=delivery_id,
        label=_label(event.event_type),
        cooperation_id=event.cooperation_id,
        cooperation_title=title,
        sentence=sentence(event, who),
        created_at=event.created_at,
        url=_url(event),
        unread=read_at is None,
    )


def page_of(user_id: int, number: int, cooperation_id: int | None = None) -> Page:
    """One page of the feed, newest first, optionally of one cooperation: one query (a
    second only for a page past the end, to still say how many are unread)."""
    number = max(number, 1)
    query = _entries(user_id)
    if cooperation_id is not None:
        query = query.where(NotificationEvent.cooperation_id == cooperation_id)
    rows = db.session.execute(query.limit(PAGE_SIZE + 1).offset((number - 1) * PAGE_SIZE)).all()
    unread = int(rows[0][-1] or 0) if rows else 0
    if not rows and number > 1:
        unread = unread_count(user_id, cooperation_id)
    return Page(
        items=[_item(row) for row in rows[:PAGE_SIZE]],
        number=number,
        has_next=len(rows) > PAGE_SIZE,
        unread=unread,
        cooperation_id=cooperation_id,
    )


def bell_of(user_id: int) -> Bell:
    """The newest few entries and the unread count, in one query (every page shows it)."""
    rows = db.session.execute(_entries(user_id).limit(BELL_SIZE)).all()
    return Bell(unread=int(rows[0][-1] or 0) if rows else 0, items=[_item(r) for r in rows])


def unread_of(user_id: int, limit: int) -> Bell:
    """The newest ``limit`` unread entries and how many are unread, in one query."""
    unread = _entries(user_id).where(NotificationDelivery.read_at.is_(None))
    rows = db.session.execute(unread.limit(limit)).all()
    return Bell(unread=int(rows[0][-1] or 0) if rows else 0, items=[_item(r) for r in rows])


def item_of(user_id: int, delivery_id: int) -> Item | None:
    """One visible delivery of the user, or None (another user's, or no role any more)."""
    row = db.session.execute(
        _entries(user_id).where(NotificationDelivery.id == delivery_id)
    ).first()
    return None if row is None else _item(row)


def _status(value: object) -> str:
    if value is None:
        return "–"
    try:
        return _(MilestoneStatus(value).label)
    except ValueError:
        return str(value)


def _date(value: object) -> str:
    try:
        return format_day(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def describe(event: NotificationEvent) -> str:
    """What happened, in words, from the event's payload alone (no one's name: the copy of
    one's own data leaves other people out)."""
    if event.content_deleted_at is not None:
        return content_deleted()
    payload = event.payload or {}
    title = payload.get("title")
    if event.event_type == EventType.PAYMENT_BOOKED and "municipality" in payload:
        title = f"{payload['municipality']}: {format_money(Decimal(payload['amount']))}"
    text = quote(title) if title else ""
    if event.event_type == EventType.MILESTONE_STATUS_CHANGED and "new" in payload:
        change = _(
            "Status: %(old)s → %(new)s",
            old=_status(payload.get("old")),
            new=_status(payload["new"]),
        )
    elif event.event_type == EventType.MILESTONE_DUE_DATE_CHANGED and "new" in payload:
        change = _(
            "fällig: %(old)s → %(new)s", old=_date(payload.get("old")), new=_date(payload["new"])
        )
    elif "due_date" in payload:
        change = _("fällig am %(d)s", d=_date(payload["due_date"]))
    elif event.event_type == EventType.COST_REJECTED and payload.get("reason"):
        change = _("Grund: %(r)s", r=payload["reason"])
    elif event.event_type in PERSONAL_EVENT_TYPES:
        change = mail_sentence(event)
    else:
        change = ""
    return " – ".join(part for part in (text, change) if part)


def _money(value: object) -> str:
    try:
        return format_money(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value or "")


def _role(value: object) -> str:
    try:
        return _(Role(value).label)
    except ValueError:
        return str(value or "")


def sentence(event: NotificationEvent, who: str | None) -> str:
    """Who did what, in one sentence of the feed: "Petra Lehnert (Merchweiler) hat den
    Status des Meilensteins „…“ von „geplant“ auf „erledigt“ geändert". ``who`` is None
    for what nobody did (a date alert) or whose actor is gone: then what happened."""
    if event.content_deleted_at is not None:  # past the retention period: no content left
        return content_deleted()
    p = event.payload or {}
    if took_role_themselves(event):
        p = {**p, "accepted": True}
    kind = event.event_type
    t = quote(p.get("title", ""))
    k = quote(p.get("municipality", ""))
    if who:
        by_actor = _with_actor(kind, p, who, t, k)
        if by_actor:
            return by_actor
    return _without_actor(event, kind, p, t, k)


def _with_actor(kind: str, p: dict, a: str, t: str, k: str) -> str | None:  # noqa: PLR0911
    if kind == EventType.MILESTONE_CREATED:
        return _(
            "%(a)s hat den Meilenstein %(t)s angelegt, fällig am %(d)s",
            a=a,
            t=t,
            d=_date(p.get("due_date")),
        )
    if kind == EventType.MILESTONE_STATUS_CHANGED and "new" in p:
        return _(
            "%(a)s hat den Status des Meilensteins %(t)s von %(o)s auf %(n)s geändert",
            a=a,
            t=t,
            o=quote(_status(p.get("old"))),
            n=quote(_status(p.get("new"))),
        )
    if kind == EventType.MILESTONE_DUE_DATE_CHANGED and "new" in p:
        return _(
            "%(a)s hat die Fälligkeit des Meilensteins %(t)s vom %(o)s auf den %(n)s verschoben",
            a=a,
            t=t,
            o=_date(p.get("old")),
            n=_date(p.get("new")),
        )
    if kind == EventType.COST_SUBMITTED:
        return _(
            "%(a)s hat die Kosten %(t)s über %(m)s zur Freigabe eingereicht",
            a=a,
            t=t,
            m=_money(p.get("amount")),
        )
    if kind == EventType.COST_APPROVED:
        return _(
            "%(a)s hat die Kosten %(t)s über %(m)s freigegeben", a=a, t=t, m=_money(p.get("amount"))
        )
    if kind == EventType.COST_REJECTED:
        return _(
            "%(a)s hat die Kosten %(t)s über %(m)s abgelehnt – Grund: %(r)s",
            a=a,
            t=t,
            m=_money(p.get("amount")),
            r=p.get("reason", ""),
        )
    if kind == EventType.PAYMENT_BOOKED and "municipality" in p:
        return _(
            "%(a)s hat eine Zahlung von %(k)s über %(m)s gebucht",
            a=a,
            k=p["municipality"],
            m=_money(p.get("amount")),
        )
    if kind == EventType.PARTNER_JOINED:
        return _(
            "%(a)s hat die Kommune %(k)s aufgenommen, Beitritt am %(d)s",
            a=a,
            k=k,
            d=_date(p.get("joined_on")),
        )
    if kind == EventType.PARTNER_LEFT:
        return _(
            "%(a)s hat den Austritt der Kommune %(k)s zum %(d)s eingetragen",
            a=a,
            k=k,
            d=_date(p.get("left_on")),
        )
    if kind == EventType.ROLE_GRANTED and p.get("accepted"):  # the person took it themselves
        return _(
            "%(a)s hat die Einladung angenommen und hat jetzt die Rolle %(r)s",
            a=a,
            r=quote(_role(p.get("role"))),
        )
    if kind == EventType.ROLE_GRANTED:
        return _(
            "%(a)s hat %(u)s die Rolle %(r)s gegeben",
            a=a,
            u=p.get("user", ""),
            r=quote(_role(p.get("role"))),
        )
    if kind == EventType.INVITATION_OFFERED:
        return _(
            "%(a)s hat Sie als %(r)s für die Kommune %(k)s in die Kooperation eingeladen",
            a=a,
            r=quote(_role(p.get("role"))),
            k=p.get("for_municipality", ""),
        )
    if kind == EventType.INVITATION_WITHDRAWN:
        return _(
            "%(a)s hat die Einladung als %(r)s für die Kommune %(k)s zurückgezogen",
            a=a,
            r=quote(_role(p.get("role"))),
            k=p.get("for_municipality", ""),
        )
    if kind == EventType.INVITATION_ACCOUNT:
        return _(
            "%(a)s hat auf Einladung von %(i)s ein Konto für Ihre Kommune angelegt und hat in "
            "der Kooperation die Rolle %(r)s",
            a=a,
            i=p.get("inviter", ""),
            r=quote(_role(p.get("role"))),
        )
    if kind == EventType.JOIN_REQUEST:
        return _join_request(p, a, p.get("municipality", ""))
    if kind == EventType.DIRECTORY_CONTACT:
        return _(
            "%(a)s hat Ihnen über die Kooperationsbörse geschrieben (%(e)s): %(t)s",
            a=a,
            e=p.get("email", ""),
            t=p.get("message", ""),
        )
    return None


def _join_request(p: dict, a: str, m: str) -> str:
    step = p.get("step")
    if step == "accepted":
        return _(
            "%(a)s hat die Beitrittsanfrage von %(m)s angenommen, Beitritt am %(d)s",
            a=a,
            m=m,
            d=_date(p.get("joined_on")),
        )
    if step == "declined":
        return _(
            "%(a)s hat die Beitrittsanfrage von %(m)s abgelehnt – Begründung: %(r)s",
            a=a,
            m=m,
            r=p.get("reason", ""),
        )
    if step == "withdrawn":
        return _("%(a)s hat die Beitrittsanfrage von %(m)s zurückgezogen", a=a, m=m)
    return _(
        "%(a)s hat für %(m)s den Beitritt zum %(d)s angefragt – Nachricht: %(t)s",
        a=a,
        m=m,
        d=_date(p.get("intended_join_on")),
        t=p.get("message", ""),
    )


def _without_actor(event: NotificationEvent, kind: str, p: dict, t: str, k: str) -> str:  # noqa: PLR0911
    if kind == EventType.MILESTONE_DUE_SOON:
        return _("Der Meilenstein %(t)s ist am %(d)s fällig", t=t, d=_date(p.get("due_date")))
    if kind == EventType.MILESTONE_OVERDUE:
        return _(
            "Der Meilenstein %(t)s ist seit dem %(d)s überfällig", t=t, d=_date(p.get("due_date"))
        )
    if kind == EventType.MILESTONE_CREATED:
        return _("Neuer Meilenstein %(t)s, fällig am %(d)s", t=t, d=_date(p.get("due_date")))
    if kind == EventType.MILESTONE_STATUS_CHANGED and "new" in p:
        return _(
            "Der Status des Meilensteins %(t)s wurde von %(o)s auf %(n)s geändert",
            t=t,
            o=quote(_status(p.get("old"))),
            n=quote(_status(p.get("new"))),
        )
    if kind == EventType.PARTNER_JOINED:
        return _(
            "Die Kommune %(k)s ist der Kooperation am %(d)s beigetreten",
            k=k,
            d=_date(p.get("joined_on")),
        )
    if kind == EventType.PARTNER_LEFT:
        return _(
            "Die Kommune %(k)s ist zum %(d)s aus der Kooperation ausgetreten",
            k=k,
            d=_date(p.get("left_on")),
        )
    if kind == EventType.ROLE_GRANTED and p.get("accepted"):
        return _(
            "%(u)s hat die Einladung angenommen und hat jetzt die Rolle %(r)s",
            u=p.get("user", ""),
            r=quote(_role(p.get("role"))),
        )
    if kind == EventType.ROLE_GRANTED:
        return _(
            "%(u)s hat die Rolle %(r)s erhalten", u=p.get("user", ""), r=quote(_role(p.get("role")))
        )
    if kind == EventType.INVITATION_DECLINED:  # nobody's name: the address declined
        return _(
            "Die Einladung an %(e)s als %(r)s für die Kommune %(k)s wurde abgelehnt",
            e=p.get("email", ""),
            r=quote(_role(p.get("role"))),
            k=p.get("for_municipality", ""),
        )
    if kind == EventType.INVITATION_WITHDRAWN:
        return _(
            "Die Einladung als %(r)s für die Kommune %(k)s wurde zurückgezogen",
            r=quote(_role(p.get("role"))),
            k=p.get("for_municipality", ""),
        )
    summary = describe(event)
    label = _label(kind)
    return f"{label}: {summary}" if summary else label


def _url(event: NotificationEvent) -> str:
    if event.event_type in PERSONAL_EVENT_TYPES and (event.payload or {}).get("page"):
        return str(event.payload["page"])
    if event.record_type == "Milestone":
        return url_for(
            "milestones.show", cooperation_id=event.cooperation_id, milestone_id=event.record_id
        )
    if event.record_type == "Cost":
        return url_for("costs.show", cooperation_id=event.cooperation_id, cost_id=event.record_id)
    if event.record_type == "Payment":
        year = (event.payload or {}).get("year")
        jahr = int(year) if str(year or "").isdigit() else None
        return url_for("costs.index", cooperation_id=event.cooperation_id, jahr=jahr)
    return url_for("cooperations.show", cooperation_id=event.cooperation_id)


def _label(event_type: str) -> str:
    try:
        return _(EventType(event_type).label)
    except ValueError:
        return event_type


def mark_read(user_id: int, delivery_id: int) -> bool:
    """Mark one visible delivery read; False if the user may not see it. Caller commits."""
    result = db.session.execute(
        update(NotificationDelivery)
        .where(
            NotificationDelivery.id == delivery_id,
            NotificationDelivery.id.in_(_visible(user_id)),
            NotificationDelivery.read_at.is_(None),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        return True
    return (
        db.session.scalar(
            select(func.count()).where(
                NotificationDelivery.id == delivery_id,
                NotificationDelivery.id.in_(_visible(user_id)),
            )
        )
        > 0
    )


def mark_all_read(user_id: int, cooperation_id: int | None = None) -> int:
    """Mark every visible unread delivery read (of one cooperation, if given); returns how
    many. Caller commits."""
    visible = _visible(user_id)
    if cooperation_id is not None:
        visible = visible.where(NotificationEvent.cooperation_id == cooperation_id)
    result = db.session.execute(
        update(NotificationDelivery)
        .where(
            NotificationDelivery.id.in_(visible),
            NotificationDelivery.read_at.is_(None),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
