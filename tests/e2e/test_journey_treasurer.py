"""Journey 2 in a real browser: book 12.345,67 € by population, four-eyes, payment, XLSX.

Every page is audited by axe-core; the XLSX is opened with openpyxl and its numbers checked.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from koopboard.domain.catalog import Rechtsform, Role
from tests.e2e.conftest import AuditedPage, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

MERCHWEILER, ILLINGEN, EPPELBORN = "10043113", "10043112", "10043111"
YEAR = 2026


@pytest.fixture()
def books(
    register_sample: dict[str, Any],
    make_user: Callable[..., Any],
    make_cooperation: Callable[..., Any],
) -> dict[str, Any]:
    """An informal cooperation of Merchweiler (lead), Illingen and Eppelborn; two treasurers."""
    from koopboard.extensions import db

    lead = make_user(register_sample[MERCHWEILER], email="lead@merchweiler.de")
    first = make_user(register_sample[MERCHWEILER], email="kasse@merchweiler.de", name="Kim Kasse")
    second = make_user(register_sample[ILLINGEN], email="kasse@illingen.de", name="Ilse Illinger")
    coop = make_cooperation(
        lead,
        [register_sample[ILLINGEN], register_sample[EPPELBORN]],
        roles={first: Role.TREASURER, second: Role.TREASURER},
        start=date(2025, 1, 1),
    )
    coop.rechtsform = Rechtsform.ARBEITSGEMEINSCHAFT
    db.session.commit()
    return {
        "coop": coop.id,
        "first": first,
        "second": second,
        "m": {ags: register_sample[ags] for ags in (MERCHWEILER, ILLINGEN, EPPELBORN)},
    }


def _log_out(audited: AuditedPage) -> None:
    audited.page.get_by_role("button", name="Abmelden").click()
    audited.page.wait_for_url("**/anmelden**")
    audited.axe()


def test_treasurer_books_shares_gets_approval_pays_and_exports(
    audited_page: AuditedPage, books: dict[str, Any]
) -> None:
    page = audited_page.page
    base = f"/kooperationen/{books['coop']}/kosten"
    populations = {ags: m.population for ags, m in books["m"].items()}
    assert populations == {MERCHWEILER: 9872, ILLINGEN: 16122, EPPELBORN: 16615}

    log_in(audited_page, books["first"].email)
    audited_page.goto(f"{base}/schluessel/{YEAR}")
    page.get_by_label("Art des Schlüssels").select_option(label="nach Einwohnerzahl")
    page.get_by_role("button", name="Schlüssel speichern").click()
    expect(page.locator(".flash-success")).to_contain_text("Verteilungsschlüssel 2026")
    audited_page.axe()

    audited_page.goto(f"{base}/neu")
    page.get_by_label("Buchungsdatum").fill(f"{YEAR}-03-15")
    page.get_by_label("Haushaltsjahr").fill(str(YEAR))
    page.get_by_label("Buchungstext").fill("Fachverfahren Standesamt")
    page.get_by_label("Betrag in Euro").fill("12.345,67")
    page.get_by_role("button", name="Als Entwurf buchen").click()
    page.wait_for_url(re.compile(r"/kosten/\d+$"))
    audited_page.axe()
    shares = page.locator("#anteile")
    expect(shares.locator(f'[data-anteil="{MERCHWEILER}"]')).to_have_text("2.860,35\u00a0€")
    expect(shares.locator(f'[data-anteil="{ILLINGEN}"]')).to_have_text("4.671,24\u00a0€")
    expect(shares.locator(f'[data-anteil="{EPPELBORN}"]')).to_have_text("4.814,08\u00a0€")
    expect(page.locator("#anteile-summe")).to_have_text("12.345,67\u00a0€")
    cost_url = page.url
    page.get_by_role("button", name="Zur Freigabe einreichen").click()
    expect(page.locator("#kosten-status")).to_have_text("eingereicht")
    audited_page.axe()
    _log_out(audited_page)

    log_in(audited_page, books["second"].email)
    audited_page.goto(cost_url)
    page.get_by_role("button", name="Freigeben").click()
    expect(page.locator("#kosten-status")).to_have_text("freigegeben")
    audited_page.axe()

    audited_page.goto(f"{base}/zahlungen/neu?jahr={YEAR}")
    page.get_by_label("Zahlende Kommune").select_option(label=books["m"][ILLINGEN].name)
    page.get_by_label("Betrag in Euro").fill("4.671,24")
    page.get_by_role("button", name="Zahlung buchen").click()
    expect(page.locator(".flash-success")).to_have_text("Die Zahlung ist gebucht.")
    audited_page.axe()
    balances = page.locator("#saldentabelle")
    expect(balances.locator(f'[data-saldo="{ILLINGEN}"]')).to_have_text("0,00\u00a0€")
    expect(balances.locator(f'[data-saldo="{EPPELBORN}"]')).to_have_text("4.814,08\u00a0€")
    expect(balances.locator(f'[data-saldo="{MERCHWEILER}"]')).to_have_text("-4.814,08\u00a0€")
    expect(page.locator("#ausgleich")).to_contain_text(
        f"{books['m'][EPPELBORN].name} überweist 4.814,08\u00a0€ an {books['m'][MERCHWEILER].name}"
    )

    link = page.locator(f'a[href$="/{books["m"][ILLINGEN].id}.xlsx"]')
    with page.expect_download() as download:
        link.click()
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    rows = list(sheet.iter_rows(values_only=True))
    line = next(r for r in rows if r[2] == "Fachverfahren Standesamt")
    assert line[0] == YEAR
    assert Decimal(str(line[5])) == Decimal("12345.67")
    assert Decimal(str(line[6])) == Decimal("4671.24")
    totals = {r[0]: r[1] for r in rows if r and r[0] in ("Summe Anteile", "Gezahlt", "Noch offen")}
    assert Decimal(str(totals["Summe Anteile"])) == Decimal("4671.24")
    assert Decimal(str(totals["Gezahlt"])) == Decimal("4671.24")
    assert Decimal(str(totals["Noch offen"])) == Decimal("0")
