"""Contact and join requests from the Kooperationsbörse: rules, notifications, history, costs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from koopboard.boerse.publishing import ListingData, save_listing
from koopboard.costs.books.services import CostData, book_cost
from koopboard.costs.keys.services import KeyData, default_entries, save_key
from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.models import (
    CooperationPartner,
    CostShare,
    HistoryEntry,
    JoinRequest,
    Membership,
    NotificationDelivery,
    NotificationEvent,
)
from koopboard.notifications.delivery import relay

START = date(2025, 1, 1)


@pytest.fixture()
def world(make_municipality, make_user, make_cooperation):  # noqa: ANN001, ANN201
    merchweiler = make_municipality("Merchweiler", "10043113", population=9872)
    illingen = make_municipality("Illingen", "10043112", population=16446)
    ottweiler = make_municipality("Ottweiler", "10043115", population=14363)
    lead = make_user(merchweiler, email="lead@merchweiler.example", name="Lea Lead")
    treasurer = make_user(merchweiler, email="kaemmerei@merchweiler.example")
    newcomer = make_user(ottweiler, email="hauptamt@ottweiler.example", name="Otto Neu")
    colleague = make_user(ottweiler, email="buergermeister@ottweiler.example")
    coop = make_cooperation(
        lead, [illingen], roles={treasurer: Role.TREASURER}, title="Gemeinsames Standesamt"
    )
    save_listing(
        coop,
        ListingData(
            visibility="plattform",
            summary="Wir suchen Partner.",
            seeking_partners=True,
            seeking_kreis=None,
            seeking_radius_km=None,
        ),
    )
    db.session.commit()
    return {
        "coop": coop,
        "lead": lead,
        "treasurer": treasurer,
        "newcomer": newcomer,
        "colleague": colleague,
        "ottweiler": ottweiler,
        "merchweiler": merchweiler,
        "illingen": illingen,
    }


def deliveries_to(user, event_type: str) -> list[NotificationDelivery]:  # noqa: ANN001
    return list(
        db.session.scalars(
            select(NotificationDelivery)
            .join(NotificationEvent)
            .where(
                NotificationDelivery.user_id == user.id, NotificationEvent.event_type == event_type
            )
        )
    )


def ask(client, coop_id: int, when: str = "2026-03-01"):  # noqa: ANN001, ANN201
    return client.post(
        f"/kooperationsboerse/{coop_id}/beitritt",
        data={"message": "Wir möchten mitmachen.", "intended_join_on": when},
    )


# --- contact ---------------------------------------------------------------------------------


def test_a_contact_message_reaches_the_lead_only_with_the_senders_address(
    app, client, login_as, world, mailbox
) -> None:  # noqa: ANN001
    login_as(world["newcomer"])
    response = client.post(
        f"/kooperationsboerse/{world['coop'].id}/kontakt", data={"message": "Wie teuer ist das?"}
    )
    assert response.status_code == 302
    assert len(deliveries_to(world["lead"], "directory.contact")) == 1
    assert deliveries_to(world["treasurer"], "directory.contact") == []
    relay()
    [mail] = [
        m for m in mailbox.to("lead@merchweiler.example") if "Kooperationsbörse" in m["Subject"]
    ]
    text = mailbox.text(mail)
    assert "Otto Neu (Ottweiler, hauptamt@ottweiler.example)" in text
    assert "Wie teuer ist das?" in text
    assert not [
        m for m in mailbox.messages if "Kooperationsbörse" in m["Subject"] and m is not mail
    ]
    # The sender's address is nowhere public.
    entry = client.get(f"/kooperationsboerse/{world['coop'].id}").get_data(as_text=True)
    assert "lead@merchweiler.example" not in entry


def test_contact_is_rate_limited(client, login_as, world) -> None:  # noqa: ANN001
    login_as(world["newcomer"])
    path = f"/kooperationsboerse/{world['coop'].id}/kontakt"
    for i in range(5):
        assert client.post(path, data={"message": f"Frage {i}"}).status_code == 302
    response = client.post(path, data={"message": "Noch eine"})
    assert response.status_code == 400
    assert "schon 5 Nachrichten geschrieben" in response.get_data(as_text=True)


def test_an_intern_cooperation_cannot_be_contacted(client, login_as, world) -> None:  # noqa: ANN001
    save_listing(
        world["coop"],
        ListingData(
            visibility="intern",
            summary="",
            seeking_partners=False,
            seeking_kreis=None,
            seeking_radius_km=None,
        ),
    )
    db.session.commit()
    login_as(world["newcomer"])
    assert client.get(f"/kooperationsboerse/{world['coop'].id}/kontakt").status_code == 404
    assert ask(client, world["coop"].id).status_code == 404


# --- join requests -------------------------------------------------------------------------------


def test_one_open_request_per_municipality(client, login_as, world, app) -> None:  # noqa: ANN001
    login_as(world["newcomer"])
    assert ask(client, world["coop"].id).status_code == 302
    entry = client.get(f"/kooperationsboerse/{world['coop'].id}").get_data(as_text=True)
    assert "Beitrittsanfrage von Ottweiler" in entry and "offen" in entry
    client.post("/abmelden")
    login_as(world["colleague"])
    again = ask(client, world["coop"].id)
    assert again.status_code == 400
    assert "Für Ottweiler ist bereits eine Anfrage offen." in again.get_data(as_text=True)
    # The lead hears of it (bell and mail), the treasurer does not.
    assert len(deliveries_to(world["lead"], "join_request")) == 1
    assert deliveries_to(world["treasurer"], "join_request") == []


def test_a_withdrawn_request_can_be_made_again(client, login_as, world) -> None:  # noqa: ANN001
    login_as(world["newcomer"])
    ask(client, world["coop"].id)
    request = db.session.scalar(select(JoinRequest))
    path = f"/kooperationsboerse/{world['coop'].id}/beitritt/{request.id}/zurueckziehen"
    assert client.post(path).status_code == 302
    db.session.expire_all()
    assert request.status.value == "zurueckgezogen"
    assert ask(client, world["coop"].id).status_code == 302
    assert db.session.query(JoinRequest).count() == 2


def test_a_partner_cannot_ask_and_a_closed_listing_offers_no_join(
    client, login_as, world, make_user
) -> None:  # noqa: ANN001
    partner = make_user(world["illingen"])
    login_as(partner)
    response = ask(client, world["coop"].id)
    assert "Illingen ist bereits Partner dieser Kooperation." in response.get_data(as_text=True)


def test_the_lead_accepts_and_the_requesting_municipality_hears_it(
    client, login_as, world, mailbox
) -> None:  # noqa: ANN001
    login_as(world["newcomer"])
    ask(client, world["coop"].id)
    client.post("/abmelden")
    request = db.session.scalar(select(JoinRequest))

    login_as(world["lead"])
    page = client.get(f"/kooperationen/{world['coop'].id}").get_data(as_text=True)
    assert "Beitrittsanfragen" in page and "Ottweiler" in page
    decision = f"/kooperationen/{world['coop'].id}/beitrittsanfragen/{request.id}"
    assert "Wir möchten mitmachen." in client.get(decision).get_data(as_text=True)
    response = client.post(
        decision + "/annehmen",
        data={"joined_on": "2026-03-01", "council_resolution_on": "2026-02-12"},
    )
    assert response.status_code == 302
    partner = db.session.scalar(
        select(CooperationPartner).where(
            CooperationPartner.municipality_id == world["ottweiler"].id
        )
    )
    assert (partner.joined_on, partner.council_resolution_on) == (
        date(2026, 3, 1),
        date(2026, 2, 12),
    )
    for user in (world["newcomer"], world["colleague"]):
        [delivery] = deliveries_to(user, "join_request")
        assert delivery.event.payload["step"] == "accepted"
    relay()
    [mail] = mailbox.to("buergermeister@ottweiler.example")
    assert "wurde angenommen: Beitritt am 01.03.2026" in mailbox.text(mail)
    # It tells them why they got it: their municipality asked (they have no role yet).
    assert "weil Ihre Kommune den Beitritt zu dieser Kooperation angefragt hat" in mailbox.text(
        mail
    )
    assert "eine Rolle in dieser Kooperation" not in mailbox.text(mail)
    # The newcomer has no role yet, but sees the answer in the bell list.
    client.post("/abmelden")
    login_as(world["colleague"])
    inbox = client.get("/benachrichtigungen/").get_data(as_text=True)
    assert "hat die Beitrittsanfrage von Ottweiler angenommen, Beitritt am 01.03.2026" in inbox
    # Everything is in the cooperation's history.
    steps = db.session.scalars(
        select(HistoryEntry.new_value).where(
            HistoryEntry.record_type == "JoinRequest", HistoryEntry.field == "status"
        )
    ).all()
    assert steps == ["offen", "angenommen"]


def test_declining_needs_a_reason_which_the_municipality_reads(client, login_as, world) -> None:  # noqa: ANN001
    login_as(world["newcomer"])
    ask(client, world["coop"].id)
    client.post("/abmelden")
    request = db.session.scalar(select(JoinRequest))
    login_as(world["lead"])
    path = f"/kooperationen/{world['coop'].id}/beitrittsanfragen/{request.id}/ablehnen"
    assert client.post(path, data={"reason": ""}).status_code == 400
    assert client.post(path, data={"reason": "Wir sind voll."}).status_code == 302
    client.post("/abmelden")
    login_as(world["newcomer"])
    entry = client.get(f"/kooperationsboerse/{world['coop'].id}").get_data(as_text=True)
    assert "abgelehnt" in entry and "Wir sind voll." in entry
    assert ask(client, world["coop"].id).status_code == 302  # may ask again


def test_only_the_lead_decides(client, login_as, world) -> None:  # noqa: ANN001
    login_as(world["newcomer"])
    ask(client, world["coop"].id)
    client.post("/abmelden")
    request = db.session.scalar(select(JoinRequest))
    base = f"/kooperationen/{world['coop'].id}/beitrittsanfragen/{request.id}"
    login_as(world["treasurer"])
    assert client.get(base).status_code == 403
    assert client.post(base + "/annehmen", data={"joined_on": "2026-03-01"}).status_code == 403
    client.post("/abmelden")
    login_as(world["newcomer"])
    assert client.post(base + "/annehmen", data={"joined_on": "2026-03-01"}).status_code == 404
    db.session.expire_all()
    assert request.status.value == "offen"


def test_the_new_partner_shares_costs_from_its_join_date(world) -> None:  # noqa: ANN001
    """12.345,67 € booked the day before the join: two partners; on the join date: three."""
    from koopboard.boerse import joining

    coop = world["coop"]
    request = joining.request_join(
        coop.id,
        message="Bitte",
        intended_join_on=date(2026, 3, 1),
        by=world["newcomer"],
        today=date(2026, 1, 10),
    )
    joining.accept(
        coop, request, joined_on=date(2026, 3, 1), council_resolution_on=None, by=world["lead"]
    )
    db.session.commit()
    # The population key of 2026 proposes every partner of the year with its register figure.
    entries = default_entries(coop.id, 2026)
    assert {e.municipality_id: e.population for e in entries} == {
        world["merchweiler"].id: 9872,
        world["illingen"].id: 16446,
        world["ottweiler"].id: 14363,
    }
    save_key(
        coop,
        2026,
        KeyData(kind="einwohner", entries=entries, basis_note="Ottweiler tritt bei"),
        version=None,
    )
    db.session.commit()

    def shares(booking: date) -> dict[str, Decimal]:
        cost = book_cost(
            coop,
            CostData(
                booking_date=booking,
                budget_year=2026,
                text=f"Software {booking}",
                category="Sachkosten",
                kind="kosten",
                amount=Decimal("12345.67"),
                net_amount=None,
                vat_amount=None,
                paid_by_id=None,
            ),
            by=world["treasurer"],
        )
        db.session.commit()
        rows = db.session.scalars(select(CostShare).where(CostShare.cost_id == cost.id))
        return {row.municipality.name: row.amount for row in rows}

    before = shares(date(2026, 2, 28))
    after = shares(date(2026, 3, 1))
    assert set(before) == {"Merchweiler", "Illingen"}
    assert sum(before.values()) == Decimal("12345.67")
    assert set(after) == {"Merchweiler", "Illingen", "Ottweiler"}
    assert sum(after.values()) == Decimal("12345.67")
    # 14,363 of 40,681 inhabitants: 4.358,81 € (largest remainder keeps the sum exact).
    assert after["Ottweiler"] == Decimal("4358.81")
    assert Membership.query.filter_by(cooperation_id=coop.id).count() == 2  # no role given


def test_the_key_page_asks_for_a_new_key_version_after_a_join(client, login_as, world) -> None:  # noqa: ANN001
    """A key saved before the join does not name the new partner: the key page of the open
    year says so, proposes its register population, and the Kämmerei's new version ends it."""
    from koopboard.boerse import joining
    from koopboard.costs.keys.services import key_for

    coop = world["coop"]
    save_key(
        coop,
        2026,
        KeyData(kind="einwohner", entries=default_entries(coop.id, 2026)),
        version=None,
    )
    db.session.commit()
    page = f"/kooperationen/{coop.id}/kosten/schluessel/2026"
    login_as(world["treasurer"])
    assert 'id="neue-partner"' not in client.get(page).get_data(as_text=True)

    request = joining.request_join(
        coop.id,
        message="Bitte",
        intended_join_on=date(2026, 3, 1),
        by=world["newcomer"],
        today=date(2026, 1, 10),
    )
    joining.accept(
        coop, request, joined_on=date(2026, 3, 1), council_resolution_on=None, by=world["lead"]
    )
    db.session.commit()

    body = client.get(page).get_data(as_text=True)
    assert "Neue Partnerkommune: neue Schlüsselversion nötig" in body
    assert "Ottweiler – Beitritt am 01.03.2026" in body
    assert "vorgeschlagen: 14.363 Einwohner (Stichtag 31.12.2019" in body
    assert 'href="#bearbeiten"' in body
    ottweiler = world["ottweiler"].id
    assert f'id="population_{ottweiler}" name="population_{ottweiler}"' in body
    assert 'value="14363"' in body  # the form row is prefilled from the register
    # The year before the join has no such banner (Ottweiler is not a partner in 2025).
    earlier = client.get(f"/kooperationen/{coop.id}/kosten/schluessel/2025")
    assert 'id="neue-partner"' not in earlier.get_data(as_text=True)
    # The Projektleitung (also a key editor) reads it as well.
    login_as(world["lead"])
    assert "Neue Partnerkommune" in client.get(page).get_data(as_text=True)

    login_as(world["treasurer"])
    key = key_for(coop.id, 2026)
    form = {"kind": "einwohner", "version": str(key.version), "basis_note": "Ottweiler tritt bei"}
    for mid, population in (
        (world["merchweiler"].id, "9872"),
        (world["illingen"].id, "16446"),
        (ottweiler, "14.363"),
    ):
        form |= {f"population_{mid}": population, f"stichtag_{mid}": "31.12.2019"}
    saved = client.post(page, data=form)
    assert saved.status_code == 302
    db.session.expire_all()
    assert {e.municipality_id for e in key_for(coop.id, 2026).entries} >= {ottweiler}
    assert 'id="neue-partner"' not in client.get(page).get_data(as_text=True)
