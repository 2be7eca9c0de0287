"""Statements a Kämmerei can send (issue 17.8): the paying municipality's letterhead and
bank details (entered once, by its own Kämmerei), the year's due date and Kassenzeichen on
every statement, and the Sammelabrechnung of all partners (one PDF, a page each; one
XLSX, a sheet each)."""

# ruff: noqa: F811 (the books fixture is imported, then requested by name)
from __future__ import annotations

import io

from openpyxl import load_workbook
from pypdf import PdfReader

from koopboard.extensions import db
from koopboard.models import HistoryEntry, Municipality, StatementTerms
from tests.web.test_cost_four_eyes import _approved
from tests.web.test_costs import YEAR, books  # noqa: F401

IBAN = "DE89 3704 0044 0532 0130 00"  # the standard example IBAN (valid check digits)


def _details(client, books, **overrides: str):  # noqa: ANN001, ANN202, F811
    data = {
        "brief-letter_address": "Gemeindeverwaltung Merchweiler\nHauptstraße 1\n66589 Merchweiler",
        "brief-letter_contact": "Kämmerei, Tel. 06825 955-0",
        "brief-iban": IBAN,
        "brief-bic": "COKSDE33XXX",
        "brief-bank_name": "Sparkasse Neunkirchen",
        "due_date": f"31.01.{YEAR + 1}",
        "reference": f"KZ-{YEAR}-17",
        "version": "",
        **overrides,
    }
    return client.post(f"{books['base']}/abrechnung/{YEAR}/angaben", data=data)


def test_the_paying_offices_kaemmerei_enters_letterhead_and_terms(books, login_as, client) -> None:  # noqa: ANN001, F811
    _approved(books, login_as, client)  # signed in as t2 (Illingen) now
    client.post("/abmelden")
    t1 = login_as(books["t1"])  # Merchweiler: the lead, the paying office
    bad = _details(t1, books, **{"brief-iban": "DE89 3704 0044 0532 0130 01"})
    assert bad.status_code == 400
    assert "Diese IBAN ist nicht gültig" in bad.get_data(as_text=True)
    assert db.session.query(StatementTerms).count() == 0  # nothing half-written
    assert _details(t1, books).status_code == 302
    db.session.expire_all()
    merchweiler = db.session.get(Municipality, books["m"]["merchweiler"].id)
    assert merchweiler.iban == "DE89370400440532013000" and merchweiler.bic == "COKSDE33XXX"
    assert db.session.query(HistoryEntry).filter_by(record_type="StatementTerms").count() >= 2

    illingen = books["m"]["illingen"]
    page = t1.get(f"{books['base']}/abrechnung/{YEAR}/{illingen.id}").get_data(as_text=True)
    assert "Hauptstraße 1" in page and "Sparkasse Neunkirchen" in page
    assert "Zu überweisen" in page and "4.671,24\u00a0€ an Merchweiler" in page
    assert "DE89 3704 0044 0532 0130 00" in page
    assert f"KZ-{YEAR}-17-{illingen.ags}" in page and f"31.01.{YEAR + 1}" in page

    pdf = t1.get(f"{books['base']}/abrechnung/{YEAR}/{illingen.id}.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Zahlungsangaben" in text and f"KZ-{YEAR}-17-{illingen.ags}" in text


def test_a_partners_kaemmerei_cannot_change_the_paying_offices_bank(
    books, login_as, client
) -> None:  # noqa: ANN001, F811
    t2 = login_as(books["t2"])  # Illingen: a partner, not the paying office
    page = t2.get(f"{books['base']}/abrechnung/{YEAR}/angaben").get_data(as_text=True)
    assert 'name="brief-iban"' not in page and "pflegt die Kämmerei von Merchweiler" in page
    assert _details(t2, books, **{"brief-iban": IBAN}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Municipality, books["m"]["merchweiler"].id).iban == ""  # untouched
    assert db.session.query(StatementTerms).one().reference == f"KZ-{YEAR}-17"
    client.post("/abmelden")
    member = login_as(books["member"])
    assert member.get(f"{books['base']}/abrechnung/{YEAR}/angaben").status_code == 403


def test_sammelabrechnung_has_a_page_and_a_sheet_per_partner(books, login_as, client) -> None:  # noqa: ANN001, F811
    _approved(books, login_as, client)
    pdf = client.get(f"{books['base']}/abrechnung/{YEAR}/alle.pdf")
    assert pdf.status_code == 200 and pdf.headers["Cache-Control"] == "no-store"
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages]
    names = ["Eppelborn", "Illingen", "Merchweiler"]
    assert len(pages) == 3
    for name in names:
        assert sum(f"Abrechnung {YEAR}: {name}" in text for text in pages) == 1
    xlsx = client.get(f"{books['base']}/abrechnung/{YEAR}/alle.xlsx")
    book = load_workbook(io.BytesIO(xlsx.data))
    assert sorted(book.sheetnames) == names
    sheet = book["Illingen"]
    rows = list(sheet.iter_rows(values_only=True))
    assert ("Kommune", "Illingen") == rows[1][:2]
