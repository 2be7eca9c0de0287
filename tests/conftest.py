"""Shared fixtures: a real database (PostgreSQL when reachable), an SMTP sink, factories.

Database tests run on PostgreSQL at 127.0.0.1:5432 (user postgres) when it answers; on a
laptop without it they fall back to SQLite. With CI=true a missing service is an error,
never a skip.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import date
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "Richtig-Langes-Passwort-1"
PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("TEST_PG_USER", "postgres")
# Redis for the broker tests; another port lets several checkouts run their suites at once
# without flushing each other's databases (each runs its own redis-server).
REDIS_HOST = os.environ.get("TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT", "6379"))

os.environ.setdefault("KOOP_ENV", "testing")


def service_missing(name: str, reason: str) -> None:
    """Skip on a laptop, fail in CI: in CI nothing may skip."""
    if IN_CI:
        pytest.fail(f"{name} is required in CI but unavailable: {reason}")
    pytest.skip(f"{name} not available ({reason})")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- database -----------------------------------------------------------------------------


def _pg_admin_connect():  # noqa: ANN202
    import psycopg

    return psycopg.connect(
        host=PG_HOST,
        port=PG_PORT,
        user=PG_USER,
        dbname="postgres",
        autocommit=True,
        connect_timeout=3,
    )


def create_pg_database(name: str) -> str:
    """A fresh, empty PostgreSQL database; returns its SQLAlchemy URL."""
    with _pg_admin_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def drop_pg_database(name: str) -> None:
    with _pg_admin_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def worker_id_suffix(request: pytest.FixtureRequest) -> str:
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    return re.sub(r"\W", "", worker)


@pytest.fixture(scope="session")
def pg_available() -> bool:
    return port_open(PG_HOST, PG_PORT)


@pytest.fixture(scope="session")
def database_url(pg_available: bool, worker_id_suffix: str, tmp_path_factory) -> Iterator[str]:  # noqa: ANN001
    """One migrated database per test worker, created by the Alembic migrations."""
    if pg_available:
        name = f"koopboard_test_{worker_id_suffix}_{os.getpid()}"
        url = create_pg_database(name)
    else:
        if IN_CI:
            pytest.fail("PostgreSQL is required in CI (127.0.0.1:5432)")
        name = None
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    from flask_migrate import upgrade

    from koopboard import create_app

    app = create_app(_test_config(url, smtp_port=1))
    with app.app_context():
        upgrade()
        from koopboard.extensions import db

        db.session.remove()
        db.engine.dispose()
    yield url
    if name:
        drop_pg_database(name)


def _test_config(url: str, smtp_port: int) -> dict:
    return {
        "TESTING": True,
        "KOOP_ENV": "testing",
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "CELERY_TASK_ALWAYS_EAGER": True,
        "CELERY_BROKER_URL": "memory://",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "PUBLIC_BASE_URL": "http://localhost",
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
    }


def _clean(db) -> None:  # noqa: ANN001
    db.session.remove()
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


# --- SMTP ---------------------------------------------------------------------------------


class Mailbox:
    """Messages a real SMTP server (aiosmtpd) received during the test."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        msg = message_from_bytes(
            envelope.original_content or envelope.content, policy=default_policy
        )
        with self._lock:
            self.messages.append(msg)
        return "250 Message accepted"

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    @staticmethod
    def text(msg: EmailMessage) -> str:
        return msg.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def links(msg: EmailMessage) -> list[str]:
        return re.findall(r"https?://\S+", Mailbox.text(msg))


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


@pytest.fixture()
def mailbox(smtp_server: tuple[Mailbox, int]) -> Mailbox:
    smtp_server[0].clear()
    return smtp_server[0]


# --- app and clients ----------------------------------------------------------------------


class KoopClient(FlaskClient):
    """Test client that sends the CSRF token with every POST, like the browser's forms do.

    Each request runs in its own app context (as in production): otherwise it would share
    the test's ``g`` and database session, hiding bugs and caching CSRF tokens."""

    def open(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        page = super().get("/barrierefreiheit").get_data(as_text=True)
        return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def post(self, *args, csrf: bool = True, **kwargs):  # noqa: ANN002, ANN003, ANN201
        if csrf:
            data = dict(kwargs.pop("data", None) or {})
            data.setdefault("csrf_token", self.csrf_token())
            kwargs["data"] = data
        return super().post(*args, **kwargs)


@pytest.fixture()
def app(database_url: str, smtp_server: tuple[Mailbox, int]):  # noqa: ANN201
    from koopboard import create_app
    from koopboard.extensions import db

    app = create_app(_test_config(database_url, smtp_server[1]))
    app.test_client_class = KoopClient
    ctx = app.app_context()
    ctx.push()
    _clean(db)
    yield app
    db.session.remove()
    db.engine.dispose()  # each test builds its own app: close its pool, or PostgreSQL fills up
    ctx.pop()


@pytest.fixture()
def client(app) -> KoopClient:  # noqa: ANN001
    return app.test_client()


Variant = Callable[..., Flask]  # the ``variant`` fixture: build(**config) -> Flask

# Settings a second app on the same database and SMTP server needs (see ``variant``).
_SHARED_KEYS = (
    "TESTING",
    "SECRET_KEY",
    "SQLALCHEMY_DATABASE_URI",
    "SQLALCHEMY_ENGINE_OPTIONS",
    "CELERY_TASK_ALWAYS_EAGER",
    "CELERY_BROKER_URL",
    "MAIL_SERVER",
    "MAIL_PORT",
    "PUBLIC_BASE_URL",
    "RATELIMIT_STORAGE_URI",
    "KOOP_ENV",
)


@pytest.fixture()
def variant(app):  # noqa: ANN001, ANN201
    """Build a second app on the same database with some settings changed."""
    from koopboard import create_app
    from koopboard.extensions import db

    built = []

    def build(**overrides: object):  # noqa: ANN202
        config = {key: app.config[key] for key in _SHARED_KEYS}
        config.update(overrides)
        other = create_app(config)
        built.append(other)
        return other

    yield build
    for other in built:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


# --- factories ----------------------------------------------------------------------------

_fast_hash: dict[str, str] = {}


@pytest.fixture()
def make_municipality(app):  # noqa: ANN001, ANN201
    from koopboard.extensions import db
    from koopboard.models import Municipality

    counter = iter(range(1, 10_000))

    def make(name: str | None = None, ags: str | None = None, **kwargs) -> Municipality:  # noqa: ANN003
        n = next(counter)
        m = Municipality(
            ags=ags or f"99{n:06d}",
            name=name or f"Testgemeinde {n}",
            kind=kwargs.pop("kind", "Gemeinde"),
            land=kwargs.pop("land", "Saarland"),
            kreis=kwargs.pop("kreis", "Neunkirchen"),
            population=kwargs.pop("population", 10_000 + n),
            population_date=date(2019, 12, 31),
            population_source="Test",
            postcode=kwargs.pop("postcode", f"66{n:03d}"),
            **kwargs,
        )
        db.session.add(m)
        db.session.commit()
        return m

    return make


@pytest.fixture()
def make_user(app):  # noqa: ANN001, ANN201
    from werkzeug.security import generate_password_hash

    from koopboard.extensions import db
    from koopboard.models import User

    if PASSWORD not in _fast_hash:
        # Real scrypt, cheaper parameters: every login verifies it (the params live in the hash).
        _fast_hash[PASSWORD] = generate_password_hash(PASSWORD, method="scrypt:1024:8:1")
    counter = iter(range(1, 10_000))

    def make(
        municipality=None,
        email: str | None = None,
        name: str | None = None,  # noqa: ANN001
        is_admin: bool = False,
    ) -> User:
        n = next(counter)
        user = User(
            email=email or f"person{n}@example.org",
            name=name or f"Person {n}",
            password_hash=_fast_hash[PASSWORD],
            municipality=municipality,
            is_admin=is_admin,
            is_active_account=True,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture()
def make_cooperation(app):  # noqa: ANN001, ANN201
    from koopboard.cooperations.services import CooperationData, add_partner, create_cooperation
    from koopboard.extensions import db
    from koopboard.models import Membership

    def make(
        lead,
        partners=(),
        roles=None,
        title: str = "Gemeinsames Standesamt",  # noqa: ANN001
        start: date = date(2025, 1, 1),
    ):
        cooperation = create_cooperation(
            CooperationData(
                title=title,
                goals="Ziele",
                handlungsfeld="verwaltung",
                rechtsform="zweckvereinbarung",
                status="aktiv",
                start_date=start,
                end_date=None,
            ),
            by=lead,
        )
        for municipality in partners:
            add_partner(
                cooperation, ags=municipality.ags, joined_on=start, council_resolution_on=None
            )
        for user, role in (roles or {}).items():
            db.session.add(Membership(cooperation=cooperation, user=user, role=role))
        db.session.commit()
        return cooperation

    return make


def login(client: KoopClient, user_or_email, password: str = PASSWORD):  # noqa: ANN001, ANN201
    """Sign in through the real login form; returns the response."""
    email = user_or_email if isinstance(user_or_email, str) else user_or_email.email
    return client.post("/anmelden", data={"email": email, "password": password})


@pytest.fixture()
def login_as(client: KoopClient):  # noqa: ANN201
    def do(user, password: str = PASSWORD) -> KoopClient:  # noqa: ANN001
        response = login(client, user, password)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return do


def wants_mail_at_once(*users) -> None:  # noqa: ANN002
    """These people chose "sofort" for every kind of event (the role presets send most
    events in the Sammel-E-Mail; tests of the sending itself want a mail per event)."""
    from koopboard.domain.notifications import EventType
    from koopboard.extensions import db
    from koopboard.notifications import preferences

    for user in users:
        for event_type in EventType:
            preferences.set_general_mode(user.id, event_type.value, "immediate")
    db.session.commit()


def prefer(user, event_type: str, mode: str, cooperation_id: int | None = None) -> None:  # noqa: ANN001
    """One stored choice (general, or for one cooperation), replacing an earlier one."""
    from koopboard.extensions import db
    from koopboard.notifications import preferences

    if cooperation_id is None:
        preferences.set_general_mode(user.id, event_type, mode)
    else:
        preferences.set_override(user.id, cooperation_id, event_type, mode)
    db.session.commit()
