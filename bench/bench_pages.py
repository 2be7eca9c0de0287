"""Page throughput on nationwide data, side by side with a hello-world Flask app (issue 14).

python bench/bench_pages.py [--duration 10] [--rounds 2] [--c1-duration 3] [--only LABEL]
                            [--keep | --build-only]

1. Builds the data on a scratch PostgreSQL database (``koopboard_bench_pages`` at
   127.0.0.1:5432, user postgres; dropped afterwards), migrated by Alembic: the register's
   10,794 municipalities through the importer, 3,000 cooperations with 13,619 partners,
   a Projektleitung each and 10 milestones each (multi-row INSERTs, no history), and the
   measured one: 20 partners of the Saarland, 2,000 approved costs split by the population
   key (``costs.books.bulk.build_books``) and 40 milestones — 3,001 cooperations, 13,639
   partners, 30,040 milestones in all. Its Projektleitung is the signed-in user; she is
   also a member of 4 of the others. ANALYZEd as autovacuum would after a bulk load.
2. Counts each page's SQL statements in-process (test client, SQLAlchemy event counter).
3. Starts the app (``KOOP_ENV=production``) and a hello-world Flask app, each on
   ``gunicorn -w 2 -k sync`` with the same settings on a free port, signs in through the
   real login form (CSRF token from the page, then the session cookie), checks every page
   answers as expected, and drives it with ``wrk -t2 -c16`` (throughput, p99) and
   ``wrk -t1 -c1`` (one request at a time: p50), for ``--rounds`` rounds; hello-world runs
   before and after each round's pages, and each page's share is its rps over that round's
   mean hello-world rps. The figures printed are the medians over the rounds.

Targets (issue 14): every page ≥ 15 % of hello-world rps, a redirect ≥ 50 %; one request
(c1 p50) ≤ 5 ms for the cooperation page, ≤ 10 ms for costs, milestones and the start
pages; p99 under c16 ≤ 100 ms. Absolute times on a shared machine are noise: the share of
hello-world, measured in the same run, is the figure to compare. Exit status 1 if a target
is missed; gunicorn is stopped whatever happens.
"""

from __future__ import annotations

import argparse
import atexit
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess  # nosec B404 - starts gunicorn and wrk, fixed argument lists
import sys
import tempfile
import textwrap
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere without installing the project
os.environ.setdefault("KOOP_ENV", "testing")

NAME = "koopboard_bench_pages"
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"
REGISTER = Path("/work/shared/data/gemeindeverzeichnis-2019-12-31.csv")
YEAR = 2026
BULK_COOPERATIONS = 3_000
BULK_PARTNERS = 13_619  # + the measured one's 20 = 13,639
MILESTONES_EACH = 10  # 30,000 + the measured one's 40 = 30,040
MEASURED_MILESTONES = 40
COSTS = 2_000
BIN = Path(sys.executable).parent
GUNICORN = [str(BIN / "gunicorn"), "-w", "2", "-k", "sync", "--log-level", "warning"]

RATIO_PAGE, RATIO_REDIRECT, P99_MS = 0.15, 0.50, 100.0


@dataclass
class Page:
    label: str
    path: str
    c1_target_ms: float | None = None
    status: int | None = None  # what it answers (filled in by the check): 302 = a redirect
    statements: int = 0
    rps: list[float] = field(default_factory=list)
    share: list[float] = field(default_factory=list)
    c1_p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    errors: int = 0


def pages_for(cooperation_id: int) -> list[Page]:
    coop = f"/kooperationen/{cooperation_id}"
    return [
        Page("authenticated redirect `/`", "/"),
        Page("start page `/start`", "/start", 10.0),
        Page("Meine Kooperationen", "/kooperationen/", 10.0),
        Page("cooperation page", coop, 5.0),
        Page(f"milestones ({MEASURED_MILESTONES})", f"{coop}/meilensteine/", 10.0),
        Page("timeline", f"{coop}/meilensteine/zeitleiste"),
        Page("Meine nächsten Meilensteine", "/meilensteine/", 10.0),
        Page("costs (2,000 × 20)", f"{coop}/kosten/?jahr={YEAR}", 10.0),
        Page("municipality search", "/kommunen/suche?q=Neunkirchen"),
    ]


# --- processes ------------------------------------------------------------------------------

_children: list[subprocess.Popen] = []


def _stop_children() -> None:
    while _children:
        proc = _children.pop()
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)  # gunicorn master and its workers
                proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


atexit.register(_stop_children)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(app: str, port: int, env: dict[str, str], chdir: Path) -> None:
    proc = subprocess.Popen(  # nosec B603 - fixed arguments
        [*GUNICORN, "-b", f"127.0.0.1:{port}", "--chdir", str(chdir), app],
        env=env,
        start_new_session=True,  # its own process group: stopped as one
    )
    _children.append(proc)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn {app} exited with {proc.returncode}")
        try:
            status, _headers, _body = request(port, "GET", "/anmelden")
            if status < 500:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn {app} did not answer on port {port}")


def request(
    port: int, method: str, path: str, headers: dict[str, str] | None = None, body: str = ""
) -> tuple[int, http.client.HTTPMessage, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def session_cookie(headers: http.client.HTTPMessage) -> str | None:
    for value in headers.get_all("Set-Cookie") or []:
        cookie = SimpleCookie()
        cookie.load(value)
        if "session" in cookie:
            return cookie["session"].value
    return None


def sign_in(port: int, email: str, password: str) -> str:
    """Through the real login form: its CSRF token and session cookie, then the POST."""
    status, headers, body = request(port, "GET", "/anmelden")
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body)
    cookie = session_cookie(headers)
    if status != 200 or match is None or cookie is None:
        raise RuntimeError(f"login page: {status}, no CSRF token or session cookie")
    form = urllib.parse.urlencode(
        {"csrf_token": match.group(1), "email": email, "password": password}
    )
    status, headers, _body = request(
        port,
        "POST",
        "/anmelden",
        {"Cookie": f"session={cookie}", "Content-Type": "application/x-www-form-urlencoded"},
        form,
    )
    signed_in = session_cookie(headers)
    if status != 302 or signed_in is None:
        raise RuntimeError(f"login failed: {status}")
    return f"session={signed_in}"


# --- wrk --------------------------------------------------------------------------------------

_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class Run:
    rps: float
    p50: float
    p99: float
    errors: int


def wrk(port: int, path: str, cookie: str | None, *, threads: int, conns: int, secs: int) -> Run:
    command = ["/usr/bin/wrk", f"-t{threads}", f"-c{conns}", f"-d{secs}s", "--latency"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(  # nosec B603 - fixed arguments
        command, capture_output=True, text=True, check=True, timeout=secs + 60
    ).stdout

    def latency(pct: str) -> float:
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        if match is None:
            raise RuntimeError(f"no {pct}% latency in wrk output:\n{out}")
        return float(match.group(1)) * _UNIT[match.group(2)]

    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors:.*?(\d+).*?(\d+).*?(\d+).*?(\d+)", out)
    failed = int(errors.group(1)) if errors else 0
    if socket_errors:
        failed += sum(int(n) for n in socket_errors.groups())
    done = re.search(r"^\s+(\d+) requests in", out, re.M)
    if done is None or int(done.group(1)) == 0:
        failed += 1  # not one answer within the run: the latencies mean nothing
    return Run(float(rps.group(1)) if rps else 0.0, latency("50"), latency("99"), failed)


# --- data ---------------------------------------------------------------------------------------


def build_data(register: Path) -> tuple[int, str, str]:
    """Everything of step 1; returns the measured cooperation, its lead's address and password."""
    from sqlalchemy import select, update

    from koopboard import scale_data
    from koopboard.auth.services import hash_password
    from koopboard.extensions import db
    from koopboard.models import Municipality, User
    from koopboard.municipalities.importer import import_register

    result = import_register(register)
    db.session.commit()
    print(f"  register: {result.summary()}")
    saarland = select(Municipality).where(Municipality.ags.like("10%")).order_by(Municipality.ags)
    measured = scale_data.build_measured(
        COSTS, MEASURED_MILESTONES, list(db.session.scalars(saarland.limit(20)))
    )
    others = scale_data.add_cooperations(
        BULK_COOPERATIONS, BULK_PARTNERS, MILESTONES_EACH, scale_data.municipality_ids()
    )
    # The signed-in lead is also a member of four of them (Meine Kooperationen, Meilensteine).
    scale_data.join(measured.lead_id, others[:4])
    password = secrets.token_urlsafe(16)
    db.session.execute(
        update(User)
        .where(User.id == measured.lead_id)
        .values(password_hash=hash_password(password))
    )
    db.session.commit()
    email = db.session.get(User, measured.lead_id).email
    return measured.cooperation_id, email, password


def count_statements(app, pages: list[Page], email: str) -> None:  # noqa: ANN001
    """Each page's SQL statements, in-process through the test client (after a warm-up)."""
    from sqlalchemy import event, select

    from koopboard.auth.services import start_login_session
    from koopboard.extensions import db
    from koopboard.models import User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        start_login_session(user)
        token = user.get_id()
        db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    for page in pages:
        client.get(page.path)
        seen: list[str] = []
        with app.app_context():
            listener = lambda *a, seen=seen: seen.append(a[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            client.get(page.path)
            event.remove(db.engine, "before_cursor_execute", listener)
        page.statements = len(seen)


HELLO = """\
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hallo Welt"


@app.get("/anmelden")
def ready():
    return "bereit"
"""


# --- the run ------------------------------------------------------------------------------------


def verdicts(page: Page, hello: float) -> tuple[str, bool]:
    redirect = page.status in (301, 302, 303)
    ratio_target = RATIO_REDIRECT if redirect else RATIO_PAGE
    share = statistics.median(page.share)
    c1 = statistics.median(page.c1_p50)
    p99 = statistics.median(page.p99)
    missed = []
    if share < ratio_target:
        missed.append(f"share < {ratio_target:.0%}")
    if page.c1_target_ms is not None and not redirect and c1 > page.c1_target_ms:
        missed.append(f"c1 > {page.c1_target_ms:g} ms")
    if p99 > P99_MS:
        missed.append(f"p99 > {P99_MS:g} ms")
    if page.errors:
        missed.append(f"{page.errors} failed requests")
    return ("target met" if not missed else "target missed: " + ", ".join(missed)), not missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of each c16 run")
    parser.add_argument("--c1-duration", type=int, default=3, help="seconds of each c1 run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--register", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--build-only", action="store_true", help="build and keep the database (to profile)"
    )
    parser.add_argument("--only", help="measure only pages whose label contains this")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if not Path("/usr/bin/wrk").exists():
        print("wrk not found (apt-get install wrk; scripts/setup-system.sh installs it)")
        return 1

    import psycopg

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{NAME}"')
    url = PG + NAME
    scratch = Path(tempfile.mkdtemp(prefix="koop-bench-pages-"))
    try:
        return run(args, url, scratch)
    finally:
        _stop_children()
        shutil.rmtree(scratch, ignore_errors=True)
        if not (args.keep or args.build_only):
            with psycopg.connect(
                "host=127.0.0.1 user=postgres dbname=postgres", autocommit=True
            ) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')


def run(args: argparse.Namespace, url: str, scratch: Path) -> int:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from koopboard import create_app
    from koopboard.config import Config
    from koopboard.extensions import db

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
    register = args.register or (REGISTER if REGISTER.exists() else Path(Config.REGISTER_CSV))
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        cooperation_id, email, password = build_data(register)
        with db.engine.connect() as conn:  # fresh statistics, as after autovacuum
            conn.execute(text("ANALYZE"))
            conn.commit()
        print(f"data built in {time.perf_counter() - started:.1f} s (PostgreSQL {NAME})")
    if args.build_only:
        print(f"kept: {url} (signed-in lead {email})")
        return 0
    pages = pages_for(cooperation_id)
    if args.only:
        pages = [p for p in pages if args.only.lower() in p.label.lower()]
    count_statements(app, pages, email)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()

    env = {
        **os.environ,
        "KOOP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": "memory://",
        "KOOP_INSTANCE_DIR": str(scratch / "instance"),
        "PYTHONPATH": str(ROOT),
    }
    (scratch / "hello.py").write_text(textwrap.dedent(HELLO))
    app_port, hello_port = free_port(), free_port()
    start_gunicorn("app:app", app_port, env, ROOT)
    start_gunicorn("hello:app", hello_port, env, scratch)
    cookie = sign_in(app_port, email, password)
    for page in pages:
        status, headers, body = request(app_port, "GET", page.path, {"Cookie": cookie})
        if status not in (200, 302) or "/anmelden" in (headers.get("Location") or ""):
            raise RuntimeError(f"{page.label}: {status} {headers.get('Location')}")
        page.status = status
        print(f"  {page.label}: {status}, {len(body) / 1024:.0f} KB, {page.statements} SQL")

    hello_rps: list[float] = []
    for number in range(1, args.rounds + 1):
        before = wrk(hello_port, "/", None, threads=2, conns=16, secs=args.duration).rps
        runs = {}
        for page in pages:
            runs[page.label] = wrk(
                app_port, page.path, cookie, threads=2, conns=16, secs=args.duration
            )
            one = wrk(app_port, page.path, cookie, threads=1, conns=1, secs=args.c1_duration)
            page.c1_p50.append(one.p50)
            page.errors += runs[page.label].errors + one.errors
        after = wrk(hello_port, "/", None, threads=2, conns=16, secs=args.duration).rps
        hello = (before + after) / 2
        hello_rps.append(hello)
        for page in pages:
            page.rps.append(runs[page.label].rps)
            page.share.append(runs[page.label].rps / hello)
            page.p99.append(runs[page.label].p99)
        print(f"  round {number}: hello-world {before:.0f} / {after:.0f} rps")

    hello = statistics.median(hello_rps)
    load = os.getloadavg()
    print()
    print(
        f"hello-world Flask: {hello:.0f} rps (gunicorn -w 2 sync, wrk -t2 -c16 -d{args.duration}s,"
        f" {args.rounds} rounds; nproc {os.cpu_count()}, {cpu_model()},"
        f" load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})"
    )
    print()
    print(
        "| page | rps | share of hello-world | c1 p50 | p99 under c16 | SQL statements | target |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    met = True
    for page in pages:
        verdict, ok = verdicts(page, hello)
        met &= ok
        print(
            f"| {page.label} | {statistics.median(page.rps):.0f} | "
            f"{statistics.median(page.share):.1%} | {statistics.median(page.c1_p50):.1f} ms | "
            f"{statistics.median(page.p99):.0f} ms | {page.statements} | {verdict} |"
        )
    print()
    print("all targets met" if met else "target missed")
    return 0 if met else 1


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
