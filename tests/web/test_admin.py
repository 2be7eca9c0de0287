"""Platform admin: invite the first user of a municipality; invitation links; create-admin CLI."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from koopboard.extensions import db
from koopboard.models import AccountToken, HistoryEntry, LoginSession, Municipality, User
from tests.conftest import KoopClient, Mailbox

MakeMunicipality = Callable[..., Municipality]
MakeUser = Callable[..., User]
LoginAs = Callable[..., KoopClient]


NEW_PASSWORD = "Ganz-Neues-Passwort-2026"


def body(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def link_path(mailbox: Mailbox, address: str) -> str:
    """The path of the one link in the one mail sent to ``address``."""
    messages = mailbox.to(address)
    assert len(messages) == 1, [m["Subject"] for m in mailbox.messages]
    links = Mailbox.links(messages[0])
    assert len(links) == 1, links
    assert links[0].startswith("http://localhost/einladung/")
    return urlsplit(links[0]).path


@pytest.fixture()
def admin(make_user: MakeUser) -> User:
    return make_user(None, email="betrieb@example.org", name="Bea Betrieb", is_admin=True)


@pytest.fixture()
def admin_client(login_as: LoginAs, admin: User) -> KoopClient:
    return login_as(admin)


def accept(
    client: KoopClient,
    path: str,
    password: str = NEW_PASSWORD,
    name: str = "Nora Neu",
    **kwargs: object,
) -> TestResponse:
    return client.post(
        path, data={"name": name, "password": password, "password_confirm": password}, **kwargs
    )


def invite(
    admin_client: KoopClient,
    mailbox: Mailbox,
    ags: str = "10043113",
    email: str = "buergermeisterin@merchweiler.de",
) -> str:
    response = admin_client.post("/verwaltung/einladen", data={"ags": ags, "email": email})
    assert response.status_code == 302, body(response)[:2000]
    return link_path(mailbox, email)


# --- the admin's invitation -----------------------------------------------------------------


def test_admin_invites_first_user_who_accepts_and_is_signed_in(
    app: Flask,
    admin_client: KoopClient,
    admin: User,
    mailbox: Mailbox,
    make_municipality: MakeMunicipality,
) -> None:
    town = make_municipality("Merchweiler", ags="10043113")
    assert admin_client.get("/verwaltung/einladen").status_code == 200
    response = admin_client.post(
        "/verwaltung/einladen", data={"ags": "10043113", "email": "Person@Merchweiler.de"}
    )
    assert response.status_code == 302
    page = body(admin_client.get(response.headers["Location"]))
    assert "person@merchweiler.de" in page and "Merchweiler" in page

    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert message["To"] == "person@merchweiler.de"
    assert "Merchweiler" in message["Subject"]
    assert message.get_body(preferencelist=("html",)) is not None
    path = link_path(mailbox, "person@merchweiler.de")

    newcomer = app.test_client()
    form = newcomer.get(path)
    assert form.status_code == 200
    assert "person@merchweiler.de" in body(form) and "Merchweiler" in body(form)
    response = accept(newcomer, path, name="  Nora Neu ")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/kooperationen/"
    landing = newcomer.get("/kooperationen/")
    assert landing.status_code == 200
    assert "Nora Neu" in body(landing)

    user = db.session.scalar(select(User).where(User.email == "person@merchweiler.de"))
    assert user.name == "Nora Neu"
    assert user.municipality_id == town.id
    assert not user.is_admin and user.is_active_account
    assert user.password_hash.startswith("scrypt:")
    assert NEW_PASSWORD not in user.password_hash
    token = db.session.scalar(select(AccountToken))
    assert token.created_by_id == admin.id and token.used_at is not None
    assert count(LoginSession) == 2  # the admin's and the newcomer's
    assert db.session.scalar(select(LoginSession).where(LoginSession.user_id == user.id))


def test_invitation_link_works_once(
    app: Flask, admin_client: KoopClient, mailbox: Mailbox, make_municipality: MakeMunicipality
) -> None:
    make_municipality("Merchweiler", ags="10043113")
    path = invite(admin_client, mailbox)
    assert accept(app.test_client(), path).status_code == 302

    second = app.test_client()
    for response in (second.get(path), accept(second, path, name="Zweiter Versuch")):
        assert response.status_code == 400
        assert "bereits verwendet" in body(response)
    assert count(User) == 2  # the admin and the one invited person
    assert second.get("/kooperationen/").status_code == 302


def test_second_invitation_to_an_address_that_meanwhile_has_an_account_is_spent(
    app: Flask, admin_client: KoopClient, mailbox: Mailbox, make_municipality: MakeMunicipality
) -> None:
    make_municipality("Merchweiler", ags="10043113")
    first = invite(admin_client, mailbox)
    mailbox.clear()
    second = invite(admin_client, mailbox)
    assert accept(app.test_client(), first).status_code == 302
    response = accept(app.test_client(), second)
    assert response.status_code == 400
    assert "bereits ein Konto" in body(response)
    assert count(User) == 2


def test_expired_invitation_by_max_age(
    app: Flask, admin_client: KoopClient, mailbox: Mailbox, make_municipality: MakeMunicipality
) -> None:
    make_municipality("Merchweiler", ags="10043113")
    app.config["INVITATION_MAX_AGE"] = -1
    path = invite(admin_client, mailbox)
    newcomer = app.test_client()
    for response in (newcomer.get(path), accept(newcomer, path)):
        assert response.status_code == 400
        assert "abgelaufen" in body(response)
    assert count(User) == 1


def test_expired_invitation_by_database_date(
    app: Flask, admin_client: KoopClient, mailbox: Mailbox, make_municipality: MakeMunicipality
) -> None:
    make_municipality("Merchweiler", ags="10043113")
    path = invite(admin_client, mailbox)
    row = db.session.scalar(select(AccountToken))
    row.expires_at = row.created_at.replace(year=row.created_at.year - 1)
    db.session.commit()
    response = accept(app.test_client(), path)
    assert response.status_code == 400
    assert "abgelaufen" in body(response)
    assert count(User) == 1


def test_tampered_invitation_link_is_invalid(
    app: Flask, admin_client: KoopClient, mailbox: Mailbox, make_municipality: MakeMunicipality
) -> None:
    make_municipality("Merchweiler", ags="10043113")
    path = invite(admin_client, mailbox)
    head, token = path.rsplit("/", 1)
    payload, _, rest = token.partition(".")
    # Swap the payload's first character: the signature no longer matches.
    forged = ("B" if payload[0] != "B" else "C") + payload[1:] + "." + rest
    newcomer = app.test_client()
    for bad in (f"{head}/{forged}", f"{head}/{token}x", f"{head}/unsinn"):
        for response in (newcomer.get(bad), accept(newcomer, bad)):
            assert response.status_code == 400, bad
            assert "ungültig" in body(response)
    assert count(User) == 1
    assert db.session.scalar(select(AccountToken)).used_at is None


def test_short_password_is_refused_and_the_invitation_stays_usable(
    app: Flask, admin_client: KoopClient, mailbox: Mailbox, make_municipality: MakeMunicipality
) -> None:
    make_municipality("Merchweiler", ags="10043113")
    path = invite(admin_client, mailbox)
    newcomer = app.test_client()
    # A plain form post gets 400, htmx gets 422 (so it swaps the form with its messages).
    for headers, status in (({}, 400), ({"HX-Request": "true"}, 422)):
        response = accept(newcomer, path, password="elf-Zeichen", headers=headers)
        assert response.status_code == status
        html = body(response)
        assert "Das Passwort muss mindestens 12 Zeichen lang sein." in html
        assert 'id="password-fehler"' in html and 'aria-invalid="true"' in html
        assert count(User) == 1
        assert db.session.scalar(select(AccountToken)).used_at is None
    assert newcomer.get("/kooperationen/").status_code == 302
    assert accept(newcomer, path).status_code == 302


def test_missing_name_is_refused_at_the_field(
    app: Flask, admin_client: KoopClient, mailbox: Mailbox, make_municipality: MakeMunicipality
) -> None:
    make_municipality("Merchweiler", ags="10043113")
    path = invite(admin_client, mailbox)
    response = accept(app.test_client(), path, name="   ")
    assert response.status_code == 400
    assert 'id="name-fehler"' in body(response)
    assert count(User) == 1


def test_unknown_ags_is_reported_at_the_field_and_nothing_is_written(
    admin_client: KoopClient, mailbox: Mailbox, make_municipality: MakeMunicipality
) -> None:
    make_municipality("Merchweiler", ags="10043113")
    response = admin_client.post(
        "/verwaltung/einladen", data={"ags": "12345678", "email": "x@example.org"}
    )
    assert response.status_code == 400
    html = body(response)
    assert "Zu diesem AGS gibt es keine Kommune" in html
    assert 'id="ags-fehler"' in html
    assert count(AccountToken) == 0
    assert mailbox.messages == []


def test_malformed_ags_is_reported_at_the_field(admin_client: KoopClient, mailbox: Mailbox) -> None:
    for ags in ("1004311", "1004311a", "100431130", ""):
        response = admin_client.post("/verwaltung/einladen", data={"ags": ags, "email": "x@ex.org"})
        assert response.status_code == 400, ags
        assert 'id="ags-fehler"' in body(response), ags
    assert count(AccountToken) == 0
    assert mailbox.messages == []


def test_admin_inviting_an_existing_account_gets_the_message_at_the_field(
    admin_client: KoopClient,
    mailbox: Mailbox,
    make_municipality: MakeMunicipality,
    make_user: MakeUser,
) -> None:
    town = make_municipality("Merchweiler", ags="10043113")
    make_user(town, email="schon-da@example.org")
    response = admin_client.post(
        "/verwaltung/einladen", data={"ags": "10043113", "email": "SCHON-DA@example.org"}
    )
    assert response.status_code == 400
    html = body(response)
    assert "bereits ein Konto" in html and 'id="email-fehler"' in html
    assert count(AccountToken) == 0
    assert mailbox.messages == []


def test_admin_invite_is_in_the_history_with_the_admin_as_actor(
    admin_client: KoopClient, admin: User, mailbox: Mailbox, make_municipality: MakeMunicipality
) -> None:
    town = make_municipality("Merchweiler", ags="10043113")
    invite(admin_client, mailbox, email="neu@merchweiler.de")
    rows = db.session.scalars(
        select(HistoryEntry).where(HistoryEntry.record_type == "AccountToken")
    ).all()
    fields = {r.field: r for r in rows}
    assert fields["email"].new_value == "neu@merchweiler.de"
    assert fields["municipality_id"].new_value == str(town.id)
    assert "nonce" not in fields
    assert {r.actor_id for r in rows} == {admin.id}
    assert all("Bea Betrieb" in r.actor_label for r in rows)


def test_non_admins_get_404_on_admin_pages(
    login_as: LoginAs, make_municipality: MakeMunicipality, make_user: MakeUser, mailbox: Mailbox
) -> None:
    town = make_municipality("Merchweiler", ags="10043113")
    client = login_as(make_user(town))
    data = {"ags": "10043113", "email": "x@example.org"}
    for method, path in (
        ("get", "/verwaltung/einladen"),
        ("post", "/verwaltung/einladen"),
        ("get", "/verwaltung/"),
    ):
        response = getattr(client, method)(path, data=data)
        assert response.status_code == 404, (method, path)
        assert "Verwaltung" not in body(response)
    assert count(AccountToken) == 0
    assert mailbox.messages == []


def test_anonymous_visitors_are_sent_to_login_from_admin_pages(client: KoopClient) -> None:
    response = client.get("/verwaltung/einladen")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/anmelden"


def test_admin_navigation_shows_only_for_admins(
    admin_client: KoopClient,
    app: Flask,
    login_as: LoginAs,
    make_municipality: MakeMunicipality,
    make_user: MakeUser,
) -> None:
    assert 'href="/verwaltung/einladen"' in body(admin_client.get("/kooperationen/"))
    other = app.test_client()
    from tests.conftest import login

    login(other, make_user(make_municipality()))
    assert 'href="/verwaltung/einladen"' not in body(other.get("/kooperationen/"))


def test_admin_without_municipality_is_sent_to_the_admin_invite(admin_client: KoopClient) -> None:
    response = admin_client.get("/kolleginnen-einladen")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/verwaltung/einladen"


# --- flask koop create-admin ----------------------------------------------------------------


def _create_admin(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["koop", "create-admin", *args])


def test_cli_creates_an_admin(app: Flask, client: KoopClient) -> None:
    result = _create_admin(
        app, "--email", "Chefin@Example.org", "--name", "Chefin", "--password", NEW_PASSWORD
    )
    assert result.exit_code == 0, result.output
    assert "chefin@example.org" in result.output
    user = db.session.scalar(select(User))
    assert user.email == "chefin@example.org" and user.is_admin and user.municipality_id is None
    assert user.password_hash.startswith("scrypt:")
    history = db.session.scalars(select(HistoryEntry).where(HistoryEntry.record_type == "User"))
    assert {h.actor_label for h in history} == {"CLI create-admin"}
    # The new admin can sign in and reach the admin pages.
    response = client.post(
        "/anmelden", data={"email": "chefin@example.org", "password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/verwaltung/einladen").status_code == 200


def test_cli_refuses_bad_input_and_writes_nothing(app: Flask) -> None:
    for email, name, password, message in (
        ("chefin@example.org", "Chefin", "zu-kurz", "mindestens 12 Zeichen"),
        ("keine-adresse", "Chefin", NEW_PASSWORD, "gültige E-Mail-Adresse"),
        ("chefin@example.org", "  ", NEW_PASSWORD, "Namen"),
    ):
        result = _create_admin(app, "--email", email, "--name", name, "--password", password)
        assert result.exit_code != 0, result.output
        assert message in result.output
        assert count(User) == 0
        assert count(HistoryEntry) == 0


def test_cli_refuses_an_existing_address(app: Flask, make_user: MakeUser) -> None:
    make_user(None, email="chefin@example.org", is_admin=True)
    result = _create_admin(
        app, "--email", "chefin@example.org", "--name", "Zweite", "--password", NEW_PASSWORD
    )
    assert result.exit_code != 0
    assert "bereits ein Konto" in result.output
    assert count(User) == 1
