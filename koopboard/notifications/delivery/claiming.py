"""Which rows are due and who sends them: claims on delivery and digest rows.

A claim sets the row "sending" until ``claimed_until``; a worker that dies leaves an expired
claim, and the next relay hands the row out again. On PostgreSQL two relays never claim the
same row (``SKIP LOCKED``); a batch locks its rows in id order (no deadlocks).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, or_, select, update

from koopboard.extensions import db
from koopboard.models import NotificationDelivery, NotificationDigest
from koopboard.models.types import utcnow

Delivery = NotificationDelivery
Digest = NotificationDigest
DELIVERIES = NotificationDelivery.__table__


def due(model: Any, now: datetime) -> Any:
    """Pending and due, or claimed by a worker whose claim has expired (it crashed).
    ``model``: Delivery or Digest, or a table's columns (``DELIVERIES.c``)."""
    return or_(
        and_(
            model.status == "pending",
            or_(model.next_attempt_at.is_(None), model.next_attempt_at <= now),
        ),
        and_(model.status == "sending", model.claimed_until < now),
    )


def claim_batch(model: type[Delivery] | type[Digest], limit: int, now: datetime) -> list[int]:
    stmt = select(model.id).where(due(model, now)).order_by(model.id).limit(limit)
    if model is Delivery:
        stmt = stmt.where(Delivery.mode == "immediate")
    if db.session.get_bind().dialect.name == "postgresql":
        # Two relays never hand out the same row; SQLite has no row locks (one writer anyway).
        stmt = stmt.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(stmt))
    if ids:
        claim_until = now + timedelta(seconds=current_app.config["NOTIFY_CLAIM_SECONDS"])
        db.session.execute(
            update(model)
            .where(model.id.in_(ids))
            .values(status="sending", claimed_until=claim_until)
            .execution_options(synchronize_session=False)
        )
    return ids


def batch_size() -> int:
    """Deliveries one relay claims and sends over one SMTP connection."""
    return max(int(current_app.config.get("NOTIFY_BATCH_SIZE", 50)), 1)


def claim_one(model: type[Delivery] | type[Digest], row_id: int) -> bool:
    """Lock the row for this attempt; a concurrent copy of the task waits, then finds it sent."""
    now = utcnow()
    stmt = update(model).where(model.id == row_id, due(model, now) | (model.status == "sending"))
    stmt = stmt.values(
        status="sending",
        claimed_until=now + timedelta(seconds=current_app.config["NOTIFY_CLAIM_SECONDS"]),
    ).execution_options(synchronize_session=False)
    return db.session.execute(stmt).rowcount == 1


def commit_every() -> int:
    """Deliveries sent between two commits of their statuses within a batch: what a worker
    killed mid-batch can send twice (same Message-ID), at most, per process."""
    return max(int(current_app.config.get("NOTIFY_COMMIT_EVERY", 20)), 1)


def claim_many(ids: list[int]) -> dict[int, int]:
    """Lock and claim those rows that are still to be sent; returns id → attempts so far.

    One statement: the subquery locks in id order (no deadlocks between overlapping
    batches), and a concurrent copy of the batch waits on the locks, then finds its rows
    sent. The locks are held until the caller commits these rows' statuses. (Core
    statements on the table: this and ``_record`` run for every chunk of every batch.)"""
    now = utcnow()
    t = DELIVERIES.c
    rows_due = select(t.id).where(t.id.in_(ids), due(t, now) | (t.status == "sending"))
    rows_due = rows_due.order_by(t.id)
    if db.session.get_bind().dialect.name == "postgresql":
        rows_due = rows_due.with_for_update()
    rows = db.session.execute(
        update(DELIVERIES)
        .where(t.id.in_(rows_due.scalar_subquery()))
        .values(
            status="sending",
            claimed_until=now + timedelta(seconds=current_app.config["NOTIFY_CLAIM_SECONDS"]),
        )
        .returning(t.id, t.attempts)
    )
    return {row_id: attempts for row_id, attempts in rows}
