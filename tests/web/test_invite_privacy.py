"""Issue 15.5: inviting a colleague tells nobody whether an address has an account, and
invitations are rate-limited per user and per client.

The answer (status, page) is the same for a registered and a new address; the registered
person is told by e-mail instead of getting an account link. Every attempt counts against
the limits, which the cooperation invitations share.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select

from koopboard.extensions import db
from koopboard.models import AccountToken, HistoryEntry, Municipality, User
from tests.conftest import KoopClient, Mailbox
from tests.web.test_auth import body, count, path_of

MakeMunicipality = Callable[..., Municipality]
MakeUser = Callable[..., User]
LoginAs = Callable[..., KoopClient]


def main_text(html: str) -> str:
    """What a person reads in the page's main region (tags, tokens and spacing stripped)."""
    main = re.search(r"<main\b.*?</main>", html, re.S)
    assert main, html[:300]
    text = re.sub(r"<[^>]+>", " ", main.group(0))
    return " ".join(text.split())


def answer(client: KoopClient, url: str, data: dict[str, str], address: str) -> tuple:
    """Status, redirect target and the page that follows, with the address blanked out."""
    response = client.post(url, data=data)
    location = path_of(response.headers.get("Location", ""))
    page = client.get(location) if response.status_code == 302 else response
    return (
        response.status_code,
        location,
        main_text(body(page)).replace(address, "ADRESSE"),
    )


def test_a_registered_and_a_new_address_get_the_same_answer(
    app: Flask,
    login_as: LoginAs,
    mailbox: Mailbox,
    make_municipality: MakeMunicipality,
    make_user: MakeUser,
) -> None:
    town = make_municipality("Illingen")
    make_user(town, email="schon-da@example.org", name="Sabine Schon")
    inviter = make_user(town, name="Anna Einladend")
    client = login_as(inviter)

    registered = answer(
        client, "/kolleginnen-einladen", {"email": "schon-da@example.org"}, "schon-da@example.org"
    )
    new = answer(client, "/kolleginnen-einladen", {"email": "neu@example.org"}, "neu@example.org")
    assert registered == new
    assert registered[0] == 302 and "ADRESSE" in registered[2]

    # The same rows either way (so the history and the inviter's data copy agree too).
    rows = db.session.scalars(select(AccountToken).order_by(AccountToken.id)).all()
    assert [(r.purpose, r.email, r.created_by_id) for r in rows] == [
        ("invite", "schon-da@example.org", inviter.id),
        ("invite", "neu@example.org", inviter.id),
    ]
    fields = {
        email: sorted(
            e.field
            for e in db.session.scalars(
                select(HistoryEntry).where(
                    HistoryEntry.record_type == "AccountToken", HistoryEntry.record_id == row.id
                )
            )
        )
        for email, row in ((r.email, r) for r in rows)
    }
    assert fields["schon-da@example.org"] == fields["neu@example.org"]

    # The new address gets its link; the registered one is told how to sign in instead.
    (invitation,) = mailbox.to("neu@example.org")
    assert any("/einladung/" in link for link in Mailbox.links(invitation))
    (notice,) = mailbox.to("schon-da@example.org")
    text = Mailbox.text(notice)
    assert "bereits ein Konto" in text
    assert "Anna Einladend (Illingen) wollte Sie zu KoopBoard einladen" in text
    assert not any("/einladung/" in link for link in Mailbox.links(notice))
    assert "http://localhost/anmelden" in Mailbox.links(notice)
    assert count(User) == 2  # nobody was created by the invitations themselves


def test_an_observer_learns_nothing_either(
    login_as: LoginAs,
    mailbox: Mailbox,
    make_municipality: MakeMunicipality,
    make_user: MakeUser,
    make_cooperation: Callable[..., object],
) -> None:
    """The report: any signed-in user, even one who only observes a cooperation."""
    from koopboard.domain.catalog import Role

    town = make_municipality()
    lead = make_user(town)
    observer = make_user(make_municipality(), name="Olga Observa")
    make_cooperation(lead, roles={observer: Role.OBSERVER})
    client = login_as(make_user(observer.municipality))
    registered = answer(client, "/kolleginnen-einladen", {"email": lead.email}, lead.email)
    new = answer(client, "/kolleginnen-einladen", {"email": "x@example.org"}, "x@example.org")
    assert registered == new


def test_the_invite_form_answers_429_after_the_limit_per_user(
    app: Flask,
    login_as: LoginAs,
    mailbox: Mailbox,
    make_municipality: MakeMunicipality,
    make_user: MakeUser,
) -> None:
    assert app.config["INVITE_RATE_LIMIT_USER"] == "20 per hour"
    client = login_as(make_user(make_municipality()))
    statuses = [
        client.post("/kolleginnen-einladen", data={"email": f"probe{i}@example.org"}).status_code
        for i in range(30)
    ]
    assert statuses == [302] * 20 + [429] * 10
    assert "Zu viele Versuche" in body(
        client.post("/kolleginnen-einladen", data={"email": "noch-eine@example.org"})
    )
    assert count(AccountToken) == 20
    # Invalid attempts count too: probing with garbage is no way around the limit.
    app.config["INVITE_RATE_LIMIT_USER"] = "2 per hour"
    other = login_as(make_user(make_municipality()))
    bad = [other.post("/kolleginnen-einladen", data={"email": "kaputt"}).status_code for _ in "ab"]
    assert bad == [400, 400]
    assert other.post("/kolleginnen-einladen", data={"email": "ok@example.org"}).status_code == 429


def test_the_limit_per_client_holds_across_accounts(
    app: Flask, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    from tests.conftest import login

    app.config.update(INVITE_RATE_LIMIT_USER="100 per hour", INVITE_RATE_LIMIT_CLIENT="3 per hour")
    town = make_municipality()

    def browser(address: str) -> KoopClient:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        assert login(client, make_user(town)).status_code == 302
        return client

    first, second = browser("203.0.113.30"), browser("203.0.113.30")
    elsewhere = browser("198.51.100.30")
    post = lambda c, n: c.post("/kolleginnen-einladen", data={"email": f"p{n}@example.org"})  # noqa: E731
    assert [post(first, n).status_code for n in range(2)] == [302, 302]
    assert post(second, 2).status_code == 302
    assert post(second, 3).status_code == 429  # another account, the same client
    assert post(elsewhere, 4).status_code == 302
