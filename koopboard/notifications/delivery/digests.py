"""Digests: pending digest deliveries are collected into one e-mail per user and digest hour
(Europe/Berlin, the user's days and hour), then relayed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from koopboard.domain.milestones import BERLIN
from koopboard.extensions import db
from koopboard.models.types import utcnow
from koopboard.notifications.delivery.claiming import Delivery, Digest
from koopboard.notifications.delivery.relaying import relay
from koopboard.notifications.preferences import settings_for


def digest_slot(user_id: int, now: datetime) -> datetime | None:
    """Start of the user's digest hour (UTC) if ``now`` falls in it, else None."""
    settings = settings_for(user_id)
    if settings.paused:
        return None
    local = now.astimezone(BERLIN)
    days = {d.strip() for d in (settings.digest_days or "").split(",")}
    if str(local.isoweekday()) not in days or local.hour != settings.digest_hour:
        return None
    return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)


def queue_digests(now: datetime | None = None) -> list[int]:
    """Collect pending digest deliveries into one digest per user and slot, then relay them."""
    now = now or utcnow()
    user_ids = db.session.scalars(
        select(Delivery.user_id)
        .where(Delivery.mode == "digest", Delivery.status == "pending")
        .group_by(Delivery.user_id)
    ).all()
    created = []
    for user_id in user_ids:
        slot = digest_slot(user_id, now)
        if slot is None:
            continue
        digest = Digest(user_id=user_id, scheduled_for=slot, status="pending")
        try:
            with db.session.begin_nested():
                db.session.add(digest)
                db.session.flush()
        except IntegrityError:
            continue  # this slot's digest exists already: a repeated beat tick
        db.session.execute(
            update(Delivery)
            .where(
                Delivery.user_id == user_id,
                Delivery.mode == "digest",
                Delivery.status == "pending",
            )
            .values(status="digested", digest_id=digest.id)
            .execution_options(synchronize_session=False)
        )
        created.append(digest.id)
    db.session.commit()
    if created:
        relay(current_app.config["NOTIFY_RELAY_BATCH"])
    return created
