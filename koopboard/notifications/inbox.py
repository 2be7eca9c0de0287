"""The in-app list: a user's deliveries, newest first, only while they hold a role.

A user who lost their role in a cooperation no longer sees its events (the same rule as
every page of the cooperation), and cannot mark them read either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select, update

from koopboard.domain.milestones import MilestoneStatus
from koopboard.domain.notifications import PERSONAL_EVENT_TYPES, EventType
from koopboard.extensions import db
from koopboard.i18n import format_day, format_money, quote
from koopboard.models import Cooperation, Membership, NotificationDelivery, NotificationEvent
from koopboard.models.types import utcnow
from koopboard.notifications.delivery.rendering import content_deleted
from koopboard.notifications.delivery.rendering import describe as sentence

PAGE_SIZE = 20


@dataclass(frozen=True)
class Item:
    """One row of the list, ready to show."""

    id: int
    label: str
    cooperation_title: str
    summary: str
    created_at: datetime
    url: str
    unread: bool


@dataclass(frozen=True)
class Page:
    items: list[Item]
    number: int
    has_next: bool


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


def unread_count(user_id: int) -> int:
    """How many visible deliveries the user has not read (one COUNT query)."""
    query = _visible(user_id).where(NotificationDelivery.read_at.is_(None))
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _status(value: object) -> str:
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
    """What happened, in words, from the event's payload."""
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
        change = sentence(event)
    else:
        change = ""
    return " – ".join(part for part in (text, change) if part)


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


def page_of(user_id: int, number: int) -> Page:
    """One page of the list, newest first, in one query."""
    number = max(number, 1)
    rows = db.session.execute(
        select(NotificationDelivery, NotificationEvent, Cooperation.title)
        .join(NotificationEvent, NotificationEvent.id == NotificationDelivery.event_id)
        .join(Cooperation, Cooperation.id == NotificationEvent.cooperation_id)
        .outerjoin(
            Membership,
            (Membership.cooperation_id == Cooperation.id) & (Membership.user_id == user_id),
        )
        .where(NotificationDelivery.user_id == user_id, _role_or_personal())
        .order_by(NotificationEvent.created_at.desc(), NotificationDelivery.id.desc())
        .limit(PAGE_SIZE + 1)
        .offset((number - 1) * PAGE_SIZE)
    ).all()
    items = [
        Item(
            id=delivery.id,
            label=_label(event.event_type),
            cooperation_title=title,
            summary=describe(event),
            created_at=event.created_at,
            url=_url(event),
            unread=delivery.read_at is None,
        )
        for delivery, event, title in rows[:PAGE_SIZE]
    ]
    return Page(items=items, number=number, has_next=len(rows) > PAGE_SIZE)


def item_of(user_id: int, delivery_id: int) -> Item | None:
    """One visible delivery of the user, or None (another user's, or no role any more)."""
    row = db.session.execute(
        select(NotificationDelivery, NotificationEvent, Cooperation.title)
        .join(NotificationEvent, NotificationEvent.id == NotificationDelivery.event_id)
        .join(Cooperation, Cooperation.id == NotificationEvent.cooperation_id)
        .where(NotificationDelivery.id.in_(_visible(user_id)))
        .where(NotificationDelivery.id == delivery_id)
    ).first()
    if row is None:
        return None
    delivery, event, title = row
    return Item(
        delivery.id,
        _label(event.event_type),
        title,
        describe(event),
        event.created_at,
        _url(event),
        delivery.read_at is None,
    )


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


def mark_all_read(user_id: int) -> int:
    """Mark every visible unread delivery read; returns how many. Caller commits."""
    result = db.session.execute(
        update(NotificationDelivery)
        .where(
            NotificationDelivery.id.in_(_visible(user_id)),
            NotificationDelivery.read_at.is_(None),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
