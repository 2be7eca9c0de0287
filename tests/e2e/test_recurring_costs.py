"""A treasurer sets up a monthly recurring cost in the browser; the list shows its next due date.

Every page is audited by axe-core (list, form with errors, list with the note, edit form).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from koopboard.domain.catalog import Role
from koopboard.domain.recurrence import first_due
from tests.e2e.conftest import AuditedPage, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

MERCHWEILER, ILLINGEN, EPPELBORN = "10043113", "10043112", "10043111"


@pytest.fixture()
def books(
    register_sample: dict[str, Any],
    make_user: Callable[..., Any],
    make_cooperation: Callable[..., Any],
) -> dict[str, Any]:
    """Merchweiler leads, Illingen and Eppelborn take part; one treasurer, no key yet."""
    lead = make_user(register_sample[MERCHWEILER], email="lead@merchweiler.de")
    treasurer = make_user(
        register_sample[MERCHWEILER], email="kasse@merchweiler.de", name="Kim Kasse"
    )
    coop = make_cooperation(
        lead,
        [register_sample[ILLINGEN], register_sample[EPPELBORN]],
        roles={treasurer: Role.TREASURER},
        start=date(2025, 1, 1),
    )
    return {"coop": coop.id, "treasurer": treasurer, "illingen": register_sample[ILLINGEN]}


def test_treasurer_sets_up_a_monthly_recurring_cost(
    audited_page: AuditedPage, books: dict[str, Any]
) -> None:
    from koopboard.domain.milestones import berlin_today
    from koopboard.models.types import utcnow

    page = audited_page.page
    base = f"/kooperationen/{books['coop']}/kosten"
    log_in(audited_page, books["treasurer"].email)
    audited_page.goto(f"{base}/?jahr=2026")
    page.get_by_role("link", name="Wiederkehrende Kosten").click()
    page.wait_for_url(f"**{base}/wiederkehrend")
    audited_page.axe()
    expect(page.locator("h1")).to_have_text("Wiederkehrende Kosten")
    expect(page.get_by_text("Noch keine wiederkehrenden Kosten.")).to_be_visible()

    page.get_by_role("link", name="Wiederkehrende Kosten anlegen").click()
    page.wait_for_url(f"**{base}/wiederkehrend/neu")
    audited_page.axe()
    expect(page.get_by_label("Rhythmus")).to_have_value("monatlich")
    page.get_by_label("Buchungstext").fill("Miete Bauhof")
    page.get_by_label("Betrag in Euro").fill("-1.250,00")
    page.get_by_label("Tag im Monat").fill("31")
    page.get_by_role("button", name="Anlegen").click()  # htmx swaps the form with the errors
    amount = page.get_by_label("Betrag in Euro")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#amount-fehler")).to_contain_text("negativer Betrag")
    audited_page.axe()

    today = berlin_today(utcnow())
    page.get_by_label("Betrag in Euro").fill("1.250,00")
    page.get_by_label("Vorgeleistet von").select_option(label=books["illingen"].name)
    page.get_by_label("Beginn").fill(today.isoformat())
    page.get_by_role("button", name="Anlegen").click()
    page.wait_for_url(f"**{base}/wiederkehrend")
    audited_page.axe()
    expect(page.locator(".flash-success")).to_contain_text("„Miete Bauhof“ sind angelegt")
    row = page.locator("#wiederkehrende-kosten tbody tr").first
    expect(row.get_by_role("rowheader")).to_contain_text("Miete Bauhof")
    expect(row).to_contain_text("1.250,00\u00a0€")
    expect(row).to_contain_text("monatlich, am 31.")
    due = first_due(today, 31)
    expect(row.locator("[data-naechste-faelligkeit]")).to_contain_text(f"{due:%d.%m.%Y}")

    # Due today (the day of the start), but the year has no key: the page says why.
    page.get_by_role("link", name="Wiederkehrende Kosten anlegen").click()
    page.wait_for_url(f"**{base}/wiederkehrend/neu")
    audited_page.axe()
    page.get_by_label("Buchungstext").fill("Wartung Drucker")
    page.get_by_label("Betrag in Euro").fill("99,90")
    page.get_by_label("Rhythmus").select_option(label="vierteljährlich")
    page.get_by_label("Beginn").fill(today.isoformat())
    page.get_by_role("button", name="Anlegen").click()
    page.wait_for_url(f"**{base}/wiederkehrend")
    audited_page.axe()
    wartung = page.locator("#wiederkehrende-kosten tbody tr", has_text="Wartung Drucker")
    expect(wartung).to_contain_text(f"vierteljährlich, am {today.day}.")
    expect(wartung.locator("[data-hinweis]")).to_have_text(
        f"Entwurf für {today:%d.%m.%Y} nicht angelegt: kein Verteilungsschlüssel {today.year}"
    )

    row = page.locator("#wiederkehrende-kosten tbody tr", has_text="Miete Bauhof")
    row.get_by_role("link", name="Bearbeiten").click()
    page.wait_for_url("**/bearbeiten")
    audited_page.axe()
    expect(page.get_by_label("Betrag in Euro")).to_have_value("1.250,00")
    expect(page.get_by_label("Tag im Monat")).to_have_value("31")
