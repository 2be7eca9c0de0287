"""Delivery of notification e-mails: relay, send with retry, digests and date alerts.

The database row is the record; Celery only carries ids. A task that is lost (Redis restart,
worker killed) leaves its row "pending" or "sending" with an expired claim, and the beat
relay hands it out again. Retries are scheduled on the row (``next_attempt_at``), not as
Celery countdowns. The Message-ID derives from the row, so the only possible repeat (a
crash between the SMTP server's acceptance and our commit) carries the same Message-ID.
"""

from __future__ import annotations

import logging
import random
import smtplib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage, Message
from typing import Any

from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy import and_, func, literal, null, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError

from koopboard.domain.catalog import Role
from koopboard.domain.milestones import BERLIN, MilestoneStatus, berlin_today, is_overdue
from koopboard.domain.notifications import EventType
from koopboard.extensions import db
from koopboard.mail import build_bulk_message, build_message, send_message, smtp_connection
from koopboard.models import (
    Cooperation,
    Milestone,
    MilestoneAlert,
    NotificationDelivery,
    NotificationDigest,
    NotificationEvent,
    User,
)
from koopboard.models.types import utcnow
from koopboard.notifications.outbox import publish
from koopboard.notifications.preferences import settings_for
from koopboard.notifications.unsubscribe import unsubscribe_url

log = logging.getLogger(__name__)
Delivery = NotificationDelivery
Digest = NotificationDigest


class TemporaryDeliveryError(Exception):
    """Worth another try later (4xx, connection refused or dropped)."""


class PermanentDeliveryError(Exception):
    """No retry can help (5xx, no address)."""


# --- relay --------------------------------------------------------------------------------


def _due(model: type[Delivery] | type[Digest], now: datetime) -> Any:
    """Pending and due, or claimed by a worker whose claim has expired (it crashed)."""
    return or_(
        and_(
            model.status == "pending",
            or_(model.next_attempt_at.is_(None), model.next_attempt_at <= now),
        ),
        and_(model.status == "sending", model.claimed_until < now),
    )


def _claim_batch(model: type[Delivery] | type[Digest], limit: int, now: datetime) -> list[int]:
    stmt = select(model.id).where(_due(model, now)).order_by(model.id).limit(limit)
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
    """Deliveries per ``deliver_batch`` task (one SMTP connection each)."""
    return max(int(current_app.config.get("NOTIFY_BATCH_SIZE", 50)), 1)


def relay(limit: int = 500) -> int:
    """Claim due deliveries and digests and hand their ids to the deliver tasks.

    Deliveries go out in chunks of ``NOTIFY_BATCH_SIZE`` (one task, one SMTP connection per
    chunk); each worker process takes one chunk at a time, so two processes work in parallel."""
    from tasks.notifications import deliver_batch, deliver_digest

    now = utcnow()
    delivery_ids = _claim_batch(Delivery, limit, now)
    digest_ids = _claim_batch(Digest, limit, now)
    db.session.commit()
    size = batch_size()
    for start in range(0, len(delivery_ids), size):
        deliver_batch.delay(delivery_ids[start : start + size])
    for digest_id in digest_ids:
        deliver_digest.delay(digest_id)
    return len(delivery_ids) + len(digest_ids)


# --- sending with retry -------------------------------------------------------------------


def classify(exc: BaseException) -> type[TemporaryDeliveryError] | type[PermanentDeliveryError]:
    """Temporary for 4xx and network trouble, permanent for 5xx."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        temporary = codes and all(400 <= code < 500 for code in codes)
        return TemporaryDeliveryError if temporary else PermanentDeliveryError
    if isinstance(exc, smtplib.SMTPResponseException):
        return TemporaryDeliveryError if 400 <= exc.smtp_code < 500 else PermanentDeliveryError
    return TemporaryDeliveryError  # disconnects, refused connections, timeouts (all OSError)


def retry_delay(attempts: int) -> float:
    """Seconds before try ``attempts + 1``: exponential, capped, with up to 10 % jitter."""
    config = current_app.config
    base = config["NOTIFY_RETRY_BASE_SECONDS"] * 2 ** max(attempts - 1, 0)
    delay = min(config["NOTIFY_RETRY_CAP_SECONDS"], base)
    return delay + random.uniform(0, delay / 10)


def _claim_one(model: type[Delivery] | type[Digest], row_id: int) -> bool:
    """Lock the row for this attempt; a concurrent copy of the task waits, then finds it sent."""
    now = utcnow()
    stmt = update(model).where(model.id == row_id, _due(model, now) | (model.status == "sending"))
    stmt = stmt.values(
        status="sending",
        claimed_until=now + timedelta(seconds=current_app.config["NOTIFY_CLAIM_SECONDS"]),
    ).execution_options(synchronize_session=False)
    return db.session.execute(stmt).rowcount == 1


def _attempt(
    model: type[Delivery] | type[Digest], row_id: int, compose: Callable[[Any], EmailMessage]
) -> str:
    """Claim, compose, send and record one attempt; returns the row's new status."""
    if not _claim_one(model, row_id):
        db.session.rollback()
        return "skipped"
    row = db.session.get(model, row_id, populate_existing=True)
    row.attempts += 1
    try:
        msg = compose(row)
        send_message(msg)
    except PermanentDeliveryError as exc:
        _record_failure(row, "failed", str(exc))
    except Exception as exc:  # noqa: BLE001 (every failure is recorded on the row)
        kind = classify(exc)
        error = f"{type(exc).__name__}: {exc}"
        if (
            kind is PermanentDeliveryError
            or row.attempts >= current_app.config["NOTIFY_MAX_ATTEMPTS"]
        ):
            _record_failure(row, "failed", error)
        else:
            _record_failure(row, "pending", error)
            row.next_attempt_at = utcnow() + timedelta(seconds=retry_delay(row.attempts))
    else:
        row.status = "sent"
        row.sent_at = utcnow()
        row.claimed_until = None
        row.last_error = None
    db.session.commit()
    return row.status


def _record_failure(row: Delivery | Digest, status: str, error: str) -> None:
    row.status = status
    row.last_error = error[:500]
    row.claimed_until = None
    log.warning("Notification %s %s: %s", type(row).__name__, row.id, error)


def deliver(delivery_id: int) -> str:
    """Send one immediate delivery; returns its new status ("skipped" if not claimable)."""
    return deliver_batch([delivery_id]).get(delivery_id, "skipped")


def _claim_many(ids: list[int]) -> list[int]:
    """Lock and claim those rows that are still to be sent, in id order (no deadlocks
    between overlapping batches). A concurrent copy of the batch waits on the locks, then
    finds its rows sent. The locks are held until the batch's statuses are committed."""
    now = utcnow()
    stmt = (
        select(Delivery.id)
        .where(Delivery.id.in_(ids), _due(Delivery, now) | (Delivery.status == "sending"))
        .order_by(Delivery.id)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    claimed = list(db.session.scalars(stmt))
    if claimed:
        db.session.execute(
            update(Delivery)
            .where(Delivery.id.in_(claimed))
            .values(
                status="sending",
                claimed_until=now + timedelta(seconds=current_app.config["NOTIFY_CLAIM_SECONDS"]),
            )
            .execution_options(synchronize_session=False)
        )
    return claimed


def _preload(ids: list[int]) -> tuple[list[Delivery], list[Any]]:
    """The rows with their events (joined), recipients and cooperations: three queries, so
    composing a mail afterwards finds everything in the identity map. The second value
    keeps the recipients and cooperations referenced (the identity map holds them weakly)."""
    rows = list(
        db.session.scalars(
            select(Delivery)
            .where(Delivery.id.in_(ids))
            .order_by(Delivery.id)
            .execution_options(populate_existing=True)
        ).unique()
    )
    user_ids = {r.user_id for r in rows}
    coop_ids = {r.event.cooperation_id for r in rows}
    keep: list[Any] = list(db.session.scalars(select(User).where(User.id.in_(user_ids))))
    keep += db.session.scalars(select(Cooperation).where(Cooperation.id.in_(coop_ids)))
    return rows, keep


def _failure(row: Delivery, attempts: int, exc: BaseException) -> dict[str, Any]:
    """The row's new values after failed attempt number ``attempts``: retry later, or give up."""
    if isinstance(exc, PermanentDeliveryError):
        kind, error = PermanentDeliveryError, str(exc)
    else:
        kind, error = classify(exc), f"{type(exc).__name__}: {exc}"
    log.warning("Notification delivery %s: %s", row.id, error)
    values: dict[str, Any] = {
        "id": row.id,
        "attempts": attempts,
        "last_error": error[:500],
        "claimed_until": None,
    }
    if kind is PermanentDeliveryError or attempts >= current_app.config["NOTIFY_MAX_ATTEMPTS"]:
        return {**values, "status": "failed", "next_attempt_at": None}
    delay = timedelta(seconds=retry_delay(attempts))
    return {**values, "status": "pending", "next_attempt_at": utcnow() + delay}


def deliver_batch(ids: list[int]) -> dict[int, str]:
    """Send many immediate deliveries over one SMTP connection; returns id → new status.

    Per message: 4xx → that row is retried later, 5xx or no address → that row fails. A
    refused or dropped connection fails the current and every remaining row temporarily
    (they are retried with back-off). Statuses are written in bulk, in one commit."""
    claimed = _claim_many(ids)
    if not claimed:
        db.session.rollback()
        return {}
    rows, _keep = _preload(claimed)
    sent: list[int] = []
    failed: list[dict[str, Any]] = []
    # One request context for the whole batch: the unsubscribe links' url_for would
    # otherwise build one per mail.
    with current_app.test_request_context():
        pending: list[tuple[Delivery, Message]] = []
        for row in rows:
            try:
                pending.append((row, _compose_delivery(row)))
            except Exception as exc:  # noqa: BLE001 (recorded on the row)
                failed.append(_failure(row, row.attempts + 1, exc))
    if pending:
        try:
            with smtp_connection() as smtp:
                while pending:
                    row, msg = pending[0]
                    try:
                        smtp.send_message(msg)
                    except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
                        failed.append(_failure(row, row.attempts + 1, exc))  # this one only
                    else:
                        sent.append(row.id)
                    pending.pop(0)
        except Exception as exc:  # noqa: BLE001 (refused, dropped or timed out: retry the rest)
            failed.extend(_failure(row, row.attempts + 1, exc) for row, _msg in pending)
    if sent:
        db.session.execute(
            update(Delivery)
            .where(Delivery.id.in_(sent))
            .values(
                status="sent",
                sent_at=utcnow(),
                attempts=Delivery.attempts + 1,
                claimed_until=None,
                last_error=None,
            )
            .execution_options(synchronize_session=False)
        )
    if failed:
        db.session.execute(update(Delivery), failed)  # bulk UPDATE by primary key
    db.session.commit()
    result = dict.fromkeys(sent, "sent")
    result.update({f["id"]: f["status"] for f in failed})
    return result


def deliver_digest(digest_id: int) -> str:
    """Send one digest e-mail (called by the Celery task)."""
    return _attempt(Digest, digest_id, _compose_digest)


# --- composing ----------------------------------------------------------------------------


def _base() -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/")


def link_for(event: NotificationEvent) -> str:
    """The page the event is about, as an absolute URL."""
    coop = f"{_base()}/kooperationen/{event.cooperation_id}"
    if event.record_type == "Milestone":
        return f"{coop}/meilensteine/{event.record_id}"
    return coop


def _datum(value: str | None) -> str:
    try:
        return date.fromisoformat(value or "").strftime("%d.%m.%Y")
    except ValueError:
        return value or ""


def _status(value: str | None) -> str:
    try:
        return MilestoneStatus(value).label
    except ValueError:
        return value or ""


def describe(event: NotificationEvent) -> str:
    """One German sentence saying what happened."""
    p = event.payload or {}
    title = p.get("title", "")
    kind = event.event_type
    if kind == EventType.MILESTONE_STATUS_CHANGED:
        return _(
            "Der Status des Meilensteins „%(t)s“ wurde von „%(o)s“ auf „%(n)s“ geändert.",
            t=title,
            o=_status(p.get("old")),
            n=_status(p.get("new")),
        )
    if kind == EventType.MILESTONE_CREATED:
        return _(
            "Neuer Meilenstein „%(t)s“, fällig am %(d)s.", t=title, d=_datum(p.get("due_date"))
        )
    if kind == EventType.MILESTONE_DUE_DATE_CHANGED:
        return _(
            "Der Meilenstein „%(t)s“ ist jetzt am %(n)s fällig (bisher %(o)s).",
            t=title,
            n=_datum(p.get("new")),
            o=_datum(p.get("old")),
        )
    if kind == EventType.MILESTONE_DUE_SOON:
        return _(
            "Der Meilenstein „%(t)s“ ist am %(d)s fällig.", t=title, d=_datum(p.get("due_date"))
        )
    if kind == EventType.MILESTONE_OVERDUE:
        return _(
            "Der Meilenstein „%(t)s“ ist seit dem %(d)s überfällig.",
            t=title,
            d=_datum(p.get("due_date")),
        )
    if kind == EventType.PARTNER_JOINED:
        return _(
            "Die Kommune „%(m)s“ ist der Kooperation am %(d)s beigetreten.",
            m=p.get("municipality", ""),
            d=_datum(p.get("joined_on")),
        )
    if kind == EventType.PARTNER_LEFT:
        return _(
            "Die Kommune „%(m)s“ ist zum %(d)s aus der Kooperation ausgetreten.",
            m=p.get("municipality", ""),
            d=_datum(p.get("left_on")),
        )
    if kind == EventType.ROLE_GRANTED:
        return _(
            "%(u)s hat in der Kooperation die Rolle „%(r)s“ erhalten.",
            u=p.get("user", ""),
            r=_role(p.get("role")),
        )
    label = _label(kind)
    return f"{label}: {title}" if title else label


def _role(value: str | None) -> str:
    try:
        return _(Role(value).label)
    except ValueError:
        return value or ""


def subject_detail(event: NotificationEvent) -> str:
    """What the subject names after the event's label: a title, a municipality or a person."""
    p = event.payload or {}
    return str(p.get("title") or p.get("municipality") or p.get("user") or "")


def _label(event_type: str) -> str:
    try:
        return EventType(event_type).label
    except ValueError:
        return event_type


def _headers(user_id: int, event_type: str) -> dict[str, str]:
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(user_id, event_type)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _recipient(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not (user.email or "").strip():
        raise PermanentDeliveryError(_("Empfänger ohne E-Mail-Adresse"))
    return user


def _render(name: str, context: dict[str, Any]) -> str:
    """A mail template without Flask's per-render context processors (they serve pages:
    the bell count, the locale of a request). Jinja caches the compiled template."""
    return current_app.jinja_env.get_template(name).render(context)


def _compose_delivery(row: Delivery) -> Message:
    user = _recipient(row.user_id)
    event = row.event
    cooperation = db.session.get(Cooperation, event.cooperation_id)
    context = {
        "user": user,
        "cooperation": cooperation,
        "event": event,
        "label": _label(event.event_type),
        "text": describe(event),
        "link": link_for(event),
        "unsubscribe": unsubscribe_url(user.id, event.event_type),
        "settings_link": f"{_base()}/benachrichtigungen/einstellungen",
    }
    headers = {
        "List-Unsubscribe": f"<{context['unsubscribe']}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    subject = f"[{cooperation.title}] {context['label']}"
    if detail := subject_detail(event):
        subject += f": {detail}"
    return build_bulk_message(
        user.email,
        subject,
        _render("notifications/mail/event.txt", context),
        _render("notifications/mail/event.html", context),
        message_id=f"<koopboard-delivery-{row.id}@koopboard.localhost>",
        headers=headers,
    )


def _compose_digest(row: Digest) -> EmailMessage:
    user = _recipient(row.user_id)
    deliveries = db.session.scalars(
        select(Delivery).where(Delivery.digest_id == row.id).order_by(Delivery.id)
    ).all()
    events = [d.event for d in deliveries]
    titles = dict(
        db.session.execute(
            select(Cooperation.id, Cooperation.title).where(
                Cooperation.id.in_({e.cooperation_id for e in events})
            )
        ).all()
    )
    groups: dict[int, list[dict[str, str]]] = defaultdict(list)
    for event in events:
        groups[event.cooperation_id].append(
            {
                "label": _label(event.event_type),
                "text": describe(event),
                "link": link_for(event),
            }
        )
    types = dict.fromkeys(e.event_type for e in events)
    context = {
        "user": user,
        "groups": [(titles.get(cid, ""), items) for cid, items in groups.items()],
        "unsubscribes": [(_label(t), unsubscribe_url(user.id, t)) for t in types],
        "count": len(events),
        "settings_link": f"{_base()}/benachrichtigungen/einstellungen",
    }
    subject = _("KoopBoard: %(n)s Neuigkeiten aus Ihren Kooperationen", n=len(events))
    first_type = events[0].event_type if events else EventType.MILESTONE_STATUS_CHANGED.value
    return build_message(
        user.email,
        subject,
        render_template("notifications/mail/digest.txt", **context),
        render_template("notifications/mail/digest.html", **context),
        message_id=f"<koopboard-digest-{row.id}@koopboard.localhost>",
        headers=_headers(user.id, first_type),
    )


# --- digests ------------------------------------------------------------------------------


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


# --- date alerts --------------------------------------------------------------------------


def date_alerts(today: date | None = None) -> int:
    """Publish due-soon and overdue events, each once per interval; returns events created."""
    config = current_app.config
    today = today or berlin_today(utcnow())
    soon_days = config["NOTIFY_DUE_SOON_DAYS"]
    repeat_days = config["NOTIFY_OVERDUE_REPEAT_DAYS"]
    noon = datetime.combine(today, time(12), BERLIN)  # an instant inside that Berlin day
    open_statuses = [s for s in MilestoneStatus if not s.is_closed]
    milestones = db.session.scalars(
        select(Milestone)
        .where(
            Milestone.status.in_(open_statuses),
            Milestone.due_date <= today + timedelta(days=soon_days),
        )
        .order_by(Milestone.id)
    ).all()
    if not milestones:
        return 0
    alerts = {
        (a.milestone_id, a.kind): a
        for a in db.session.scalars(
            select(MilestoneAlert)
            .where(MilestoneAlert.milestone_id.in_([m.id for m in milestones]))
            .with_for_update()
        )
    }
    created = 0
    for m in milestones:
        if is_overdue(m.status, m.due_date, noon):
            kind, event_type = "overdue", EventType.MILESTONE_OVERDUE
            alert = alerts.get((m.id, kind))
            due = alert is None or (today - alert.last_alert_on).days >= repeat_days
        else:
            kind, event_type = "due_soon", EventType.MILESTONE_DUE_SOON
            alert = alerts.get((m.id, kind))
            # Once per due date: a moved date opens a new window.
            due = alert is None or alert.last_alert_on < m.due_date - timedelta(days=soon_days)
        if not due:
            continue
        if alert is None:
            db.session.add(MilestoneAlert(milestone_id=m.id, kind=kind, last_alert_on=today))
        else:
            alert.last_alert_on = today
        publish(
            NotificationEvent(
                cooperation_id=m.cooperation_id,
                event_type=event_type.value,
                record_type="Milestone",
                record_id=m.id,
                actor_id=None,
                payload={"title": m.title, "due_date": m.due_date.isoformat()},
            )
        )
        created += 1
    db.session.commit()
    return created


def pending_count() -> int:
    """Deliveries not yet sent, failed or digested (for health and the bench)."""
    return db.session.scalar(
        select(func.count()).where(Delivery.status.in_(("pending", "sending")))
    )


# --- failed deliveries (admin page) -------------------------------------------------------

FAILED_PAGE_SIZE = 50


@dataclass
class FailedRow:
    """One failed delivery or digest as the admin page lists it."""

    kind: str  # "delivery" or "digest"
    id: int
    created_at: datetime
    attempts: int
    last_error: str | None
    user_name: str | None
    user_email: str | None
    event_type: str | None
    cooperation_title: str | None

    @property
    def event_label(self) -> str:
        return _label(self.event_type) if self.event_type else _("Sammel-E-Mail")


@dataclass
class FailedPage:
    items: list[FailedRow]
    number: int
    has_next: bool


def failed_page(number: int) -> FailedPage:
    """Failed deliveries and digests, newest first, one page in one query."""
    number = max(number, 1)
    deliveries = (
        select(
            literal("delivery").label("kind"),
            Delivery.id.label("id"),
            Delivery.created_at.label("created_at"),
            Delivery.attempts.label("attempts"),
            Delivery.last_error.label("last_error"),
            User.name.label("user_name"),
            User.email.label("user_email"),
            NotificationEvent.event_type.label("event_type"),
            Cooperation.title.label("cooperation_title"),
        )
        .join(NotificationEvent, NotificationEvent.id == Delivery.event_id)
        .join(Cooperation, Cooperation.id == NotificationEvent.cooperation_id)
        .outerjoin(User, User.id == Delivery.user_id)
        .where(Delivery.status == "failed")
    )
    digests = (
        select(
            literal("digest"),
            Digest.id,
            Digest.created_at,
            Digest.attempts,
            Digest.last_error,
            User.name,
            User.email,
            null(),
            null(),
        )
        .outerjoin(User, User.id == Digest.user_id)
        .where(Digest.status == "failed")
    )
    both = union_all(deliveries, digests).subquery()
    rows = db.session.execute(
        select(both)
        .order_by(both.c.created_at.desc(), both.c.kind, both.c.id.desc())
        .limit(FAILED_PAGE_SIZE + 1)
        .offset((number - 1) * FAILED_PAGE_SIZE)
    ).all()
    items = [FailedRow(**row._mapping) for row in rows[:FAILED_PAGE_SIZE]]
    return FailedPage(items=items, number=number, has_next=len(rows) > FAILED_PAGE_SIZE)


def retry_failed(kind: str, row_id: int) -> bool:
    """Put a failed delivery or digest back in the queue (pending, no attempts); the caller
    commits. False if there is no such failed row (sent meanwhile, or unknown)."""
    model = {"delivery": Delivery, "digest": Digest}.get(kind)
    if model is None:
        return False
    result = db.session.execute(
        update(model)
        .where(model.id == row_id, model.status == "failed")
        .values(
            status="pending", attempts=0, next_attempt_at=None, claimed_until=None, last_error=None
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
