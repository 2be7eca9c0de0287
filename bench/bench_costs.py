"""Time the cost pages on real data: allocation, a year's statement, the cost list.

python bench/bench_costs.py [--database-url URL] [--runs 5]

On a scratch database (PostgreSQL ``koopboard_bench_costs`` at 127.0.0.1 when it answers,
else SQLite in a temporary file), migrated by Alembic, with 20 partners built by
``koopboard.costs.books.bulk.build_books`` (the same books the scale test uses), then ANALYZEd
as autovacuum would after a bulk load:

1. allocate 100,000 costs by the stored population key (``key_weighting`` + ``allocate``);
2. one year's statement from 50,000 approved costs, as a treasurer builds it: all
   balances (maintained totals), one partner's 50,000 statement lines, and that statement
   as XLSX and as CSV — each part printed, the figure is lines + balances + XLSX;
3. the cost list with balances for 2,000 approved costs: one request, best and median of
   ``--runs``, and its number of SQL statements (must equal the figure for 20 costs).

Targets: 1 and 2 at most 2 s each, 3 at most 20 ms. Each figure is the best of its runs,
wall clock; other processes on the machine inflate it (the median is printed too).
Every line says "target met" or "target missed"; the exit status is 1 if any is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere without installing the project
os.environ.setdefault("KOOP_ENV", "testing")

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"


def scratch_url() -> tuple[str, str | None]:
    """A fresh PostgreSQL database if the server answers, else a SQLite file."""
    try:
        import psycopg

        with psycopg.connect(
            "host=127.0.0.1 user=postgres dbname=postgres", autocommit=True, connect_timeout=2
        ) as conn:
            conn.execute('DROP DATABASE IF EXISTS "koopboard_bench_costs" WITH (FORCE)')
            conn.execute('CREATE DATABASE "koopboard_bench_costs"')
        return PG + "koopboard_bench_costs", "koopboard_bench_costs"
    except Exception:  # noqa: BLE001 - any failure means: no PostgreSQL here
        return f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite", None


def best(fn, runs: int) -> tuple[float, float]:  # noqa: ANN001
    """Best and median wall-clock seconds of ``runs`` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


def verdict(label: str, seconds: float, median: float, target: float, unit: str = "s") -> bool:
    """Print one figure against its target; True if met."""
    scale = 1000 if unit == "ms" else 1
    met = seconds <= target
    print(
        f"{label}: {seconds * scale:.3f} {unit} (median {median * scale:.3f} {unit}), "
        f"target ≤ {target * scale:g} {unit}: {'target met' if met else 'target missed'}"
    )
    return met


def main() -> int:
    """Build the data, run the three measurements, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # figures appear as they are measured
    url, pg_name = (args.database_url, None) if args.database_url else scratch_url()

    from flask_migrate import upgrade
    from sqlalchemy import event, text

    from koopboard import create_app
    from koopboard.auth.services import start_login_session
    from koopboard.costs.books import services as cost_books
    from koopboard.costs.books.bulk import PARTNERS, YEAR, amount_of, build_books
    from koopboard.costs.keys import services as cost_keys
    from koopboard.costs.statements import exports
    from koopboard.costs.statements import services as cost_statements
    from koopboard.domain.allocation import allocate, prepare
    from koopboard.extensions import db
    from koopboard.models import Cooperation, User

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
    met = True
    runs = max(1, args.runs // 2)
    with app.app_context():
        upgrade()
        print(f"database: {db.engine.dialect.name}")
        started = time.perf_counter()
        big = build_books(50_000, "61")
        small = build_books(20, "62")
        page = build_books(2_000, "63")
        with db.engine.connect() as conn:  # fresh statistics, as after autovacuum
            conn.execute(text("ANALYZE"))
            conn.commit()
        print(f"data built in {time.perf_counter() - started:.1f} s")

        stored = cost_keys.key_for(big.cooperation_id, YEAR)
        amounts = [amount_of(n) for n in range(100_000)]

        def allocation() -> None:
            key = prepare(cost_keys.key_weighting(stored).weights)
            for amount in amounts:
                allocate(amount, key)

        fast, median = best(allocation, runs)
        met &= verdict("allocate 100,000 costs among 20 partners", fast, median, 2.0)

        coop = db.session.get(Cooperation, big.cooperation_id)
        partner = big.municipality_ids[1]  # it made the one payment: all sections filled
        payments = [
            p
            for p in cost_books.payments_of(coop.id, YEAR)
            if partner in (p.municipality_id, p.recipient_id)
        ]
        parts: dict[str, list[float]] = {}

        def timed(name: str, fn):  # noqa: ANN001, ANN202
            started = time.perf_counter()
            result = fn()
            parts.setdefault(name, []).append(time.perf_counter() - started)
            return result

        def statement() -> None:
            balances = timed("balances", lambda: cost_books.balances_of(coop.id, YEAR))
            balance = next(b for b in balances if b.municipality.id == partner)
            lines = timed("lines", lambda: cost_statements.statement_lines(coop.id, YEAR, partner))
            assert len(balances) == PARTNERS and len(lines) == 50_000
            xlsx = timed("xlsx", lambda: exports.xlsx_bytes(coop, YEAR, balance, lines, payments))
            csv = timed("csv", lambda: exports.csv_bytes(coop, YEAR, balance, lines, payments))
            assert xlsx.startswith(b"PK") and csv.count(b"\r\n") > 50_000

        for _ in range(runs):
            statement()
        for name, label in (
            ("balances", "balances of all 20 partners (maintained totals, one read)"),
            ("lines", "one partner's 50,000 statement lines"),
            ("xlsx", "its XLSX with 50,000 rows"),
            ("csv", "its CSV with 50,000 rows"),
        ):
            fast, median = min(parts[name]), statistics.median(parts[name])
            print(f"  {label}: {fast:.3f} s (median {median:.3f} s)")
        totals = [
            sum(parts[name][i] for name in ("balances", "lines", "xlsx")) for i in range(runs)
        ]
        met &= verdict(
            "statement from 50,000 costs (balances + lines + XLSX)",
            min(totals),
            statistics.median(totals),
            2.0,
        )
        with_csv = [totals[i] + parts["csv"][i] for i in range(runs)]
        print(f"  with the CSV as well: {min(with_csv):.3f} s")

        tokens = {}
        for books in (small, page):
            treasurer = db.session.get(User, books.treasurer_id)
            start_login_session(treasurer)
            tokens[books.cooperation_id] = treasurer.get_id()  # token bound to the password
        db.session.commit()

    def client_for(login_token: str):  # noqa: ANN202
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = login_token
            session["_fresh"] = True
        return client

    counts = {}
    for books in (small, page):
        client = client_for(tokens[books.cooperation_id])
        path = f"/kooperationen/{books.cooperation_id}/kosten/?jahr={YEAR}"
        assert client.get(path).status_code == 200
        statements: list[str] = []
        with app.app_context():
            listener = lambda *a, seen=statements: seen.append(a[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            client.get(path)
            event.remove(db.engine, "before_cursor_execute", listener)
        counts[books is page] = len(statements)
        if books is page:
            fast, median = best(lambda c=client, p=path: c.get(p), args.runs)
            met &= verdict(
                "cost list with balances, 20 partners, 2,000 approved costs",
                fast,
                median,
                0.020,
                "ms",
            )
    same = counts[False] == counts[True]
    print(
        f"SQL statements per request: 20 costs {counts[False]}, 2,000 costs {counts[True]}, "
        f"target equal: {'target met' if same else 'target missed'}"
    )
    met &= same

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
    raise SystemExit(main())
