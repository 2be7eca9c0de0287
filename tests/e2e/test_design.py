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
