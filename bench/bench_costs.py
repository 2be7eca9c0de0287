"""Time the cost pages on real data: allocation, a year's statement, the cost list.

python bench/bench_costs.py [--database-url URL] [--runs 5]

On a scratch database (PostgreSQL ``koopboard_bench_costs`` at 127.0.0.1 when it answers,
else SQLite in a temporary file), migrated by Alembic, with 20 partners:

1. allocate 100,000 costs by the stored population key (``key_weighting`` + ``allocate``);
2. one year's statement from 50,000 approved costs (balances of all partners by SQL
   aggregates and one partner's statement lines; the XLSX time is printed apart);
3. the cost list with balances for 2,000 approved costs: one request, best and median of
   ``--runs``, and its number of SQL statements (the same as for 20 costs).

Targets: 1 and 2 at most 2 s each, 3 at most 20 ms. Wall clock; other processes inflate it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere without installing the project
os.environ.setdefault("KOOP_ENV", "testing")

PARTNERS = 20
YEAR = 2026
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


def build(costs: int, prefix: str) -> tuple[int, int, int]:
    """A cooperation of 20 partners with a population key and ``costs`` approved costs."""
    from sqlalchemy import insert

    from koopboard.cooperations.services import (
        CooperationData,
        add_partner,
        create_cooperation,
    )
    from koopboard.costs import services
    from koopboard.domain.allocation import allocate, prepare
    from koopboard.domain.catalog import Role
    from koopboard.extensions import db
    from koopboard.models import Membership, Municipality, User
    from koopboard.models.cost import Cost, CostKind, CostShare, CostState

    towns = [
        Municipality(
            ags=f"{prefix}{i:06d}",
            name=f"Ort {prefix}-{i:02d}",
            kind="Gemeinde",
            land="Saarland",
            kreis="Neunkirchen",
            population=1000 + 37 * i,
            population_date=date(2024, 12, 31),
            population_source="Bench",
        )
        for i in range(PARTNERS)
    ]
    lead = User(email=f"lead{prefix}@example.org", name="Lead", password_hash="x")
    treasurer = User(email=f"kasse{prefix}@example.org", name="Kasse", password_hash="x")
    lead.municipality = treasurer.municipality = towns[0]
    db.session.add_all([*towns, lead, treasurer])
    db.session.flush()
    coop = create_cooperation(
        CooperationData(
            "Bench", "", "verwaltung", "arbeitsgemeinschaft", "aktiv", date(2025, 1, 1), None
        ),
        by=lead,
    )
    for town in towns[1:]:
        add_partner(coop, ags=town.ags, joined_on=date(2025, 1, 1), council_resolution_on=None)
    db.session.add(Membership(cooperation=coop, user=treasurer, role=Role.TREASURER))
    services.save_key(
        coop,
        YEAR,
        services.KeyData(kind="einwohner", entries=services.default_entries(coop.id, YEAR)),
        version=None,
    )
    key = prepare({t.id: t.population for t in towns})
    for start in range(0, costs, 5000):
        rows = [
            {
                "cooperation_id": coop.id,
                "budget_year": YEAR,
                "booking_date": date(YEAR, 1 + n % 12, 1 + n % 28),
                "text": f"Kosten {n}",
                "category": "IT",
                "kind": CostKind.KOSTEN,
                "amount": Decimal(1000 + n) + Decimal("0.37"),
                "paid_by_id": towns[0].id,
                "key_description": "nach Einwohnerzahl",
                "state": CostState.FREIGEGEBEN,
                "version": 1,
            }
            for n in range(start, min(costs, start + 5000))
        ]
        ids = db.session.scalars(insert(Cost).returning(Cost.id), rows).all()
        db.session.execute(
            insert(CostShare),
            [
                {
                    "cost_id": cost_id,
                    "municipality_id": municipality_id,
                    "amount": share,
                    "weight": Decimal(1),
                    "explanation": "",
                }
                for cost_id, row in zip(ids, rows, strict=True)
                for municipality_id, share in allocate(row["amount"], key).items()
            ],
        )
    db.session.commit()
    return coop.id, treasurer.id, towns[1].id


def best(fn, runs: int) -> tuple[float, float]:  # noqa: ANN001
    """Best and median wall-clock seconds of ``runs`` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


def main() -> int:
    """Build the data, run the three measurements, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # figures appear as they are measured
    url, pg_name = (args.database_url, None) if args.database_url else scratch_url()

    from flask_migrate import upgrade
    from sqlalchemy import event

    from koopboard import create_app
    from koopboard.auth.services import start_login_session
    from koopboard.costs import exports, services
    from koopboard.domain.allocation import allocate, prepare
    from koopboard.extensions import db
    from koopboard.models import User

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
    failed = False
    with app.app_context():
        upgrade()
        print(f"database: {db.engine.dialect.name}")
        big, _user, partner = build(50_000, "61")
        small, _small_user, _p = build(20, "62")
        page_coop, page_user, _p = build(2_000, "63")

        stored = services.key_for(big, YEAR)
        amounts = [Decimal(1000 + n) + Decimal("0.37") for n in range(100_000)]

        def allocation() -> None:
            key = prepare(services.key_weighting(stored).weights)
            for amount in amounts:
                allocate(amount, key)

        fast, median = best(allocation, max(1, args.runs // 2))
        failed |= fast > 2.0
        print(f"allocate 100,000 costs among 20 partners: {fast:.3f} s (median {median:.3f} s)")

        def statement() -> None:
            balances = services.balances_of(big, YEAR)
            lines = services.statement_lines(big, YEAR, partner)
            assert len(balances) == PARTNERS and len(lines) == 50_000

        fast, median = best(statement, max(1, args.runs // 2))
        failed |= fast > 2.0
        print(
            "statement from 50,000 costs (all balances by SQL aggregates + one partner's "
            f"50,000 lines): {fast:.3f} s (median {median:.3f} s)"
        )
        balance = services.balance_for(big, YEAR, partner)
        lines = services.statement_lines(big, YEAR, partner)
        started = time.perf_counter()
        exports.to_xlsx(_coop(big), YEAR, balance, lines, [])
        print(f"  its XLSX with 50,000 rows (openpyxl): {time.perf_counter() - started:.3f} s")

        token = start_login_session(db.session.get(User, page_user)).token
        small_token = start_login_session(db.session.get(User, _small_user)).token
        db.session.commit()

    def client_for(login_token: str):  # noqa: ANN202
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = login_token
            session["_fresh"] = True
        return client

    counts = {}
    for label, coop_id, login_token in (("20", small, small_token), ("2000", page_coop, token)):
        client = client_for(login_token)
        path = f"/kooperationen/{coop_id}/kosten/?jahr={YEAR}"
        assert client.get(path).status_code == 200
        statements: list[str] = []
        with app.app_context():
            listener = lambda *a, seen=statements: seen.append(a[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            client.get(path)
            event.remove(db.engine, "before_cursor_execute", listener)
        counts[label] = len(statements)
        if label == "2000":
            fast, median = best(lambda c=client, p=path: c.get(p), args.runs)
            failed |= fast > 0.020
            print(
                f"cost list with balances, 20 partners, 2,000 approved costs: "
                f"{fast * 1000:.1f} ms (median {median * 1000:.1f} ms)"
            )
    print(f"SQL statements per request: 20 costs {counts['20']}, 2,000 costs {counts['2000']}")
    failed |= counts["20"] != counts["2000"]

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if pg_name:
        import psycopg

        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    print("target met" if not failed else "target missed")
    return 1 if failed else 0


def _coop(cooperation_id: int):  # noqa: ANN202
    from koopboard.extensions import db
    from koopboard.models import Cooperation

    return db.session.get(Cooperation, cooperation_id)


if __name__ == "__main__":
    raise SystemExit(main())
