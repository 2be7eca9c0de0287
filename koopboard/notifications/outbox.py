"""The transactional outbox: an event becomes one delivery per recipient in the same commit.

After the commit a relay task is nudged so the mail leaves at once; if the broker is down
the nudge is dropped and the beat relay finds the pending rows a few seconds later.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from koopboard.domain.notifications import EventType
from koopboard.extensions import db
from koopboard.models import Membership, NotificationDelivery, NotificationEvent, User
from koopboard.notifications import preferences

log = logging.getLogger(__name__)
NUDGE_KEY = "koopboard_notify_nudge"
HOOKED_KEY = "koopboard_notify_hooked"
_silenced: ContextVar[bool] = ContextVar("koopboard_notify_silenced", default=False)


@contextmanager
def silenced() -> Iterator[None]:
    """Events published inside are recorded for the in-app list but mailed to nobody
    (their deliveries are "skipped"): data loaded in bulk, such as the demo, is no news."""
    token = _silenced.set(True)
    try:
        yield
    finally:
        _silenced.reset(token)


def recipients(event: NotificationEvent) -> list[int]:
    """Ids of active users with a role in the event's cooperation, except the actor."""
    stmt = (
        select(User.id)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.cooperation_id == event.cooperation_id,
            User.is_active_account.is_(True),
        )
        .order_by(User.id)
    )
    if event.actor_id is not None:
        stmt = stmt.where(User.id != event.actor_id)
    return list(db.session.scalars(stmt))


def _chosen(user_ids: list[int], actor_id: int | None) -> list[int]:
    if not user_ids:
        return []
    stmt = select(User.id).where(User.id.in_(user_ids), User.is_active_account.is_(True))
    if actor_id is not None:
        stmt = stmt.where(User.id != actor_id)
    return list(db.session.scalars(stmt.order_by(User.id)))


def publish(event: NotificationEvent, *, to: list[int] | None = None) -> list[NotificationDelivery]:
    """Store the event and its deliveries in the caller's transaction (the caller commits).

    ``to`` addresses chosen users (active ones, never the actor) instead of everyone with
    a role in the cooperation."""
    db.session.add(event)
    db.session.flush()
    deliveries = []
    user_ids = recipients(event) if to is None else _chosen(to, event.actor_id)
    concerning = (event.payload or {}).get("user_id")
    if event.event_type != EventType.ROLE_GRANTED.value or not isinstance(concerning, int):
        concerning = None
    modes = preferences.modes_for(
        user_ids, event.event_type, event.cooperation_id, concerning=concerning
    )
    silent = _silenced.get()
    for user_id in user_ids:
        mode = modes[user_id]
        # "off" (or silenced) is still recorded (skipped) so the in-app list shows the event.
        status = "skipped" if mode == "off" or silent else "pending"
        deliveries.append(
            NotificationDelivery(event_id=event.id, user_id=user_id, mode=mode, status=status)
        )
    db.session.add_all(deliveries)
    db.session.flush()
    if any(d.mode == "immediate" and d.status == "pending" for d in deliveries):
        _nudge_after_commit(db.session())
    return deliveries


def _nudge_after_commit(session: Session) -> None:
    session.info[NUDGE_KEY] = True
    if not session.info.get(HOOKED_KEY):
        sa_event.listen(session, "after_commit", _after_commit)
        sa_event.listen(session, "after_rollback", _after_rollback)
        session.info[HOOKED_KEY] = True


def _after_rollback(session: Session) -> None:
    session.info.pop(NUDGE_KEY, None)


def _after_commit(session: Session) -> None:
    if session.info.pop(NUDGE_KEY, False):
        nudge_relay()


def nudge_relay() -> None:
    """Ask a worker to relay now; never fails the caller (the beat relay is the safety net)."""
    if current_app.config.get("CELERY_TASK_ALWAYS_EAGER"):
        return  # tests run the relay explicitly; inline sending inside a commit hook is wrong
    celery = current_app.extensions["celery"]  # this app's broker, not the last app created
    try:
        # A pooled connection (a new one per save cost more than the save itself), and one
        # quick connection attempt: a user's save must not wait on a broken broker.
        with celery.pool.acquire(block=True, timeout=1) as conn:
            try:
                conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.1)
                celery.send_task("tasks.notifications.relay", retry=False, connection=conn)
            except Exception:
                conn.collect()  # not handed out again half-broken: the next save reconnects
                raise
    except Exception:  # noqa: BLE001 (any broker failure: the row is safe in the database)
        log.warning("Relay nudge failed; the beat relay will pick the deliveries up.")
