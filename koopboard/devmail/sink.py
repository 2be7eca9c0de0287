"""Development SMTP sink: every received message becomes an .eml file, readable at /dev/mail."""

from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import threading
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

# File stem: UTC receive time (sortable, fixed width) + random uuid, e.g.
# 20261126T105133.123456Z-0f0e...; the stem is the message id used in URLs.
_ID_PATTERN = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{32}$")
_SUFFIX = ".eml"
_STAMP_FORMAT = "%Y%m%dT%H%M%S.%fZ"

# Prepended to the stored message so Bcc recipients stay visible (they are only in the envelope).
ENVELOPE_FROM_HEADER = "X-Sink-Envelope-From"
ENVELOPE_TO_HEADER = "X-Sink-Envelope-To"


class SinkHandler:
    """aiosmtpd handler that stores each message of a transaction as one .eml file."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        store_message(self.directory, raw, envelope.mail_from, list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def store_message(
    directory: str | os.PathLike[str],
    raw: bytes,
    mail_from: str | None = None,
    rcpt_tos: list[str] | None = None,
) -> str:
    """Write one message atomically (temp file + rename) and return its id."""
    target_dir = Path(directory)
    target_dir.mkdir(parents=True, exist_ok=True)
    message_id = f"{datetime.now(UTC).strftime(_STAMP_FORMAT)}-{uuid.uuid4().hex}"
    envelope = (
        f"{ENVELOPE_FROM_HEADER}: {mail_from or ''}\r\n"
        f"{ENVELOPE_TO_HEADER}: {', '.join(rcpt_tos or [])}\r\n"
    ).encode("utf-8", "replace")
    tmp_path = target_dir / f".{message_id}.tmp"
    tmp_path.write_bytes(envelope + raw)
    # Rename is atomic: list_messages never sees a half-written file.
    tmp_path.replace(target_dir / f"{message_id}{_SUFFIX}")
    return message_id


def make_controller(host: str, port: int, directory: str | os.PathLike[str]) -> Controller:
    """A not yet started Controller for the sink (aiosmtpd cannot listen on port 0)."""
    if port == 0:
        raise ValueError("aiosmtpd's Controller needs a fixed port, not 0")
    return Controller(SinkHandler(directory), hostname=host, port=port, enable_SMTPUTF8=True)


def serve(host: str, port: int, directory: str | os.PathLike[str]) -> None:
    """Run the sink until Ctrl-C or SIGTERM; stores every message under `directory`."""
    controller = make_controller(host, port, directory)
    stop = threading.Event()

    def _request_stop(signum: int, frame: Any) -> None:
        stop.set()

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, _request_stop)
    controller.start()
    print(
        f"KoopBoard mail sink on {host}:{port}, storing messages in {Path(directory).resolve()}",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    print("KoopBoard mail sink stopped.", flush=True)


def _message_path(directory: str | os.PathLike[str], message_id: str) -> Path:
    """Path of a message; refuses anything that is not one of our plain file names."""
    if not isinstance(message_id, str) or not _ID_PATTERN.fullmatch(message_id):
        raise ValueError(f"not a message id: {message_id!r}")
    base = Path(directory).resolve()
    path = (base / f"{message_id}{_SUFFIX}").resolve()
    if path.parent != base:  # belt and braces: the pattern already excludes separators
        raise ValueError(f"not a message id: {message_id!r}")
    return path


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    try:
        return part.get_content()
    except (LookupError, UnicodeError):  # unknown or wrong charset: show what we can
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace")


def _header(message: EmailMessage, name: str) -> str:
    value = message.get(name)
    return str(value) if value is not None else ""


def _parse(message_id: str, data: bytes) -> dict[str, Any]:
    message = email.message_from_bytes(data, policy=email.policy.default)
    if not isinstance(message, EmailMessage):  # the default policy always makes one
        raise TypeError("unexpected message class")
    date_header = message.get("Date")
    date = getattr(date_header, "datetime", None)
    envelope_to = [a.strip() for a in _header(message, ENVELOPE_TO_HEADER).split(",") if a.strip()]
    return {
        "id": message_id,
        "received": datetime.strptime(message_id.split("-", 1)[0], _STAMP_FORMAT).replace(
            tzinfo=UTC
        ),
        "from": _header(message, "From"),
        "to": _header(message, "To"),
        "cc": _header(message, "Cc"),
        "envelope_from": _header(message, ENVELOPE_FROM_HEADER),
        "envelope_to": envelope_to,
        "subject": _header(message, "Subject"),
        "date": date,
        "message_id": _header(message, "Message-ID"),
        "text": _body(message, "plain"),
        "html": _body(message, "html"),
    }


def list_messages(directory: str | os.PathLike[str], limit: int = 100) -> list[dict[str, Any]]:
    """The newest `limit` stored messages, newest first (empty if the directory is missing)."""
    base = Path(directory)
    if not base.is_dir():
        return []
    ids = sorted(
        (p.name[: -len(_SUFFIX)] for p in base.iterdir() if p.name.endswith(_SUFFIX)),
        reverse=True,
    )
    ids = [i for i in ids if _ID_PATTERN.fullmatch(i)][: max(limit, 0)]
    messages = []
    for message_id in ids:
        try:
            data = (base / f"{message_id}{_SUFFIX}").read_bytes()
        except FileNotFoundError:  # deleted meanwhile
            continue
        messages.append(_parse(message_id, data))
    return messages


def read_message(directory: str | os.PathLike[str], message_id: str) -> dict[str, Any] | None:
    """One stored message with its raw source, None if absent; ValueError for a bad id."""
    path = _message_path(directory, message_id)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    message = _parse(message_id, data)
    message["raw"] = data.decode("utf-8", "replace")
    return message
