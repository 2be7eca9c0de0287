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
from decimal import Decimal, InvalidOperation
from email.message import EmailMessage
from typing import Any

from flask import current_app, render_template
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import and_, func, literal, null, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError

from koopboard.domain.catalog import Role
from koopboard.domain.milestones import BERLIN, MilestoneStatus, berlin_today, is_overdue
from koopboard.domain.money import format_eur
from koopboard.domain.notifications import EventType
from koopboard.extensions import db
from koopboard.mail import (
    RawMail,
    build_bulk_mail,
    build_message,
    is_plain_address,
    send_message,
    send_raw,
    smtp_connection,
)
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
from koopboard.notifications import jobs
from koopboard.notifications.outbox import publish
from koopboard.notifications.preferences import settings_for
from koopboard.notifications.unsubscribe import unsubscribe_url

log = logging.getLogger(__name__)
Delivery = NotificationDelivery
Digest = NotificationDigest
DELIVERIES = NotificationDelivery.__table__


class TemporaryDeliveryError(Exception):
    """Worth another try later (4xx, connection refused or dropped)."""


class PermanentDeliveryError(Exception):
    """No retry can help (5xx, no address)."""


# --- relay --------------------------------------------------------------------------------


def _due(model: Any, now: datetime) -> Any:
    """Pending and due, or claimed by a worker whose claim has expired (it crashed).
    ``model``: Delivery or Digest, or a table's columns (``DELIVERIES.c``)."""
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
    """Deliveries one relay claims and sends over one SMTP connection."""
    return max(int(current_app.config.get("NOTIFY_BATCH_SIZE", 50)), 1)


def relay(limit: int = 500) -> int:
    """Claim the oldest due deliveries (one batch) and send them; hand due digests (up to
    ``limit``) to their tasks. Returns how many rows were claimed.

    A full batch means more may be due: another relay is queued first, so a backlog is
    worked off by every worker process, oldest first. (Claiming the whole backlog at once
    and queueing it in chunks let fresher mail overtake the queued chunks: each save's
    nudge relays its own rows at once, while the chunks waited behind those nudges.)"""
    now = utcnow()
    size = batch_size()
    delivery_ids = _claim_batch(Delivery, size, now)
    digest_ids = _claim_batch(Digest, limit, now)
    db.session.commit()
    for digest_id in digest_ids:
        jobs.queue_digest(digest_id)
    if len(delivery_ids) == size:
        jobs.queue_relay()  # before sending: the other worker process starts on the next batch
    if delivery_ids:
        deliver_batch(delivery_ids)
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


def commit_every() -> int:
    """Deliveries sent between two commits of their statuses within a batch: what a worker
    killed mid-batch can send twice (same Message-ID), at most, per process."""
    return max(int(current_app.config.get("NOTIFY_COMMIT_EVERY", 20)), 1)


def _claim_many(ids: list[int]) -> dict[int, int]:
    """Lock and claim those rows that are still to be sent; returns id → attempts so far.

    One statement: the subquery locks in id order (no deadlocks between overlapping
    batches), and a concurrent copy of the batch waits on the locks, then finds its rows
    sent. The locks are held until the caller commits these rows' statuses. (Core
    statements on the table: this and ``_record`` run for every chunk of every batch.)"""
    now = utcnow()
    t = DELIVERIES.c
    due = select(t.id).where(t.id.in_(ids), _due(t, now) | (t.status == "sending")).order_by(t.id)
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update()
    rows = db.session.execute(
        update(DELIVERIES)
        .where(t.id.in_(due.scalar_subquery()))
        .values(
            status="sending",
            claimed_until=now + timedelta(seconds=current_app.config["NOTIFY_CLAIM_SECONDS"]),
        )
        .returning(t.id, t.attempts)
    )
    return {row_id: attempts for row_id, attempts in rows}


@dataclass
class _Recipient:
    """What a delivery's mail needs, read before the batch starts committing (a commit
    expires ORM objects; plain values survive)."""

    user_id: int
    name: str
    email: str
    event_type: str
    mail: _EventMail | Exception  # the event's rendering, or why it failed


def _prepare(ids: list[int]) -> dict[int, _Recipient | Exception]:
    """Read the rows with their recipients, then their events with their cooperations (two
    queries), and render each event's mail once; returns id → recipient, or the error that
    fails the row."""
    rows = db.session.execute(
        select(Delivery.id, Delivery.user_id, Delivery.event_id, User.name, User.email)
        .outerjoin(User, User.id == Delivery.user_id)
        .where(Delivery.id.in_(ids))
    ).all()
    mails: dict[int, tuple[str, _EventMail | Exception]] = {}
    for event, cooperation in db.session.execute(
        select(NotificationEvent, Cooperation)
        .join(Cooperation, Cooperation.id == NotificationEvent.cooperation_id)
        .where(NotificationEvent.id.in_({r.event_id for r in rows}))
    ):
        try:
            mails[event.id] = (event.event_type, _event_mail(event, cooperation))
        except Exception as exc:  # noqa: BLE001 (fails this event's rows, not the batch)
            mails[event.id] = (event.event_type, exc)
    prepared: dict[int, _Recipient | Exception] = {}
    for row_id, user_id, event_id, name, email in rows:
        email = (email or "").strip()
        if not email:
            prepared[row_id] = PermanentDeliveryError(_("Empfänger ohne E-Mail-Adresse"))
        elif not is_plain_address(email):
            prepared[row_id] = PermanentDeliveryError(_("Ungültige E-Mail-Adresse"))
        else:
            event_type, mail = mails[event_id]
            prepared[row_id] = _Recipient(user_id, name, email, event_type, mail)
    return prepared


def _failure(row_id: int, attempts: int, exc: BaseException) -> dict[str, Any]:
    """The row's new values after failed attempt number ``attempts``: retry later, or give up."""
    if isinstance(exc, PermanentDeliveryError):
        kind, error = PermanentDeliveryError, str(exc)
    else:
        kind, error = classify(exc), f"{type(exc).__name__}: {exc}"
    log.warning("Notification delivery %s: %s", row_id, error)
    values: dict[str, Any] = {
        "id": row_id,
        "attempts": attempts,
        "last_error": error[:500],
        "claimed_until": None,
    }
    if kind is PermanentDeliveryError or attempts >= current_app.config["NOTIFY_MAX_ATTEMPTS"]:
        return {**values, "status": "failed", "next_attempt_at": None}
    delay = timedelta(seconds=retry_delay(attempts))
    return {**values, "status": "pending", "next_attempt_at": utcnow() + delay}


def _record(sent: list[int], failed: list[dict[str, Any]]) -> None:
    """Write one chunk's outcome (two bulk UPDATEs at most) and commit: releases its locks."""
    if sent:
        t = DELIVERIES.c
        db.session.execute(
            update(DELIVERIES)
            .where(t.id.in_(sent))
            .values(
                status="sent",
                sent_at=utcnow(),
                attempts=t.attempts + 1,
                claimed_until=None,
                last_error=None,
            )
        )
    if failed:
        db.session.execute(update(Delivery), failed)  # bulk UPDATE by primary key
    db.session.commit()


class _Batch:
    """One ``deliver_batch`` call: its SMTP session (opened for the first mail that is ready)
    and, once the connection is refused or lost, the error that fails the rest."""

    def __init__(self, prepared: dict[int, _Recipient | Exception]) -> None:
        self.prepared = prepared
        self.broken: Exception | None = None
        self._session: Any = None
        self._smtp: smtplib.SMTP | None = None

    def send_chunk(self, claimed: dict[int, int]) -> tuple[list[int], list[dict[str, Any]]]:
        """Send the claimed rows (id → attempts so far); returns the sent ids and the
        failed rows' new values."""
        sent: list[int] = []
        failed: list[dict[str, Any]] = []
        for row_id in sorted(claimed):
            attempts = claimed[row_id] + 1
            if self.broken is not None:
                failed.append(_failure(row_id, attempts, self.broken))
                continue
            try:
                mail = _compose_delivery(row_id, self.prepared[row_id])
            except Exception as exc:  # noqa: BLE001 (recorded on the row)
                failed.append(_failure(row_id, attempts, exc))
                continue
            try:
                send_raw(self._connection(), mail)
            except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
                if isinstance(exc, smtplib.SMTPConnectError | smtplib.SMTPAuthenticationError):
                    self.broken = exc  # no session at all: the rest fails the same way
                failed.append(_failure(row_id, attempts, exc))  # else: this one only
            except Exception as exc:  # noqa: BLE001 (refused, dropped, timed out)
                self.broken = exc  # this one and the rest of the batch: retry later
                failed.append(_failure(row_id, attempts, exc))
            else:
                sent.append(row_id)
        return sent, failed

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            session = smtp_connection()
            self._smtp = session.__enter__()
            self._session = session
        return self._smtp

    def close(self) -> None:
        if self._session is not None:
            session, self._session, self._smtp = self._session, None, None
            try:
                session.__exit__(None, None, None)
            except Exception:  # noqa: BLE001 (every status is recorded already)
                log.warning("Closing the SMTP connection failed", exc_info=True)


def deliver_batch(ids: list[int]) -> dict[int, str]:
    """Send many immediate deliveries over one SMTP connection; returns id → new status.

    The batch goes out in chunks of ``NOTIFY_COMMIT_EVERY``: claim the chunk (row locks),
    send it, write its statuses in bulk and commit. A worker killed mid-batch therefore
    re-sends at most its unrecorded chunk (same Message-IDs) and never loses a row: the
    rows stay "sending" until their claim expires and the relay hands them out again.

    Per message: 4xx → that row is retried later, 5xx or no address → that row fails. A
    refused or dropped connection fails the current and every remaining row temporarily
    (they are retried with back-off)."""
    ids = sorted(set(ids))
    result: dict[int, str] = {}
    # One request context for the whole batch: the unsubscribe links' url_for would
    # otherwise build one per mail.
    with current_app.test_request_context():
        batch = _Batch(_prepare(ids))
        db.session.rollback()  # no snapshot held while sending
        ids = [i for i in ids if i in batch.prepared]
        step = commit_every()
        try:
            for start in range(0, len(ids), step):
                claimed = _claim_many(ids[start : start + step])
                sent, failed = batch.send_chunk(claimed)
                _record(sent, failed)
                result.update(dict.fromkeys(sent, "sent"))
                result.update({f["id"]: f["status"] for f in failed})
        finally:
            batch.close()
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
    if event.record_type == "Cost":
        return f"{coop}/kosten/{event.record_id}"
    if event.record_type == "Payment":
        # Payments have no page of their own: the cost list of their budget year shows them.
        year = (event.payload or {}).get("year")
        return f"{coop}/kosten/" + (f"?jahr={int(year)}" if str(year or "").isdigit() else "")
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
    if kind == EventType.COST_SUBMITTED:
        return _(
            "Die Kosten „%(t)s“ über %(a)s sind zur Freigabe eingereicht.",
            t=title,
            a=_eur(p.get("amount")),
        )
    if kind == EventType.COST_APPROVED:
        return _(
            "Die Kosten „%(t)s“ über %(a)s sind freigegeben.", t=title, a=_eur(p.get("amount"))
        )
    if kind == EventType.COST_REJECTED:
        return _(
            "Die Kosten „%(t)s“ über %(a)s sind abgelehnt. Grund: %(r)s",
            t=title,
            a=_eur(p.get("amount")),
            r=p.get("reason", ""),
        )
    label = _label(kind)
    return f"{label}: {title}" if title else label


def _eur(value: str | None) -> str:
    """A stored amount ("12345.67") the German way ("12.345,67 €")."""
    try:
        return format_eur(Decimal(value or ""))
    except (InvalidOperation, ValueError, TypeError):
        return value or ""


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


# Stand-ins for the recipient's values: an event's mail is rendered once for all its
# recipients, then these are replaced per recipient (HTML-escaped in the HTML part). NUL
# never occurs in database text, and HTML escaping leaves it as it is.
_NAME = "\x00name\x00"
_UNSUBSCRIBE = "\x00unsubscribe\x00"


class _RecipientStandIn:
    """What the event templates may use of the recipient (``user.name``)."""

    name = _NAME


@dataclass
class _EventMail:
    """An event's mail, rendered once, with stand-ins for the recipient's values."""

    subject: str
    text: str
    html: str


# Rendered events by (event id and time, cooperation title, base URL): an event's recipients
# may be spread over several batches, and an event never changes once published.
_EVENT_MAILS: dict[tuple[int, datetime, str, str], _EventMail] = {}
_EVENT_MAILS_MAX = 512


def _event_mail(event: NotificationEvent, cooperation: Cooperation) -> _EventMail:
    key = (event.id, event.created_at, cooperation.title, _base())
    if (mail := _EVENT_MAILS.get(key)) is None:
        if len(_EVENT_MAILS) >= _EVENT_MAILS_MAX:
            _EVENT_MAILS.clear()
        mail = _EVENT_MAILS[key] = _render_event_mail(event, cooperation)
    return mail


def _render_event_mail(event: NotificationEvent, cooperation: Cooperation) -> _EventMail:
    context = {
        "user": _RecipientStandIn(),
        "cooperation": cooperation,
        "event": event,
        "label": _label(event.event_type),
        "text": describe(event),
        "link": link_for(event),
        "unsubscribe": _UNSUBSCRIBE,
        "settings_link": f"{_base()}/benachrichtigungen/einstellungen",
    }
    subject = f"[{cooperation.title}] {context['label']}"
    if detail := subject_detail(event):
        subject += f": {detail}"
    return _EventMail(
        subject,
        _render("notifications/mail/event.txt", context),
        _render("notifications/mail/event.html", context),
    )


# Signed unsubscribe links by (secret, base URL, user, event type): the same people hear of
# the same kinds of events again and again, and signing costs more than the rest of a mail.
_LINKS: dict[tuple[str, str, int, str], str] = {}
_LINKS_MAX = 20_000


def _unsubscribe_link(user_id: int, event_type: str) -> str:
    config = current_app.config
    key = (config["SECRET_KEY"], config["PUBLIC_BASE_URL"], user_id, event_type)
    if (link := _LINKS.get(key)) is None:
        if len(_LINKS) >= _LINKS_MAX:
            _LINKS.clear()
        link = _LINKS[key] = unsubscribe_url(user_id, event_type)
    return link


def _compose_delivery(delivery_id: int, recipient: _Recipient | Exception) -> RawMail:
    """The delivery's mail: its event's rendering with the recipient's name and link."""
    if isinstance(recipient, Exception):
        raise recipient
    if isinstance(recipient.mail, Exception):
        raise recipient.mail
    mail = recipient.mail
    name = recipient.name or ""
    unsubscribe = _unsubscribe_link(recipient.user_id, recipient.event_type)
    return build_bulk_mail(
        recipient.email,
        mail.subject,
        mail.text.replace(_NAME, name).replace(_UNSUBSCRIBE, unsubscribe),
        mail.html.replace(_NAME, str(escape(name))).replace(_UNSUBSCRIBE, str(escape(unsubscribe))),
        message_id=f"<koopboard-delivery-{delivery_id}@koopboard.localhost>",
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
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
