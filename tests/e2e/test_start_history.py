"""Was ansteht and the readable history in Chromium: approving in place (htmx) and as a plain
form, the history's sentences, disclosure and filter; axe-core on every state."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import AuditedPage, log_in
from tests.web.test_history_readable import (  # noqa: F401 (fixture)
    _book_and_submit,
    world,
)

pytestmark = pytest.mark.e2e


def _submitted(world: dict, client: Any) -> Any:  # noqa: F811
    from tests.web.test_authorization import sign_in

    karl = sign_in(client, world["karl"].id)
    return _book_and_submit(karl, world)


def test_approve_in_place_then_read_the_history(
    audited_page: AuditedPage,
    world: dict,  # noqa: F811
    app: Any,
) -> None:
    _submitted(world, app.test_client())
    page = audited_page.page
    log_in(audited_page, world["tina"].email)  # lands on /start, audited

    expect(page.get_by_role("heading", level=1)).to_have_text("Was ansteht")
    section = page.locator("section[aria-labelledby=freigaben]")
    expect(section).to_contain_text("„Fachverfahren Personenstand“")
    expect(section).to_contain_text("Eingereicht von Karl Schneider (Illingen).")
    documents = len(audited_page.documents)
    section.get_by_role("button", name="„Fachverfahren Personenstand“ freigeben").click()
    expect(section.get_by_role("status")).to_have_text(
        "Freigegeben: „Fachverfahren Personenstand“ zählt jetzt."
    )
    assert len(audited_page.documents) == documents, "approving must not reload the page"
    audited_page.axe()

    # The history: sentences, the fields behind a disclosure, a filter in place.
    table = page.locator("section[aria-labelledby=kooperationen-stand]")
    table.get_by_role("link", name="Gemeinsames Standesamt").click()
    page.wait_for_url(f"**/kooperationen/{world['coop'].id}")
    audited_page.axe()
    expect(page.locator("section[aria-labelledby=verlauf]")).to_contain_text(
        "Tina Kämmerer (Merchweiler) hat die Kosten „Fachverfahren Personenstand“ "
        "(1.234,00\u00a0€) freigegeben."
    )
    page.get_by_role("link", name="Gesamten Verlauf anzeigen und filtern").click()
    page.wait_for_url(f"**/kooperationen/{world['coop'].id}/verlauf")
    audited_page.axe()
    first = page.locator("li.change").first
    first.locator("summary").click()
    expect(first.locator("details table")).to_be_visible()
    expect(first.locator("details table")).to_contain_text("Freigegeben von")
    audited_page.axe()

    documents = len(audited_page.documents)
    page.get_by_label("Art des Datensatzes").select_option(label="Partner")
    page.get_by_role("button", name="Anzeigen").click()
    expect(page.locator("#verlauf-ergebnisse")).to_contain_text("als Partnerkommune aufgenommen")
    expect(page.locator("#verlauf-ergebnisse")).not_to_contain_text("hat die Kosten")
    assert len(audited_page.documents) == documents, "the filter swaps in place"
    assert "art=CooperationPartner" in page.url
    audited_page.axe()


def test_approve_without_javascript(
    open_page: Any,
    world: dict,  # noqa: F811
    app: Any,
) -> None:
    _submitted(world, app.test_client())
    audited = open_page(java_script_enabled=False)
    page = audited.page
    log_in(audited, world["tina"].email)
    page.get_by_role("button", name="„Fachverfahren Personenstand“ freigeben").click()
    page.wait_for_url("**/start")
    audited.axe()
    expect(page.locator(".flash-success")).to_have_text(
        "Freigegeben: „Fachverfahren Personenstand“ zählt jetzt."
    )
    expect(page.locator("section[aria-labelledby=freigaben]")).to_have_count(0)

    audited.goto(f"/kooperationen/{world['coop'].id}/verlauf?art=Cost")
    expect(page.locator("#verlauf-ergebnisse")).to_contain_text(
        "Karl Schneider (Illingen) hat die Kosten „Fachverfahren Personenstand“ "
        "(1.234,00\u00a0€) eingereicht."
    )


def _join_request_and_invitation(world: dict) -> None:  # noqa: F811
    from datetime import UTC, date, datetime, timedelta

    from koopboard.domain.catalog import Role
    from koopboard.domain.directory import JoinRequestStatus
    from koopboard.domain.invitations import InvitationStatus
    from koopboard.extensions import db
    from koopboard.models import CooperationInvitation, JoinRequest

    db.session.add(
        JoinRequest(
            cooperation_id=world["coop"].id,
            municipality_id=world["outsider"].municipality_id,
            requested_by_id=world["outsider"].id,
            message="Wir möchten mitmachen.",
            intended_join_on=date(2027, 1, 1),
            status=JoinRequestStatus.OPEN,
        )
    )
    db.session.add(
        CooperationInvitation(
            cooperation=world["coop"],
            municipality=world["m"]["merchweiler"],
            email=world["outsider"].email,
            role=Role.MEMBER,
            status=InvitationStatus.OPEN,
            invited_by=world["lead"],
            expires_at=datetime.now(UTC) + timedelta(days=7),
        )
    )
    db.session.commit()


@pytest.mark.parametrize("width", [1280, 390])
def test_decide_a_join_request_and_an_invitation_in_place(
    open_page: Any,
    world: dict,  # noqa: F811
    width: int,
) -> None:
    _join_request_and_invitation(world)
    audited = open_page(viewport={"width": width, "height": 900})
    page = audited.page
    log_in(audited, world["lead"].email)
    item = page.locator("section[aria-labelledby=beitrittsanfragen] li.agenda-item")
    expect(item).to_contain_text("Eppelborn möchte „Gemeinsames Standesamt“ zum 01.01.2027")
    documents = len(audited.documents)

    # Decline without a reason: the German message next to the field, in place.
    item.locator("summary").click()
    item.get_by_role("button", name="Anfrage ablehnen: Eppelborn").click()
    expect(item.locator(".field-error")).to_contain_text("Bitte")
    expect(item.locator("details")).to_have_attribute("open", "")
    audited.axe()

    # Accept with the join date (today by default) and the council resolution.
    item.get_by_label("Gremienbeschluss vom").fill("2026-11-01")
    item.get_by_role("button", name="Beitritt annehmen: Eppelborn").click()
    expect(page.get_by_role("status")).to_contain_text("Eppelborn ist ab dem")
    assert len(audited.documents) == documents, "deciding must not reload the page"
    audited.axe()

    # The invited person declines in place.
    page.context.clear_cookies()
    log_in(audited, world["outsider"].email)
    invitation = page.locator("section[aria-labelledby=einladungen] li.agenda-item")
    documents = len(audited.documents)
    invitation.get_by_role("button", name="Einladung in „Gemeinsames Standesamt“ ablehnen").click()
    expect(page.get_by_role("status")).to_have_text(
        "Sie haben die Einladung in „Gemeinsames Standesamt“ abgelehnt."
    )
    assert len(audited.documents) == documents
    audited.axe()


def test_decline_a_join_request_without_javascript(
    open_page: Any,
    world: dict,  # noqa: F811
) -> None:
    _join_request_and_invitation(world)
    audited = open_page(java_script_enabled=False)
    page = audited.page
    log_in(audited, world["lead"].email)
    item = page.locator("section[aria-labelledby=beitrittsanfragen] li.agenda-item")
    item.locator("summary").click()
    item.get_by_label("Begründung").fill("Der Zweckverband ist voll.")
    item.get_by_role("button", name="Anfrage ablehnen: Eppelborn").click()
    page.wait_for_url("**/start")
    audited.axe()
    expect(page.locator(".flash-success")).to_have_text("Die Anfrage von Eppelborn ist abgelehnt.")
    expect(page.locator("section[aria-labelledby=beitrittsanfragen]")).to_have_count(0)
