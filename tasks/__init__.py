"""The Celery app. Tasks run inside a Flask app context (Flask docs' pattern)."""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import after_setup_logger
from flask import Flask

from tasks import notifications


def _transport_options(app: Flask) -> dict[str, Any]:
    """Redis (and SQS) redeliver unacknowledged tasks after a visibility timeout; the
    SQLAlchemy transport of ``make run`` has none and refuses unknown options."""
    if app.config["CELERY_BROKER_URL"].startswith(("redis", "rediss", "sqs")):
        return {"visibility_timeout": app.config["CELERY_VISIBILITY_TIMEOUT"]}
    return {}


def _beat_schedule(app: Flask) -> dict[str, dict[str, Any]]:
    """Relay every few seconds, digests every minute, date alerts every 15 minutes,
    recurring-cost drafts every hour, the mail content retention and the directory's search
    text after partners' departures once a night."""
    relay_every = app.config["NOTIFY_RELAY_INTERVAL_SECONDS"]
    return {
        "notifications-relay": {
            "task": "tasks.notifications.relay",
            "schedule": relay_every,
            # A tick nobody ran in time is superseded by the next one.
            "options": {"expires": max(relay_every * 2, 1)},
        },
        "notifications-digests": {"task": "tasks.notifications.queue_digests", "schedule": 60.0},
        "notifications-date-alerts": {
            "task": "tasks.notifications.date_alerts",
            "schedule": 15 * 60.0,
        },
        # Drafts of recurring costs need only day precision. Hourly at :07 (Berlin), not once
        # at midnight: a run missed while the worker was down is caught up within the hour,
        # and a wall-clock schedule still fires when beat restarts more often than hourly. A
        # run with nothing due is one indexed query; booking twice is impossible (row lock,
        # unique constraint), so an extra or overlapping run is harmless.
        "costs-recurring": {
            "task": "tasks.costs.book_recurring",
            "schedule": crontab(minute="7"),
            "options": {"expires": 50 * 60},
        },
        # A partner's leaving date passes without a write: the directory's stored search text
        # drops the former partner's name the night after (a week's window catches up runs
        # missed while beat was down; a repeat changes nothing).
        "boerse-departures": {
            "task": "tasks.boerse.refresh_search_after_departures",
            "schedule": crontab(hour="3", minute="27"),
            "options": {"expires": 23 * 3600},
        },
        # Day precision is all retention needs; at night, when nobody waits for a mail.
        # A run missed while beat was down is caught up by the next (nothing is lost, the
        # content only stays a day longer); an extra run finds nothing to do.
        "notifications-mail-retention": {
            "task": "tasks.notifications.delete_old_mail_content",
            "schedule": crontab(hour="3", minute="17"),
            "options": {"expires": 23 * 3600},
        },
    }


# Celery's own lines for every task ("received", "succeeded in 0.01s") would print one pair
# per relay tick, every few seconds; tasks log what they did instead (the relay: one line per
# run with work). KOOP_VERBOSE_TASK_LOGS=1 brings Celery's lines back.
CHATTY_LOGGERS = ("celery.worker.strategy", "celery.app.trace")


@after_setup_logger.connect
def quiet_task_logs(**_: object) -> None:
    if os.environ.get("KOOP_VERBOSE_TASK_LOGS", "").strip().lower() not in {"1", "true", "yes"}:
        for name in CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)


def celery_init_app(app: Flask) -> Celery:
    """Bind a Celery app to the Flask app and store it in ``app.extensions``."""

    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=app.config["CELERY_BROKER_URL"],
        task_ignore_result=True,
        task_always_eager=app.config["CELERY_TASK_ALWAYS_EAGER"],
        task_eager_propagates=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        timezone="Europe/Berlin",
        enable_utc=True,
        include=["tasks.mail", "tasks.notifications", "tasks.costs", "tasks.boerse"],
        # Redis redelivers a task nobody acknowledged after this many seconds. Longer than a
        # delivery claim and the longest retry delay; retries live on the delivery row and the
        # beat relay, not in Celery countdowns, so a lost task is found again either way.
        broker_transport_options=_transport_options(app),
        beat_schedule=_beat_schedule(app),
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    notifications.register_jobs()  # the delivery services queue their follow-up work here
    return celery_app
