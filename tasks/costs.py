"""Thin task wrapper around koopboard.costs.recurring.services: beat books the recurring drafts.

Safe to run any number of times, also in parallel: each recurring cost is locked with
``SKIP LOCKED`` and a due date has at most one draft (unique constraint).
"""

from __future__ import annotations

from celery import shared_task

RELIABLE = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(**RELIABLE)
def book_recurring() -> int:
    """Book the drafts of every recurring cost due up to today (Europe/Berlin)."""
    from koopboard.costs.recurring.services import book_due
    from koopboard.domain.milestones import berlin_today
    from koopboard.models.types import utcnow

    return book_due(berlin_today(utcnow())).booked
