"""Sending e-mail over SMTP (the local sink in development, Mailpit or a relay elsewhere)."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formatdate, make_msgid

from flask import current_app


def build_message(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    *,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A German plain-text (and optional HTML) message with a stable Message-ID if given."""
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id or make_msgid(domain="koopboard.localhost")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


# Headers on one line each (well under SMTP's 998 characters): compat32 would fold a long
# List-Unsubscribe URL onto a continuation line, and folding is the slow part anyway.
_UNFOLDED = compat32.clone(max_line_length=None)


def build_bulk_message(
    to: str,
    subject: str,
    text: str,
    html: str,
    *,
    message_id: str,
    headers: dict[str, str] | None = None,
) -> Message:
    """The same mail as ``build_message`` (plain text and HTML, UTF-8), built with the
    ``compat32`` classes: several times faster, for notifications sent by the thousand
    (the modern policy parses and refolds every header, some 7 ms per message)."""
    msg = MIMEMultipart("alternative", policy=_UNFOLDED)
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = Header(subject, "utf-8") if not subject.isascii() else subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.attach(MIMEText(text, "plain", "utf-8", policy=_UNFOLDED))
    msg.attach(MIMEText(html, "html", "utf-8", policy=_UNFOLDED))
    return msg


@contextmanager
def smtp_connection() -> Iterator[smtplib.SMTP]:
    """One SMTP session (TLS and login as configured) for sending several messages.

    ``send_message`` on it raises per message: ``SMTPRecipientsRefused``,
    ``SMTPSenderRefused`` and ``SMTPDataError`` leave the session usable (smtplib resets
    it); ``SMTPServerDisconnected`` or an ``OSError`` mean the connection is gone. Connect
    errors are raised on entering."""
    config = current_app.config
    smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30)
    try:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        yield smtp
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def send_message(msg: EmailMessage | Message) -> None:
    """Deliver one message; raises smtplib/OSError errors for the caller to retry or fail."""
    with smtp_connection() as smtp:
        smtp.send_message(msg)
