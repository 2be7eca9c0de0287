"""Reset and invitation links die with the password they were for, or with a newer link;
session cookies die with the password too."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from werkzeug.security import generate_password_hash

from koopboard.auth import services
from koopboard.extensions import db
from koopboard.models import Municipality, User
from tests.conftest import PASSWORD, KoopClient, Mailbox, login
from tests.web.test_auth import NEW_PASSWORD, body, path_of

MakeMunicipality = Callable[..., Municipality]
MakeUser = Callable[..., User]


def _reset_links(client: KoopClient, mailbox: Mailbox, email: str, n: int) -> list[str]:
    for _ in range(n):
        assert client.post("/passwort-vergessen", data={"email": email}).status_code == 302
    mails = mailbox.to(email)
    assert len(mails) == n
    return [path_of(Mailbox.links(m)[0]) for m in mails]


def _set(client: KoopClient, path: str, password: str):  # noqa: ANN202
    return client.post(path, data={"password": password, "password_confirm": password})


def test_an_older_reset_link_is_dead_after_a_newer_one_reset_the_password(
    app: Flask,
    client: KoopClient,
    mailbox: Mailbox,
    make_municipality: MakeMunicipality,
    make_user: MakeUser,
) -> None:
    user = make_user(make_municipality())
    older, newer = _reset_links(client, mailbox, user.email, 2)
    assert _set(client, newer, NEW_PASSWORD).status_code == 302

    response = _set(client, older, "Angreifer-Passwort-2026")

    assert response.status_code == 400
    assert login(app.test_client(), user, "Angreifer-Passwort-2026").status_code == 400
    assert login(app.test_client(), user, NEW_PASSWORD).status_code == 302


def test_two_reset_links_both_work_until_one_is_used(
    client: KoopClient, mailbox: Mailbox, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    """Asking again never kills the link already in the mailbox (else whoever knows the
    address could keep the owner's link dead by asking every minute)."""
    user = make_user(make_municipality())
    older, newer = _reset_links(client, mailbox, user.email, 2)
    assert client.get(older).status_code == 200
    assert _set(client, older, NEW_PASSWORD).status_code == 302

    response = client.get(newer)

    assert response.status_code == 400
    assert "Passwort wurde inzwischen geändert" in body(response)


def test_a_reset_link_dies_when_the_password_changes_another_way(
    client: KoopClient, mailbox: Mailbox, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    user = make_user(make_municipality())
    (link,) = _reset_links(client, mailbox, user.email, 1)
    user.password_hash = generate_password_hash("Anders-Gesetzt-2026", method="scrypt:1024:8:1")
    db.session.commit()

    response = client.get(link)

    assert response.status_code == 400
    assert "Passwort wurde inzwischen geändert" in body(response)


def test_an_older_invitation_is_dead_once_a_newer_one_made_the_account(
    app: Flask, client: KoopClient, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    town = make_municipality()
    inviter = make_user(town)
    with app.test_request_context():
        older = services.invite(email="neu@example.org", municipality=town, invited_by=inviter)
        newer = services.invite(email="neu@example.org", municipality=town, invited_by=inviter)
        db.session.commit()
        older_path, newer_path = path_of(older.link), path_of(newer.link)
    form = {"name": "Nora Neu", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    assert app.test_client().post(newer_path, data=form).status_code == 302

    response = client.post(older_path, data={**form, "name": "Zweite Nora"})

    assert response.status_code == 400
    assert db.session.query(User).filter_by(email="neu@example.org").count() == 1


def test_every_session_ends_when_the_password_changes_whatever_changed_it(
    app: Flask, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    user = make_user(make_municipality())
    office, laptop = app.test_client(), app.test_client()
    for browser in (office, laptop):
        assert login(browser, user).status_code == 302
        assert browser.get("/kooperationen/").status_code == 200
    # E.g. an operator's script sets a new password; no session row is revoked.
    user.password_hash = generate_password_hash(NEW_PASSWORD, method="scrypt:1024:8:1")
    db.session.commit()

    for browser in (office, laptop):
        assert browser.get("/kooperationen/").status_code == 302
    fresh = app.test_client()
    assert login(fresh, user, PASSWORD).status_code == 400
    assert login(fresh, user, NEW_PASSWORD).status_code == 302
    assert fresh.get("/kooperationen/").status_code == 200
