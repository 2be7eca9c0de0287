"""Sending e-mail over SMTP (the local sink in development, Mailpit or a relay elsewhere)."""

from __future__ import annotations

import base64
import re
import secrets
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.header import Header
from email.message import EmailMessage, Message
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from functools import lru_cache

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


@dataclass(frozen=True)
class RawMail:
    """A finished message: its envelope and the bytes of the SMTP DATA (CRLF lines)."""

    sender: str
    recipient: str
    data: bytes


@lru_cache(maxsize=1024)
def encode_header(value: str) -> str:
    """A header value as 7-bit text: ASCII as is, otherwise RFC 2047 encoded words, folded
    (cached: a subject is the same for every recipient of an event)."""
    if value.isascii():
        return value
    return Header(value, "utf-8").encode().replace("\n", "\r\n")


@lru_cache(maxsize=16)
def _sender(mail_from: str) -> tuple[str, str]:
    """The From header and the envelope sender for ``MAIL_FROM``."""
    name, address = parseaddr(mail_from)
    return formataddr((name, address), charset="utf-8"), address


def _base64_body(text: str) -> bytes:
    """Base64 in lines of 76 characters, each ending in CRLF (RFC 2045)."""
    data = base64.b64encode(text.encode("utf-8"))
    return b"".join(data[i : i + 76] + b"\r\n" for i in range(0, len(data), 76))


def build_bulk_mail(
    to: str,
    subject: str,
    text: str,
    html: str,
    *,
    message_id: str,
    headers: dict[str, str] | None = None,
) -> RawMail:
    """The same mail as ``build_message`` (plain text and HTML, UTF-8, base64), written
    straight to bytes: for notifications sent by the thousand. The ``email`` package's
    generator refolds every header on every message, which cost more than all the rest of
    a delivery (database, templates, SMTP) together. Header values must not contain line
    breaks (they come from our own data, not from user-typed header text)."""
    from_header, envelope_from = _sender(current_app.config["MAIL_FROM"])
    # "=_" never occurs in base64 text, so the boundary cannot collide with a body line.
    boundary = f"=_koopboard_{secrets.token_hex(12)}"
    lines = [
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "MIME-Version: 1.0",
        f"From: {from_header}",
        f"To: {encode_header(to)}",
        f"Subject: {encode_header(subject)}",
        f"Date: {formatdate(localtime=False)}",
        f"Message-ID: {message_id}",
        *(f"{name}: {encode_header(value)}" for name, value in (headers or {}).items()),
        "",
    ]
    head = "\r\n".join(lines).encode("ascii")
    parts = []
    for subtype, body in (("plain", text), ("html", html)):
        parts.append(
            (
                f"\r\n--{boundary}\r\n"
                f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
                "MIME-Version: 1.0\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n"
            ).encode("ascii")
            + _base64_body(body)
        )
    tail = f"\r\n--{boundary}--\r\n".encode("ascii")
    return RawMail(envelope_from, to, head + b"".join(parts) + tail)


def is_plain_address(address: str) -> bool:
    """Whether ``address`` can go into an envelope and a header as it is (``local@domain``,
    no spaces, brackets or line breaks)."""
    local, at, domain = address.rpartition("@")
    return bool(local and at and domain) and _NOT_PLAIN.search(address) is None


_NOT_PLAIN = re.compile(r'[\s<>,;"]')


def send_raw(smtp: smtplib.SMTP, mail: RawMail) -> None:
    """``smtp.sendmail`` for one ready mail, without parsing its addresses again (they are
    bare, checked with ``is_plain_address``). If the server offers PIPELINING (RFC 2920),
    MAIL, RCPT and DATA go out in one write: two round trips per mail instead of four.
    Raises what ``sendmail`` raises and leaves the session usable after a refusal."""
    smtp.ehlo_or_helo_if_needed()
    size = f" SIZE={len(mail.data)}" if smtp.does_esmtp and smtp.has_extn("size") else ""
    mail_from, rcpt_to = f"MAIL FROM:<{mail.sender}>{size}", f"RCPT TO:<{mail.recipient}>"
    if smtp.does_esmtp and smtp.has_extn("pipelining"):
        smtp.send(f"{mail_from}\r\n{rcpt_to}\r\nDATA\r\n")
        sender, recipient, data = smtp.getreply(), smtp.getreply(), smtp.getreply()
        if data[0] == 354 and (sender[0] != 250 or recipient[0] not in (250, 251)):
            smtp.send(".\r\n")  # refused, yet DATA accepted: end the empty message
            data = smtp.getreply()
        if sender[0] != 250:
            _reset_or_close(smtp, sender[0])
            raise smtplib.SMTPSenderRefused(sender[0], sender[1], mail.sender)
        if recipient[0] not in (250, 251):
            _reset_or_close(smtp, recipient[0])
            raise smtplib.SMTPRecipientsRefused({mail.recipient: recipient})
        if data[0] != 354:
            _reset_or_close(smtp, data[0])
            raise smtplib.SMTPDataError(*data)
        smtp.send(_dot_stuffed(mail.data))
        code, reply = smtp.getreply()
    else:
        code, reply = smtp.docmd(*mail_from.split(" ", 1))
        if code != 250:
            _reset_or_close(smtp, code)
            raise smtplib.SMTPSenderRefused(code, reply, mail.sender)
        code, reply = smtp.docmd(*rcpt_to.split(" ", 1))
        if code not in (250, 251):
            _reset_or_close(smtp, code)
            raise smtplib.SMTPRecipientsRefused({mail.recipient: (code, reply)})
        code, reply = smtp.data(mail.data)
    if code != 250:
        _reset_or_close(smtp, code)
        raise smtplib.SMTPDataError(code, reply)


_LEADING_DOT = re.compile(rb"(?m)^\.")


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA content as sent: leading dots doubled, ended by CRLF . CRLF (RFC 5321)."""
    data = _LEADING_DOT.sub(b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _reset_or_close(smtp: smtplib.SMTP, code: int) -> None:
    if code == 421:  # the server is closing the session
        smtp.close()
    else:
        try:
            smtp.rset()
        except smtplib.SMTPServerDisconnected:
            pass


@contextmanager
def smtp_connection() -> Iterator[smtplib.SMTP]:
    """One SMTP session (TLS and login as configured) for sending several messages.

    ``send_message`` (``sendmail`` for a ``RawMail``) on it raises per message:
    ``SMTPRecipientsRefused``, ``SMTPSenderRefused`` and ``SMTPDataError`` leave the session
    usable (smtplib resets it); ``SMTPServerDisconnected`` or an ``OSError`` mean the
    connection is gone. Connect errors are raised on entering."""
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
