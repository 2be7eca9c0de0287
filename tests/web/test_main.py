"""Start page, language switch, accessibility statement and the health check."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.test import TestResponse

from koopboard.models import Municipality, User
from tests.conftest import REDIS_HOST, REDIS_PORT, KoopClient, Variant, port_open, service_missing

MakeMunicipality = Callable[..., Municipality]
MakeUser = Callable[..., User]
LoginAs = Callable[..., KoopClient]


def body(response: TestResponse) -> str:
    return response.get_data(as_text=True)


# --- health check ---------------------------------------------------------------------------


def test_healthz_reports_database_and_broker(client: KoopClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_needs_no_login_and_no_session(client: KoopClient) -> None:
    response = client.get("/healthz")
    assert not [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_healthz_reports_an_unreachable_broker_with_503_quickly(variant: Variant) -> None:
    other = variant(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    client = other.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    data = response.get_json()
    assert data["status"] != "ok"
    assert data["database"] == "ok"
    assert data["broker"].startswith("error")
    # A load balancer's probe must not hang on a dead broker (no multi-second back-off).
    started = time.monotonic()
    assert client.get("/healthz").status_code == 503
    assert time.monotonic() - started < 1.0


def test_healthz_reports_an_unreachable_database_with_503(variant: Variant) -> None:
    other = variant(
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none",
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}},
    )
    response = other.test_client().get("/healthz")
    assert response.status_code == 503
    data = response.get_json()
    assert data["status"] != "ok"
    assert data["database"].startswith("error")
    assert data["broker"] == "ok"
    assert "127.0.0.1" not in body(response)  # no connection details leak


def test_healthz_with_real_redis(variant: Variant) -> None:
    if not port_open(REDIS_HOST, REDIS_PORT):
        service_missing("Redis", f"nothing listens on {REDIS_HOST}:{REDIS_PORT}")
    other = variant(CELERY_BROKER_URL=f"redis://{REDIS_HOST}:{REDIS_PORT}/15")
    response = other.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "broker": "ok"}


# --- start page -----------------------------------------------------------------------------


def test_start_sends_anonymous_visitors_to_login(client: KoopClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/anmelden"


def test_the_entry_sends_signed_in_users_to_was_ansteht(
    login_as: LoginAs, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    client = login_as(make_user(make_municipality()))
    response = client.get("/", follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == "/start"
    assert "<h1>Was ansteht</h1>" in response.get_data(as_text=True)


def test_accessibility_statement_is_public_and_names_the_contact(
    app: Flask, client: KoopClient
) -> None:
    response = client.get("/barrierefreiheit")
    assert response.status_code == 200
    assert app.config["ACCESSIBILITY_CONTACT"] in body(response)


# --- language switch ------------------------------------------------------------------------


def test_language_switch_to_english_and_back(client: KoopClient) -> None:
    assert '<html lang="de">' in body(client.get("/anmelden"))
    response = client.post("/sprache", data={"lang": "en", "next": "/anmelden"})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/anmelden"
    for path in ("/anmelden", "/barrierefreiheit", "/passwort-vergessen"):
        page = client.get(path)
        assert page.status_code == 200
        assert '<html lang="en">' in body(page)
    # The switch offers the way back.
    assert 'value="de"' in body(client.get("/anmelden"))
    client.post("/sprache", data={"lang": "de", "next": "/anmelden"})
    assert '<html lang="de">' in body(client.get("/anmelden"))


def test_english_applies_to_signed_in_pages(
    login_as: LoginAs, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    client = login_as(make_user(make_municipality()))
    client.post("/sprache", data={"lang": "en"})
    for path in ("/kooperationen/", "/kooperationen/neu", "/kolleginnen-einladen"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert '<html lang="en">' in body(page)


def test_unknown_language_is_ignored(client: KoopClient) -> None:
    response = client.post("/sprache", data={"lang": "xx", "next": "/anmelden"})
    assert response.status_code == 302
    assert '<html lang="de">' in body(client.get("/anmelden"))


def test_language_switch_returns_to_the_page_it_came_from(client: KoopClient) -> None:
    response = client.post("/sprache", data={"lang": "en", "next": "/passwort-vergessen?x=1"})
    location = urlsplit(response.headers["Location"])
    assert (location.path, location.query) == ("/passwort-vergessen", "x=1")


def test_language_switch_never_redirects_off_site(client: KoopClient) -> None:
    for target in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
    ):
        response = client.post("/sprache", data={"lang": "en", "next": target})
        assert response.status_code == 302, target
        location = urlsplit(response.headers["Location"])
        assert location.netloc in ("", "localhost"), (target, location)
        assert location.path == "/", (target, location)


def test_language_switch_form_is_on_every_page(client: KoopClient) -> None:
    html = body(client.get("/anmelden"))
    assert 'action="/sprache"' in html
    assert 'name="lang" value="en"' in html
