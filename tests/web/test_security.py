"""CSRF, security headers, session cookie flags and the production configuration guard."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from koopboard import ConfigurationError, create_app
from koopboard.config import DEFAULT_SECRET_KEY
from koopboard.extensions import db
from koopboard.models import AccountToken, Cooperation, LoginSession, Municipality, User
from tests.conftest import KoopClient, Mailbox, Variant, login

MakeMunicipality = Callable[..., Municipality]
MakeUser = Callable[..., User]
LoginAs = Callable[..., KoopClient]


@pytest.fixture(autouse=True)
def _release_connections(app: Flask) -> Iterator[None]:
    """Close this test's pooled database connections (parallel runs share one server)."""
    yield
    db.session.remove()
    db.engine.dispose()


CSRF_MESSAGE = "Das Formular ist abgelaufen oder unvollständig (Sicherheitsprüfung fehlgeschlagen)"
LONG_KEY = "a-long-random-production-secret-" + "k" * 32
COOPERATION = {
    "title": "Gemeinsames Standesamt",
    "goals": "Ein Standesamt für drei Gemeinden",
    "handlungsfeld": "verwaltung",
    "rechtsform": "zweckvereinbarung",
    "status": "aktiv",
    "start_date": "2025-01-01",
}


def body(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def session_cookie_header(response: TestResponse) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    return headers[0]


def cookie_attributes(header: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}


# --- CSRF -----------------------------------------------------------------------------------


@pytest.fixture()
def member(
    login_as: LoginAs, make_municipality: MakeMunicipality, make_user: MakeUser
) -> KoopClient:
    return login_as(make_user(make_municipality("Merchweiler", ags="10043113")))


def _bad_token_variants(client: KoopClient) -> list[dict]:
    valid = client.csrf_token()
    other_session = client.application.test_client().csrf_token()
    return [
        {},
        {"csrf_token": "falsch"},
        {"csrf_token": valid[:-4] + "abcd"},
        {"csrf_token": other_session},
    ]


def test_creating_a_cooperation_without_a_valid_token_is_refused(member: KoopClient) -> None:
    for extra in _bad_token_variants(member):
        response = member.post("/kooperationen/neu", data={**COOPERATION, **extra}, csrf=False)
        assert response.status_code == 400, extra
        assert CSRF_MESSAGE in body(response)
        assert '<html lang="de">' in body(response)
    assert count(Cooperation) == 0
    # With the token the same form goes through.
    assert member.post("/kooperationen/neu", data=COOPERATION).status_code == 302
    assert count(Cooperation) == 1


def test_inviting_without_a_valid_token_is_refused(member: KoopClient, mailbox: Mailbox) -> None:
    for extra in _bad_token_variants(member):
        response = member.post(
            "/kolleginnen-einladen", data={"email": "neu@example.org", **extra}, csrf=False
        )
        assert response.status_code == 400
        assert CSRF_MESSAGE in body(response)
    assert count(AccountToken) == 0
    assert mailbox.messages == []


def test_admin_invite_without_token_is_refused(
    login_as: LoginAs, make_user: MakeUser, make_municipality: MakeMunicipality, mailbox: Mailbox
) -> None:
    make_municipality("Merchweiler", ags="10043113")
    client = login_as(make_user(None, is_admin=True))
    response = client.post(
        "/verwaltung/einladen", csrf=False, data={"ags": "10043113", "email": "neu@example.org"}
    )
    assert response.status_code == 400
    assert CSRF_MESSAGE in body(response)
    assert count(AccountToken) == 0
    assert mailbox.messages == []


def test_login_without_token_is_refused(
    client: KoopClient, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    user = make_user(make_municipality())
    response = client.post(
        "/anmelden", data={"email": user.email, "password": "x" * 20}, csrf=False
    )
    assert response.status_code == 400
    assert CSRF_MESSAGE in body(response)
    assert count(LoginSession) == 0


def test_language_switch_without_token_is_refused(client: KoopClient) -> None:
    response = client.post("/sprache", data={"lang": "en"}, csrf=False)
    assert response.status_code == 400
    assert '<html lang="de">' in body(client.get("/anmelden"))


def test_htmx_post_with_only_the_header_token_works(member: KoopClient) -> None:
    token = member.csrf_token()
    response = member.post(
        "/kooperationen/neu",
        data=COOPERATION,
        csrf=False,
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert response.status_code in (200, 204, 302), body(response)[:1000]
    assert count(Cooperation) == 1


def test_htmx_invite_with_only_the_header_token_works(member: KoopClient, mailbox: Mailbox) -> None:
    token = member.csrf_token()
    response = member.post(
        "/kolleginnen-einladen",
        data={"email": "neu@example.org"},
        csrf=False,
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert response.status_code in (200, 204, 302)
    assert count(AccountToken) == 1
    assert len(mailbox.to("neu@example.org")) == 1


def test_htmx_post_with_a_wrong_header_token_is_refused(member: KoopClient) -> None:
    response = member.post(
        "/kooperationen/neu",
        data=COOPERATION,
        csrf=False,
        headers={"X-CSRFToken": "falsch", "HX-Request": "true"},
    )
    assert response.status_code == 400
    assert CSRF_MESSAGE in body(response)
    assert count(Cooperation) == 0


def test_htmx_csrf_failure_is_shown_in_place_of_the_main_content(member: KoopClient) -> None:
    response = member.post(
        "/kooperationen/neu",
        data=COOPERATION,
        csrf=False,
        headers={"X-CSRFToken": "falsch", "HX-Request": "true"},
    )
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#inhalt"
    assert response.headers["HX-Reswap"] == "innerHTML"
    html = body(response)
    assert "<html" not in html and 'role="alert"' in html
    assert CSRF_MESSAGE in html


def test_every_page_carries_the_token_for_htmx(client: KoopClient) -> None:
    html = body(client.get("/anmelden"))
    assert re.search(r'<meta name="csrf-token" content="[^"]+">', html)


# --- security headers -----------------------------------------------------------------------


def csp_directives(response: TestResponse) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def assert_security_headers(response: TestResponse) -> None:
    directives = csp_directives(response)
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts is not None
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert "*" not in scripts and "data:" not in scripts
    assert "'unsafe-inline'" not in directives.get("style-src", directives["default-src"])
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in (
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    )


def assert_no_inline_code(html: str) -> None:
    """What the CSP would block in a browser must not be on the page."""
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html), "inline style attribute"
    assert "javascript:" not in html


def test_public_pages_send_security_headers(client: KoopClient) -> None:
    for path, status in (
        ("/anmelden", 200),
        ("/passwort-vergessen", 200),
        ("/barrierefreiheit", 200),
        ("/gibt-es-nicht", 404),
        ("/einladung/unsinn", 400),
    ):
        response = client.get(path)
        assert response.status_code == status, path
        assert response.mimetype == "text/html"
        assert_security_headers(response)
        assert "no-store" in response.headers["Cache-Control"], path
        assert_no_inline_code(body(response))


def test_signed_in_pages_send_security_headers(member: KoopClient) -> None:
    for path in ("/kooperationen/", "/kooperationen/neu", "/kolleginnen-einladen"):
        response = member.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response)
        assert "no-store" in response.headers["Cache-Control"], path


def test_admin_page_sends_security_headers_and_no_inline_code(
    login_as: LoginAs, make_user: MakeUser
) -> None:
    client = login_as(make_user(None, is_admin=True))
    response = client.get("/verwaltung/einladen")
    assert response.status_code == 200
    assert_security_headers(response)
    assert "no-store" in response.headers["Cache-Control"]
    assert_no_inline_code(body(response))


def test_htmx_fragment_and_redirect_carry_the_headers(
    client: KoopClient, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    user = make_user(make_municipality())
    fragment = client.post(
        "/anmelden",
        data={"email": user.email, "password": "falsch-12345"},
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 422
    assert_security_headers(fragment)
    assert "no-store" in fragment.headers["Cache-Control"]
    assert "HX-Request" in fragment.headers.get("Vary", "")
    redirect = login(client, user)
    assert redirect.status_code == 302
    assert_security_headers(redirect)


def test_static_files_are_cacheable_but_not_sniffed(client: KoopClient) -> None:
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


def test_no_hsts_over_plain_http_in_development(client: KoopClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/anmelden").headers


# --- session cookie -------------------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_lax(
    client: KoopClient, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    header = session_cookie_header(client.get("/anmelden"))
    attributes = cookie_attributes(header)
    assert "httponly" in attributes
    assert "samesite=lax" in header.lower()
    assert "secure" not in attributes  # plain http in development and tests

    user = make_user(make_municipality())
    response = login(client, user)
    header = session_cookie_header(response)
    assert "httponly" in cookie_attributes(header) and "samesite=lax" in header.lower()
    # No long-lived remember-me cookie that would outlive logout.
    assert not any(
        h.startswith("remember_token=") and "Max-Age=0" not in h
        for h in response.headers.getlist("Set-Cookie")
    )


def test_session_cookie_is_secure_when_configured(variant: Variant) -> None:
    other = variant(SESSION_COOKIE_SECURE=True)
    response = other.test_client().get("/anmelden")
    header = session_cookie_header(response)
    assert {"secure", "httponly"} <= cookie_attributes(header)
    assert "samesite=lax" in header.lower()
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


def test_production_mode_makes_the_session_cookie_secure(variant: Variant) -> None:
    other = variant(KOOP_ENV="production", SECRET_KEY=LONG_KEY, SESSION_COOKIE_SECURE=False)
    assert other.config["SESSION_COOKIE_SECURE"] is True
    response = other.test_client().get("/anmelden")
    assert response.status_code == 200
    header = session_cookie_header(response)
    assert {"secure", "httponly"} <= cookie_attributes(header)
    assert "samesite=lax" in header.lower()
    assert "Strict-Transport-Security" in response.headers


def test_production_refuses_to_start_without_a_strong_secret_key() -> None:
    for key in (DEFAULT_SECRET_KEY, "", None, "x" * 31, "kurz"):
        with pytest.raises(ConfigurationError, match="SECRET_KEY"):
            create_app({"TESTING": True, "KOOP_ENV": "production", "SECRET_KEY": key})


def test_development_accepts_the_default_secret_key(variant: Variant) -> None:
    other = variant(KOOP_ENV="development", SECRET_KEY=DEFAULT_SECRET_KEY)
    assert other.test_client().get("/anmelden").status_code == 200
