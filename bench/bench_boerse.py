"""Time the Kooperationsbörse at nationwide scale: the directory and the check's result.

python bench/bench_boerse.py [--database-url URL] [--runs 7]

On a scratch database (PostgreSQL ``koopboard_bench_boerse`` at 127.0.0.1 when it answers,
else SQLite in a temporary file), migrated by Alembic: the shipped register (10,794
municipalities, 1,208 joint administrations), then 3,000 published cooperations of three
partners each spread over the whole country (bulk insert, VACUUM ANALYZEd). For each page — the
directory, the directory with text and Umkreis, and the Kooperations-Check's result — one
signed-in request: best and median of ``--runs``, and its number of SQL statements, which
must equal the figure with only 30 published cooperations.

Target: each request at most 30 ms; statements equal at both sizes. Wall clock; other
processes on the machine inflate it (the median is printed too). Exit status 1 if a
target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere without installing the project
os.environ.setdefault("KOOP_ENV", "testing")

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"
NAME = "koopboard_bench_boerse"
TARGET = 0.030
PAGES = {
    "directory": "/kooperationsboerse",
    "directory, text + 50 km": "/kooperationsboerse?q=Verwaltung&umkreis=50",
    "check result": "/kooperations-check/ergebnis",
}


def scratch_url() -> tuple[str, str | None]:
    """A fresh PostgreSQL database if the server answers, else a SQLite file."""
    try:
        import psycopg

        with psycopg.connect(
            "host=127.0.0.1 user=postgres dbname=postgres", autocommit=True, connect_timeout=2
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{NAME}"')
        return PG + NAME, NAME
    except Exception:  # noqa: BLE001 - any failure means: no PostgreSQL here
        return f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite", None


def publish_bulk(count: int, start: int, near: str | None = None) -> None:
    """``count`` published cooperations, each led by every 7th municipality (from the one
    with AGS ``near`` on) with two neighbours in the register's order (bulk inserts: no
    history, as a migration would)."""
    from sqlalchemy import insert, select

    from koopboard.extensions import db
    from koopboard.models import Cooperation, CooperationListing, CooperationPartner, Municipality

    rows = db.session.execute(select(Municipality.id, Municipality.ags).order_by(Municipality.ags))
    ids = [row_id for row_id, _ags in rows]
    if near is not None:  # the small set lies around the bench user's town: pages with results
        ags_order = list(db.session.scalars(select(Municipality.ags).order_by(Municipality.ags)))
        first = ags_order.index(near)
        ids = ids[first:] + ids[:first]
    fields = ["verwaltung", "it", "ver_entsorgung", "umwelt_energie", "bildung"]
    now = datetime.now(UTC)
    coops, partners, listings = [], [], []
    for n in range(start, start + count):
        lead = ids[((n - start) * 7) % len(ids)]
        coops.append(
            {
                "id": n,
                "title": f"Kooperation {n} Verwaltung und Service",
                "goals": "intern",
                "handlungsfeld": fields[n % len(fields)],
                "rechtsform": "zweckvereinbarung",
                "status": "aktiv",
                "start_date": date(2020 + n % 6, 1, 1),
                "lead_municipality_id": lead,
                "lead_may_approve": False,
                "created_at": now,
                "version": 1,
            }
        )
        for k in range(3):
            partners.append(
                {
                    "cooperation_id": n,
                    "municipality_id": ids[(((n - start) * 7) + k) % len(ids)],
                    "joined_on": date(2020, 1, 1),
                }
            )
        listings.append(
            {
                "cooperation_id": n,
                "visibility": "oeffentlich" if n % 2 else "plattform",
                "summary": f"Gemeinsame Verwaltung Nummer {n}: Standesamt, Kasse, IT.",
                "seeking_partners": n % 3 == 0,
                "updated_at": now,
            }
        )
    db.session.execute(insert(Cooperation.__table__), coops)
    db.session.execute(insert(CooperationPartner.__table__), partners)
    db.session.execute(insert(CooperationListing.__table__), listings)
    db.session.commit()


def main() -> int:
    """Import, publish, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    url, pg_name = (args.database_url, None) if args.database_url else scratch_url()

    from flask_migrate import upgrade
    from sqlalchemy import event, select, text

    from koopboard import create_app
    from koopboard.auth.services import start_login_session
    from koopboard.check import services as check
    from koopboard.config import Config
    from koopboard.domain.check import Answers
    from koopboard.extensions import db
    from koopboard.models import Municipality, User
    from koopboard.municipalities.importer import import_register

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-" + "x" * 40,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "CELERY_BROKER_URL": "memory://",
            "CELERY_TASK_ALWAYS_EAGER": True,
        }
    )
    with app.app_context():
        upgrade()
        print(f"database: {db.engine.dialect.name}")
        started = time.perf_counter()
        import_register(Config.REGISTER_CSV)
        db.session.commit()
        ottweiler = db.session.scalar(select(Municipality).where(Municipality.ags == "10043115"))
        user = User(email="bench@ottweiler.example", name="Bench", password_hash="x")
        user.municipality = ottweiler
        db.session.add(user)
        db.session.flush()
        check.save(user, Answers(q1_fields=("verwaltung", "it"), q2="ja", q4="ja"))
        db.session.commit()
        publish_bulk(30, 1, near="10043111")  # from Eppelborn on: Kreis Neunkirchen
        start_login_session(user)
        token = user.get_id()  # the session's token bound to the password's state
        db.session.commit()
        print(f"register and 30 cooperations in {time.perf_counter() - started:.1f} s")

    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True

    def statements(path: str) -> int:
        seen: list[str] = []
        with app.app_context():
            listener = lambda *a: seen.append(a[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            assert client.get(path).status_code == 200
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    small = {label: statements(path) for label, path in PAGES.items()}
    with app.app_context():
        publish_bulk(2_970, 31)
        # As autovacuum would after a bulk load: statistics, and the visibility map the
        # index-only scans (the Land/Kreis pickers) rely on.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if pg_name or "postgresql" in url else "ANALYZE"))
    print("3,000 published cooperations + 1,208 register associations")

    # The same machine's floor in the same run: a hello-world Flask app through its test
    # client. Absolute times on a shared machine are noise; the ratio says more.
    from flask import Flask

    hello = Flask("hello")
    hello.add_url_rule("/", "hello", lambda: "Hallo")
    hello_client = hello.test_client()
    hello_client.get("/")
    hello_times = []
    for _ in range(max(args.runs, 50)):
        t0 = time.perf_counter()
        hello_client.get("/")
        hello_times.append(time.perf_counter() - t0)
    floor = min(hello_times)
    print(f"hello-world Flask (same run): {floor * 1000:.2f} ms")

    met = True
    for label, path in PAGES.items():
        client.get(path)  # warm the caches, as any running server is
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            assert client.get(path).status_code == 200
            times.append(time.perf_counter() - t0)
        fast, median = min(times), statistics.median(times)
        count = statements(path)
        ok = fast <= TARGET and count == small[label]
        met &= ok
        print(
            f"{label}: {fast * 1000:.1f} ms (median {median * 1000:.1f} ms, "
            f"{fast / floor:.0f}× hello-world), target ≤ 30 ms; "
            f"SQL statements {count} (with 30 cooperations {small[label]}): "
            f"{'target met' if ok else 'target missed'}"
        )

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if pg_name:
        import psycopg

        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    print("all targets met" if met else "target missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
