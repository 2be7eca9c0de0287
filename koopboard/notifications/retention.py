"""Retention of what notification mails said: gone after ``KOOP_MAIL_RETENTION_DAYS`` (90).

KoopBoard keeps no copy of a sent mail. Subject, text and HTML of every notification and
digest are written at sending time from the event's payload (titles, names, amounts,
reasons, the text of a contact message, the sender's address), so the payload is the
mail's body as far as the database holds it. Once an event is older than the retention
period and no mail of it is still on its way, the retention run removes that content:
the payload keeps only what the event's link needs (``page``, ``year``: no personal data)
and ``content_deleted_at`` is set. The in-app list and the copy of one's data then say
that the content was deleted.

What stays is the metadata, for the cooperation's and the operator's records: that an
event of this type happened in this cooperation at this time about this record, and per
recipient the delivery row (who, immediately or in a digest, status, when sent or read).

Not yet delivered means: a delivery pending, being sent or failed (the admin may still
retry it), one collected into a digest that has not been sent, or a mail sent within the
period. Such events keep their content until that mail is out and old enough.

The run is the beat task's unit (``tasks.notifications.delete_old_mail_content``, daily)
and the CLI's (``flask koop delete-mail-content``): batches of ``BATCH`` events, each
committed, so a long backlog never holds one huge transaction. Running it twice, or two
at once, is harmless: an event already emptied is not selected again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, exists, or_, select

from koopboard.extensions import db
from koopboard.models import NotificationDelivery, NotificationDigest, NotificationEvent
from koopboard.models.types import utcnow

BATCH = 1000
# Payload keys that only build the event's link; everything else is content.
KEEP_KEYS = ("page", "year")


@dataclass(frozen=True)
class RetentionRun:
    days: int
    cutoff: datetime
    events: int


def retention_days() -> int:
    return int(current_app.config["KOOP_MAIL_RETENTION_DAYS"])


def _still_needed(cutoff: datetime):  # noqa: ANN202 (a SQL condition)
    """The event has a mail that is not delivered yet, or was sent after ``cutoff``."""
    return exists(
        select(NotificationDelivery.id)
        .outerjoin(NotificationDigest, NotificationDigest.id == NotificationDelivery.digest_id)
        .where(
            NotificationDelivery.event_id == NotificationEvent.id,
            or_(
                NotificationDelivery.status.in_(("pending", "sending", "failed")),
                and_(
                    NotificationDelivery.status == "digested",
                    or_(NotificationDigest.id.is_(None), NotificationDigest.status != "sent"),
                ),
                NotificationDelivery.sent_at >= cutoff,
                NotificationDigest.sent_at >= cutoff,
            ),
        )
    )


def delete_content(*, now: datetime, days: int, limit: int = BATCH) -> int:
    """Empty the content of up to ``limit`` delivered events older than ``days`` days, in
    the caller's transaction; returns how many."""
    if now.tzinfo is None:
        raise ValueError("naive datetime given; use aware datetimes")
    cutoff = now - timedelta(days=days)
    ids = list(
        db.session.scalars(
            select(NotificationEvent.id)
            .where(
                NotificationEvent.content_deleted_at.is_(None),
                NotificationEvent.created_at < cutoff,
                ~_still_needed(cutoff),
            )
            .order_by(NotificationEvent.id)
            .limit(limit)
        )
    )
    if not ids:
        return 0
    for event in db.session.scalars(select(NotificationEvent).where(NotificationEvent.id.in_(ids))):
        payload = event.payload or {}
        event.payload = {key: payload[key] for key in KEEP_KEYS if key in payload}
        event.content_deleted_at = now
    db.session.flush()
    return len(ids)


def delete_old_content(now: datetime | None = None) -> RetentionRun:
    """Every batch due at ``now`` (default: the current time), each committed."""
    now = now or utcnow()
    days = retention_days()
    total = 0
    while True:
        done = delete_content(now=now, days=days)
        db.session.commit()
        total += done
        if done < BATCH:
            break
    return RetentionRun(days=days, cutoff=now - timedelta(days=days), events=total)
