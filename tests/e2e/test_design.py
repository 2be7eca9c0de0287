"""The look in a real browser, on the demo cooperation `make run` loads: buttons that say
what they are, and the same pages audited by axe-core."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.e2e.conftest import AuditedPage, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

LEAD = "projektleitung@merchweiler.demo"
TREASURER = "kaemmerei@illingen.demo"  # may approve the demo's cost awaiting approval
WHITE = "rgb(255, 255, 255)"
TRANSPARENT = "rgba(0, 0, 0, 0)"


@pytest.fixture()
def demo(register_sample: dict[str, Any]) -> dict[str, Any]:
    """The demo data (`flask koop load-demo`) on the shipped register's sample."""
    from koopboard.demo import DEMO_PASSWORD, TITLE, load_demo
    from koopboard.extensions import db
    from koopboard.models import Cooperation, Cost
    from koopboard.models.cost import CostState

    list(load_demo())
    coop = db.session.scalar(select(Cooperation).where(Cooperation.title == TITLE))
    pending = db.session.scalar(
        select(Cost).where(Cost.cooperation_id == coop.id, Cost.state == CostState.EINGEREICHT)
    )
    return {"coop": coop.id, "pending": pending.id, "password": DEMO_PASSWORD}


def _style(locator: Any, prop: str) -> str:
    return locator.evaluate(f"el => getComputedStyle(el).{prop}")


def test_secondary_and_destructive_buttons_do_not_look_primary(
    audited_page: AuditedPage, demo: dict[str, Any]
) -> None:
    page = audited_page.page
    log_in(audited_page, LEAD, demo["password"])

    audited_page.goto(f"/kooperationen/{demo['coop']}/partner/neu")
    primary = page.get_by_role("button", name="Partner hinzufügen")
    search = page.get_by_role("button", name="Suchen")
    filled = _style(primary, "backgroundColor")
    assert filled not in (WHITE, TRANSPARENT)
    assert _style(search, "backgroundColor") != filled
    assert _style(search, "color") == filled  # outlined in the primary's colour

    # Row heads read as text of their row, not as a grey column of headers.
    audited_page.goto(f"/kooperationen/{demo['coop']}")
    row_head = page.locator("tbody th[scope=row]").first
    expect(row_head).to_be_visible()
    assert _style(row_head, "backgroundColor") in (WHITE, TRANSPARENT)
    assert _style(page.locator("thead th").first, "backgroundColor") not in (WHITE, TRANSPARENT)

    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url("**/anmelden**")
    audited_page.axe()
    log_in(audited_page, TREASURER, demo["password"])
    audited_page.goto(f"/kooperationen/{demo['coop']}/kosten/{demo['pending']}")
    approve = page.get_by_role("button", name="Freigeben")
    assert _style(approve, "backgroundColor") == filled
    page.get_by_text("Ablehnen …").click()
    reject = page.get_by_role("button", name="Ablehnen", exact=True)
    red, green, blue = map(int, _style(reject, "backgroundColor")[4:-1].split(", "))
    assert red > 2 * max(green, blue), "a destructive action is drawn in red"


# --- one look on every page, at 1280 and 390 px ---------------------------------------------

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "mobile": {"width": 390, "height": 844}}
# The pages a user of the demo reaches; the four of the issue are photographed.
SHOTS = {"start", "kooperation", "meilensteine", "kosten"}


def _pages(demo: dict[str, Any], year: int) -> dict[str, str]:
    base = f"/kooperationen/{demo['coop']}"
    return {
        "start": "/start",
        "kooperation": base,
        "meilensteine": f"{base}/meilensteine/",
        "kosten": f"{base}/kosten/",
        "kosten-eintrag": f"{base}/kosten/{demo['pending']}",
        "schluessel": f"{base}/kosten/schluessel/{year}",
        "planansatz": f"{base}/kosten/planansatz/{year}",
        "partner-neu": f"{base}/partner/neu",
        "rollen": f"{base}/rollen",
        "verlauf": f"{base}/verlauf",
        "kalender": "/meilensteine/kalender",
        "meine-meilensteine": "/meilensteine/",
        "benachrichtigungen": "/benachrichtigungen/",
        "einstellungen": "/benachrichtigungen/einstellungen",
        "konto": "/konto",
        "zeitleiste": f"{base}/meilensteine/zeitleiste",
        "meilenstein-uebersicht": f"{base}/meilensteine/uebersicht",
        "wiederkehrend": f"{base}/kosten/wiederkehrend",
        "boerse": "/kooperationsboerse",
        "check": "/kooperations-check/",
        "neue-kooperation": "/kooperationen/neu",
        "impressum": "/impressum",
        "datenschutz": "/datenschutz",
        "barrierefreiheit": "/barrierefreiheit",
    }


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Where the screenshots go: the test run's own directory (never the repository)."""
    path = tmp_path_factory.getbasetemp() / "screenshots"
    path.mkdir(exist_ok=True)
    return path


def _scroll_width(page: Any) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.timeout(400)
@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_is_accessible_and_fits_the_screen(
    open_page: Any, demo: dict[str, Any], width: str, screenshot_dir: Any
) -> None:
    from datetime import UTC, datetime

    from koopboard.domain.milestones import berlin_today

    year = berlin_today(datetime.now(UTC)).year
    audited = open_page(viewport=WIDTHS[width])
    page = audited.page
    log_in(audited, LEAD, demo["password"])
    too_wide = []
    for name, path in _pages(demo, year).items():
        response = page.goto(path)
        assert response is not None and response.status < 400, path
        audited.axe()  # 0 violations, at this width
        scroll, inner = _scroll_width(page)
        if scroll > inner:
            too_wide.append(f"{path}: {scroll} px wide at {inner} px")
        if name in SHOTS:
            target = screenshot_dir / f"{name}-{WIDTHS[width]['width']}.png"
            page.screenshot(path=str(target), full_page=True)
    print(f"\nscreenshots: {screenshot_dir}")
    assert not too_wide, "pages scroll sideways:\n" + "\n".join(too_wide)


def test_the_header_folds_into_a_menu_on_a_phone(open_page: Any, demo: dict[str, Any]) -> None:
    audited = open_page(viewport=WIDTHS["mobile"], java_script_enabled=False)
    page = audited.page
    log_in_without_script = audited.goto  # the login form works without JavaScript
    log_in_without_script("/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(LEAD)
    page.get_by_label("Passwort", exact=True).fill(demo["password"])
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/start")
    audited.axe()

    header = page.locator(".site-header")
    assert header.bounding_box()["height"] <= 90, "the collapsed header is one row"
    nav = page.get_by_role("navigation", name="Hauptnavigation")
    expect(nav).to_be_hidden()
    menu = page.locator("summary", has_text="Menü")
    menu.focus()
    page.keyboard.press("Enter")  # a details element opens without JavaScript
    expect(nav.get_by_role("link", name="Meine Kooperationen")).to_be_visible()
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
    audited.axe()
    nav.get_by_role("link", name="Kooperationsbörse").click()
    page.wait_for_url("**/kooperationsboerse**")
    audited.axe()
    expect(page.get_by_role("navigation", name="Hauptnavigation")).to_be_hidden()

    # At 1280 px the same header shows its links at once, with no menu button, in two rows
    # (mark and tools, then the links).
    page.set_viewport_size(WIDTHS["desktop"])
    expect(page.get_by_role("navigation", name="Hauptnavigation")).to_be_visible()
    expect(page.locator("summary", has_text="Menü")).to_be_hidden()
    links = page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link")
    tops = {round(box["y"]) for box in (link.bounding_box() for link in links.all())}
    assert len(tops) == 1, "the links fit in one row at 1280 px"


def test_timeline_labels_stay_readable_on_a_phone(open_page: Any, demo: dict[str, Any]) -> None:
    audited = open_page(viewport=WIDTHS["mobile"])
    page = audited.page
    log_in(audited, LEAD, demo["password"])
    audited.goto(f"/kooperationen/{demo['coop']}/meilensteine/zeitleiste")
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('main svg text')].map(t =>
            parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)"""
    )
    assert sizes, "the timeline has labels"
    assert min(sizes) >= 12, f"labels as small as {min(sizes):.1f} px"
    scroll, inner = _scroll_width(page)
    assert scroll <= inner, "the drawing scrolls in its frame, not the page"


def _others(demo: dict[str, Any], year: int, illingen: int) -> dict[str | None, list[str]]:
    """The pages the lead does not reach, by who does (None: signed out)."""
    base = f"/kooperationen/{demo['coop']}/kosten"
    return {
        None: ["/anmelden", "/passwort-vergessen", "/impressum", "/barrierefreiheit"],
        TREASURER: [
            f"{base}/neu",
            f"{base}/zahlungen/neu",
            f"{base}/jahresabschluss/{year}",
            f"{base}/abrechnung/{year}/{illingen}",
            "/konto/meine-daten",
        ],
        "admin@koopboard.demo": ["/verwaltung/personen", "/verwaltung/zustellungen"],
        "hauptamt@ottweiler.demo": [
            "/kooperations-check/ergebnis",
            "/kooperations-check/versionen",
            f"/kooperationsboerse/{demo['coop']}",
        ],
    }


@pytest.mark.timeout(400)
@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_other_roles_pages_are_accessible_and_fit_the_screen(
    open_page: Any, demo: dict[str, Any], width: str
) -> None:
    from datetime import UTC, datetime

    from koopboard.domain.milestones import berlin_today
    from koopboard.extensions import db
    from koopboard.models import Municipality

    year = berlin_today(datetime.now(UTC)).year
    illingen = db.session.scalar(select(Municipality.id).where(Municipality.ags == "10043112"))
    too_wide = []
    for email, paths in _others(demo, year, illingen).items():
        audited = open_page(viewport=WIDTHS[width])
        if email is not None:
            log_in(audited, email, demo["password"])
        for path in paths:
            response = audited.page.goto(path)
            assert response is not None and response.status < 400, path
            audited.axe()
            scroll, inner = _scroll_width(audited.page)
            if scroll > inner:
                too_wide.append(f"{path}: {scroll} px wide at {inner} px")
    assert not too_wide, "pages scroll sideways:\n" + "\n".join(too_wide)


def test_milestone_list_and_statement_print_without_the_screen_furniture(
    audited_page: AuditedPage, demo: dict[str, Any]
) -> None:
    page = audited_page.page
    log_in(audited_page, LEAD, demo["password"])
    audited_page.goto(f"/kooperationen/{demo['coop']}/meilensteine/")
    page.emulate_media(media="print")
    for hidden in (".site-header", ".site-footer", "main nav"):
        expect(page.locator(hidden).first).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert _style(page.locator("body"), "color") == "rgb(0, 0, 0)"
    page.emulate_media(media="screen")
    expect(page.locator(".site-header")).to_be_visible()
