"""Issue 17.1: the Projektleitung invites a person of any partner municipality into the
cooperation with a role.

An account holder accepts the offer after signing in; a new address creates its account in
the partner municipality through the mailed link, confirming the municipality, whose users
are told. The answer to the inviter is the same in both cases; pending invitations are
listed on the roles page and can be withdrawn; everything is in the history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from koopboard.domain.catalog import Role
from koopboard.domain.notifications import EventType
from koopboard.extensions import db
from koopboard.models import (
    AccountToken,
    CooperationInvitation,
    HistoryEntry,
    Membership,
    NotificationDelivery,
    NotificationEvent,
    User,
)
from koopboard.notifications.delivery import relay
from tests.conftest import PASSWORD, KoopClient, Mailbox, login
from tests.mailhelpers import page_link
from tests.mailhelpers import text as mail_text
from tests.web.test_auth import NEW_PASSWORD, body, path_of
from tests.web.test_invite_privacy import main_text


@dataclass
class World:
    coop: Any
    lead: User
    treasurer: User
    member: User
    illingen_user: User  # has an account, no role yet
    outsider: User  # of a municipality that is no partner
    m: dict[str, Any]

    @property
    def roles_url(self) -> str:
        return f"/kooperationen/{self.coop.id}/rollen"

    @property
    def invite_url(self) -> str:
        return f"/kooperationen/{self.coop.id}/einladungen/neu"


@pytest.fixture()
def world(make_municipality, make_user, make_cooperation) -> World:  # noqa: ANN001
    m = {
        "merchweiler": make_municipality("Merchweiler", ags="10043113"),
        "illingen": make_municipality("Illingen", ags="10043112"),
        "eppelborn": make_municipality("Eppelborn", ags="10043111"),
        "dillingen": make_municipality("Dillingen", ags="10044111"),
    }
    lead = make_user(m["merchweiler"], email="lea@merchweiler.example", name="Lea Leitung")
    treasurer = make_user(m["merchweiler"], email="kim@merchweiler.example", name="Kim Kasse")
    member = make_user(m["eppelborn"], email="emil@eppelborn.example", name="Emil Eppel")
    illingen_user = make_user(m["illingen"], email="ilse@illingen.example", name="Ilse Illinger")
    outsider = make_user(m["dillingen"], email="dora@dillingen.example", name="Dora Dilling")
    coop = make_cooperation(
        lead,
        [m["illingen"], m["eppelborn"]],
        roles={treasurer: Role.TREASURER, member: Role.MEMBER},
        title="Gemeinsames Standesamt",
        start=date(2025, 1, 1),
    )
    return World(coop, lead, treasurer, member, illingen_user, outsider, m)


def signed_in(app: Flask, user: User | str, address: str | None = None) -> KoopClient:
    client = app.test_client()
    if address:
        client.environ_base["REMOTE_ADDR"] = address
    response = login(client, user)
    assert response.status_code == 302, body(response)[:300]
    return client


def invite(
    client: KoopClient, world: World, email: str, role: str = "treasurer", town: str = "illingen"
):  # noqa: ANN201, E501
    return client.post(
        world.invite_url,
        data={"municipality_id": str(world.m[town].id), "email": email, "role": role},
    )


def link_of(mailbox: Mailbox, address: str) -> str:
    (mail,) = mailbox.to(address)
    links = [path_of(link) for link in Mailbox.links(mail)]
    assert len(links) == 1, links
    assert links[0].startswith("/einladung-kooperation/")
    return links[0]


def new_account(client: KoopClient, path: str, **extra: str):  # noqa: ANN201
    data = {
        "name": "Nina Neu",
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
        "confirm": "y",
    }
    data.update(extra)
    return client.post(path, data={k: v for k, v in data.items() if v is not None})


def invitation() -> CooperationInvitation:
    db.session.expire_all()
    return db.session.scalar(
        select(CooperationInvitation).order_by(CooperationInvitation.id.desc())
    )


def role_of(user_or_email: User | str, coop_id: int) -> Role | None:
    db.session.expire_all()
    email = user_or_email if isinstance(user_or_email, str) else user_or_email.email
    return db.session.scalar(
        select(Membership.role)
        .join(User, User.id == Membership.user_id)
        .where(User.email == email, Membership.cooperation_id == coop_id)
    )


# --- a new address ----------------------------------------------------------------------------


def test_a_new_address_creates_its_account_in_the_partner_municipality_and_lands_on_the_cooperation(  # noqa: E501
    app: Flask, world: World, mailbox: Mailbox
) -> None:
    lead = signed_in(app, world.lead)
    # The address need not match the municipality's domain.
    response = invite(lead, world, "Nina.Neu@Posteo.example")
    assert response.status_code == 302
    assert path_of(response.headers["Location"]) == world.roles_url
    roles = main_text(body(lead.get(world.roles_url)))
    assert "Die Einladung an nina.neu@posteo.example als Kämmerei ist unterwegs." in roles
    assert "Offene Einladungen" in roles
    assert "nina.neu@posteo.example Illingen Kämmerei Lea Leitung" in roles

    (mail,) = mailbox.to("nina.neu@posteo.example")
    assert "„Gemeinsames Standesamt“" in mail["Subject"] and "Kämmerei" in mail["Subject"]
    text = mail_text(mail)
    assert "Lea Leitung (Merchweiler) lädt Sie in die Kooperation „Gemeinsames Standesamt“" in text
    assert "Ihre Rolle: Kämmerei, als Person der Kommune Illingen." in text
    path = link_of(mailbox, "nina.neu@posteo.example")

    newcomer = app.test_client()
    page = newcomer.get(path)
    assert page.status_code == 200
    page_text = main_text(body(page))
    assert "Ich bin bei der Kommune Illingen beschäftigt." in page_text
    assert "Lea Leitung (Merchweiler)" in page_text

    # Without confirming the municipality there is no account.
    refused = new_account(newcomer, path, confirm=None)
    assert refused.status_code == 400
    assert "Bitte bestätigen Sie Ihre Kommune." in body(refused)
    assert (
        db.session.scalar(select(func.count()).where(User.email == "nina.neu@posteo.example")) == 0
    )

    mailbox.clear()
    accepted = new_account(newcomer, path)
    assert accepted.status_code == 302
    assert path_of(accepted.headers["Location"]) == f"/kooperationen/{world.coop.id}"
    landing = newcomer.get(accepted.headers["Location"])
    assert landing.status_code == 200
    assert "Gemeinsames Standesamt" in body(landing)
    assert "Sie haben in „Gemeinsames Standesamt“ die Rolle Kämmerei." in main_text(body(landing))

    nina = db.session.scalar(select(User).where(User.email == "nina.neu@posteo.example"))
    assert nina.municipality_id == world.m["illingen"].id and nina.name == "Nina Neu"
    assert role_of(nina, world.coop.id) is Role.TREASURER
    assert "Keine offenen Einladungen." in main_text(body(lead.get(world.roles_url)))

    # Illingen's existing users are told (through the outbox), the lead hears of the role.
    relay()
    (told,) = mailbox.to("ilse@illingen.example")
    told_text = mail_text(told)
    assert (
        "Nina Neu (nina.neu@posteo.example) hat auf Einladung von Lea Leitung ein Konto"
        in told_text
    )
    assert "für Ihre Kommune Illingen angelegt" in told_text
    assert "weil Sie KoopBoard für dieselbe Kommune nutzen" in told_text
    assert any("Rolle" in m["Subject"] for m in mailbox.to("lea@merchweiler.example"))
    assert mailbox.to("nina.neu@posteo.example") == []  # the actor is not told of her own step

    # The link works once, and only for what it was made for.
    again = app.test_client().get(path)
    assert again.status_code == 400 and "bereits" in body(again)
    token = path.rsplit("/", 1)[1]
    for other in (f"/einladung/{token}", f"/passwort-zuruecksetzen/{token}"):
        assert app.test_client().get(other).status_code == 400, other


def test_the_inviter_reads_that_the_person_accepted_the_invitation(
    app: Flask, world: World, mailbox: Mailbox
) -> None:
    lead = signed_in(app, world.lead)
    invite(lead, world, "nina@illingen.example")
    assert (
        new_account(app.test_client(), link_of(mailbox, "nina@illingen.example")).status_code == 302
    )
    relay()
    (told,) = [m for m in mailbox.to("lea@merchweiler.example") if "Rolle" in m["Subject"]]
    assert (
        "Nina Neu hat die Einladung angenommen und hat in der Kooperation jetzt die Rolle "
        "„Kämmerei“." in " ".join(mail_text(told).split())
    )
    feed = main_text(body(lead.get("/benachrichtigungen/")))
    assert (
        "Nina Neu (Illingen) hat die Einladung angenommen und hat jetzt die Rolle „Kämmerei“"
        in feed
    )
    assert "hat Nina Neu die Rolle" not in feed  # she is not her own grantor
    with lead.session_transaction() as session:
        session["locale"] = "en"
    english = main_text(body(lead.get("/benachrichtigungen/")))
    assert "Nina Neu (Illingen) accepted the invitation and now has the role “Treasury”" in english


def test_a_wrong_password_or_name_keeps_the_link(
    app: Flask, world: World, mailbox: Mailbox
) -> None:
    invite(signed_in(app, world.lead), world, "neu@example.org")
    path = link_of(mailbox, "neu@example.org")
    newcomer = app.test_client()
    short = new_account(newcomer, path, password="kurz", password_confirm="kurz")
    assert short.status_code == 400 and "mindestens 12 Zeichen" in body(short)
    assert new_account(newcomer, path).status_code == 302


def test_the_new_person_may_decline_without_an_account(
    app: Flask, world: World, mailbox: Mailbox
) -> None:
    lead = signed_in(app, world.lead)
    invite(lead, world, "falsch@example.org")
    path = link_of(mailbox, "falsch@example.org")
    response = app.test_client().post(path + "/ablehnen")
    assert response.status_code == 302
    assert invitation().status.value == "abgelehnt"
    assert "Keine offenen Einladungen." in main_text(body(lead.get(world.roles_url)))
    gone = app.test_client().get(path)
    assert gone.status_code == 400 and "abgelehnt" in body(gone)
    assert db.session.scalar(select(func.count()).where(User.email == "falsch@example.org")) == 0


def test_a_decline_tells_the_inviter_the_same_with_or_without_an_account(
    app: Flask, world: World, mailbox: Mailbox
) -> None:
    lead = signed_in(app, world.lead)
    invite(lead, world, "falsch@example.org")
    app.test_client().post(link_of(mailbox, "falsch@example.org") + "/ablehnen")
    invite(lead, world, world.illingen_user.email, role="member")
    ilse = signed_in(app, world.illingen_user)
    assert ilse.post(f"/einladungen/{invitation().id}/ablehnen").status_code == 302
    mailbox.clear()
    relay()
    told = [
        " ".join(mail_text(m).split())
        for m in mailbox.to("lea@merchweiler.example")
        if "Einladung abgelehnt" in m["Subject"]
    ]
    assert len(told) == 2
    assert (
        "Die Einladung an falsch@example.org als „Kämmerei“ für die Kommune Illingen wurde "
        "abgelehnt." in told[0] + told[1]
    )
    feed = main_text(body(lead.get("/benachrichtigungen/")))
    assert "Die Einladung an ilse@illingen.example als „Mitglied“ für die Kommune Illingen" in feed
    assert "Ilse Illinger" not in feed  # a decline names the address, never an account
    events = db.session.scalars(
        select(NotificationEvent).where(
            NotificationEvent.event_type == EventType.INVITATION_DECLINED.value
        )
    ).all()
    assert [e.actor_id for e in events] == [None, None]
    assert (
        sorted(e.payload.keys() for e in events)[0] == sorted(e.payload.keys() for e in events)[1]
    )


def test_a_withdrawal_tells_the_account_holder_and_mails_an_address_without_account(
    app: Flask, world: World, mailbox: Mailbox
) -> None:
    lead = signed_in(app, world.lead)
    invite(lead, world, world.illingen_user.email, role="member")
    holder_invitation = invitation()
    invite(lead, world, "neu@example.org", role="observer")
    new_invitation = invitation()
    relay()
    mailbox.clear()
    for inv in (holder_invitation, new_invitation):
        response = lead.post(f"/kooperationen/{world.coop.id}/einladungen/{inv.id}/zurueckziehen")
        assert response.status_code == 302
    # The address without an account: a mail that the invitation is gone, nothing more.
    (gone,) = mailbox.to("neu@example.org")
    assert "zurückgezogen" in gone["Subject"] and "Gemeinsames Standesamt" in gone["Subject"]
    gone_text = " ".join(mail_text(gone).split())
    assert (
        "Lea Leitung hat die Einladung in die Kooperation „Gemeinsames Standesamt“ in "
        "KoopBoard (als Beobachtung für die Kommune Illingen) zurückgezogen." in gone_text
    )
    assert Mailbox.links(gone) == [] and "Konto" not in gone_text
    # The account holder: the feed and (Partner und Rollen reach an invitee at once) a mail.
    relay()
    (told,) = mailbox.to(world.illingen_user.email)
    assert "Einladung zurückgezogen" in told["Subject"]
    assert "hat die Einladung in die Kooperation als „Mitglied“ für die Kommune Illingen" in (
        " ".join(mail_text(told).split())
    )
    ilse = signed_in(app, world.illingen_user)
    feed = main_text(body(ilse.get("/benachrichtigungen/")))
    assert (
        "Lea Leitung (Merchweiler) hat die Einladung als „Mitglied“ für die Kommune Illingen "
        "zurückgezogen" in feed
    )
    assert "zurückgezogen" in main_text(body(ilse.get(f"/einladungen/{holder_invitation.id}")))
    # Both steps are in the history, by the Projektleitung.
    entries = db.session.scalars(
        select(HistoryEntry).where(
            HistoryEntry.record_type == "CooperationInvitation",
            HistoryEntry.field == "status",
            HistoryEntry.new_value == "zurueckgezogen",
        )
    ).all()
    assert {e.record_id for e in entries} == {holder_invitation.id, new_invitation.id}
    assert {e.actor_id for e in entries} == {world.lead.id}


# --- an account holder --------------------------------------------------------------------------


def test_an_account_holder_accepts_the_offer_after_signing_in(
    app: Flask, world: World, mailbox: Mailbox
) -> None:
    invite(signed_in(app, world.lead), world, "ILSE@illingen.example", role="member")
    assert mailbox.to("ilse@illingen.example") == []  # no account link for an account
    relay()
    (offer,) = mailbox.to("ilse@illingen.example")
    text = mail_text(offer)
    assert "Lea Leitung (Merchweiler) lädt Sie in die Kooperation ein, als „Mitglied“" in text
    assert "weil Sie in diese Kooperation eingeladen wurden" in text
    page = path_of(page_link(offer))
    assert page == f"/einladungen/{invitation().id}"

    # Anonymous: to the login; another account: 403; the invited account: the offer.
    anonymous = app.test_client().get(page)
    assert anonymous.status_code == 302 and "/anmelden" in anonymous.headers["Location"]
    assert signed_in(app, world.member).get(page).status_code == 403
    assert signed_in(app, world.member).post(page + "/annehmen").status_code == 403
    assert role_of(world.member, world.coop.id) is Role.MEMBER  # unchanged

    ilse = signed_in(app, world.illingen_user)
    mine = main_text(body(ilse.get("/kooperationen/")))
    assert "Einladungen an Sie" in mine and "„Gemeinsames Standesamt“ als Mitglied" in mine
    shown = main_text(body(ilse.get(page)))
    assert "Lea Leitung (Merchweiler)" in shown and "Mitglied" in shown
    accepted = ilse.post(page + "/annehmen")
    assert accepted.status_code == 302
    assert path_of(accepted.headers["Location"]) == f"/kooperationen/{world.coop.id}"
    assert "Gemeinsames Standesamt" in body(ilse.get(accepted.headers["Location"]))
    assert role_of(world.illingen_user, world.coop.id) is Role.MEMBER
    assert invitation().status.value == "angenommen"
    assert invitation().decided_by_id == world.illingen_user.id
    # Answered once only.
    assert ilse.post(page + "/annehmen").status_code == 302
    assert "bereits angenommen" in main_text(body(ilse.get(page)))


def test_an_account_of_a_municipality_that_is_no_partner_cannot_take_the_role(
    app: Flask, world: World, mailbox: Mailbox
) -> None:
    invite(signed_in(app, world.lead), world, world.outsider.email)
    dora = signed_in(app, world.outsider)
    page = f"/einladungen/{invitation().id}"
    assert "nicht (mehr) Partner" in main_text(body(dora.get(page)))
    dora.post(page + "/annehmen")
    assert role_of(world.outsider, world.coop.id) is None
    assert dora.post(page + "/ablehnen").status_code == 302
    assert invitation().status.value == "abgelehnt"


def test_an_account_that_got_created_meanwhile_finds_the_offer_behind_the_link(
    app: Flask, world: World, mailbox: Mailbox, make_user
) -> None:  # noqa: ANN001
    invite(signed_in(app, world.lead), world, "spaet@illingen.example")
    path = link_of(mailbox, "spaet@illingen.example")
    make_user(world.m["illingen"], email="spaet@illingen.example")
    response = app.test_client().get(path)
    assert response.status_code == 302
    assert path_of(response.headers["Location"]) == f"/einladungen/{invitation().id}"


# --- the same answer ----------------------------------------------------------------------------


def test_the_inviter_gets_the_same_answer_for_an_account_and_a_new_address(
    app: Flask, world: World, mailbox: Mailbox, make_cooperation
) -> None:  # noqa: ANN001
    twin = make_cooperation(
        world.lead,
        [world.m["illingen"], world.m["eppelborn"]],
        roles={world.treasurer: Role.TREASURER, world.member: Role.MEMBER},
        title="Gemeinsames Standesamt",
        start=date(2025, 1, 1),
    )
    lead = signed_in(app, world.lead)
    answers = []
    for coop_id, address in (
        (world.coop.id, "ilse@illingen.example"),
        (twin.id, "neu@illingen.example"),
    ):
        response = lead.post(
            f"/kooperationen/{coop_id}/einladungen/neu",
            data={
                "municipality_id": str(world.m["illingen"].id),
                "email": address,
                "role": "treasurer",
            },
        )
        location = path_of(response.headers["Location"]).replace(str(coop_id), "ID")
        page = main_text(body(lead.get(response.headers["Location"]))).replace(address, "ADRESSE")
        answers.append((response.status_code, location, page))
    assert answers[0] == answers[1]
    assert (
        answers[0][0] == 302
        and "Die Einladung an ADRESSE als Kämmerei ist unterwegs." in answers[0][2]
    )

    # The rows and the history read the same, too (only the address differs).
    first, second = db.session.scalars(
        select(CooperationInvitation).order_by(CooperationInvitation.id)
    ).all()

    def written(inv: CooperationInvitation) -> list[tuple[str | None, str | None]]:
        entries = db.session.scalars(
            select(HistoryEntry)
            .where(
                HistoryEntry.record_type == "CooperationInvitation",
                HistoryEntry.record_id == inv.id,
            )
            .order_by(HistoryEntry.field)
        )
        return [
            (
                e.field,
                e.new_value if e.field not in ("email", "expires_at", "cooperation_id") else None,
            )
            for e in entries
        ]

    assert written(first) == written(second)
    tokens = db.session.scalars(select(AccountToken).order_by(AccountToken.id)).all()
    assert [t.purpose for t in tokens] == ["coop", "coop"]
    assert first.account_token_id and second.account_token_id


# --- the Projektleitung's list ------------------------------------------------------------------


def test_pending_invitations_can_be_withdrawn_and_their_link_dies(
    app: Flask, world: World, mailbox: Mailbox
) -> None:
    lead = signed_in(app, world.lead)
    invite(lead, world, "neu@example.org", role="observer")
    path = link_of(mailbox, "neu@example.org")
    inv = invitation()
    response = lead.post(f"/kooperationen/{world.coop.id}/einladungen/{inv.id}/zurueckziehen")
    assert response.status_code == 302
    page = main_text(body(lead.get(world.roles_url)))
    assert "Die Einladung an neu@example.org ist zurückgezogen." in page
    assert "Keine offenen Einladungen." in page
    dead = app.test_client().get(path)
    assert dead.status_code == 400 and "zurückgezogen" in body(dead)
    assert new_account(app.test_client(), path).status_code == 400
    assert invitation().status.value == "zurueckgezogen"
    assert invitation().decided_by_id == world.lead.id
    # Withdrawing twice changes nothing more.
    lead.post(f"/kooperationen/{world.coop.id}/einladungen/{inv.id}/zurueckziehen")
    assert "nicht mehr offen" in main_text(body(lead.get(world.roles_url)))


def test_a_newer_invitation_replaces_the_open_one(
    app: Flask, world: World, mailbox: Mailbox
) -> None:
    lead = signed_in(app, world.lead)
    invite(lead, world, "neu@example.org", role="observer")
    older = link_of(mailbox, "neu@example.org")
    mailbox.clear()
    invite(lead, world, "neu@example.org", role="member")
    newer = link_of(mailbox, "neu@example.org")
    gone = app.test_client().get(older)
    assert gone.status_code == 400 and "neuere Einladung" in body(gone)
    assert new_account(app.test_client(), newer).status_code == 302
    assert role_of("neu@example.org", world.coop.id) is Role.MEMBER
    statuses = db.session.scalars(
        select(CooperationInvitation.status).order_by(CooperationInvitation.id)
    ).all()
    assert [s.value for s in statuses] == ["ersetzt", "angenommen"]


def test_a_further_projektleitung_must_belong_to_the_lead_municipality(
    app: Flask, world: World, mailbox: Mailbox
) -> None:
    lead = signed_in(app, world.lead)
    refused = invite(lead, world, "chefin@illingen.example", role="lead")
    assert refused.status_code == 400
    assert "federführenden Kommune Merchweiler" in body(refused)
    assert 'id="einladung-rolle-fehler"' in body(refused)
    assert db.session.scalar(select(func.count()).select_from(CooperationInvitation)) == 0
    assert mailbox.messages == []

    assert (
        invite(lead, world, "vize@merchweiler.example", role="lead", town="merchweiler").status_code
        == 302
    )
    path = link_of(mailbox, "vize@merchweiler.example")
    assert new_account(app.test_client(), path).status_code == 302
    assert role_of("vize@merchweiler.example", world.coop.id) is Role.LEAD


def test_the_role_form_keeps_the_projektleitung_to_the_lead_municipality_too(
    app: Flask, world: World
) -> None:
    lead = signed_in(app, world.lead)
    response = lead.post(
        world.roles_url, data={"user_id": str(world.illingen_user.id), "role": "lead"}
    )
    assert response.status_code == 400
    assert "federführenden Kommune Merchweiler" in body(response)
    assert role_of(world.illingen_user, world.coop.id) is None


def test_bad_input_answers_at_the_field(app: Flask, world: World, mailbox: Mailbox) -> None:
    lead = signed_in(app, world.lead)
    for data, field, message in (
        ({"email": "keine-adresse"}, "einladung-email", "gültige E-Mail-Adresse"),
        ({"municipality_id": str(world.m["dillingen"].id)}, "einladung-kommune", "Liste"),
        ({"role": "chef"}, "einladung-rolle", "Liste"),
        ({"email": world.lead.email}, "einladung-email", "nicht selbst einladen"),
    ):
        posted = {
            "municipality_id": str(world.m["illingen"].id),
            "email": "x@example.org",
            "role": "member",
        }
        posted.update(data)
        response = lead.post(world.invite_url, data=posted)
        assert response.status_code == 400, data
        assert f'id="{field}-fehler"' in body(response), data
        assert message in body(response), data
    htmx = lead.post(world.invite_url, data={"email": ""}, headers={"HX-Request": "true"})
    assert htmx.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(CooperationInvitation)) == 0
    assert mailbox.messages == []


# --- who may ------------------------------------------------------------------------------------


def test_only_the_projektleitung_invites_and_withdraws(
    app: Flask, world: World, mailbox: Mailbox
) -> None:
    invite(signed_in(app, world.lead), world, "neu@example.org")
    inv_id = invitation().id
    withdraw = f"/kooperationen/{world.coop.id}/einladungen/{inv_id}/zurueckziehen"
    for user, status in (
        (world.treasurer, 403),
        (world.member, 403),
        (world.illingen_user, 404),
        (world.outsider, 404),
    ):
        client = signed_in(app, user)
        assert client.get(world.invite_url).status_code == status, user.name
        assert invite(client, world, "andere@example.org").status_code == status, user.name
        assert client.post(withdraw).status_code == status, user.name
    assert db.session.scalar(select(func.count()).select_from(CooperationInvitation)) == 1
    assert invitation().status.value == "offen"
    # Without the CSRF token nothing happens either.
    lead = signed_in(app, world.lead)
    assert lead.post(withdraw, csrf=False).status_code == 400
    no_token = lead.post(
        world.invite_url,
        csrf=False,
        data={
            "municipality_id": str(world.m["illingen"].id),
            "email": "y@example.org",
            "role": "member",
        },
    )
    assert no_token.status_code == 400
    assert invitation().status.value == "offen"


def test_invitations_are_rate_limited_with_the_colleague_invitations(
    app: Flask, world: World, mailbox: Mailbox
) -> None:
    app.config["INVITE_RATE_LIMIT_USER"] = "5 per hour"
    lead = signed_in(app, world.lead)
    assert (
        lead.post("/kolleginnen-einladen", data={"email": "kollege@example.org"}).status_code == 302
    )
    statuses = [invite(lead, world, f"probe{i}@example.org").status_code for i in range(6)]
    assert statuses == [302] * 4 + [429] * 2


# --- history ------------------------------------------------------------------------------------


def test_every_step_is_in_the_cooperation_history(
    app: Flask, world: World, mailbox: Mailbox
) -> None:
    lead = signed_in(app, world.lead)
    invite(lead, world, "neu@example.org")
    new_account(app.test_client(), link_of(mailbox, "neu@example.org"))
    invite(lead, world, "zweite@example.org", role="observer")
    lead.post(f"/kooperationen/{world.coop.id}/einladungen/{invitation().id}/zurueckziehen")

    history = main_text(
        body(signed_in(app, world.member).get(f"/kooperationen/{world.coop.id}/verlauf"))
    )
    assert "Einladung an neu@example.org (Kämmerei)" in history
    assert "Einladung an zweite@example.org (Beobachtung)" in history
    assert "zurückgezogen" in history and "angenommen" in history
    entries = db.session.scalars(
        select(HistoryEntry).where(HistoryEntry.record_type == "CooperationInvitation")
    ).all()
    created = {e.field: e for e in entries if e.action == "create" and "neu@" in e.record_label}
    assert created["email"].new_value == "neu@example.org"
    assert created["role"].new_value == "treasurer"
    assert created["status"].new_value == "offen"
    assert created["municipality_id"].new_value == str(world.m["illingen"].id)
    assert created["email"].actor_id == world.lead.id
    assert "account_token_id" not in {e.field for e in entries}
    accepted = [e for e in entries if e.field == "status" and e.new_value == "angenommen"]
    assert accepted and "Nina Neu <neu@example.org> (Einladungslink)" in accepted[0].actor_label
    membership = db.session.scalar(
        select(HistoryEntry).where(
            HistoryEntry.record_type == "Membership",
            HistoryEntry.action == "create",
            HistoryEntry.record_label.contains("Nina Neu"),
        )
    )
    assert membership is not None


def test_a_decline_reads_the_same_in_the_history_with_or_without_an_account(
    app: Flask, world: World, mailbox: Mailbox
) -> None:
    lead = signed_in(app, world.lead)
    invite(lead, world, world.illingen_user.email)
    signed_in(app, world.illingen_user).post(f"/einladungen/{invitation().id}/ablehnen")
    invite(lead, world, "neu@example.org")
    app.test_client().post(link_of(mailbox, "neu@example.org") + "/ablehnen")
    declines = db.session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.record_type == "CooperationInvitation", HistoryEntry.action == "update")
        .order_by(HistoryEntry.id)
    ).all()
    shape = [
        (
            e.field,
            e.new_value if e.field == "status" else None,
            e.actor_id,
            e.actor_label.split(" ", 1)[1],
        )
        for e in declines
    ]
    half = len(shape) // 2
    assert shape[:half] == shape[half:]
    assert all(e.actor_id is None for e in declines)


def test_the_offer_is_in_the_bell_without_a_role(app: Flask, world: World) -> None:
    invite(signed_in(app, world.lead), world, world.illingen_user.email)
    deliveries = db.session.scalars(
        select(NotificationDelivery)
        .join(NotificationEvent)
        .where(NotificationEvent.event_type == EventType.INVITATION_OFFERED.value)
    ).all()
    assert [d.user_id for d in deliveries] == [world.illingen_user.id]
    listing = main_text(body(signed_in(app, world.illingen_user).get("/benachrichtigungen/")))
    assert "Einladung in eine Kooperation" in listing
    assert "Lea Leitung (Merchweiler) hat Sie als „" in listing  # the feed names who
    assert "für die Kommune Illingen in die Kooperation eingeladen" in listing


def test_an_expired_invitation_is_refused(app: Flask, world: World, mailbox: Mailbox) -> None:
    invite(signed_in(app, world.lead), world, "neu@example.org")
    path = link_of(mailbox, "neu@example.org")
    inv = invitation()
    token = db.session.get(AccountToken, inv.account_token_id)
    past = inv.created_at - timedelta(days=1)
    inv.expires_at = token.expires_at = past
    db.session.commit()
    response = app.test_client().get(path)
    assert response.status_code == 400 and "abgelaufen" in body(response)
    assert "abgelaufen am" in main_text(body(signed_in(app, world.lead).get(world.roles_url)))
    assert re.search(r"PASSWORD|scrypt", body(response)) is None
    assert PASSWORD not in body(response)
