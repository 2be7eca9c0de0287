"""A partner's statement as a printable page and as PDF: the same exact amounts as XLSX/CSV."""

from __future__ import annotations

import io
import re
import time
from datetime import date
from decimal import Decimal
from html import unescape

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import insert, select

from koopboard.costs.books import services as cost_books
from koopboard.costs.keys import services as cost_keys
from koopboard.costs.statements import services as cost_statements
from koopboard.costs.statements.pdf import pdf_text
from koopboard.domain.catalog import Role
from koopboard.domain.money import format_eur
from koopboard.extensions import db
from koopboard.models.cost import Cost, CostKind, CostShare, CostState, PaymentKind

YEAR = 2026
NBSP = "\u00a0"
# A German euro amount as format_eur writes it; PDF text may carry the NBSP as a space.
AMOUNT = re.compile(r"-?\d{1,3}(?:\.\d{3})*,\d{2}[\s\u00a0]€")


@pytest.fixture()
def books(make_municipality, make_user, make_cooperation):  # noqa: ANN001, ANN201
    """Merchweiler leads, Illingen and Eppelborn take part; costs approved, one payment."""
    merchweiler = make_municipality("Merchweiler", "10043113", population=9872)
    illingen = make_municipality("Illingen", "10043112", population=16122)
    eppelborn = make_municipality("Eppelborn", "10043111", population=16615)
    lead = make_user(merchweiler)
    kasse = make_user(merchweiler)
    zweite = make_user(illingen)
    member = make_user(eppelborn)
    coop = make_cooperation(
        lead,
        [illingen, eppelborn],
        title="Gemeinsames Standesamt Illtal",
        roles={kasse: Role.TREASURER, zweite: Role.TREASURER, member: Role.MEMBER},
    )
    key = cost_keys.KeyData(kind="einwohner")
    for m in (merchweiler, illingen, eppelborn):
        key.entries.append(
            cost_keys.EntryData(
                municipality_id=m.id,
                population=m.population,
                population_date=date(2019, 12, 31),
                population_source="Test",
            )
        )
    cost_keys.save_key(coop, YEAR, key, version=None)
    for text, category, kind, amount in (
        ("Fachverfahren Standesamt", "IT", "kosten", "12345.67"),
        ("Gebühr für Straßenreinigung „Nord“ – Öl & Maß", "Sachkosten", "kosten", "1000.00"),
        ("Landeszuschuss", "Förderung", "foerderung", "-2500.01"),
        ("Entwurf zählt nicht", "IT", "kosten", "999.99"),
    ):
        cost = cost_books.book_cost(
            coop,
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
            by=kasse,
        )
        if not text.startswith("Entwurf"):
            cost.state = CostState.FREIGEGEBEN
            cost.submitted_by_id = kasse.id
            cost.approved_by_id = zweite.id
    cost_books.book_payment(
        coop,
        cost_books.PaymentData(
            paid_on=date(YEAR, 4, 1),
            budget_year=YEAR,
            municipality_id=illingen.id,
            recipient_id=None,
            kind=PaymentKind.ABSCHLAG.value,
            amount=Decimal("4000.00"),
            note="",
        ),
        by=kasse,
    )
    db.session.flush()
    cost_books.rebuild_balances(coop.id, YEAR)  # approved above by setting the state directly
    db.session.commit()
    base = f"/kooperationen/{coop.id}/kosten/abrechnung/{YEAR}/{illingen.id}"
    return {"coop": coop, "illingen": illingen, "member": member, "kasse": kasse, "base": base}


def _expected(books: dict) -> list[Decimal]:
    """Every amount of Illingen's statement, in the order page and PDF show them."""
    coop, who = books["coop"], books["illingen"]
    balance = cost_books.balance_for(coop.id, YEAR, who.id)
    lines = cost_statements.statement_lines(coop.id, YEAR, who.id)
    amounts = [balance.shares, balance.outlays, balance.paid, balance.received, balance.open]
    for line in lines:
        amounts += [line.amount, line.share]
    amounts += [sum(line.amount for line in lines), sum(line.share for line in lines)]
    amounts.append(Decimal("4000.00"))  # the payment
    return amounts


def _amounts(text: str) -> list[str]:
    return [a.replace(NBSP, " ") for a in AMOUNT.findall(text)]


def _eur(amounts: list[Decimal]) -> list[str]:
    return [format_eur(Decimal(a)).replace(NBSP, " ") for a in amounts]


def test_printable_page_shows_the_statement(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["member"])  # every role reads
    response = client.get(books["base"])
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    main = unescape(body[body.index('<dl class="facts"') : body.index("</main>")])
    # The payment details repeat what is still open (103,68 € to the paying office).
    payment = main[main.index('<section aria-labelledby="zahlungsangaben">') :]
    payment = payment[: payment.index("</section>") + len("</section>")]
    assert _amounts(payment) == ["103,68 €"] and "Zu überweisen" in payment
    main = main.replace(payment, "")
    expected = _expected(books)
    assert _amounts(main) == _eur(expected)
    # Illingen: 4.671,24 + 378,37 − 945,93 of the shares, 4.000 paid: 103,68 still open.
    assert expected[6:11:2] == [Decimal("4671.24"), Decimal("378.37"), Decimal("-945.93")]
    assert expected[0] == Decimal("4103.68") and expected[4] == Decimal("103.68")
    assert f'data-summe="offen"><strong>103,68{NBSP}€' in body
    assert "Gebühr für Straßenreinigung „Nord“ – Öl & Maß" in main
    assert "Entwurf zählt nicht" not in main
    assert "Einwohner" in main  # the key described
    assert "Erstellt am" in main and "AGS 10043112" in main
    for suffix in (".pdf", ".xlsx", ".csv"):
        assert f'href="{books["base"]}{suffix}"' in body
    index = client.get(f"/kooperationen/{books['coop'].id}/kosten/?jahr={YEAR}")
    assert f'href="{books["base"]}"' in index.get_data(as_text=True)
    assert f'href="{books["base"]}.pdf"' in index.get_data(as_text=True)


def test_pdf_has_the_same_exact_amounts_as_the_page_and_the_xlsx(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["kasse"])
    response = client.get(books["base"] + ".pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition == (
        f'attachment; filename="abrechnung-{books["coop"].id}-{YEAR}-Illingen.pdf"'
    )
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    # The payment details repeat what is still open (103,68 € to the paying office).
    head, rest = text.split("Zahlungsangaben", 1)
    payment, tail = rest.split("Anteile an freigegebenen", 1)
    assert _amounts(payment) == ["103,68 €"] and "Zu überweisen" in payment
    text = head + "Anteile an freigegebenen" + tail
    expected = _expected(books)
    assert _amounts(text) == _eur(expected)
    assert "Gebühr für Straßenreinigung „Nord“ – Öl & Maß" in " ".join(text.split()), text
    assert "Abrechnung 2026: Illingen" in text and "Seite 1 von 1" in text
    assert "Entwurf zählt nicht" not in text
    assert reader.metadata.title.startswith("Abrechnung 2026")

    # The XLSX holds the same Decimal values.
    sheet = load_workbook(io.BytesIO(client.get(books["base"] + ".xlsx").data)).active
    rows = list(sheet.iter_rows(values_only=True))
    shares = [Decimal(str(r[6])) for r in rows if len(r) > 6 and isinstance(r[6], float | int)]
    db_shares = db.session.scalars(
        select(CostShare.amount)
        .join(Cost, Cost.id == CostShare.cost_id)
        .where(
            CostShare.municipality_id == books["illingen"].id,
            Cost.state == CostState.FREIGEGEBEN,
        )
        .order_by(Cost.booking_date, Cost.id)
    ).all()
    assert shares == db_shares == expected[6:11:2]


def test_statement_of_a_non_partner_or_an_odd_year_is_not_found(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["member"])
    other = books["base"].rsplit("/", 1)[0] + "/987654"
    assert client.get(other).status_code == 404
    assert client.get(other + ".pdf").status_code == 404
    assert client.get(books["base"].replace(f"/{YEAR}/", "/1800/")).status_code == 404


def test_pdf_text_keeps_german_and_replaces_what_winansi_lacks() -> None:
    assert pdf_text("Gebühr „Maß“ – 12,00 € … ß") == "Gebühr „Maß“ – 12,00 € … ß"
    assert pdf_text("Łódź −5") == "?ódz -5"
    assert pdf_text("Kooperation ≈ Zusammenarbeit") == "Kooperation ? Zusammenarbeit"
    assert pdf_text("Zeile\tmit\nUmbruch") == "Zeile mit Umbruch"


def test_fifty_thousand_lines_make_a_pdf_in_reasonable_time(
    make_municipality,  # noqa: ANN001
    make_user,  # noqa: ANN001
    make_cooperation,  # noqa: ANN001
    login_as,  # noqa: ANN001
) -> None:
    first = make_municipality("Erstdorf")
    second = make_municipality("Zweitdorf")
    kasse = make_user(first)
    coop = make_cooperation(kasse, [second], roles={})
    rows = [
        {
            "cooperation_id": coop.id,
            "budget_year": YEAR,
            "booking_date": date(YEAR, 1 + n % 12, 1 + n % 28),
            "text": f"Rechnung {n} über Wartung und Pflege der gemeinsamen Fachanwendung",
            "category": "IT",
            "kind": CostKind.KOSTEN,
            "amount": Decimal(100 + n) + Decimal("0.01"),
            "state": CostState.FREIGEGEBEN,
            "version": 1,
        }
        for n in range(50_000)
    ]
    ids = db.session.scalars(insert(Cost).returning(Cost.id), rows).all()
    db.session.execute(
        insert(CostShare),
        [
            {
                "cost_id": cost_id,
                "municipality_id": second.id,
                "amount": row["amount"] - Decimal("50.00"),
                "weight": Decimal(1),
                "explanation": "",
            }
            for cost_id, row in zip(ids, rows, strict=True)
        ],
    )
    cost_books.rebuild_balances(coop.id, YEAR)  # inserted around the booking service
    db.session.commit()
    client = login_as(kasse)
    # CPU time, not wall time: the suite runs beside other work on two cores.
    started = time.process_time()
    response = client.get(f"/kooperationen/{coop.id}/kosten/abrechnung/{YEAR}/{second.id}.pdf")
    elapsed = time.process_time() - started
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.data))
    pages = len(reader.pages)
    assert pages > 500
    last = reader.pages[-1].extract_text()
    assert f"Seite {pages} von {pages}" in last
    total = sum((row["amount"] - Decimal("50.00") for row in rows), Decimal("0.00"))
    assert format_eur(total).replace(NBSP, " ") in _amounts(
        "\n".join(p.extract_text() for p in reader.pages[-3:])
    )
    assert elapsed < 40, f"{elapsed:.1f} s CPU for 50,000 lines"  # about 10 s on a quiet machine

    started = time.process_time()
    page = client.get(f"/kooperationen/{coop.id}/kosten/abrechnung/{YEAR}/{second.id}")
    elapsed = time.process_time() - started
    assert page.status_code == 200
    assert page.get_data(as_text=True).count("<tr>") > 50_000
    assert elapsed < 40, f"{elapsed:.1f} s CPU for the printable page of 50,000 lines"
