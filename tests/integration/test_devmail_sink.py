"""The development SMTP sink: a real aiosmtpd server, real smtplib clients, .eml files on disk."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from koopboard.devmail.sink import list_messages, make_controller, read_message

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVE_SCRIPT = """
import sys
from koopboard.devmail.sink import serve
serve(sys.argv[1], int(sys.argv[2]), sys.argv[3])
"""


def _free_port() -> int:
    # aiosmtpd's Controller cannot listen on port 0, so ask the kernel for a free one first.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    directory = tmp_path / "mail"
    port = _free_port()
    controller = make_controller("127.0.0.1", port, directory)
    controller.start()
    try:
        yield port, directory
    finally:
        controller.stop()


def _message(subject: str, *, html: str | None = None, to: str = "kaemmerei@beispiel.de"):
    msg = EmailMessage()
    msg["From"] = "KoopBoard <noreply@koopboard.localhost>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 11, 26, 9, 30, tzinfo=UTC))
    slug = subject.encode("ascii", "ignore").decode().replace(" ", "-")
    msg["Message-ID"] = f"<{slug}@koopboard.localhost>"
    msg.set_content(f"Text zu {subject}: Meilenstein erledigt, 12.345,67 €.")
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def _send(port: int, msg: EmailMessage, **kwargs) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(msg, **kwargs)


def test_each_message_is_stored_as_one_eml_file(sink):
    port, directory = sink
    _send(port, _message("Meilenstein erledigt"))

    files = sorted(p.name for p in directory.iterdir())
    assert len(files) == 1
    assert files[0].endswith(".eml")
    assert "Subject: Meilenstein erledigt" in (directory / files[0]).read_text("utf-8")


def test_list_shows_headers_and_both_bodies(sink):
    port, directory = sink
    _send(port, _message("Kosten gebucht", html="<p>Kosten <b>gebucht</b>: 12.345,67 €</p>"))

    [message] = list_messages(directory)
    assert message["from"] == "KoopBoard <noreply@koopboard.localhost>"
    assert message["to"] == "kaemmerei@beispiel.de"
    assert message["subject"] == "Kosten gebucht"
    assert message["date"] == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    assert message["message_id"] == "<Kosten-gebucht@koopboard.localhost>"
    assert "12.345,67 €" in message["text"]
    assert "<b>gebucht</b>" in message["html"]
    assert message["envelope_to"] == ["kaemmerei@beispiel.de"]


def test_plain_message_has_no_html_body(sink):
    port, directory = sink
    _send(port, _message("Nur Text"))
    [message] = list_messages(directory)
    assert message["html"] is None
    assert message["text"].startswith("Text zu Nur Text")


def test_bcc_recipients_are_kept_from_the_envelope(sink):
    port, directory = sink
    _send(
        port,
        _message("Rundschreiben"),
        to_addrs=["kaemmerei@beispiel.de", "verborgen@beispiel.de"],
    )
    [message] = list_messages(directory)
    assert message["envelope_to"] == ["kaemmerei@beispiel.de", "verborgen@beispiel.de"]
    assert "verborgen" not in message["to"]


def test_list_is_newest_first_and_limited(sink):
    port, directory = sink
    for number in range(3):
        _send(port, _message(f"Nachricht {number}"))

    subjects = [m["subject"] for m in list_messages(directory)]
    assert subjects == ["Nachricht 2", "Nachricht 1", "Nachricht 0"]
    assert [m["subject"] for m in list_messages(directory, limit=2)] == subjects[:2]


def test_list_of_missing_directory_is_empty(tmp_path):
    assert list_messages(tmp_path / "nothing-here") == []


def test_read_returns_the_message_with_its_source(sink):
    port, directory = sink
    _send(port, _message("Beitritt angefragt"))
    [listed] = list_messages(directory)

    message = read_message(directory, listed["id"])
    assert message is not None
    assert message["subject"] == "Beitritt angefragt"
    assert "Subject: Beitritt angefragt" in message["raw"]


def test_read_of_unknown_id_is_none(sink):
    _, directory = sink
    assert read_message(directory, "20261126T093000.000000Z-" + "0" * 32) is None


@pytest.mark.parametrize(
    "bad_id",
    [
        "",
        ".",
        "..",
        "../secret",
        "../../etc/passwd",
        "/etc/passwd",
        "sub/20261126T093000.000000Z-" + "0" * 32,
        "20261126T093000.000000Z-" + "0" * 32 + ".eml",
        "20261126T093000.000000Z-" + "0" * 32 + "/../x",
        "20261126T093000.000000Z-" + "0" * 32 + "\x00",
    ],
)
def test_read_refuses_ids_that_are_not_plain_file_names(tmp_path, bad_id):
    (tmp_path / "secret.eml").write_text("Subject: geheim\n\nnein\n")
    with pytest.raises(ValueError):
        read_message(tmp_path / "mail", bad_id)


def test_serve_blocks_until_sigterm_and_then_exits_cleanly(tmp_path):
    directory = tmp_path / "mail"
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_SCRIPT, "127.0.0.1", str(port), str(directory)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                _send(port, _message("Über den Prozess"))
                break
            except OSError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "mail sink did not start listening"
                time.sleep(0.1)
        assert process.poll() is None  # still serving after a message
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
        assert process.returncode == 0, output
        assert "stopped" in output
        assert [m["subject"] for m in list_messages(directory)] == ["Über den Prozess"]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
