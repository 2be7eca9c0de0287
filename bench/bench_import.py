"""Time the register import: first import into an empty schema, re-import, all rows changed.

python bench/bench_import.py                      # SQLite temp file
python bench/bench_import.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/koopboard_bench
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from flask import Flask
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere without installing the project

from koopboard.config import Config  # noqa: E402
from koopboard.extensions import db  # noqa: E402

TARGET_SECONDS = 3.0


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--csv", default=Config.REGISTER_CSV, help="register file to import")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        if url.startswith("postgresql"):
            _ensure_postgres_database(url)
        app = _app(url, instance_dir=tmp)
        with app.app_context():
            db.drop_all()
            db.create_all()
            try:
                return _run(url, args.csv, Path(tmp))
            finally:
                db.session.remove()
                db.drop_all()
                db.engine.dispose()


def _run(url: str, csv_path: str, tmp: Path) -> int:
    from koopboard.municipalities.importer import import_register
    from koopboard.municipalities.register import parse_register

    print(f"Datenbank: {make_url(url).render_as_string(hide_password=True)}")
    print(f"Datei:     {csv_path}")
    started = time.perf_counter()
    parse_register(csv_path)
    print(f"Nur Parsen:          {time.perf_counter() - started:6.2f} s")

    # Same rows under a later Stichtag: every population_date changes, so all rows update.
    later = tmp / "gemeindeverzeichnis-2020-06-30.csv"
    shutil.copyfile(csv_path, later)
    runs = (("Erster Import", csv_path), ("Re-Import", csv_path), ("Alle geändert", str(later)))
    worst = 0.0
    for label, path in runs:
        started = time.perf_counter()
        result = import_register(path)
        db.session.commit()
        seconds = time.perf_counter() - started
        worst = max(worst, seconds)
        rate = result.total / seconds
        print(f"{label + ':':<20} {seconds:6.2f} s  {rate:8.0f} Gemeinden/s  ({result.summary()})")
    verdict = "erreicht" if worst <= TARGET_SECONDS else "VERFEHLT"
    print(f"Ziel ≤ {TARGET_SECONDS:.0f} s je Import: {verdict}")
    return 0 if worst <= TARGET_SECONDS else 1


def _app(url: str, *, instance_dir: str) -> Flask:
    from koopboard import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "TESTING": True,
            "MAIL_SINK_DIR": str(Path(instance_dir) / "mail"),
        }
    )


def _ensure_postgres_database(url: str) -> None:
    """Create the benchmark database if missing (CREATE DATABASE cannot run in a transaction)."""
    import psycopg
    from psycopg import sql

    parsed = make_url(url)
    conninfo = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(parsed.database)))


if __name__ == "__main__":
    sys.exit(main())
