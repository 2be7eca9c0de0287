"""Thin task wrappers around koopboard.notifications.delivery (its entry points): ids, not objects.

All run with late acknowledgement and are requeued if the worker dies; the database row is
the record either way, so a task lost with Redis is re-issued by the beat relay.

``register_jobs`` (called by ``tasks.celery_init_app`` for every app) installs the tasks as
``koopboard.notifications.jobs``, the port through which the delivery services queue work:
the services never import this module.
"""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from koopboard.notifications import delivery, jobs, retention

RELIABLE = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}
logger = logging.getLogger(__name__)


@shared_task(**RELIABLE)
def relay() -> int:
    """Send the oldest batch of due deliveries (queueing another relay if more are due) and
    enqueue the due digests."""
    claimed = delivery.relay(current_app.config["NOTIFY_RELAY_BATCH"])
    if claimed:  # one line per run with work; the idle ticks every few seconds say nothing
        logger.info("relay: %d delivery/digest row(s) claimed and handed on", claimed)
    return claimed


@shared_task(**RELIABLE)
def deliver(delivery_id: int) -> str:
    """Send one delivery's e-mail."""
    return delivery.deliver(delivery_id)


@shared_task(**RELIABLE)
def deliver_batch(delivery_ids: list[int]) -> int:
    """Send the given deliveries over one SMTP connection (if still due); returns how many
    were sent. The relay sends its batches itself; this is for sending chosen rows."""
    return sum(1 for status in delivery.deliver_batch(delivery_ids).values() if status == "sent")


@shared_task(**RELIABLE)
def deliver_digest(digest_id: int) -> str:
    """Send one digest e-mail."""
    return delivery.deliver_digest(digest_id)


@shared_task(**RELIABLE)
def queue_digests() -> int:
    """Build the digests whose hour has come."""
    return len(delivery.queue_digests())


@shared_task(**RELIABLE)
def date_alerts() -> int:
    """Publish due-soon and overdue alerts."""
    return delivery.date_alerts()


@shared_task(**RELIABLE)
def delete_old_mail_content() -> int:
    """Delete what delivered notification mails said, after KOOP_MAIL_RETENTION_DAYS."""
    return retention.delete_old_content().events


def register_jobs() -> None:
    """Make these tasks the delivery services' job port (``koopboard.notifications.jobs``).

    The lambdas resolve the task at call time: a shared task binds to the Celery app that is
    current then (tests build several apps)."""
    jobs.register(
        jobs.Jobs(
            relay=lambda: relay.delay(),
            deliver_digest=lambda digest_id: deliver_digest.delay(digest_id),
        )
    )
