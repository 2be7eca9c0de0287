"""Recurring costs with real services: a Celery worker process on Redis books the drafts in
PostgreSQL; parallel runs and a row held by another transaction never book a date twice.

The worker listens on a queue of its own (named after this test process), so parallel test
processes on the same Redis never take each other's tasks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from celery.schedules import crontab
from sqlalchemy import func, select, text

from koopboard.costs.keys import services as cost_keys
from koopboard.costs.recurring import services as rec
from koopboard.domain.catalog import Role
from koopboard.domain.milestones import berlin_today
from koopboard.domain.recurrence import due_until
from koopboard.extensions import db
from koopboard.models import Cost, CostShare, HistoryEntry
from koopboard.models.cost import RecurringCost
from koopboard.models.types import utcnow
from tests.conftest import (
    PG_HOST,
    PG_PORT,
    REDIS_HOST,
    REDIS_PORT,
    _clean,
    _test_config,
    port_open,
    service_missing,
)
from tests.integration.test_notifications_worker import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REDIS_DB = 12
BROKER = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
QUEUE = f"recurring-test-{os.getpid()}"
ROOT = Path(__file__).resolve().parents[2]
TASK = "tasks.costs.book_recurring"


# --- the schedule (no services needed) ---------------------------------------------------------


def test_beat_books_recurring_costs_every_hour() -> None:
    from koopboard import create_app

    celery_app = create_app({"CELERY_BROKER_URL": "memory://"}).extensions["celery"]
    entry = celery_app.conf.beat_schedule["costs-recurring"]
    assert entry["task"] == TASK
    assert entry["schedule"] == crontab(minute="7")  # hourly at :07, Europe/Berlin
    assert celery_app.conf.timezone == "Europe/Berlin"
    assert "tasks.costs" in celery_app.conf.include
    celery_app.loader.import_default_modules()
    assert TASK in celery_app.tasks


# --- a real worker ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def services_up() -> None:
    if not port_open(PG_HOST, PG_PORT):
        service_missing("PostgreSQL", f"{PG_HOST}:{PG_PORT} closed")
    if not port_open(REDIS_HOST, REDIS_PORT):
        service_missing("Redis", f"{REDIS_HOST}:{REDIS_PORT} closed")


def _drop_queue() -> None:
    import redis

    redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB).delete(QUEUE)


@pytest.fixture(scope="module")
def worker(database_url: str, services_up, tmp_path_factory) -> Iterator[None]:  # noqa: ANN001
    """`celery worker` (prefork, two children) for this process's test database and queue."""
    if not database_url.startswith("postgresql"):
        service_missing("PostgreSQL", "the worker test needs a shared database")
    _drop_queue()
    tmp = tmp_path_factory.mktemp("recurring-worker")
    log = tmp / "worker.log"
    env = {
        **os.environ,
        "KOOP_ENV": "testing",
        "KOOP_INSTANCE_DIR": str(tmp),
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "SECRET_KEY": _test_config(database_url, 1)["SECRET_KEY"],
        "PUBLIC_BASE_URL": "http://localhost",
    }
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "app.celery",
                "worker",
                "--pool=prefork",
                "--concurrency=2",
                "-Q",
                QUEUE,
                "--loglevel=info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def ready() -> bool:
        assert proc.poll() is None, log.read_text()[-3000:]
        return b" ready." in log.read_bytes()

    try:
        wait_for(ready, 30, "the Celery worker")
        yield
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        _drop_queue()


@pytest.fixture()
def app(database_url: str, smtp_server):  # noqa: ANN001, ANN201
    """The app as production runs it: tasks go through Redis (overrides conftest's ``app``)."""
    from koopboard import create_app

    app = create_app(
        {
            **_test_config(database_url, smtp_server[1]),
            "CELERY_TASK_ALWAYS_EAGER": False,
            "CELERY_BROKER_URL": BROKER,
        }
    )
    ctx = app.app_context()
    ctx.push()
    _clean(db)
    yield app
    db.session.remove()
    db.engine.dispose()
    ctx.pop()


@pytest.fixture()
def books(app, make_municipality, make_user, make_cooperation):  # noqa: ANN001, ANN201
    """A cooperation of three, the population key of this year, a treasurer."""
    merchweiler = make_municipality("Merchweiler", "10043113", population=9872)
    illingen = make_municipality("Illingen", "10043112", population=16122)
    eppelborn = make_municipality("Eppelborn", "10043111", population=16615)
    lead = make_user(merchweiler)
    treasurer = make_user(merchweiler)
    today = berlin_today(utcnow())
    coop = make_cooperation(
        lead,
        [illingen, eppelborn],
        roles={treasurer: Role.TREASURER},
        start=date(today.year - 1, 1, 1),
    )
    data = cost_keys.KeyData(
        kind="einwohner", entries=cost_keys.default_entries(coop.id, today.year)
    )
    cost_keys.save_key(coop, today.year, data, version=None)
    db.session.commit()
    return {"coop": coop, "treasurer": treasurer, "today": today}


def _recurring(books, interval: str, amount: str) -> RecurringCost:  # noqa: ANN001
    rc = rec.create_recurring(
        books["coop"],
        rec.RecurringData(
            text=f"Miete {interval}",
            category="Miete",
            amount=Decimal(amount),
            net_amount=None,
            vat_amount=None,
            paid_by_id=None,
            interval=interval,
            start_date=date(books["today"].year, 1, 1),
            end_date=None,
            day_of_month=1,
        ),
        by=books["treasurer"],
    )
    db.session.commit()
    return rc


def _booked() -> list[tuple[int, date]]:
    db.session.expire_all()
    rows = db.session.execute(select(Cost.recurring_id, Cost.booking_date).order_by(Cost.id))
    result = [tuple(r) for r in rows.all()]
    db.session.rollback()
    return result


def _expected(rc: RecurringCost, today: date) -> list[tuple[int, date]]:
    return [(rc.id, d) for d in due_until(rc.start_date, rc.interval.months, 1, today)]


def test_the_worker_books_the_due_drafts_from_the_broker(app, books, worker) -> None:  # noqa: ANN001
    rc = _recurring(books, "monatlich", "12345.67")
    expected = _expected(rc, books["today"])
    assert len(expected) == books["today"].month
    app.extensions["celery"].send_task(TASK, queue=QUEUE)
    wait_for(lambda: len(_booked()) == len(expected), 30, "the drafts")
    time.sleep(0.5)
    assert sorted(_booked()) == expected
    for cost in db.session.scalars(select(Cost)):
        assert cost.state.value == "entwurf" and cost.created_by_id is None
        total = db.session.scalar(
            select(func.sum(CostShare.amount)).where(CostShare.cost_id == cost.id)
        )
        assert total == Decimal("12345.67")
    actors = set(
        db.session.scalars(
            select(HistoryEntry.actor_label).where(HistoryEntry.record_type == "Cost")
        )
    )
    assert actors == {rec.SYSTEM_ACTOR}
    rc = db.session.get(RecurringCost, rc.id, populate_existing=True)
    assert rc.next_date > books["today"]


def test_many_parallel_runs_book_each_due_date_once(app, books, worker) -> None:  # noqa: ANN001
    monthly = _recurring(books, "monatlich", "100.00")
    quarterly = _recurring(books, "quartalsweise", "250.00")
    yearly = _recurring(books, "jaehrlich", "1000.00")
    expected = sorted(
        _expected(monthly, books["today"])
        + _expected(quarterly, books["today"])
        + _expected(yearly, books["today"])
    )
    celery_app = app.extensions["celery"]
    for _ in range(8):  # two worker processes take them in parallel
        celery_app.send_task(TASK, queue=QUEUE)
    wait_for(lambda: len(_booked()) >= len(expected), 30, "the drafts")
    time.sleep(2.0)  # the remaining runs finish: none may add anything
    booked = _booked()
    assert sorted(booked) == expected
    assert len(set(booked)) == len(booked)


def test_a_locked_recurring_cost_is_skipped_not_waited_for(app, books) -> None:  # noqa: ANN001
    """SKIP LOCKED: while another transaction holds the row, a run passes it by at once."""
    rc = _recurring(books, "monatlich", "100.00")
    other = db.engine.connect()
    try:
        other.execute(text("SET lock_timeout = '10s'"))
        other.execute(
            text("SELECT id FROM recurring_cost WHERE id = :id FOR UPDATE"), {"id": rc.id}
        )
        started = time.monotonic()
        run = rec.book_due(books["today"])
        assert time.monotonic() - started < 5
        assert (run.booked, run.failed) == (0, 0)
        assert _booked() == []
    finally:
        other.rollback()
        other.close()
    assert rec.book_due(books["today"]).booked == len(_expected(rc, books["today"]))
