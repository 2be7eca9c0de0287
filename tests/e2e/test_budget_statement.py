"""Planansatz and statement in a real browser: the lead sets the plan, the Kämmerei's costs are
approved (four-eyes, through the services for speed), chart and table agree, the printable
statement opens and its PDF downloads. axe-core audits every page."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from koopboard.domain.catalog import Role
from koopboard.domain.money import format_eur
from tests.e2e.conftest import AuditedPage, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

MERCHWEILER, ILLINGEN, EPPELBORN = "10043113", "10043112", "10043111"
YEAR = 2026


@pytest.fixture()
def books(
    register_sample: dict[str, Any],
    make_user: Callable[..., Any],
    make_cooperation: Callable[..., Any],
) -> dict[str, Any]:
    """Merchweiler leads, Illingen and Eppelborn take part; two treasurers."""
    lead = make_user(register_sample[MERCHWEILER], email="lead@merchweiler.de", name="Lea Lead")
    first = make_user(register_sample[MERCHWEILER], email="kasse@merchweiler.de")
    second = make_user(register_sample[ILLINGEN], email="kasse@illingen.de")
    coop = make_cooperation(
        lead,
        [register_sample[ILLINGEN], register_sample[EPPELBORN]],
        roles={first: Role.TREASURER, second: Role.TREASURER},
    )
    return {"coop": coop, "lead": lead, "first": first, "second": second, "m": register_sample}


def _approved_costs(books: dict[str, Any]) -> None:
    """The first treasurer books and submits, the second approves (four-eyes)."""
    from koopboard.costs.books import services as cost_books
    from koopboard.extensions import db

    for text, category, kind, amount in (
        ("Fachverfahren Standesamt", "IT", "kosten", "12345.67"),
        ("Landeszuschuss Digitalisierung", "IT", "foerderung", "-1000.00"),
        ("Dienstreise Fortbildung", "Reisen", "kosten", "432.10"),
    ):
        cost = cost_books.book_cost(
            books["coop"],
            cost_books.CostData(
                booking_date=date(YEAR, 3, 15),
                budget_year=YEAR,
                text=text,
                category=category,
                kind=kind,
                amount=Decimal(amount),
                net_amount=None,
                vat_amount=None,
                paid_by_id=None,
            ),
            by=books["first"],
        )
        cost_books.submit_cost(cost, version=cost.version, by=books["first"])
        cost_books.approve_cost(cost, version=cost.version, by=books["second"])
    db.session.commit()


def _texts(locator: Any) -> list[str]:
    return [(t or "").strip() for t in locator.all_text_contents()]


def test_plan_against_actual_and_printable_statement(
    audited_page: AuditedPage, books: dict[str, Any]
) -> None:
    page = audited_page.page
    base = f"/kooperationen/{books['coop'].id}/kosten"

    log_in(audited_page, books["lead"].email)
    audited_page.goto(f"{base}/?jahr={YEAR}")
    page.get_by_role("link", name=f"Planansatz {YEAR}").click()
    page.wait_for_url(f"**{base}/planansatz/{YEAR}")
    audited_page.axe()
    page.get_by_label("Kategorie, Zeile 1").fill("IT")
    page.get_by_label("Planansatz in Euro, Zeile 1").fill("10.000,00")
    page.get_by_label("Kategorie, Zeile 2").fill("Personal")
    page.get_by_label("Planansatz in Euro, Zeile 2").fill("50.000")
    page.get_by_role("button", name="Planansatz speichern").click()
    expect(page.locator(".flash-success")).to_have_text(f"Der Planansatz {YEAR} ist gespeichert.")
    audited_page.axe()

    _approved_costs(books)
    audited_page.goto(f"{base}/planansatz/{YEAR}")
    table = page.locator("#plan-tabelle")
    chart = page.get_by_role("img", name=f"Planansatz und Ist {YEAR} je Kategorie")
    expect(chart).to_be_visible()
    # The same numbers in chart and table, row by row.
    plans = _texts(table.locator("tbody td.plan"))
    actuals = _texts(table.locator("tbody td.ist"))
    assert plans == [
        format_eur(Decimal("10000.00")),
        format_eur(Decimal("50000.00")),
        "kein Planansatz",
    ]
    assert actuals == [
        format_eur(Decimal("11345.67")),
        format_eur(Decimal("0.00")),
        format_eur(Decimal("432.10")),
    ]
    assert _texts(chart.locator(".chart-plan")) == plans
    assert _texts(chart.locator(".chart-amount")) == actuals
    expect(table.locator("tbody td.ausschoepfung").first).to_have_text("≈ 113,5\u00a0%")
    expect(chart.locator(".chart-ist").first).to_contain_text("(≈ 113,5\u00a0%)")
    expect(page.locator("#ist-summe")).to_have_text(format_eur(Decimal("11777.77")))
    # Bars differ by more than colour: the plan is hatched and outlined, each bar is named.
    assert chart.locator("rect.bar-plan").first.get_attribute("fill") == "url(#plan-schraffur)"
    assert _texts(chart.locator(".chart-kind"))[:2] == ["Plan", "Ist"]

    audited_page.goto(f"{base}/?jahr={YEAR}")
    illingen = books["m"][ILLINGEN]
    page.get_by_role("link", name=f"Druckansicht ({illingen.name})").click()
    page.wait_for_url(re.compile(rf"/abrechnung/{YEAR}/{illingen.id}$"))
    audited_page.axe()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Abrechnung {YEAR}: {illingen.name}")
    from koopboard.costs.books import services as cost_books

    balance = cost_books.balance_for(books["coop"].id, YEAR, illingen.id)
    expect(page.locator('[data-summe="anteile"]')).to_have_text(format_eur(balance.shares))
    expect(page.locator('[data-summe="offen"]')).to_have_text(format_eur(balance.open))
    expect(page.locator("#abrechnung-zeilen tbody tr")).to_have_count(3)
    # Printed, only the statement remains: no header, navigation or download links.
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator("#abrechnung-formate")).to_be_hidden()
    expect(page.locator("#abrechnung-zeilen")).to_be_visible()
    page.emulate_media(media="screen")
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF herunterladen").click()
    assert download.value.suggested_filename == (
        f"abrechnung-{books['coop'].id}-{YEAR}-{illingen.name.replace(' ', '-')}.pdf".replace(
            "(", "-"
        ).replace(")", "-")
    )
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


@pytest.mark.parametrize("width", [1280, 390])
def test_the_years_compared_stay_readable(
    open_page: Callable[..., AuditedPage], books: dict[str, Any], width: int
) -> None:
    from koopboard.extensions import db
    from koopboard.models.cost import CostBudget

    for year, category, amount in (
        (YEAR - 1, "IT", "9000.00"),
        (YEAR, "IT", "10000.00"),
        (YEAR, "Reisen", "500.00"),
    ):
        db.session.add(
            CostBudget(
                cooperation_id=books["coop"].id,
                budget_year=year,
                category=category,
                amount=Decimal(amount),
            )
        )
    db.session.commit()
    _approved_costs(books)
    audited = open_page(viewport={"width": width, "height": 900})
    page = audited.page
    log_in(audited, books["lead"].email)
    audited.goto(f"/kooperationen/{books['coop'].id}/kosten/planansatz/{YEAR}")
    audited.axe()
    section = page.locator("section[aria-labelledby=jahresvergleich]")
    chart = section.get_by_role("img", name="IT")
    expect(chart).to_be_visible()
    assert _texts(chart.locator(".year-value")) == [
        f"Ist {format_eur(Decimal('0.00'))} · Plan {format_eur(Decimal('9000.00'))}",
        f"Ist {format_eur(Decimal('11345.67'))} · Plan {format_eur(Decimal('10000.00'))}",
    ]
    cell = section.locator("#jahresvergleich-tabelle tbody tr").first.locator(
        f"td[data-jahr='{YEAR}']"
    )
    expect(cell.locator(".ist")).to_have_text(f"Ist {format_eur(Decimal('11345.67'))}")
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('section[aria-labelledby=jahresvergleich] svg text')]
            .map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)"""
    )
    assert sizes and min(sizes) >= 12, f"labels as small as {min(sizes):.1f} px"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
