"""Thin task wrappers around koopboard.notifications.delivery: they take ids, not objects.

All run with late acknowledgement and are requeued if the worker dies; the database row is
the record either way, so a task lost with Redis is re-issued by the beat relay.
"""

from __future__ import annotations

from celery import shared_task
from flask import current_app

RELIABLE = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(**RELIABLE)
def relay() -> int:
    """Send the oldest batch of due deliveries (queueing another relay if more are due) and
    enqueue the due digests."""
    from koopboard.notifications.delivery import relay as run

    return run(current_app.config["NOTIFY_RELAY_BATCH"])


@shared_task(**RELIABLE)
def deliver(delivery_id: int) -> str:
    """Send one delivery's e-mail."""
    from koopboard.notifications.delivery import deliver as run

    return run(delivery_id)


@shared_task(**RELIABLE)
def deliver_batch(delivery_ids: list[int]) -> int:
    """Send the given deliveries over one SMTP connection (if still due); returns how many
    were sent. The relay sends its batches itself; this is for sending chosen rows."""
    from koopboard.notifications.delivery import deliver_batch as run

    return sum(1 for status in run(delivery_ids).values() if status == "sent")


@shared_task(**RELIABLE)
def deliver_digest(digest_id: int) -> str:
    """Send one digest e-mail."""
    from koopboard.notifications.delivery import deliver_digest as run

    return run(digest_id)


@shared_task(**RELIABLE)
def queue_digests() -> int:
    """Build the digests whose hour has come."""
    from koopboard.notifications.delivery import queue_digests as run

    return len(run())


@shared_task(**RELIABLE)
def date_alerts() -> int:
    """Publish due-soon and overdue alerts."""
    from koopboard.notifications.delivery import date_alerts as run

    return run()
