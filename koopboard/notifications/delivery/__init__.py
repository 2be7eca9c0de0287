"""Delivery of notification e-mails: relay, send with retry, digests and date alerts.

The database row is the record; Celery only carries ids. A task that is lost (Redis restart,
worker killed) leaves its row "pending" or "sending" with an expired claim, and the beat
relay hands it out again. Retries are scheduled on the row (``next_attempt_at``), not as
Celery countdowns. The Message-ID derives from the row, so the only possible repeat (a
crash between the SMTP server's acceptance and our commit) carries the same Message-ID.

One module per concern, each importing only those below it:

    relaying   the relay: claim due rows, send them, queue digests and the next relay
    digests    collect digest deliveries into one mail per user and hour, then relay
    alerts     publish due-soon and overdue milestone events
    failures   the admin page's failed rows and their retry
    sending    SMTP: a batch of deliveries over one connection, a digest, retry back-off
    rendering  what a mail says: text, link, subject, templates, per-recipient values
    claiming   which rows are due, and claims on them
    errors     temporary or permanent failure

This package exports the entry points the task wrappers (``tasks.notifications``) and the
admin page call; everything else is imported from its module.
"""

from koopboard.notifications.delivery.alerts import date_alerts
from koopboard.notifications.delivery.digests import queue_digests
from koopboard.notifications.delivery.failures import failed_page, retry_failed
from koopboard.notifications.delivery.relaying import pending_count, relay
from koopboard.notifications.delivery.sending import deliver, deliver_batch, deliver_digest

__all__ = [
    "date_alerts",
    "deliver",
    "deliver_batch",
    "deliver_digest",
    "failed_page",
    "pending_count",
    "queue_digests",
    "relay",
    "retry_failed",
]
