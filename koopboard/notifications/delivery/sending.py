"""Sending notification e-mails over SMTP, with retry: one digest, or a batch of deliveries.

The database row is the record; Celery only carries ids. A task that is lost (Redis restart,
worker killed) leaves its row "pending" or "sending" with an expired claim, and the beat
relay hands it out again. Retries are scheduled on the row (``next_attempt_at``), not as
Celery countdowns. The Message-ID derives from the row, so the only possible repeat (a
crash between the SMTP server's acceptance and our commit) carries the same Message-ID.
"""

import logging
import random
import smtplib
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from koopboard.extensions import db
from koopboard.mail import is_plain_address, send_message, send_raw, smtp_connection
from koopboard.models import Cooperation, NotificationEvent, User
from koopboard.models.types import utcnow
from koopboard.notifications.delivery.claiming import (
    DELIVERIES,
    Delivery,
    Digest,
    claim_many,
    claim_one,
    commit_every,
)
from koopboard.notifications.delivery.errors import PermanentDeliveryError, classify
from koopboard.notifications.delivery.rendering import (
    EventMail,
    Recipient,
    compose_delivery,
    compose_digest,
    event_mail,
)

log = logging.getLogger(__name__)


def retry_delay(attempts: int) -> float:
    """Seconds before try ``attempts + 1``: exponential, capped, with up to 10 % jitter."""
    config = current_app.config
    base = config["NOTIFY_RETRY_BASE_SECONDS"] * 2 ** max(attempts - 1, 0)
    delay = min(config["NOTIFY_RETRY_CAP_SECONDS"], base)
    # Jitter spreads retries; nothing secret depends on it, so no CSPRNG is needed.
    return delay + random.uniform(0, delay / 10)  # nosec B311


def _attempt(
    model: type[Delivery] | type[Digest], row_id: int, compose: Callable[[Any], EmailMessage]
) -> str:
    """Claim, compose, send and record one attempt; returns the row's new status."""
    if not claim_one(model, row_id):
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


def _prepare(ids: list[int]) -> dict[int, Recipient | Exception]:
    """Read the rows with their recipients, then their events with their cooperations (two
    queries), and render each event's mail once; returns id → recipient, or the error that
    fails the row."""
    rows = db.session.execute(
        select(Delivery.id, Delivery.user_id, Delivery.event_id, User.name, User.email)
        .outerjoin(User, User.id == Delivery.user_id)
        .where(Delivery.id.in_(ids))
    ).all()
    mails: dict[int, tuple[str, EventMail | Exception]] = {}
    for event, cooperation in db.session.execute(
        select(NotificationEvent, Cooperation)
        .join(Cooperation, Cooperation.id == NotificationEvent.cooperation_id)
        .where(NotificationEvent.id.in_({r.event_id for r in rows}))
    ):
        try:
            mails[event.id] = (event.event_type, event_mail(event, cooperation))
        except Exception as exc:  # noqa: BLE001 (fails this event's rows, not the batch)
            mails[event.id] = (event.event_type, exc)
    prepared: dict[int, Recipient | Exception] = {}
    for row_id, user_id, event_id, name, email in rows:
        email = (email or "").strip()
        if not email:
            prepared[row_id] = PermanentDeliveryError(_("Empfänger ohne E-Mail-Adresse"))
        elif not is_plain_address(email):
            prepared[row_id] = PermanentDeliveryError(_("Ungültige E-Mail-Adresse"))
        else:
            event_type, mail = mails[event_id]
            prepared[row_id] = Recipient(user_id, name, email, event_type, mail)
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

    def __init__(self, prepared: dict[int, Recipient | Exception]) -> None:
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
                mail = compose_delivery(row_id, self.prepared[row_id])
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
                claimed = claim_many(ids[start : start + step])
                sent, failed = batch.send_chunk(claimed)
                _record(sent, failed)
                result.update(dict.fromkeys(sent, "sent"))
                result.update({f["id"]: f["status"] for f in failed})
        finally:
            batch.close()
    return result


def deliver_digest(digest_id: int) -> str:
    """Send one digest e-mail (called by the Celery task)."""
    return _attempt(Digest, digest_id, compose_digest)
