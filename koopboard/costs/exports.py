"""A partner's statement of one budget year as CSV and XLSX, exact to the cent.

CSV: semicolon, UTF-8 with BOM, decimal comma — what Excel in a German office opens
correctly. XLSX: real numeric cells with the format ``#,##0.00 "€"`` (openpyxl).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Font

from koopboard.costs.services import PartnerBalance, StatementLine
from koopboard.models import Cooperation
from koopboard.models.cost import Payment

EURO_FORMAT = '#,##0.00 "€"'
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _comma(amount: Decimal) -> str:
    """1234.5 → "1234,50" (no thousands separator: spreadsheets read it as a number)."""
    return f"{amount:.2f}".replace(".", ",")


def _filename(cooperation: Cooperation, year: int, balance: PartnerBalance, ext: str) -> str:
    name = "".join(ch if ch.isalnum() else "-" for ch in balance.municipality.name)
    return f"abrechnung-{cooperation.id}-{year}-{name}.{ext}"


def _attachment(cooperation: Cooperation, year: int, balance: PartnerBalance, ext: str) -> str:
    """Always a download, never shown inline."""
    return f'attachment; filename="{_filename(cooperation, year, balance, ext)}"'


def _payment_rows(balance: PartnerBalance, payments: Sequence[Payment]) -> list[tuple]:
    """Payments as (date, text, amount) seen from the partner: paid positive, received negative."""
    rows = []
    for p in payments:
        if p.municipality_id == balance.municipality.id:
            other = p.recipient.name if p.recipient else ""
            rows.append((p.paid_on, f"{p.kind.label} an {other} {p.note}".strip(), p.amount))
        else:
            rows.append((p.paid_on, f"{p.kind.label} von {p.municipality.name}", -p.amount))
    return rows


def to_csv(
    cooperation: Cooperation,
    year: int,
    balance: PartnerBalance,
    lines: Sequence[StatementLine],
    payments: Sequence[Payment],
) -> Response:
    """The statement as CSV (semicolon, UTF-8 with BOM, decimal comma)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    who = balance.municipality
    writer.writerow(["Abrechnung", cooperation.title])
    writer.writerow(["Kommune", who.name, "AGS", who.ags])
    writer.writerow(["Haushaltsjahr", year])
    writer.writerow([])
    writer.writerow(
        ["Haushaltsjahr", "Buchungsdatum", "Text", "Kategorie", "Art", "Betrag", "Anteil"]
    )
    for line in lines:
        writer.writerow(
            [
                year,
                line.booking_date.strftime("%d.%m.%Y"),
                line.text,
                line.category,
                line.kind,
                _comma(line.amount),
                _comma(line.share),
            ]
        )
    writer.writerow([])
    writer.writerow(["Haushaltsjahr", "Zahlungsdatum", "Zahlung", "Betrag"])
    for day, text, amount in _payment_rows(balance, payments):
        writer.writerow([year, day.strftime("%d.%m.%Y"), text, _comma(amount)])
    writer.writerow([])
    writer.writerow(["Summe Anteile", _comma(balance.shares)])
    writer.writerow(["Vorleistungen", _comma(balance.outlays)])
    writer.writerow(["Gezahlt", _comma(balance.paid)])
    writer.writerow(["Erhalten", _comma(balance.received)])
    writer.writerow(["Noch offen", _comma(balance.open)])
    body = "\ufeff" + out.getvalue()
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Disposition": _attachment(cooperation, year, balance, "csv"),
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


def to_xlsx(
    cooperation: Cooperation,
    year: int,
    balance: PartnerBalance,
    lines: Sequence[StatementLine],
    payments: Sequence[Payment],
) -> Response:
    """The statement as XLSX with real numeric cells in euro format."""
    book = Workbook()
    sheet = book.active
    sheet.title = f"Abrechnung {year}"
    bold = Font(bold=True)
    who = balance.municipality
    row = 0

    def put(
        values: Sequence[object], *, formats: dict[int, str] | None = None, head: bool = False
    ) -> None:
        # Counting rows ourselves: ``sheet.max_row`` scans every cell (quadratic for 50,000 rows).
        nonlocal row
        row += 1
        for column, value in enumerate(values, 1):
            cell = sheet.cell(row=row, column=column, value=value)
            if head:
                cell.font = bold
            if formats and column in formats:
                cell.number_format = formats[column]

    put(["Abrechnung", cooperation.title])
    put(["Kommune", who.name, "AGS", who.ags])
    put(["Haushaltsjahr", year])
    put([])
    put(
        ["Haushaltsjahr", "Buchungsdatum", "Text", "Kategorie", "Art", "Betrag", "Anteil"],
        head=True,
    )
    line_formats = {2: "DD.MM.YYYY", 6: EURO_FORMAT, 7: EURO_FORMAT}
    for line in lines:
        put(
            [year, line.booking_date, line.text, line.category, line.kind, line.amount, line.share],
            formats=line_formats,
        )
    put([])
    put(["Haushaltsjahr", "Zahlungsdatum", "Zahlung", "Betrag"], head=True)
    for day, text, amount in _payment_rows(balance, payments):
        put([year, day, text, amount], formats={2: "DD.MM.YYYY", 4: EURO_FORMAT})
    put([])
    for label, value in (
        ("Summe Anteile", balance.shares),
        ("Vorleistungen", balance.outlays),
        ("Gezahlt", balance.paid),
        ("Erhalten", balance.received),
        ("Noch offen", balance.open),
    ):
        put([label, value], formats={2: EURO_FORMAT})
        sheet.cell(row=row, column=1).font = bold
    for column, width in zip("ABCDEFG", (16, 14, 40, 16, 12, 16, 16), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return Response(
        out.getvalue(),
        mimetype=XLSX_TYPE,
        headers={"Content-Disposition": _attachment(cooperation, year, balance, "xlsx")},
    )
