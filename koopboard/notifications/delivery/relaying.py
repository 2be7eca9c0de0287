"""The relay: beat (and each save's nudge) claims the oldest due deliveries and sends them,
hands due digests to their tasks, and queues another relay while a backlog remains.
"""

from __future__ import annotations

from sqlalchemy import func, select

from koopboard.extensions import db
from koopboard.models.types import utcnow
from koopboard.notifications import jobs
from koopboard.notifications.delivery.claiming import Delivery, Digest, batch_size, claim_batch
from koopboard.notifications.delivery.sending import deliver_batch


def relay(limit: int = 500) -> int:
    """Claim the oldest due deliveries (one batch) and send them; hand due digests (up to
    ``limit``) to their tasks. Returns how many rows were claimed.

    A full batch means more may be due: another relay is queued first, so a backlog is
    worked off by every worker process, oldest first. (Claiming the whole backlog at once
    and queueing it in chunks let fresher mail overtake the queued chunks: each save's
    nudge relays its own rows at once, while the chunks waited behind those nudges.)"""
    now = utcnow()
    size = batch_size()
    delivery_ids = claim_batch(Delivery, size, now)
    digest_ids = claim_batch(Digest, limit, now)
    db.session.commit()
    for digest_id in digest_ids:
        jobs.queue_digest(digest_id)
    if len(delivery_ids) == size:
        jobs.queue_relay()  # before sending: the other worker process starts on the next batch
    if delivery_ids:
        deliver_batch(delivery_ids)
    return len(delivery_ids) + len(digest_ids)


def pending_count() -> int:
    """Deliveries not yet sent, failed or digested (for health and the bench)."""
    return db.session.scalar(
        select(func.count()).where(Delivery.status.in_(("pending", "sending")))
    )
