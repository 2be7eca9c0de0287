"""Login, logout, server-side sessions, rate limits, password reset and colleague invites."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import func, or_, select
from werkzeug.test import TestResponse

from koopboard.extensions import db
from koopboard.models import AccountToken, HistoryEntry, LoginSession, Municipality, User
from tests.conftest import PASSWORD, KoopClient, Mailbox, login

MakeMunicipality = Callable[..., Municipality]
MakeUser = Callable[..., User]
LoginAs = Callable[..., KoopClient]


WRONG = "E-Mail-Adresse oder Passwort ist falsch."
NEW_PASSWORD = "Ganz-Neues-Passwort-2026"


def body(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def path_of(location: str) -> str:
    """The path (and query) of a redirect target, whether absolute or relative."""
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def link_path(mailbox: Mailbox, address: str) -> str:
    """The path of the one link in the one mail sent to ``address``."""
    messages = mailbox.to(address)
    assert len(messages) == 1, [m["Subject"] for m in mailbox.messages]
    links = Mailbox.links(messages[0])
    assert len(links) == 1, links
    assert links[0].startswith("http://localhost/")
    return path_of(links[0])


# --- login ----------------------------------------------------------------------------------


def test_login_page_renders_form(client: KoopClient) -> None:
    response = client.get("/anmelden")
    assert response.status_code == 200
    html = body(response)
    assert 'name="email"' in html and 'name="password"' in html
    assert 'autocomplete="current-password"' in html


def test_correct_login_redirects_to_my_cooperations(
    client: KoopClient, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    user = make_user(make_municipality("Merchweiler"), name="Erika Muster")
    response = login(client, user)
    assert response.status_code == 302
    assert path_of(response.headers["Location"]) == "/start"  # Was ansteht
    page = client.get("/kooperationen/")
    assert page.status_code == 200
    assert "Erika Muster" in body(page)


def test_login_ignores_case_and_spaces_of_the_email(
    client: KoopClient, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    make_user(make_municipality(), email="erika@example.org")
    response = login(client, "  Erika@Example.ORG ")
    assert response.status_code == 302


def _normalised(html: str, email: str) -> str:
    """The page without what legitimately differs: the echoed address and the CSRF token."""
    html = html.replace(email, "EMAIL")
    return re.sub(r'(name="csrf[_-]token"[^>]*(?:value|content)=")[^"]+', r"\1X", html)


def test_wrong_password_and_unknown_email_answer_identically(
    client: KoopClient, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    make_user(make_municipality(), email="erika@example.org")
    wrong_password = login(client, "erika@example.org", "Falsches-Passwort-123")
    unknown = login(client, "niemand@example.org", "Falsches-Passwort-123")
    assert wrong_password.status_code == unknown.status_code == 400
    assert WRONG in body(wrong_password)
    assert WRONG in body(unknown)
    assert _normalised(body(wrong_password), "erika@example.org") == _normalised(
        body(unknown), "niemand@example.org"
    )
    # Neither attempt signed anyone in.
    assert client.get("/kooperationen/").status_code == 302
    assert count(LoginSession) == 0


def test_inactive_account_cannot_log_in_and_gets_the_same_message(
    client: KoopClient, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    user = make_user(make_municipality())
    user.is_active_account = False
    db.session.commit()
    response = login(client, user)
    assert response.status_code == 400
    assert WRONG in body(response)


def test_failed_login_with_htmx_returns_the_form_fragment_with_422(
    client: KoopClient, make_municipality, make_user
) -> None:
    user = make_user(make_municipality())
    response = client.post(
        "/anmelden",
        data={"email": user.email, "password": "falsch-falsch-1"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    html = body(response)
    assert WRONG in html
    assert "<html" not in html and 'id="login-form"' in html


def test_protected_page_sends_anonymous_visitors_to_login_and_back(
    client: KoopClient, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    user = make_user(make_municipality())
    response = client.get("/kooperationen/neu")
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/anmelden"
    assert "next=%2Fkooperationen%2Fneu" in target.query
    response = client.post(
        "/anmelden?next=/kooperationen/neu", data={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert path_of(response.headers["Location"]) == "/kooperationen/neu"


OFF_SITE_TARGETS = [
    "https://evil.example/phish",
    "//evil.example/phish",
    "/\\evil.example/phish",
    "\\\\evil.example/phish",
    "/\t/evil.example",
    "/\n/evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    " //evil.example",
]


def test_next_parameter_never_redirects_off_site(
    app: Flask, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    user = make_user(make_municipality())
    for target in OFF_SITE_TARGETS:
        response = app.test_client().post(
            "/anmelden",
            query_string={"next": target},
            data={"email": user.email, "password": PASSWORD},
        )
        assert response.status_code == 302, target
        location = response.headers["Location"]
        assert urlsplit(location).netloc in ("", "localhost"), (target, location)
        assert path_of(location) == "/start", (target, location)


def test_already_signed_in_user_is_sent_on_from_the_login_page(
    login_as: LoginAs, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    client = login_as(make_user(make_municipality()))
    response = client.get("/anmelden")
    assert response.status_code == 302
    assert path_of(response.headers["Location"]) in ("/start", "/kooperationen/")


# --- logout and server-side sessions ---------------------------------------------------------


def test_logout_needs_post(
    login_as: LoginAs, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    client = login_as(make_user(make_municipality()))
    assert client.get("/abmelden").status_code == 405
    assert client.get("/kooperationen/").status_code == 200


def test_logout_without_csrf_token_is_refused_and_keeps_the_session(
    login_as: LoginAs, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    client = login_as(make_user(make_municipality()))
    response = client.post("/abmelden", csrf=False)
    assert response.status_code == 400
    assert "Sicherheitsprüfung fehlgeschlagen" in body(response)
    assert client.get("/kooperationen/").status_code == 200


def test_copied_session_cookie_stops_working_after_logout(
    login_as: LoginAs, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    client = login_as(make_user(make_municipality()))
    copied = client.get_cookie("session")
    assert copied is not None
    response = client.post("/abmelden")
    assert response.status_code == 302
    assert path_of(response.headers["Location"]) == "/anmelden"
    assert "Sie sind abgemeldet." in body(client.get("/anmelden"))

    client.set_cookie("session", copied.value)
    response = client.get("/kooperationen/")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/anmelden"
    assert count(LoginSession) == 1
    assert db.session.scalar(select(LoginSession)).revoked_at is not None


def test_logout_ends_only_this_browsers_session(
    app: Flask, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    user = make_user(make_municipality())
    office, laptop = app.test_client(), app.test_client()
    assert login(office, user).status_code == 302
    assert login(laptop, user).status_code == 302
    office.post("/abmelden")
    assert office.get("/kooperationen/").status_code == 302
    assert laptop.get("/kooperationen/").status_code == 200


def test_login_after_logout_starts_a_fresh_session(
    login_as: LoginAs, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    user = make_user(make_municipality())
    client = login_as(user)
    client.post("/abmelden")
    assert login(client, user).status_code == 302
    assert client.get("/kooperationen/").status_code == 200
    tokens = db.session.scalars(select(LoginSession.token)).all()
    assert len(set(tokens)) == 2


def test_chosen_language_survives_login_and_logout(
    client: KoopClient, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    user = make_user(make_municipality())
    client.post("/sprache", data={"lang": "en", "next": "/anmelden"})
    assert '<html lang="en">' in body(client.get("/anmelden"))
    assert login(client, user).status_code == 302
    assert '<html lang="en">' in body(client.get("/kooperationen/"))
    client.post("/abmelden")
    assert '<html lang="en">' in body(client.get("/anmelden"))


# --- rate limits ----------------------------------------------------------------------------


def _fail(client: KoopClient, email: str) -> int:
    return login(client, email, "Falsches-Passwort-123").status_code


def test_guessing_at_an_unknown_address_is_slowed_down_the_same_way(
    app: Flask, client: KoopClient
) -> None:
    """No difference between known and unknown addresses; the address is compared normalised."""
    app.config["LOGIN_FREE_FAILURES"] = 2
    assert [_fail(client, "niemand@example.org") for _ in range(2)] == [400] * 2
    third = login(client, "niemand@example.org", "Falsches-Passwort-123")
    assert third.status_code == 400 and "warten Sie 2 Sekunden" in body(third)
    assert _fail(client, "NIEMAND@example.org") == 429


def test_client_limit_covers_many_accounts(
    app: Flask, client: KoopClient, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    app.config["LOGIN_RATE_LIMIT_CLIENT"] = "4 per 15 minutes"
    user = make_user(make_municipality())
    statuses = [_fail(client, f"probe{n}@example.org") for n in range(4)]
    assert statuses == [400] * 4
    response = login(client, user)
    assert response.status_code == 429
    # The GET of the form is never limited.
    assert client.get("/anmelden").status_code == 200


def test_successful_logins_do_not_count(
    app: Flask, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    app.config["LOGIN_RATE_LIMIT_ACCOUNT"] = "2 per 15 minutes"
    app.config["LOGIN_RATE_LIMIT_CLIENT"] = "3 per 15 minutes"
    user = make_user(make_municipality())
    for _ in range(5):
        assert login(app.test_client(), user).status_code == 302
    client = app.test_client()
    assert _fail(client, user.email) == 400
    assert login(client, user).status_code == 302


# --- password reset -------------------------------------------------------------------------


def test_forgot_password_answers_identically_and_mails_only_existing_accounts(
    client: KoopClient, mailbox: Mailbox, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    make_user(make_municipality(), email="erika@example.org")
    known = client.post("/passwort-vergessen", data={"email": "erika@example.org"})
    known_page = body(client.get(known.headers["Location"]))
    unknown = client.post("/passwort-vergessen", data={"email": "niemand@example.org"})
    unknown_page = body(client.get(unknown.headers["Location"]))
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert _normalised(known_page, "x") == _normalised(unknown_page, "x")
    assert "Wenn es ein Konto mit dieser Adresse gibt" in known_page

    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert message["To"] == "erika@example.org"
    assert "Passwort" in message["Subject"]
    assert count(AccountToken) == 1


def _reset_link(client: KoopClient, mailbox: Mailbox, email: str) -> str:
    client.post("/passwort-vergessen", data={"email": email})
    return link_path(mailbox, email)


def test_reset_link_sets_a_new_password_once(
    app: Flask,
    client: KoopClient,
    mailbox: Mailbox,
    make_municipality: MakeMunicipality,
    make_user: MakeUser,
) -> None:
    user = make_user(make_municipality())
    path = _reset_link(client, mailbox, user.email)
    assert path.startswith("/passwort-zuruecksetzen/")
    assert client.get(path).status_code == 200

    response = client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert path_of(response.headers["Location"]) == "/anmelden"
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash.startswith("scrypt:")

    fresh = app.test_client()
    assert login(fresh, user, PASSWORD).status_code == 400
    assert login(fresh, user, NEW_PASSWORD).status_code == 302

    again = client.post(
        path, data={"password": "Noch-Ein-Passwort-99", "password_confirm": "Noch-Ein-Passwort-99"}
    )
    assert again.status_code == 400
    assert "bereits verwendet" in body(again)
    assert client.get(path).status_code == 400
    assert login(app.test_client(), user, NEW_PASSWORD).status_code == 302


def test_password_reset_ends_every_session_of_the_user(
    app: Flask, mailbox: Mailbox, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    town = make_municipality()
    user, other = make_user(town), make_user(town)
    office, laptop, colleague = app.test_client(), app.test_client(), app.test_client()
    for c, u in ((office, user), (laptop, user), (colleague, other)):
        assert login(c, u).status_code == 302
    anonymous = app.test_client()
    path = _reset_link(anonymous, mailbox, user.email)
    response = anonymous.post(
        path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert office.get("/kooperationen/").status_code == 302
    assert laptop.get("/kooperationen/").status_code == 302
    assert colleague.get("/kooperationen/").status_code == 200


def test_short_new_password_is_refused_and_the_link_stays_usable(
    client: KoopClient, mailbox: Mailbox, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    user = make_user(make_municipality())
    path = _reset_link(client, mailbox, user.email)
    # A plain form post gets 400, htmx gets 422 (so it swaps the form with its messages).
    for headers, status in (({}, 400), ({"HX-Request": "true"}, 422)):
        response = client.post(
            path,
            data={"password": "kurz-11-abc", "password_confirm": "kurz-11-abc"},
            headers=headers,
        )
        assert response.status_code == status
        assert "mindestens 12 Zeichen" in body(response)
        assert 'id="password-fehler"' in body(response)
        db.session.expire_all()
        assert db.session.get(User, user.id).password_hash == user.password_hash
        assert db.session.scalar(select(AccountToken)).used_at is None
    ok = client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert ok.status_code == 302


def test_mismatching_password_confirmation_is_refused(
    client: KoopClient, mailbox: Mailbox, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    user = make_user(make_municipality())
    path = _reset_link(client, mailbox, user.email)
    response = client.post(
        path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD + "x"}
    )
    assert response.status_code == 400
    assert "stimmen nicht überein" in body(response)


def test_tampered_and_cross_purpose_reset_links_are_invalid(
    client: KoopClient, mailbox: Mailbox, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    user = make_user(make_municipality())
    path = _reset_link(client, mailbox, user.email)
    token = path.rsplit("/", 1)[1]
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (
        f"/passwort-zuruecksetzen/{tampered}",
        f"/einladung/{token}",
        "/passwort-zuruecksetzen/unsinn",
    ):
        response = client.get(bad)
        assert response.status_code == 400, bad
        assert "ungültig" in body(response)


def test_expired_reset_link_is_refused(
    client: KoopClient, mailbox: Mailbox, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    user = make_user(make_municipality())
    path = _reset_link(client, mailbox, user.email)
    row = db.session.scalar(select(AccountToken))
    row.expires_at = row.created_at.replace(year=row.created_at.year - 1)
    db.session.commit()
    response = client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert "abgelaufen" in body(response)
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == user.password_hash


def test_reset_mail_renders_outside_a_request_as_a_worker_does(
    app: Flask,
    client: KoopClient,
    mailbox: Mailbox,
    make_municipality: MakeMunicipality,
    make_user: MakeUser,
) -> None:
    from koopboard.auth.mails import send_token_mail

    user = make_user(make_municipality())
    path = _reset_link(client, mailbox, user.email)
    mailbox.clear()
    row = db.session.scalar(select(AccountToken))
    send_token_mail(row.id, "http://localhost" + path)  # plain app context, no request
    assert [m["To"] for m in mailbox.messages] == [user.email]
    assert "http://localhost" + path in Mailbox.text(mailbox.messages[0])


# --- colleague invitations -------------------------------------------------------------------


def test_user_invites_a_colleague_of_their_own_municipality(
    app: Flask,
    login_as: LoginAs,
    mailbox: Mailbox,
    make_municipality: MakeMunicipality,
    make_user: MakeUser,
) -> None:
    town = make_municipality("Illingen")
    inviter = make_user(town, name="Anna Einladend")
    client = login_as(inviter)
    assert client.get("/kolleginnen-einladen").status_code == 200
    response = client.post("/kolleginnen-einladen", data={"email": "Neu@Example.org"})
    assert response.status_code == 302
    assert "neu@example.org" in body(client.get(response.headers["Location"]))
    path = link_path(mailbox, "neu@example.org")
    assert "Illingen" in mailbox.messages[0]["Subject"]

    newcomer = app.test_client()
    page = newcomer.get(path)
    assert page.status_code == 200 and "Illingen" in body(page)
    response = newcomer.post(
        path, data={"name": "Bernd Neu", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )
    assert response.status_code == 302
    created = db.session.scalar(select(User).where(User.email == "neu@example.org"))
    assert created.municipality_id == town.id
    assert not created.is_admin
    token = db.session.scalar(select(AccountToken))
    assert token.created_by_id == inviter.id


def test_invalid_colleague_address_is_refused(
    login_as: LoginAs, mailbox: Mailbox, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    client = login_as(make_user(make_municipality()))
    response = client.post("/kolleginnen-einladen", data={"email": "keine-adresse"})
    assert response.status_code == 400
    assert "gültige E-Mail-Adresse" in body(response)
    assert count(AccountToken) == 0
    assert mailbox.messages == []


def test_colleague_invitation_needs_login(client: KoopClient) -> None:
    response = client.get("/kolleginnen-einladen")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/anmelden"


# --- history of account changes --------------------------------------------------------------


def _no_secret_in_history(*secrets: str) -> None:
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(HistoryEntry)
            .where(HistoryEntry.field == "password_hash")
        )
        == 0
    )
    for secret in ("scrypt:", *secrets):
        leaked = db.session.scalar(
            select(func.count())
            .select_from(HistoryEntry)
            .where(
                or_(
                    HistoryEntry.old_value.contains(secret), HistoryEntry.new_value.contains(secret)
                )
            )
        )
        assert leaked == 0, secret


def test_invited_account_creation_is_in_the_history_without_the_password(
    app: Flask,
    login_as: LoginAs,
    mailbox: Mailbox,
    make_municipality: MakeMunicipality,
    make_user: MakeUser,
) -> None:
    town = make_municipality()
    inviter = make_user(town)
    login_as(inviter).post("/kolleginnen-einladen", data={"email": "neu@example.org"})
    invite_rows = db.session.scalars(
        select(HistoryEntry).where(
            HistoryEntry.record_type == "AccountToken", HistoryEntry.action == "create"
        )
    ).all()
    assert invite_rows and all(r.actor_id == inviter.id for r in invite_rows)
    assert any(r.field == "email" and r.new_value == "neu@example.org" for r in invite_rows)

    path = link_path(mailbox, "neu@example.org")
    app.test_client().post(
        path, data={"name": "Bernd Neu", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )
    user = db.session.scalar(select(User).where(User.email == "neu@example.org"))
    created = {
        r.field: r
        for r in db.session.scalars(
            select(HistoryEntry).where(
                HistoryEntry.record_type == "User",
                HistoryEntry.record_id == user.id,
                HistoryEntry.action == "create",
            )
        )
    }
    assert created["email"].new_value == "neu@example.org"
    assert created["name"].new_value == "Bernd Neu"
    assert created["municipality_id"].new_value == str(town.id)
    assert "Bernd Neu" in created["email"].actor_label
    used = db.session.scalar(
        select(HistoryEntry).where(
            HistoryEntry.record_type == "AccountToken", HistoryEntry.field == "used_at"
        )
    )
    assert used is not None and used.new_value
    _no_secret_in_history(NEW_PASSWORD, user.password_hash)


def test_password_reset_is_in_the_history_without_the_hash(
    app: Flask,
    client: KoopClient,
    mailbox: Mailbox,
    make_municipality: MakeMunicipality,
    make_user: MakeUser,
) -> None:
    user = make_user(make_municipality(), name="Erika Muster")
    assert login(app.test_client(), user).status_code == 302
    path = _reset_link(client, mailbox, user.email)
    client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    db.session.expire_all()
    changed = db.session.scalars(
        select(HistoryEntry).where(
            HistoryEntry.record_type == "User",
            HistoryEntry.record_id == user.id,
            HistoryEntry.action == "update",
        )
    ).all()
    assert [(r.field, r.old_value, r.new_value) for r in changed] == [
        ("password", None, "geändert")
    ]
    assert "Erika Muster" in changed[0].actor_label
    revoked = db.session.scalars(
        select(HistoryEntry).where(
            HistoryEntry.record_type == "LoginSession", HistoryEntry.field == "revoked_at"
        )
    ).all()
    assert len(revoked) == 1 and revoked[0].old_value is None and revoked[0].new_value
    new_hash = db.session.get(User, user.id).password_hash
    _no_secret_in_history(NEW_PASSWORD, new_hash, user.password_hash)


def test_login_and_logout_are_in_the_history_without_the_session_token(
    login_as: LoginAs, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    user = make_user(make_municipality())
    client = login_as(user)
    client.post("/abmelden")
    row = db.session.scalar(select(LoginSession))
    entries = db.session.scalars(
        select(HistoryEntry).where(
            HistoryEntry.record_type == "LoginSession", HistoryEntry.record_id == row.id
        )
    ).all()
    assert {e.action for e in entries} == {"create", "update"}
    assert all(user.name in e.actor_label for e in entries if e.action == "create")
    revoke = next(e for e in entries if e.field == "revoked_at")
    assert revoke.actor_id == user.id
    assert all(e.field != "token" for e in entries)
    _no_secret_in_history(row.token)
