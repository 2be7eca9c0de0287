"""Notification delivery throughput: N deliveries, 2 worker processes, a local SMTP server.

python bench/bench_notifications.py              # 10,000 deliveries
python bench/bench_notifications.py --n 2000

Needs PostgreSQL (127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379). Creates and
drops its own database; uses Redis db 12 and flushes only that. Prints deliveries per second
and the 95th-percentile time from the commit of a change to the SMTP server's receipt.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere without installing the project

TARGET_PER_SECOND = 300
TARGET_P95_SECONDS = 3.0
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
DB_NAME = "koopboard_bench_notifications"
BROKER = "redis://127.0.0.1:6379/12"


class Receipts:
    """SMTP handler that notes when each Message-ID first arrived."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.total = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        from email import message_from_bytes

        msg = message_from_bytes(envelope.original_content or envelope.content)
        with self.lock:
            self.total += 1
            self.first.setdefault(str(msg["Message-ID"]), time.time())
        return "250 OK"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database() -> str:
    import psycopg

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{DB_NAME}"')
    return f"{PG}/{DB_NAME}"


def _drop_database() -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def _config(url: str, smtp_port: int, instance: str) -> dict[str, str]:
    return {
        "KOOP_ENV": "testing",
        "KOOP_INSTANCE_DIR": instance,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": BROKER,
        "SECRET_KEY": "bench-secret-" + "x" * 40,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "PUBLIC_BASE_URL": "http://localhost",
        "NOTIFY_RELAY_INTERVAL_SECONDS": "1",
        "NOTIFY_RELAY_BATCH": "1000",
        "RATELIMIT_ENABLED": "false",
    }


def _populate(recipients: int) -> tuple[int, int]:
    """A cooperation with ``recipients`` users holding a role; returns (cooperation, actor)."""
    from datetime import date

    from koopboard.domain.catalog import Role
    from koopboard.extensions import db
    from koopboard.models import Cooperation, Membership, Municipality, User

    town = Municipality(
        ags="09999999",
        name="Benchhausen",
        kind="Gemeinde",
        land="Bayern",
        kreis="Bench",
        population=1000,
        population_date=date(2019, 12, 31),
        population_source="Bench",
        postcode="99999",
    )
    actor = User(email="actor@example.org", name="Akteur", password_hash="x", municipality=town)
    coop = Cooperation(
        title="Benchmark-Kooperation",
        goals="",
        handlungsfeld="verwaltung",
        rechtsform="zweckvereinbarung",
        status="aktiv",
        start_date=date(2025, 1, 1),
        lead_municipality=town,
    )
    db.session.add_all([town, actor, coop])
    db.session.flush()
    users = [
        User(
            email=f"empfang{n}@example.org",
            name=f"Empfang {n}",
            password_hash="x",
            municipality=town,
            is_active_account=True,
        )
        for n in range(recipients)
    ]
    db.session.add_all(users)
    db.session.flush()
    db.session.add_all(
        Membership(cooperation_id=coop.id, user_id=u.id, role=Role.OBSERVER) for u in users
    )
    db.session.commit()
    return coop.id, actor.id


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="deliveries (default 10,000)")
    parser.add_argument("--recipients", type=int, default=100, help="recipients per event")
    parser.add_argument("--timeout", type=float, default=600, help="give up after seconds")
    args = parser.parse_args()

    import redis
    from aiosmtpd.controller import Controller

    redis.Redis.from_url(BROKER).flushdb()
    receipts = Receipts()
    smtp_port = _free_port()
    controller = Controller(receipts, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    url = _database()
    worker = None
    with tempfile.TemporaryDirectory() as instance:
        env = _config(url, smtp_port, instance)
        os.environ.update(env)
        try:
            from flask_migrate import upgrade

            from koopboard import create_app
            from koopboard.extensions import db
            from koopboard.models import NotificationEvent
            from koopboard.notifications.outbox import publish

            app = create_app({"CELERY_TASK_ALWAYS_EAGER": False})
            with app.app_context():
                upgrade()
                coop_id, actor_id = _populate(args.recipients)
                log = open(Path(instance) / "worker.log", "wb")  # noqa: SIM115
                worker = subprocess.Popen(
                    [
                        str(Path(sys.executable).parent / "celery"),
                        "-A",
                        "app.celery",
                        "worker",
                        "-B",
                        "--pool=prefork",
                        "--concurrency=2",
                        "--loglevel=warning",
                        "--without-gossip",
                        "--without-mingle",
                        "--schedule",
                        str(Path(instance) / "beat"),
                    ],
                    cwd=ROOT,
                    env={**os.environ, **env},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                time.sleep(6)  # the worker imports the app
                committed: dict[str, float] = {}
                events = -(-args.n // args.recipients)
                start = time.time()
                for i in range(events):
                    deliveries = publish(
                        NotificationEvent(
                            cooperation_id=coop_id,
                            event_type="milestone.status_changed",
                            record_type="Milestone",
                            record_id=i + 1,
                            actor_id=actor_id,
                            payload={
                                "title": f"Meilenstein {i}",
                                "old": "geplant",
                                "new": "erledigt",
                            },
                        )
                    )
                    ids = [d.id for d in deliveries]
                    db.session.commit()  # the nudge goes out after this commit
                    now = time.time()
                    for delivery_id in ids:
                        committed[f"<koopboard-delivery-{delivery_id}@koopboard.localhost>"] = now
                produced = time.time() - start
                total = len(committed)
                deadline = time.time() + args.timeout
                while len(receipts.first) < total and time.time() < deadline:
                    time.sleep(0.2)
                end = max(receipts.first.values(), default=time.time())
        finally:
            if worker is not None:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
            controller.stop()
            _drop_database()
            redis.Redis.from_url(BROKER).flushdb()

    received = [receipts.first[k] - committed[k] for k in committed if k in receipts.first]
    received.sort()
    rate = len(received) / (end - start) if received else 0.0
    p95 = received[int(0.95 * (len(received) - 1))] if received else float("inf")
    print(f"deliveries:            {total} ({events} events × {args.recipients} recipients)")
    print(f"events committed in:   {produced:.1f} s")
    print(f"received:              {len(received)} distinct, {receipts.total} messages")
    print(f"throughput:            {rate:.0f} deliveries/s   (target ≥ {TARGET_PER_SECOND}/s)")
    print(f"commit → receipt p95:  {p95:.2f} s   (target ≤ {TARGET_P95_SECONDS:.0f} s)")
    print(f"commit → receipt p50:  {received[len(received) // 2] if received else 0:.2f} s")
    ok = rate >= TARGET_PER_SECOND and p95 <= TARGET_P95_SECONDS and len(received) == total
    print("targets met" if ok else "targets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
