"""DSGVO pages in a real browser, each checked with axe-core: the account page, the copy of
one's own data (page and JSON download), Impressum and Datenschutz from the footer, and the
admin's anonymisation of a departed person (also without JavaScript)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from koopboard.domain.catalog import Role
from tests.e2e.conftest import AuditedPage, log_in
from tests.web.test_costs import _book, _population_key
from tests.web.test_notification_inbox import deliver

pytestmark = pytest.mark.e2e


@pytest.fixture()
def people(make_municipality, make_user, make_cooperation) -> dict[str, Any]:  # noqa: ANN001
    town = make_municipality(name="Merchweiler")
    lea = make_user(town, email="lea@merchweiler.de", name="Lea Leitung")
    coop = make_cooperation(lea, title="Gemeinsames Standesamt")
    other = make_user(town, email="otto@merchweiler.de", name="Otto Ordnung")
    make_cooperation(other, title="Gemeinsamer Bauhof", roles={lea: Role.OBSERVER})
    deliver(lea, coop.id, payload={"title": "Satzung", "old": "geplant", "new": "erledigt"})
    return {"lea": lea, "coop": coop}


def test_account_page_and_the_copy_of_my_data(audited_page: AuditedPage, people) -> None:  # noqa: ANN001
    page = audited_page.page
    log_in(audited_page, "lea@merchweiler.de")
    page.get_by_role("link", name="Mein Konto").click()
    page.wait_for_url("**/konto/")
    audited_page.axe()
    expect(page.get_by_role("heading", name="Mein Konto")).to_be_visible()
    expect(page.get_by_text("Gemeinsamer Bauhof")).to_be_visible()

    page.get_by_role("link", name="Meine Daten ansehen und drucken").click()
    page.wait_for_url("**/konto/meine-daten")
    audited_page.axe()
    expect(page.get_by_role("heading", name="Benachrichtigungen", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="„Satzung“ – Status: geplant → erledigt")).to_be_visible()
    # Printed, only the data remains: no header, footer or links.
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("link", name="Dieselben Daten als JSON herunterladen")).to_be_hidden()
    page.emulate_media(media="screen")

    with page.expect_download() as info:
        page.get_by_role("link", name="Dieselben Daten als JSON herunterladen").click()
    download = info.value
    assert download.suggested_filename.startswith("koopboard-meine-daten-")
    data = json.loads(open(download.path(), encoding="utf-8").read())  # noqa: PTH123, SIM115
    assert data["profile"]["email"] == "lea@merchweiler.de"
    assert {r["cooperation"] for r in data["roles"]} == {
        "Gemeinsames Standesamt",
        "Gemeinsamer Bauhof",
    }


def test_imprint_and_privacy_from_the_footer(audited_page: AuditedPage) -> None:
    page = audited_page.page
    audited_page.goto("/anmelden")
    footer = page.get_by_role("contentinfo")
    footer.get_by_role("link", name="Datenschutz").click()
    page.wait_for_url("**/datenschutz")
    audited_page.axe()
    expect(page.get_by_role("heading", name="Datenschutzerklärung", level=1)).to_be_visible()
    expect(page.get_by_role("row", name="Benachrichtigungen und E-Mails")).to_contain_text(
        "nach 90 Tagen gelöscht"
    )
    page.get_by_role("contentinfo").get_by_role("link", name="Impressum").click()
    page.wait_for_url("**/impressum")
    audited_page.axe()
    expect(page.get_by_role("heading", name="Impressum", level=1)).to_be_visible()
    expect(page.get_by_text("KOOP_OPERATOR_NAME")).to_be_visible()


@pytest.fixture()
def departing(make_municipality, make_user, make_cooperation) -> dict[str, Any]:  # noqa: ANN001
    """Karla (treasurer) booked a cost; the lead stays; the platform admin."""
    merchweiler = make_municipality("Merchweiler", "10043113", population=9872)
    illingen = make_municipality("Illingen", "10043112", population=16122)
    lead = make_user(merchweiler, email="lea@merchweiler.de", name="Lea Leitung")
    karla = make_user(illingen, email="karla@illingen.de", name="Karla Kassenwart")
    make_user(None, email="betrieb@example.org", name="Bea Betrieb", is_admin=True)
    coop = make_cooperation(lead, [illingen], roles={karla: Role.TREASURER})
    return {"coop": coop, "karla": karla, "lead": lead}


def _book_as_karla(app, departing) -> None:  # noqa: ANN001
    from tests.conftest import login

    client = app.test_client()
    assert login(client, departing["karla"]).status_code == 302
    world = {
        "base": f"/kooperationen/{departing['coop'].id}/kosten",
        "m": {"m": departing["coop"].lead_municipality, "i": departing["karla"].municipality},
    }
    _population_key(client, world)
    _book(client, world)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_admin_anonymises_a_departed_person(
    open_page,
    live_server,
    departing,
    javascript: bool,  # noqa: ANN001
) -> None:
    _book_as_karla(live_server.app, departing)
    audited = open_page(java_script_enabled=javascript)
    page = audited.page
    log_in(audited, "betrieb@example.org")
    page.get_by_role("link", name="Verwaltung").click()
    audited.axe()
    page.get_by_role("navigation", name="Bereiche der Verwaltung").get_by_role(
        "link", name="Personen"
    ).click()
    page.wait_for_url("**/verwaltung/personen")
    audited.axe()
    page.get_by_label("Name oder E-Mail-Adresse").fill("karla")
    page.get_by_role("button", name="Suchen").click()
    page.wait_for_url("**/verwaltung/personen?q=karla")
    audited.axe()
    page.get_by_role("link", name="Anonymisieren … (Karla Kassenwart)").click()
    page.wait_for_url("**/anonymisieren")
    audited.axe()
    expect(
        page.get_by_role("heading", name="Konto von Karla Kassenwart anonymisieren?")
    ).to_be_visible()
    page.get_by_role("button", name="Ja, Konto endgültig anonymisieren").click()
    page.wait_for_url("**/verwaltung/personen")
    audited.axe()
    expect(page.get_by_role("status")).to_contain_text("Das Konto ist anonymisiert")
    page.get_by_label("Name oder E-Mail-Adresse").fill("anonymisiert")
    page.get_by_role("button", name="Suchen").click()
    page.wait_for_url("**/verwaltung/personen?q=anonymisiert")
    audited.axe()
    expect(page.get_by_role("rowheader", name="ehemalige Person (anonymisiert)")).to_be_visible()
    expect(page.get_by_text("Karla Kassenwart")).to_have_count(0)
