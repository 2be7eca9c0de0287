"""Issue 17.3 in the browser: "Auswählen" chooses, "Partner hinzufügen" saves, with htmx
and without JavaScript; axe on every page and after every swap."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from koopboard.extensions import db
from koopboard.models import CooperationPartner, Municipality
from tests.e2e.conftest import AuditedPage, log_in

pytestmark = pytest.mark.e2e

MERCHWEILER, ILLINGEN, EPPELBORN = "10043113", "10043112", "10043111"


@pytest.fixture()
def bauhof(register_sample: dict[str, Any], make_user, make_cooperation) -> dict[str, Any]:
    lead = make_user(register_sample[MERCHWEILER], email="lead@merchweiler.de", name="Lea Leitung")
    cooperation = make_cooperation(
        lead, partners=[register_sample[EPPELBORN]], start=date(2025, 1, 1)
    )
    return {"lead": lead, "cid": cooperation.id}


def partner_dates(cid: int, ags: str) -> tuple[date, date | None] | None:
    db.session.expire_all()
    row = db.session.execute(
        db.select(CooperationPartner.joined_on, CooperationPartner.council_resolution_on)
        .join(Municipality)
        .where(CooperationPartner.cooperation_id == cid, Municipality.ags == ags)
    ).first()
    return tuple(row) if row else None


def test_choose_with_htmx_then_save(audited_page: AuditedPage, bauhof: dict[str, Any]) -> None:
    page = audited_page.page
    cid = bauhof["cid"]
    log_in(audited_page, bauhof["lead"].email)
    audited_page.goto(f"/kooperationen/{cid}/partner/neu")
    page.evaluate("window.__marker = 1")

    # The join date may be typed first: choosing does not reset it.
    page.get_by_label("Beitritt am").fill("2025-03-01")
    page.get_by_label("Kommune suchen").fill("Illingen")
    results = page.locator("#suchergebnisse li")
    expect(results).to_have_count(2)
    expect(results.first).to_contain_text("Neunkirchen, Saarland")  # the lead's Kreis first
    expect(results.nth(1)).to_contain_text("Enzkreis, Baden-Württemberg")
    audited_page.axe()

    # Existing partners are marked, not offered.
    page.get_by_label("Kommune suchen").fill("Eppelborn")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("bereits Partner")
    expect(results.first.get_by_role("link", name="Auswählen")).to_have_count(0)
    audited_page.axe()

    page.get_by_label("Kommune suchen").fill("Illingen")
    expect(results).to_have_count(2)
    results.first.get_by_role("link", name="Auswählen").click()
    chosen = page.locator("#partner-gewaehlt")
    expect(chosen).to_contain_text("Ausgewählt: Illingen")
    expect(chosen).to_contain_text("Neunkirchen, Saarland")
    expect(chosen).to_be_focused()
    expect(page.get_by_label("Amtlicher Gemeindeschlüssel (AGS)")).to_have_value(ILLINGEN)
    expect(page.get_by_label("Beitritt am")).to_have_value("2025-03-01")
    assert page.evaluate("window.__marker") == 1, "choosing navigated"
    assert partner_dates(cid, ILLINGEN) is None, "choosing saved the partner"
    audited_page.axe()

    page.get_by_label("Gremienbeschluss vom").fill("2025-02-15")
    page.get_by_role("button", name="Partner hinzufügen").click()
    expect(page.locator(".flash-success")).to_contain_text("Illingen ist jetzt Partner.")
    audited_page.axe()
    assert partner_dates(cid, ILLINGEN) == (date(2025, 3, 1), date(2025, 2, 15))


def test_without_javascript_the_same_two_steps(open_page: Any, bauhof: dict[str, Any]) -> None:
    audited = open_page(java_script_enabled=False)
    page = audited.page
    cid = bauhof["cid"]
    log_in(audited, bauhof["lead"].email)
    audited.goto(f"/kooperationen/{cid}/partner/neu")

    page.get_by_label("Kommune suchen").fill("Illingen")
    page.get_by_role("button", name="Suchen").click()
    page.wait_for_load_state("load")
    audited.axe()
    first = page.locator("#suchergebnisse li").first
    expect(first).to_contain_text("Neunkirchen, Saarland")
    first.get_by_role("link", name="Auswählen").click()
    page.wait_for_url(f"**/kooperationen/{cid}/partner/neu?ags={ILLINGEN}")
    audited.axe()
    expect(page.locator("#partner-gewaehlt")).to_contain_text("Ausgewählt: Illingen")
    assert partner_dates(cid, ILLINGEN) is None

    page.get_by_label("Beitritt am").fill("2025-04-01")
    page.get_by_role("button", name="Partner hinzufügen").click()
    page.wait_for_url(f"**/kooperationen/{cid}/partner/neu")
    audited.axe()
    expect(page.locator(".flash-success")).to_contain_text("Illingen ist jetzt Partner.")
    assert partner_dates(cid, ILLINGEN) == (date(2025, 4, 1), None)
