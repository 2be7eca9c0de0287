"""Thin task wrapper around koopboard.boerse.services: beat keeps the directory's search text
in step with partners whose leaving date has passed (no write happens on that day)."""

from __future__ import annotations

import logging

from celery import shared_task

from koopboard.boerse.services import refresh_after_departures
from koopboard.domain.milestones import berlin_today
from koopboard.extensions import db
from koopboard.models.types import utcnow

RELIABLE = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}
logger = logging.getLogger(__name__)


@shared_task(**RELIABLE)
def refresh_search_after_departures() -> int:
    """Recompute the stored search text of listings whose partners left in the last week."""
    refreshed = refresh_after_departures(berlin_today(utcnow()))
    db.session.commit()
    if refreshed:
        logger.info("boerse: search text of %d listing(s) refreshed after departures", refreshed)
    return refreshed
