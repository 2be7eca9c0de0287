"""Failed deliveries and digests for the admin page: one page of them, and putting one back
in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import literal, null, select, union_all, update

from koopboard.extensions import db
from koopboard.models import Cooperation, NotificationEvent, User
from koopboard.notifications.delivery.claiming import Delivery, Digest
from koopboard.notifications.delivery.rendering import label

FAILED_PAGE_SIZE = 50


@dataclass
class FailedRow:
    """One failed delivery or digest as the admin page lists it."""

    kind: str  # "delivery" or "digest"
    id: int
    created_at: datetime
    attempts: int
    last_error: str | None
    user_name: str | None
    user_email: str | None
    event_type: str | None
    cooperation_title: str | None

    @property
    def event_label(self) -> str:
        return label(self.event_type) if self.event_type else _("Sammel-E-Mail")


@dataclass
class FailedPage:
    items: list[FailedRow]
    number: int
    has_next: bool


def failed_page(number: int) -> FailedPage:
    """Failed deliveries and digests, newest first, one page in one query."""
    number = max(number, 1)
    deliveries = (
        select(
            literal("delivery").label("kind"),
            Delivery.id.label("id"),
            Delivery.created_at.label("created_at"),
            Delivery.attempts.label("attempts"),
            Delivery.last_error.label("last_error"),
            User.name.label("user_name"),
            User.email.label("user_email"),
            NotificationEvent.event_type.label("event_type"),
            Cooperation.title.label("cooperation_title"),
        )
        .join(NotificationEvent, NotificationEvent.id == Delivery.event_id)
        .join(Cooperation, Cooperation.id == NotificationEvent.cooperation_id)
        .outerjoin(User, User.id == Delivery.user_id)
        .where(Delivery.status == "failed")
    )
    digests = (
        select(
            literal("digest"),
            Digest.id,
            Digest.created_at,
            Digest.attempts,
            Digest.last_error,
            User.name,
            User.email,
            null(),
            null(),
        )
        .outerjoin(User, User.id == Digest.user_id)
        .where(Digest.status == "failed")
    )
    both = union_all(deliveries, digests).subquery()
    rows = db.session.execute(
        select(both)
        .order_by(both.c.created_at.desc(), both.c.kind, both.c.id.desc())
        .limit(FAILED_PAGE_SIZE + 1)
        .offset((number - 1) * FAILED_PAGE_SIZE)
    ).all()
    items = [FailedRow(**row._mapping) for row in rows[:FAILED_PAGE_SIZE]]
    return FailedPage(items=items, number=number, has_next=len(rows) > FAILED_PAGE_SIZE)


def retry_failed(kind: str, row_id: int) -> bool:
    """Put a failed delivery or digest back in the queue (pending, no attempts); the caller
    commits. False if there is no such failed row (sent meanwhile, or unknown)."""
    model = {"delivery": Delivery, "digest": Digest}.get(kind)
    if model is None:
        return False
    result = db.session.execute(
        update(model)
        .where(model.id == row_id, model.status == "failed")
        .values(
            status="pending", attempts=0, next_attempt_at=None, claimed_until=None, last_error=None
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
