"""Four-eyes with a single treasurer: the lead may approve if the cooperation allows it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.models import Cooperation, Cost, HistoryEntry
from koopboard.models.cost import CostState

YEAR = 2026


@pytest.fixture()
def small(make_municipality, make_user, make_cooperation):  # noqa: ANN001, ANN201
    """Two partners, one treasurer, a lead and a member."""
    lead_town = make_municipality("Merchweiler", "10043113", population=9872)
    partner = make_municipality("Illingen", "10043112", population=16122)
    lead = make_user(lead_town)
    treasurer = make_user(lead_town)
    member = make_user(partner)
    coop = make_cooperation(lead, [partner], roles={treasurer: Role.TREASURER, member: Role.MEMBER})
    return {"coop": coop, "lead": lead, "treasurer": treasurer, "member": member}


@pytest.fixture()
def sign_in(client, login_as):  # noqa: ANN001, ANN201
    """Sign out whoever is signed in, then sign in as the given user."""

    def do(user):  # noqa: ANN001, ANN202
        client.post("/abmelden")
        return login_as(user)

    return do


def _submitted(client, coop_id: int) -> Cost:  # noqa: ANN001
    base = f"/kooperationen/{coop_id}/kosten"
    response = client.post(
        f"{base}/neu",
        data={
            "booking_date": f"15.03.{YEAR}",
            "budget_year": str(YEAR),
            "text": "Wartungsvertrag",
            "category": "IT",
            "kind": "kosten",
            "amount": "1.000,01",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    cost = db.session.scalar(select(Cost).order_by(Cost.id.desc()))
    response = client.post(f"{base}/{cost.id}/einreichen", data={"version": cost.version})
    assert response.status_code == 302
    db.session.refresh(cost)
    assert cost.state is CostState.EINGEREICHT
    return cost


def _allow(client, coop: Cooperation, allow: bool) -> None:  # noqa: ANN001
    data = {
        "title": coop.title,
        "goals": "",
        "handlungsfeld": coop.handlungsfeld.value,
        "rechtsform": coop.rechtsform.value,
        "status": coop.status.value,
        "start_date": coop.start_date.strftime("%d.%m.%Y"),
        "version": str(coop.version),
    }
    if allow:
        data["lead_may_approve"] = "y"
    response = client.post(f"/kooperationen/{coop.id}/bearbeiten", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def test_lead_cannot_approve_without_the_option(small, sign_in) -> None:  # noqa: ANN001
    cost = _submitted(sign_in(small["treasurer"]), small["coop"].id)
    lead = sign_in(small["lead"])
    page = lead.get(f"/kooperationen/{small['coop'].id}/kosten/{cost.id}").get_data(as_text=True)
    assert ">Freigeben</button>" not in page and "/freigeben" not in page
    url = f"/kooperationen/{small['coop'].id}/kosten/{cost.id}/freigeben"
    assert lead.post(url, data={"version": cost.version}).status_code == 403
    db.session.refresh(cost)
    assert cost.state is CostState.EINGEREICHT


def test_lead_approves_when_allowed_and_one_treasurer(small, sign_in) -> None:  # noqa: ANN001
    coop = small["coop"]
    lead = sign_in(small["lead"])
    _allow(lead, coop, True)
    db.session.refresh(coop)
    assert coop.lead_may_approve is True
    option = db.session.scalar(
        select(HistoryEntry).where(
            HistoryEntry.cooperation_id == coop.id,
            HistoryEntry.field == "lead_may_approve",
            HistoryEntry.action == "update",
        )
    )
    assert option is not None and option.new_value == "true"
    history = lead.get(f"/kooperationen/{coop.id}/verlauf").get_data(as_text=True)
    assert "Projektleitung darf bei nur einer Kämmerei freigeben" in history

    cost = _submitted(sign_in(small["treasurer"]), coop.id)
    lead = sign_in(small["lead"])
    page = lead.get(f"/kooperationen/{coop.id}/kosten/{cost.id}").get_data(as_text=True)
    assert "zweites Augenpaar" in page
    url = f"/kooperationen/{coop.id}/kosten/{cost.id}/freigeben"
    assert lead.post(url, data={"version": cost.version}).status_code == 302
    db.session.refresh(cost)
    assert cost.state is CostState.FREIGEGEBEN
    assert cost.approved_by_id == small["lead"].id


def test_option_lapses_with_a_second_treasurer(small, sign_in, make_user) -> None:  # noqa: ANN001
    coop = small["coop"]
    _allow(sign_in(small["lead"]), coop, True)
    second = make_user(small["member"].municipality)
    from koopboard.models import Membership

    db.session.add(Membership(cooperation_id=coop.id, user_id=second.id, role=Role.TREASURER))
    db.session.commit()
    cost = _submitted(sign_in(small["treasurer"]), coop.id)
    lead = sign_in(small["lead"])
    url = f"/kooperationen/{coop.id}/kosten/{cost.id}/ablehnen"
    assert lead.post(url, data={"version": cost.version, "reason": "zu hoch"}).status_code == 403
    db.session.refresh(cost)
    assert cost.state is CostState.EINGEREICHT


def test_member_never_approves(small, sign_in) -> None:  # noqa: ANN001
    coop = small["coop"]
    _allow(sign_in(small["lead"]), coop, True)
    cost = _submitted(sign_in(small["treasurer"]), coop.id)
    url = f"/kooperationen/{coop.id}/kosten/{cost.id}/freigeben"
    assert sign_in(small["member"]).post(url, data={"version": cost.version}).status_code == 403
