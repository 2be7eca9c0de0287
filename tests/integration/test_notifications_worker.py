"""Notifications end to end with real services: PostgreSQL, Redis, a Celery worker process
(prefork, two children, with beat) and an aiosmtpd server that can refuse on purpose.

Nothing is mocked: the test process saves changes like the web app does, the worker relays
and sends, and the assertions read what the SMTP server received.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from koopboard.domain.catalog import Role
from koopboard.domain.milestones import berlin_today
from koopboard.extensions import db
from koopboard.milestones import services
from koopboard.models import (
    Cooperation,
    Membership,
    Milestone,
    NotificationDelivery,
    NotificationEvent,
    NotificationPreference,
    NotificationSettings,
    User,
)
from koopboard.models.types import utcnow
from tests.conftest import (
    PG_HOST,
    PG_PORT,
    REDIS_HOST,
    REDIS_PORT,
    Mailbox,
    _clean,
    _test_config,
    free_port,
    port_open,
    prefer,
    service_missing,
    wants_mail_at_once,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REDIS_DB = 11
BROKER = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
ROOT = Path(__file__).resolve().parents[2]
# Small, fast timings for the worker and the test app alike.
NOTIFY = {
    "NOTIFY_RETRY_BASE_SECONDS": 0.8,
    "NOTIFY_RETRY_CAP_SECONDS": 8,
    "NOTIFY_MAX_ATTEMPTS": 6,
    "NOTIFY_CLAIM_SECONDS": 4,
    "NOTIFY_RELAY_INTERVAL_SECONDS": 0.5,
    # Statuses committed every 5 mails: a killed worker process re-sends at most 5.
    "NOTIFY_COMMIT_EVERY": 5,
}
CONCURRENCY = 2  # worker processes (prefork children)


class ScriptedMailbox(Mailbox):
    """A mailbox that answers with scripted replies first (e.g. 451 ×3), then accepts."""

    def __init__(self) -> None:
        super().__init__()
        self.replies: list[str] = []
        self.always: str | None = None
        self.delay = 0.0
        self.attempts: list[float] = []

    def reset(self) -> None:
        self.clear()
        self.replies, self.always, self.delay, self.attempts = [], None, 0.0, []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        self.attempts.append(time.monotonic())
        if self.replies:
            return self.replies.pop(0)
        if self.always:
            return self.always
        if self.delay:
            await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)

    def ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Worker:
    """A real `celery worker -B` process group for the test database and broker."""

    def __init__(self, env: dict[str, str], log: Path, schedule: Path) -> None:
        self.env, self.log, self.schedule = env, log, schedule
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        offset = self.log.stat().st_size if self.log.exists() else 0
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "app.celery",
                "worker",
                "-B",
                "--pool=prefork",
                f"--concurrency={CONCURRENCY}",
                "-Q",
                "celery",
                "--loglevel=info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--schedule",
                f"{self.schedule}-{time.monotonic_ns()}",  # fresh: a SIGKILL may corrupt it
            ],
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()

        def ready() -> bool:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            return b" ready." in self.log.read_bytes()[offset:]

        wait_for(ready, 30, "the Celery worker")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.proc = None


@pytest.fixture(scope="module")
def services_up() -> None:
    if not port_open(PG_HOST, PG_PORT):
        service_missing("PostgreSQL", f"{PG_HOST}:{PG_PORT} closed")
    if not port_open(REDIS_HOST, REDIS_PORT):
        service_missing("Redis", f"{REDIS_HOST}:{REDIS_PORT} closed")


@pytest.fixture(scope="module")
def smtp(services_up) -> Iterator[tuple[ScriptedMailbox, int]]:  # noqa: ANN001
    from aiosmtpd.controller import Controller

    box = ScriptedMailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def _flush_redis() -> None:
    import redis

    redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB).flushdb()


@pytest.fixture(scope="module")
def worker(database_url: str, smtp, tmp_path_factory) -> Iterator[Worker]:  # noqa: ANN001
    if not database_url.startswith("postgresql"):
        service_missing("PostgreSQL", "the worker tests need a shared database")
    _flush_redis()
    tmp = tmp_path_factory.mktemp("worker")
    config = _test_config(database_url, smtp[1])
    env = {
        **os.environ,
        "KOOP_ENV": "testing",
        "KOOP_INSTANCE_DIR": str(tmp),
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "SECRET_KEY": config["SECRET_KEY"],
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp[1]),
        "PUBLIC_BASE_URL": "http://localhost",
        **{key: str(value) for key, value in NOTIFY.items()},
    }
    w = Worker(env, tmp / "worker.log", tmp / "beat-schedule")
    w.start()
    yield w
    w.kill(signal.SIGTERM)
    _flush_redis()


def _app_config(database_url: str, smtp_port: int, broker: str = BROKER) -> dict:
    return {
        **_test_config(database_url, smtp_port),
        "CELERY_TASK_ALWAYS_EAGER": False,
        "CELERY_BROKER_URL": broker,
        **NOTIFY,
    }


@pytest.fixture()
def app(database_url: str, smtp, worker: Worker):  # noqa: ANN001, ANN201
    """The web app as production runs it: not eager, the real broker (overrides conftest)."""
    from koopboard import create_app

    app = create_app(_app_config(database_url, smtp[1]))
    ctx = app.app_context()
    ctx.push()
    _clean(db)
    smtp[0].reset()
    yield app
    db.session.remove()
    db.engine.dispose()
    ctx.pop()


@dataclass
class Setup:
    cooperation: Cooperation
    lead: User
    immediate: User
    off: User
    digest: User
    milestone: Milestone


@pytest.fixture()
def setup(app, make_municipality, make_user, make_cooperation) -> Setup:  # noqa: ANN001
    a, b = make_municipality("Merchweiler"), make_municipality("Illingen")
    lead = make_user(a, name="Lea Leitung")
    immediate = make_user(b, name="Ida Sofort")
    off = make_user(b, name="Otto Aus")
    digest = make_user(a, name="Dora Sammel")
    cooperation = make_cooperation(
        lead,
        partners=[b],
        roles={immediate: Role.MEMBER, off: Role.MEMBER, digest: Role.TREASURER},
        title="Gemeinsamer Bauhof",
    )
    kind = "milestone.status_changed"
    # Chosen, not the role presets (tested in test_notification_preferences.py): mail at once
    # for everything, except the one kind of event that is under test.
    wants_mail_at_once(immediate, off, digest)
    prefer(off, kind, "off")
    prefer(digest, kind, "digest")
    db.session.add_all(
        [
            # An hour that never comes during the test: beat's digest run must not fire.
            NotificationSettings(
                user_id=digest.id, digest_days="1,2,3,4,5,6,7", digest_hour=_hour(+12)
            ),
        ]
    )
    milestone = services.create_milestone(
        cooperation,
        services.MilestoneData(
            title="Satzung beschließen",
            description="",
            phase="planung",
            due_date=berlin_today(utcnow()) + timedelta(days=30),
            status="geplant",
            responsible_municipality_id=b.id,
            progress_note="",
        ),
        by=lead,
        now=utcnow(),
    )
    db.session.commit()
    wait_for(_settled, 30, "the created-event mails")
    return Setup(cooperation, lead, immediate, off, digest, milestone)


def _settled() -> bool:
    counts = _status_counts()
    return counts.get("pending", 0) + counts.get("sending", 0) == 0


def _hour(offset: int) -> int:
    from koopboard.domain.milestones import BERLIN

    return (utcnow().astimezone(BERLIN).hour + offset) % 24


def _status_counts() -> dict[str, int]:
    db.session.expire_all()
    rows = db.session.execute(
        select(NotificationDelivery.status, func.count()).group_by(NotificationDelivery.status)
    )
    counts = dict(rows.all())
    db.session.rollback()
    return counts


def _change_status(s: Setup, new: str = "in_arbeit") -> None:
    milestone = db.session.get(Milestone, s.milestone.id, populate_existing=True)
    services.change_status(
        milestone, new, version=milestone.version, by=s.lead, is_lead=True, now=utcnow()
    )
    db.session.commit()


def _delivery(user: User, event_type: str = "milestone.status_changed") -> NotificationDelivery:
    db.session.expire_all()
    return db.session.scalar(
        select(NotificationDelivery)
        .join(NotificationEvent)
        .where(NotificationDelivery.user_id == user.id, NotificationEvent.event_type == event_type)
    )


def test_status_change_mails_each_subscribed_partner_once(setup: Setup, smtp) -> None:  # noqa: ANN001
    box = smtp[0]
    box.clear()
    _change_status(setup)
    wait_for(lambda: len(box.to(setup.immediate.email)) == 1, 30, "the immediate mail")
    time.sleep(1.5)  # several relay ticks: nothing else may arrive
    assert [str(m["To"]) for m in box.messages] == [setup.immediate.email]
    msg = box.messages[0]
    row = _delivery(setup.immediate)
    assert msg["Message-ID"] == f"<koopboard-delivery-{row.id}@koopboard.localhost>"
    page = (
        f"http://localhost/kooperationen/{setup.cooperation.id}/meilensteine/{setup.milestone.id}"
    )
    assert page in box.links(msg)
    assert "[Gemeinsamer Bauhof]" in msg["Subject"]
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (_delivery(setup.off).status, _delivery(setup.digest).status) == ("skipped", "pending")

    # The digest: due now → exactly one e-mail when the digest task runs, however often.
    settings = db.session.scalar(
        select(NotificationSettings).where(NotificationSettings.user_id == setup.digest.id)
    )
    settings.digest_hour = _hour(0)
    db.session.commit()
    from tasks.notifications import queue_digests

    for _ in range(3):
        queue_digests.delay()
    wait_for(lambda: len(box.to(setup.digest.email)) == 1, 30, "the digest mail")
    time.sleep(1.0)
    assert len(box.to(setup.digest.email)) == 1
    assert "Gemeinsamer Bauhof" in box.text(box.to(setup.digest.email)[0])
    assert box.to(setup.off.email) == []
    assert _delivery(setup.digest).status == "digested"


def test_save_succeeds_with_the_broker_down_and_mail_follows(
    setup: Setup, smtp, database_url: str
) -> None:  # noqa: ANN001
    from koopboard import create_app

    box = smtp[0]
    box.clear()
    dead = f"redis://127.0.0.1:{free_port()}/{REDIS_DB}"
    down = create_app(_app_config(database_url, smtp[1], broker=dead))
    with down.app_context():
        started = time.monotonic()
        _change_status(setup)  # the nudge fails: swallowed
        assert time.monotonic() - started < 2
        assert _delivery(setup.immediate).status in ("pending", "sending", "sent")
        db.session.remove()
    # The worker's beat relay (on the working broker) sends it.
    wait_for(lambda: len(box.to(setup.immediate.email)) == 1, 30, "the relayed mail")
    assert _delivery(setup.immediate).status == "sent"


def test_451_three_times_then_accepted_on_the_fourth_try(setup: Setup, smtp) -> None:  # noqa: ANN001
    box = smtp[0]
    box.reset()
    box.replies = ["451 4.3.0 Bitte später erneut versuchen"] * 3
    _change_status(setup)
    wait_for(lambda: len(box.messages) == 1, 20, "the mail after three 451s")
    row = _delivery(setup.immediate)
    assert (row.status, row.attempts) == ("sent", 4)
    assert len(box.attempts) == 4
    gaps = [b - a for a, b in zip(box.attempts, box.attempts[1:], strict=False)]
    assert gaps[0] < gaps[1] < gaps[2], gaps  # exponential back-off: 0.8 s, 1.6 s, 3.2 s
    assert gaps[0] >= 0.8 * 0.95 and gaps[2] >= 3.2 * 0.95, gaps
    assert box.messages[0]["Message-ID"] == f"<koopboard-delivery-{row.id}@koopboard.localhost>"


def test_550_is_marked_failed_after_one_try(setup: Setup, smtp) -> None:  # noqa: ANN001
    box = smtp[0]
    box.reset()
    box.always = "550 5.1.1 Postfach unbekannt"
    _change_status(setup)
    wait_for(lambda: _delivery(setup.immediate).status == "failed", 30, "the failure")
    time.sleep(1.5)
    row = _delivery(setup.immediate)
    assert (row.attempts, row.next_attempt_at) == (1, None)
    assert "550" in row.last_error
    assert len(box.attempts) == 1 and box.messages == []


def test_overdue_alert_fires_once_however_often_beat_ticks(setup: Setup, smtp) -> None:  # noqa: ANN001
    from tasks.notifications import date_alerts

    box = smtp[0]
    box.clear()
    milestone = db.session.get(Milestone, setup.milestone.id)
    milestone.due_date = berlin_today(utcnow()) - timedelta(days=3)
    db.session.commit()
    for _ in range(5):
        date_alerts.delay()
    # Every role but nobody (no actor): immediate, off (general pref is only for status
    # changes, so overdue is immediate too), digest user and the lead.
    wait_for(lambda: len(box.messages) == 4, 30, "the overdue mails")
    time.sleep(1.5)
    assert len(box.messages) == 4
    assert all("überfällig" in m["Subject"] for m in box.messages)
    events = db.session.scalar(
        select(func.count()).where(NotificationEvent.event_type == "milestone.overdue")
    )
    assert events == 1


def test_worker_killed_during_100_deliveries_loses_none(setup: Setup, smtp, worker: Worker) -> None:  # noqa: ANN001
    box = smtp[0]
    box.reset()
    box.delay = 0.04  # ~2.5 s of sending: room to kill the worker in the middle
    town = setup.immediate.municipality_id
    users = [
        User(
            email=f"empfang{n}@example.org",
            name=f"Empfang {n}",
            password_hash="x",
            municipality_id=town,
            is_active_account=True,
        )
        for n in range(97)
    ]
    db.session.add_all(users)
    db.session.flush()
    db.session.add_all(
        Membership(cooperation_id=setup.cooperation.id, user_id=u.id, role=Role.OBSERVER)
        for u in users
    )
    db.session.add_all(  # they asked for these at once (the Beobachtung's preset: digest)
        NotificationPreference(
            user_id=u.id, event_type="milestone.status_changed", mode="immediate"
        )
        for u in users
    )
    db.session.commit()
    _change_status(setup, "gefaehrdet")  # 97 + Ida; Otto off, Dora digest
    expected = {
        f"<koopboard-delivery-{i}@koopboard.localhost>"
        for i in db.session.scalars(
            select(NotificationDelivery.id)
            .join(NotificationEvent)
            .where(
                NotificationEvent.event_type == "milestone.status_changed",
                NotificationDelivery.mode == "immediate",
                NotificationEvent.payload["new"].as_string() == "gefaehrdet",
            )
        )
    }
    assert len(expected) == 98
    kills, t0 = 0, time.monotonic()
    try:
        for threshold in (10, 25, 40, 55, 70):  # five SIGKILLs at different points
            wait_for(lambda t=threshold: len(box.messages) >= t, 20, f"{threshold} mails")
            worker.kill(signal.SIGKILL)
            kills += 1
            print(f"kill at {time.monotonic() - t0:.1f}s, {len(box.messages)} received")
            worker.start()
            print(f"restarted at {time.monotonic() - t0:.1f}s, {len(box.messages)} received")
    finally:
        if worker.proc is None:
            worker.start()
    wait_for(lambda: expected <= set(box.ids()), 40, "every delivery after the kills")
    time.sleep(1.5)  # a late repeat would arrive now
    received = box.ids()
    assert set(received) == expected  # none lost, nothing foreign
    duplicates = len(received) - len(set(received))
    # A kill repeats at most the chunk each worker process had sent but not yet recorded.
    assert duplicates <= kills * CONCURRENCY * NOTIFY["NOTIFY_COMMIT_EVERY"], duplicates
    copies: dict[str, list] = {}
    for m in box.messages:
        copies.setdefault(str(m["Message-ID"]), []).append(m)
    for same in copies.values():  # a repeat is the same mail as its first copy
        first = same[0]
        for m in same[1:]:
            assert (str(m["To"]), str(m["Subject"])) == (str(first["To"]), str(first["Subject"]))
            assert box.text(m) == box.text(first)
    assert _status_counts().get("sent", 0) >= 98
    assert kills == 5
    print(f"{kills} SIGKILLs, {len(received)} received, {duplicates} duplicates (same Message-ID)")
