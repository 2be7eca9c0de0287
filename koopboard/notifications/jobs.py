"""The port through which the delivery services ask for background work.

The services decide *that* something should run in a worker (another relay, a digest);
how it is queued is the task layer's business. ``tasks.notifications.register_jobs``
installs its Celery tasks here (``tasks.celery_init_app`` calls it for every app), so the
imports point one way only: tasks → services, never back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Jobs:
    """How to queue each kind of background work (each returns at once)."""

    relay: Callable[[], object]
    deliver_digest: Callable[[int], object]


_jobs: Jobs | None = None


def register(jobs: Jobs) -> None:
    """Install the task layer's implementation (``tasks.celery_init_app`` does, per app)."""
    global _jobs
    _jobs = jobs


def _registered() -> Jobs:
    if _jobs is None:
        raise RuntimeError(
            "No task layer is registered for notification jobs: call "
            "tasks.notifications.register_jobs() (tasks.celery_init_app does, create_app "
            "calls it)."
        )
    return _jobs


def queue_relay() -> None:
    """Ask a worker to run another relay (the next batch of due deliveries)."""
    _registered().relay()


def queue_digest(digest_id: int) -> None:
    """Ask a worker to send one digest e-mail."""
    _registered().deliver_digest(digest_id)
