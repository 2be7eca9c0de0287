"""Notification delivery throughput and latency: 2 worker processes, a local SMTP server.

python bench/bench_notifications.py                     # 10,000 deliveries, steady producer
python bench/bench_notifications.py --n 2000 --rate 400 --recipients 10 --details
python bench/bench_notifications.py --mode burst        # commit everything first

Needs PostgreSQL (127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379). Creates and
drops its own database; uses Redis db 12 and flushes only that.

The producer saves events the way the app does (``publish`` and a commit per event, which
nudges the relay), at a steady ``--rate`` of deliveries per second ("steady", the default),
or all at once ("burst": the queue's capacity, latency then measures queueing). The SMTP
server is aiosmtpd in a process of its own that offers PIPELINING and only notes when
each Message-ID first arrived. Latency per delivery: its event's commit → its first
arrival at the server. Throughput: distinct deliveries received / (last arrival − first
commit). Also printed: the load average and the CPU time per delivery of each part.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere without installing the project

TARGET_PER_SECOND = 300
TARGET_P95_SECONDS = 3.0
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
DB_NAME = "koopboard_bench_notifications"
BROKER = "redis://127.0.0.1:6379/12"
MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)


# --- the SMTP server (its own process, so the producer does not slow it down) -------------


def _sink(port: int, ready, stop, conn, counters) -> None:  # noqa: ANN001
    """Run aiosmtpd until ``stop`` is set, then send {Message-ID: first arrival} and the
    number of messages (repeats included) through ``conn``."""
    from aiosmtpd.controller import Controller

    first: dict[str, float] = {}

    class Receipts:
        async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: ANN001, ANN202, N802
            # Like Postfix: PIPELINING (aiosmtpd reads pipelined commands one by one).
            session.host_name = hostname
            return [*responses[:-1], "250-PIPELINING", responses[-1]]

        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN202, N802
            now = time.time()
            head = envelope.content.split(b"\r\n\r\n", 1)[0]
            match = MESSAGE_ID.search(head)
            key = match.group(1).decode("ascii", "replace") if match else ""
            counters[1] += 1
            if key not in first:
                first[key] = now
                counters[0] += 1
            return "250 OK"

    controller = Controller(Receipts(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()
    conn.send(first)
    conn.close()


class Sink:
    """The SMTP server process: ``distinct`` and ``total`` while it runs, ``receipts()``
    at the end."""

    def __init__(self, port: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.port = port
        self._counters = ctx.Array("q", 2, lock=False)  # distinct, total
        self._ready, self._stop = ctx.Event(), ctx.Event()
        self._conn, child = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(
            target=_sink, args=(port, self._ready, self._stop, child, self._counters)
        )
        self._proc.start()
        if not self._ready.wait(30):
            raise RuntimeError("the SMTP server did not start")

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def distinct(self) -> int:
        return self._counters[0]

    @property
    def total(self) -> int:
        return self._counters[1]

    def receipts(self) -> dict[str, float]:
        self._stop.set()
        first = self._conn.recv()
        self._proc.join(10)
        return first

    def kill(self) -> None:
        if self._proc.is_alive():
            self._proc.kill()


# --- database and worker --------------------------------------------------------------------


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


def _populate(recipients: int, cooperations: int) -> tuple[list[int], int]:
    """Cooperations with ``recipients`` users holding a role each (different people per
    cooperation); returns (cooperation ids, actor)."""
    from datetime import date

    from koopboard.domain.catalog import Role
    from koopboard.extensions import db
    from koopboard.models import (
        Cooperation,
        Membership,
        Municipality,
        NotificationPreference,
        User,
    )

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
    db.session.add_all([town, actor])
    coop_ids = []
    for c in range(cooperations):
        coop = Cooperation(
            title=f"Benchmark-Kooperation {c}",
            goals="",
            handlungsfeld="verwaltung",
            rechtsform="zweckvereinbarung",
            status="aktiv",
            start_date=date(2025, 1, 1),
            lead_municipality=town,
        )
        users = [
            User(
                email=f"empfang{c}-{n}@example.org",
                name=f"Empfang {c}-{n}",
                password_hash="x",
                municipality=town,
                is_active_account=True,
            )
            for n in range(recipients)
        ]
        db.session.add(coop)
        db.session.add_all(users)
        db.session.flush()
        db.session.add_all(
            Membership(cooperation_id=coop.id, user_id=u.id, role=Role.OBSERVER) for u in users
        )
        # They chose "sofort" (the Beobachtung's preset would collect status changes in the
        # Sammel-E-Mail, and the bench measures the immediate path).
        db.session.add_all(
            NotificationPreference(
                user_id=u.id, event_type="milestone.status_changed", mode="immediate"
            )
            for u in users
        )
        coop_ids.append(coop.id)
    db.session.commit()
    return coop_ids, actor.id


def _start_worker(env: dict[str, str], instance: str) -> subprocess.Popen:
    log = open(Path(instance) / "worker.log", "wb")  # noqa: SIM115
    return subprocess.Popen(
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
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


# --- CPU time per component (Linux /proc): where the time goes -------------------------------


def _cpu_of(pids: set[int]) -> float:
    """User + system CPU seconds of the live processes among ``pids``."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def _group(pgid: int) -> set[int]:
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[2]) == pgid:
                pids.add(int(entry.name))
    return pids


def _backends() -> set[int]:
    from sqlalchemy import text

    from koopboard.extensions import db

    rows = db.session.execute(
        text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": DB_NAME}
    )
    pids = {pid for (pid,) in rows}
    db.session.rollback()
    return pids


class CpuMeter:
    """CPU seconds used by the worker processes, the SMTP server, the producer (this
    process) and the database's backends between ``start`` and ``stop``."""

    def __init__(self, worker_pgid: int, sink_pid: int) -> None:
        self.worker_pgid, self.sink_pid = worker_pgid, sink_pid

    def _sample(self) -> dict[str, float]:
        me = os.times()
        return {
            "worker (2 processes + main/beat)": _cpu_of(_group(self.worker_pgid)),
            "SMTP server": _cpu_of({self.sink_pid}),
            "producer (publish + commit)": me.user + me.system,
            "PostgreSQL backends": _cpu_of(_backends()),
        }

    def start(self) -> None:
        self.before = self._sample()

    def stop(self) -> dict[str, float]:
        after = self._sample()
        return {k: after[k] - self.before.get(k, 0.0) for k in after}


# --- the producer ---------------------------------------------------------------------------


def _event(coop_id: int, actor_id: int, i: int):  # noqa: ANN202
    from koopboard.models import NotificationEvent

    return NotificationEvent(
        cooperation_id=coop_id,
        event_type="milestone.status_changed",
        record_type="Milestone",
        record_id=i + 1,
        actor_id=actor_id,
        payload={"title": f"Meilenstein {i}", "old": "geplant", "new": "erledigt"},
    )


def _produce(
    events: int, coop_ids: list[int], actor_id: int, per_second: float | None
) -> dict[str, float]:
    """Publish ``events`` events, one commit each, evenly spread at ``per_second`` events a
    second (None: as fast as possible); returns {Message-ID: commit time}."""
    from sqlalchemy import event as sa_event

    from koopboard.extensions import db
    from koopboard.notifications.outbox import publish

    committed: dict[str, float] = {}
    stamps: list[float] = []
    session = db.session()

    def stamp(_session: object) -> None:
        stamps.append(time.time())

    # Inserted before publish's own hook, which sends the nudge: the moment of the commit.
    sa_event.listen(session, "after_commit", stamp, insert=True)
    start = time.time()
    try:
        for i in range(events):
            if per_second:
                wait = start + i / per_second - time.time()
                if wait > 0:
                    time.sleep(wait)
            deliveries = publish(_event(coop_ids[i % len(coop_ids)], actor_id, i))
            ids = [d.id for d in deliveries]
            db.session.commit()  # the relay nudge goes out after this commit
            for delivery_id in ids:
                committed[f"<koopboard-delivery-{delivery_id}@koopboard.localhost>"] = stamps[-1]
    finally:
        sa_event.remove(session, "after_commit", stamp)
    return committed


def _wait(sink: Sink, count: int, timeout: float) -> bool:
    deadline = time.time() + timeout
    while sink.distinct < count:
        if time.time() > deadline:
            return False
        time.sleep(0.1)
    return True


# --- main -----------------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    return values[min(int(q * len(values)), len(values) - 1)] if values else float("inf")


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="deliveries (default 10,000)")
    parser.add_argument(
        "--mode", choices=("steady", "burst"), default="steady", help="producer (steady)"
    )
    parser.add_argument(
        "--rate", type=float, default=350, help="steady: deliveries per second (350)"
    )
    parser.add_argument("--recipients", type=int, default=20, help="recipients per event (20)")
    parser.add_argument("--timeout", type=float, default=600, help="give up after seconds")
    parser.add_argument(
        "--details", action="store_true", help="latency per second of commits, worker log"
    )
    args = parser.parse_args()

    import redis

    redis.Redis.from_url(BROKER).flushdb()
    sink = Sink(_free_port())
    url = _database()
    worker = None
    receipts: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory() as instance:
            env = _config(url, sink.port, instance)
            os.environ.update(env)
            from flask_migrate import upgrade

            from koopboard import create_app

            app = create_app({"CELERY_TASK_ALWAYS_EAGER": False})
            with app.app_context():
                upgrade()
                coop_ids, actor_id = _populate(args.recipients, cooperations=10)
                worker = _start_worker({**os.environ, **env}, instance)
                # Warm-up (not counted): both worker processes up, templates compiled.
                warm_up = _produce(4, coop_ids, actor_id, None)
                if not _wait(sink, len(warm_up), 60):
                    raise SystemExit("the worker did not deliver the warm-up mails")
                time.sleep(1)
                events = -(-args.n // args.recipients)
                per_second = args.rate / args.recipients if args.mode == "steady" else None
                meter = CpuMeter(worker.pid, sink.pid)
                meter.start()
                load_before = os.getloadavg()[0]
                start = time.time()
                committed = _produce(events, coop_ids, actor_id, per_second)
                produced = time.time() - start
                _wait(sink, len(warm_up) + len(committed), args.timeout)
                cpu = meter.stop()
                load_after = os.getloadavg()[0]
                worker_log = (Path(instance) / "worker.log").read_text(errors="replace")
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        try:
            receipts = sink.receipts()
        finally:
            sink.kill()
            _drop_database()
            redis.Redis.from_url(BROKER).flushdb()

    n = max(len(committed), 1)
    nproc = os.cpu_count()
    latencies = sorted(receipts[k] - committed[k] for k in committed if k in receipts)
    received = len(latencies)
    first_commit = min(committed.values())
    last_arrival = max((receipts[k] for k in committed if k in receipts), default=first_commit)
    rate = received / (last_arrival - first_commit) if received else 0.0
    p50, p95 = _percentile(latencies, 0.50), _percentile(latencies, 0.95)
    worst = latencies[-1] if latencies else float("inf")
    offered = f"{args.rate:.0f}/s offered" if args.mode == "steady" else "all at once"
    print(f"mode:                  {args.mode} ({offered}, {args.recipients} recipients/event)")
    print(f"deliveries:            {len(committed)} ({events} events, one commit each)")
    print(f"events committed in:   {produced:.1f} s")
    print(f"received:              {received} distinct, {sink.total - sink.distinct} repeats")

    def verdict(ok: bool) -> str:
        return "target met" if ok else "target MISSED"

    rate_ok = rate >= TARGET_PER_SECOND and received == len(committed)
    p95_ok = p95 <= TARGET_P95_SECONDS and received == len(committed)
    print(
        f"throughput:            {rate:.0f} deliveries/s   "
        f"(target ≥ {TARGET_PER_SECOND}/s: {verdict(rate_ok)})"
    )
    print(
        f"commit → receipt p95:  {p95:.2f} s   "
        f"(target ≤ {TARGET_P95_SECONDS:.0f} s: {verdict(p95_ok)})"
    )
    print(f"commit → receipt p50:  {p50:.2f} s")
    print(f"commit → receipt max:  {worst:.2f} s")
    print(f"load average (1 min):  {load_before:.1f} before, {load_after:.1f} after ({nproc} CPUs)")
    print(f"CPU per delivery:      {sum(cpu.values()) * 1000 / n:.2f} ms in all, of which")
    for name, seconds in cpu.items():
        print(f"                       {seconds * 1000 / n:.2f} ms {name}")
    if args.details:
        _details(committed, receipts, worker_log)
    return 0 if rate_ok and p95_ok else 1


def _details(committed: dict[str, float], receipts: dict[str, float], worker_log: str) -> None:
    """Latency (p50, max) of the deliveries committed in each second, and the worker log."""
    start = min(committed.values())
    by_second: dict[int, list[float]] = {}
    for key, at in committed.items():
        latency = receipts.get(key, float("inf")) - at
        by_second.setdefault(int(at - start), []).append(latency)
    print("second  count  p50 s  max s")
    for second, values in sorted(by_second.items()):
        values.sort()
        print(f"{second:6d}  {len(values):5d}  {values[len(values) // 2]:5.2f}  {values[-1]:5.2f}")
    print("worker log (last 40 lines):")
    print("\n".join(worker_log.splitlines()[-40:]))


if __name__ == "__main__":
    raise SystemExit(main())
