"""/healthz against real services: PostgreSQL with Redis, and the server-less SQLite broker."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from koopboard import create_app
from tests.conftest import (
    REDIS_HOST,
    REDIS_PORT,
    _test_config,
    free_port,
    port_open,
    service_missing,
)

pytestmark = pytest.mark.integration

REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/15"


def health_app(database_url: str, broker_url: str) -> Flask:
    """A fresh app on the test database with the given Celery broker."""
    return create_app({**_test_config(database_url, smtp_port=1), "CELERY_BROKER_URL": broker_url})


@pytest.fixture()
def postgres_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        service_missing("PostgreSQL", "the test database fell back to SQLite")
    return database_url


def get_health(app: Flask) -> tuple[int, dict[str, str]]:
    response = app.test_client().get("/healthz")
    assert response.mimetype == "application/json"
    return response.status_code, response.get_json()


def test_healthy_with_postgresql_and_redis(postgres_url: str) -> None:
    if not port_open(REDIS_HOST, REDIS_PORT):
        service_missing("Redis", f"nothing listens on {REDIS_HOST}:{REDIS_PORT}")

    status, body = get_health(health_app(postgres_url, REDIS_URL))

    assert (status, body) == (200, {"status": "ok", "database": "ok", "broker": "ok"})


def test_healthy_with_the_serverless_sqlite_broker(database_url: str, tmp_path: Path) -> None:
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"

    status, body = get_health(health_app(database_url, broker))

    assert (status, body) == (200, {"status": "ok", "database": "ok", "broker": "ok"})


def test_degraded_when_the_broker_is_down(database_url: str) -> None:
    """A Redis URL where nothing listens: 503, and the database still reports ok."""
    status, body = get_health(health_app(database_url, f"redis://127.0.0.1:{free_port()}/0"))

    assert status == 503
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["broker"].startswith("error:")
