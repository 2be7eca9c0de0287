"""Journey 1 by keyboard alone: Tab, Shift+Tab, Enter, Space, arrow keys in selects and
typing; never a click. Every stop the Tab key lands on shows a visible focus indicator.

Log in → create a cooperation (Handlungsfeld, Rechtsform) → add a partner through the
register search → add a milestone → mark it done in place."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.e2e.conftest import AuditedPage

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

MERCHWEILER, SCHIFFWEILER = "10043113", "10043116"
TITLE = "Gemeinsamer Bauhof Illtal"
SHOW_URL = re.compile(r"/kooperationen/\d+$")

FOCUS_STYLE = """() => {
    const el = document.activeElement;
    const s = getComputedStyle(el);
    return {
        tag: el.tagName, text: (el.innerText || el.value || el.name || "").slice(0, 40),
        outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2,
        shadow: s.boxShadow !== "none",
    };
}"""


class Keyboard:
    """Tab through the page until the wanted element has focus, checking each stop."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.stops = 0

    def _check_visible_focus(self) -> None:
        focus = self.page.evaluate(FOCUS_STYLE)
        if focus["tag"] in ("BODY", "HTML"):
            return
        assert focus["outline"] or focus["shadow"], f"focus not visible on {focus}"

    def tab_to(self, target: Any, limit: int = 120, backwards: bool = False) -> None:
        key = "Shift+Tab" if backwards else "Tab"
        for _ in range(limit):
            self.page.keyboard.press(key)
            self.stops += 1
            self._check_visible_focus()
            if target.evaluate("el => el === document.activeElement"):
                return
        raise AssertionError(f"{key} never reached {target}")

    def choose(self, select: Any, label: str) -> None:
        """Arrow keys in a focused select until the option ``label`` is chosen."""
        for key in ("Home", *["ArrowDown"] * 40):
            if key != "Home" or select.evaluate("el => el.selectedIndex") > 0:
                self.page.keyboard.press(key)
            chosen = select.evaluate("el => el.options[el.selectedIndex].text.trim()")
            if chosen == label:
                return
        raise AssertionError(f"no option {label!r}")

    def type(self, text: str) -> None:
        self.page.keyboard.type(text, delay=10)


@pytest.fixture()
def lead(register_sample: dict[str, Any], make_user: Callable[..., Any]) -> Any:
    return make_user(
        register_sample[MERCHWEILER], email="k.tastatur@merchweiler.de", name="Kim Tastatur"
    )


def test_journey_one_by_keyboard_only(audited_page: AuditedPage, lead: Any) -> None:
    from koopboard.extensions import db
    from koopboard.models import Milestone

    page = audited_page.page
    keys = Keyboard(page)

    # Log in.
    audited_page.goto("/anmelden")
    keys.tab_to(page.get_by_label("E-Mail-Adresse"))
    keys.type(lead.email)
    keys.tab_to(page.get_by_label("Passwort", exact=True))
    from tests.conftest import PASSWORD

    keys.type(PASSWORD)
    keys.tab_to(page.get_by_role("button", name="Anmelden"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/start")  # Was ansteht
    audited_page.axe()

    # Create a cooperation from the header's link.
    nav = page.get_by_role("navigation", name="Hauptnavigation")
    keys.tab_to(nav.get_by_role("link", name="Neue Kooperation"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/kooperationen/neu")
    audited_page.axe()
    keys.tab_to(page.get_by_label("Titel"))
    keys.type(TITLE)
    keys.tab_to(page.get_by_label("Ziele"))
    keys.type("Ein Bauhof für drei Gemeinden.")
    keys.tab_to(page.get_by_label("Handlungsfeld"))
    keys.choose(page.get_by_label("Handlungsfeld"), "allgemeine Verwaltung")
    keys.tab_to(page.get_by_label("Rechtsform"))
    keys.choose(
        page.get_by_label("Rechtsform"), "öffentlich-rechtliche Vereinbarung (Zweckvereinbarung)"
    )
    keys.tab_to(page.get_by_label("Beginn"))
    # The date field's segments follow the browser's own language (Chromium's, not the
    # page's), so the journey types dates whose day and month read the same in either order.
    keys.type("01012026")
    expect(page.get_by_label("Beginn")).to_have_value("2026-01-01")
    keys.tab_to(page.get_by_role("button", name="Kooperation anlegen"))
    page.keyboard.press("Enter")
    page.wait_for_url(SHOW_URL)
    audited_page.axe()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    cooperation_url = page.url

    # Add a partner: search the register, choose the hit, save it (Space on the button).
    keys.tab_to(page.get_by_role("link", name="Partnerkommune hinzufügen"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/partner/neu")
    audited_page.axe()
    keys.tab_to(page.get_by_label("Kommune suchen"))
    with page.expect_response(re.compile(r"/partner/suche\?")):
        keys.type("Schiffw")
    hit = page.locator("#suchergebnisse li").filter(has_text=f"AGS {SCHIFFWEILER}")
    expect(hit).to_have_count(1)
    keys.tab_to(hit.get_by_role("link", name="Auswählen"))
    page.keyboard.press("Enter")
    expect(page.locator("#partner-gewaehlt")).to_contain_text("Ausgewählt: Schiffweiler")
    keys.tab_to(page.get_by_role("button", name="Partner hinzufügen"))
    page.keyboard.press("Space")
    expect(page.locator(".flash-success")).to_have_text("Schiffweiler ist jetzt Partner.")
    audited_page.axe()

    # Back to the cooperation, then a new milestone.
    keys.tab_to(page.get_by_role("link", name=f"Zurück zu „{TITLE}“"))
    page.keyboard.press("Enter")
    page.wait_for_url(cooperation_url)
    audited_page.axe()
    keys.tab_to(page.locator("main").get_by_role("link", name="Neuer Meilenstein"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/meilensteine/neu")
    audited_page.axe()
    keys.tab_to(page.get_by_label("Titel"))
    keys.type("Bauhof eröffnen")
    keys.tab_to(page.get_by_label("Phase"))
    keys.choose(page.get_by_label("Phase"), "Umsetzung")
    keys.tab_to(page.get_by_label("Fällig am"))
    keys.type("06062026")
    expect(page.get_by_label("Fällig am")).to_have_value("2026-06-06")
    keys.tab_to(page.get_by_role("button", name="Meilenstein anlegen"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/meilensteine/#meilenstein-*")
    expect(page.locator(".flash-success")).to_contain_text("ist angelegt")
    audited_page.axe()

    # Mark it done in place: its status select, then its save button.
    milestone = db.session.scalar(select(Milestone).where(Milestone.title == "Bauhof eröffnen"))
    status = page.locator(f"#status-{milestone.id}")
    keys.tab_to(status, limit=200)
    keys.choose(status, "erledigt")
    save = page.locator(f"#status-speichern-{milestone.id}")
    if save.is_visible():  # with JavaScript the select may save on change by itself
        keys.tab_to(save)
        page.keyboard.press("Enter")
    expect(page.locator(f"#status-{milestone.id}-gespeichert")).to_contain_text("gespeichert")
    audited_page.axe()
    db.session.expire_all()
    assert db.session.get(Milestone, milestone.id).status.value == "erledigt"
    assert keys.stops > 20
