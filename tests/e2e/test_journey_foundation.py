"""The lead's first journey in a real browser: log in, create a cooperation, add partners.

Every page is audited by axe-core (and so are states swapped in by htmx: search results, a
form with its errors); the conftest fails a test that loaded a page without auditing it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import AuditedPage, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

MERCHWEILER, ILLINGEN_SAAR, EPPELBORN, SCHIFFWEILER = "10043113", "10043112", "10043111", "10043116"
ILLINGEN_ENZKREIS = "08236028"
TITLE = "Gemeinsames Standesamt Illtal"
SHOW_URL = re.compile(r"/kooperationen/\d+$")


@pytest.fixture()
def lead(register_sample: dict[str, Any], make_user: Callable[..., Any]) -> Any:
    """Staff of Merchweiler, the municipality that will lead."""
    return make_user(
        register_sample[MERCHWEILER], email="p.lehnert@merchweiler.de", name="Petra Lehnert"
    )


def partner_names(audited: AuditedPage) -> list[str]:
    """The municipality names in the partner table of the cooperation page."""
    cells = audited.page.locator("section[aria-labelledby=partner] tbody th[scope=row]")
    return [re.sub(r"\s+federführend$", "", name.strip()) for name in cells.all_inner_texts()]


def add_partner_by_typing(
    audited: AuditedPage, typed: str, ags: str, hits: int, audit_results: bool = False
) -> str:
    """Type into the register search (htmx shows results as you type), choose ``ags``
    ("Auswählen" only fills the form), then save it with "Partner hinzufügen"."""
    page = audited.page
    loaded = len(audited.documents)
    search = page.get_by_label("Kommune suchen")
    with page.expect_response(re.compile(r"/partner/suche\?")) as answer:
        search.press_sequentially(typed, delay=40)
    assert answer.value.request.headers.get("hx-request") == "true"
    results = page.locator("#suchergebnisse li")
    expect(results).to_have_count(hits)
    assert len(audited.documents) == loaded, "the search must not reload the page"
    if audit_results:
        audited.axe()  # the results region as swapped in

    hit = results.filter(has_text=f"AGS {ags}")
    name = hit.locator("> span").first.inner_text().split(" (")[0]
    hit.get_by_role("link", name="Auswählen").click()
    expect(page.locator("#partner-gewaehlt")).to_contain_text(f"Ausgewählt: {name}")
    assert len(audited.documents) == loaded, "choosing must not reload the page"
    page.get_by_role("button", name="Partner hinzufügen").click()
    expect(page.locator(".flash-success")).to_have_text(f"{name} ist jetzt Partner.")
    audited.axe()
    return name


def test_lead_creates_a_cooperation_with_three_partners(
    audited_page: AuditedPage, lead: Any
) -> None:
    page = audited_page.page
    log_in(audited_page, lead.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Was ansteht")

    page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name="Neue Kooperation"
    ).click()
    page.wait_for_url("**/kooperationen/neu")
    audited_page.axe()
    page.get_by_label("Titel").fill(TITLE)
    page.get_by_label("Ziele").fill("Ein Standesamt für drei Gemeinden, Trauungen an allen Orten.")
    page.get_by_label("Handlungsfeld").select_option(label="allgemeine Verwaltung")
    page.get_by_label("Rechtsform").select_option(
        label="öffentlich-rechtliche Vereinbarung (Zweckvereinbarung)"
    )
    page.get_by_label("Status").select_option(label="Planung")
    page.get_by_label("Beginn").fill("2026-01-01")
    page.get_by_role("button", name="Kooperation anlegen").click()

    page.wait_for_url(SHOW_URL)
    audited_page.axe()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator(".flash-success")).to_contain_text(f"„{TITLE}“ ist angelegt")
    assert partner_names(audited_page) == ["Merchweiler"]
    cooperation_url = page.url

    page.get_by_role("link", name="Partnerkommune hinzufügen").click()
    page.wait_for_url("**/partner/neu")
    audited_page.axe()
    added = [
        # "Illin" also finds Illingen in the Enzkreis: pick the one in the Saarland.
        add_partner_by_typing(audited_page, "Illin", ILLINGEN_SAAR, hits=2, audit_results=True),
        add_partner_by_typing(audited_page, "Eppel", EPPELBORN, hits=1),
        add_partner_by_typing(audited_page, "Schiffw", SCHIFFWEILER, hits=1),
    ]
    assert added == ["Illingen", "Eppelborn", "Schiffweiler"]

    page.get_by_role("link", name=f"Zurück zu „{TITLE}“").click()
    page.wait_for_url(cooperation_url)
    audited_page.axe()
    assert sorted(partner_names(audited_page)) == [
        "Eppelborn",
        "Illingen",
        "Merchweiler",
        "Schiffweiler",
    ]
    partner_table = page.locator("section[aria-labelledby=partner] tbody")
    expect(partner_table).to_contain_text(ILLINGEN_SAAR)
    expect(partner_table).not_to_contain_text(ILLINGEN_ENZKREIS)

    page.get_by_role("link", name="Meine Kooperationen").click()
    page.wait_for_url("**/kooperationen/")
    audited_page.axe()
    card = page.locator(".card", has=page.get_by_role("link", name=TITLE))
    expect(card).to_have_count(1)
    expect(card.locator("dt:has-text('Partner') + dd")).to_have_text("4")
    expect(card.locator("dt:has-text('Ihre Rolle') + dd")).to_have_text("Projektleitung")


def test_partner_search_choose_and_add_work_without_javascript(
    open_page: Callable[..., AuditedPage],
    lead: Any,
    make_cooperation: Callable[..., Any],
) -> None:
    cooperation = make_cooperation(lead, title=TITLE)
    audited = open_page(java_script_enabled=False)
    page = audited.page
    log_in(audited, lead.email)

    audited.goto(f"/kooperationen/{cooperation.id}/partner/neu")
    page.get_by_label("Kommune suchen").fill("Schiffweiler")
    page.get_by_role("button", name="Suchen").click()  # a plain POST: the page reloads
    page.wait_for_load_state()
    audited.axe()
    assert len(audited.documents) == 4  # login, list, partner form, search answer
    results = page.locator("#suchergebnisse li")
    expect(results).to_have_count(1)
    results.get_by_role("link", name="Auswählen").click()  # a GET: chosen, not saved
    page.wait_for_url("**/partner/neu?ags=*")
    audited.axe()
    expect(page.locator("#partner-gewaehlt")).to_contain_text("Ausgewählt: Schiffweiler")
    page.get_by_role("button", name="Partner hinzufügen").click()
    expect(page.locator(".flash-success")).to_have_text("Schiffweiler ist jetzt Partner.")
    audited.axe()

    audited.goto(f"/kooperationen/{cooperation.id}")
    assert partner_names(audited) == ["Merchweiler", "Schiffweiler"]


def test_invalid_create_form_shows_the_message_next_to_the_field(
    audited_page: AuditedPage, lead: Any
) -> None:
    page = audited_page.page
    log_in(audited_page, lead.email)
    audited_page.goto("/kooperationen/neu")
    loaded = len(audited_page.documents)
    page.get_by_label("Handlungsfeld").select_option(label="Ver- und Entsorgung")
    page.get_by_label("Rechtsform").select_option(label="Zweckverband")
    page.get_by_label("Beginn").fill("2026-03-01")

    with page.expect_response("**/kooperationen/neu") as answer:
        page.get_by_role("button", name="Kooperation anlegen").click()
    assert answer.value.status == 422
    assert answer.value.request.headers.get("hx-request") == "true"

    title = page.get_by_label("Titel")
    error = page.locator("#title-fehler")
    expect(error).to_have_text("Bitte füllen Sie dieses Feld aus.")
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(title).to_have_attribute("aria-describedby", re.compile(r"\btitle-fehler\b"))
    # Swapped in place: same document, same URL, the other answers kept.
    assert len(audited_page.documents) == loaded
    assert page.url.endswith("/kooperationen/neu")
    expect(page.get_by_label("Handlungsfeld")).to_have_value("ver_entsorgung")
    expect(page.get_by_label("Beginn")).to_have_value("2026-03-01")
    audited_page.axe()


def test_error_summary_takes_focus_after_an_htmx_swap(audited_page: AuditedPage, lead: Any) -> None:
    """Keyboard and screen-reader users must land on the messages (static/js/app.js)."""
    page = audited_page.page
    log_in(audited_page, lead.email)
    audited_page.goto("/kooperationen/neu")

    with page.expect_response("**/kooperationen/neu") as answer:
        page.get_by_role("button", name="Kooperation anlegen").click()
    assert answer.value.status == 422

    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Titel: Bitte füllen Sie dieses Feld aus.")
    expect(summary).to_be_focused()
    audited_page.axe()


def test_skip_link_is_first_and_moves_focus_to_main(audited_page: AuditedPage, lead: Any) -> None:
    page = audited_page.page
    log_in(audited_page, lead.email)

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Zum Inhalt springen")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, "focused skip link off screen"

    page.keyboard.press("Enter")
    expect(page.locator("main#inhalt")).to_be_focused()
    assert page.url.endswith("#inhalt")
    page.keyboard.press("Tab")
    in_main = page.evaluate("document.activeElement.closest('main') !== null")
    assert in_main, "the next Tab must stay in the main content"
