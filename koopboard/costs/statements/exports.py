"""A partner's statement of one budget year as CSV and XLSX, exact to the cent.

CSV: semicolon, UTF-8 with BOM, decimal comma — what Excel in a German office opens
correctly. XLSX: real numeric cells with the format ``#,##0.00 "€"`` and dates as
``DD.MM.YYYY``.

Both are built for 50,000 lines in well under a second each (``bench/bench_costs.py``
prints the figures): the CSV through the C ``csv`` writer with German date and decimal
strings computed once per distinct value; the XLSX streamed as SpreadsheetML text into
the zip, a row per formatted string. openpyxl builds a Python object per cell and
serialises each through ElementTree, even in write-only mode, which took about 10 s
here; its reader is what the tests use to check the files.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal

# Only escapes text for the XML it writes; nothing is parsed (bandit's B406 is about parsing).
from xml.sax.saxutils import escape, quoteattr  # nosec B406

from flask import Response

from koopboard import csvsafe
from koopboard.costs.books.services import PartnerBalance
from koopboard.costs.statements.services import StatementLine, payment_rows
from koopboard.models import Cooperation
from koopboard.models.cost import Payment

EURO_FORMAT = '#,##0.00 "€"'
DATE_FORMAT = "DD.MM.YYYY"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LINE_HEADER = ["Haushaltsjahr", "Buchungsdatum", "Text", "Kategorie", "Art", "Betrag", "Anteil"]
PAYMENT_HEADER = ["Haushaltsjahr", "Zahlungsdatum", "Zahlung", "Betrag"]


def _comma(amount: Decimal) -> str:
    """1234.5 → "1234,50" (no thousands separator: spreadsheets read it as a number)."""
    return f"{amount:.2f}".replace(".", ",")


def _totals(balance: PartnerBalance) -> list[tuple[str, Decimal]]:
    """The closing block of both formats."""
    return [
        ("Summe Anteile", balance.shares),
        ("Vorleistungen", balance.outlays),
        ("Gezahlt", balance.paid),
        ("Erhalten", balance.received),
        ("Noch offen", balance.open),
    ]


def _filename(cooperation: Cooperation, year: int, balance: PartnerBalance, ext: str) -> str:
    name = "".join(ch if ch.isalnum() else "-" for ch in balance.municipality.name)
    return f"abrechnung-{cooperation.id}-{year}-{name}.{ext}"


def attachment(cooperation: Cooperation, year: int, balance: PartnerBalance, ext: str) -> str:
    """Always a download, never shown inline."""
    return f'attachment; filename="{_filename(cooperation, year, balance, ext)}"'


def to_csv(
    cooperation: Cooperation,
    year: int,
    balance: PartnerBalance,
    lines: Sequence[StatementLine],
    payments: Sequence[Payment],
) -> Response:
    """The statement as CSV (semicolon, UTF-8 with BOM, decimal comma)."""
    return Response(
        csv_bytes(cooperation, year, balance, lines, payments),
        mimetype="text/csv",
        headers={
            "Content-Disposition": attachment(cooperation, year, balance, "csv"),
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


def csv_bytes(
    cooperation: Cooperation,
    year: int,
    balance: PartnerBalance,
    lines: Sequence[StatementLine],
    payments: Sequence[Payment],
) -> bytes:
    """The CSV file's content."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csvsafe.writer(out, delimiter=";", lineterminator="\r\n")
    who = balance.municipality
    writer.writerow(["Abrechnung", cooperation.title])
    writer.writerow(["Kommune", who.name, "AGS", who.ags])
    writer.writerow(["Haushaltsjahr", year])
    writer.writerow([])
    writer.writerow(LINE_HEADER)
    days: dict[date, str] = {}  # a year has at most 366 distinct dates: format each once
    for line in lines:
        day = line.booking_date
        text = days.get(day)
        if text is None:
            text = days[day] = day.strftime("%d.%m.%Y")
        writer.writerow(
            (
                year,
                text,
                line.text,
                line.category,
                line.kind,
                f"{line.amount:.2f}".replace(".", ","),
                f"{line.share:.2f}".replace(".", ","),
            )
        )
    writer.writerow([])
    writer.writerow(PAYMENT_HEADER)
    for day, text, amount in payment_rows(balance, payments):
        writer.writerow([year, day.strftime("%d.%m.%Y"), text, _comma(amount)])
    writer.writerow([])
    for label, value in _totals(balance):
        writer.writerow([label, _comma(value)])
    return out.getvalue().encode("utf-8")


def to_xlsx(
    cooperation: Cooperation,
    year: int,
    balance: PartnerBalance,
    lines: Sequence[StatementLine],
    payments: Sequence[Payment],
) -> Response:
    """The statement as XLSX with real numeric cells in euro format."""
    return Response(
        xlsx_bytes(cooperation, year, balance, lines, payments),
        mimetype=XLSX_TYPE,
        headers={"Content-Disposition": attachment(cooperation, year, balance, "xlsx")},
    )


# --- XLSX (SpreadsheetML written directly) ---------------------------------------------------

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_DATE, _EURO, _BOLD = 1, 2, 3  # cell style indices in _styles()
_EPOCH = date(1899, 12, 30).toordinal()  # Excel's day 0 (serial numbers of the 1900 system)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0
_IS = '<is><t xml:space="preserve">'  # an inline string keeps its spaces
_CHUNK = 5000  # rows per write into the zip stream
_WIDTHS = (16, 14, 40, 16, 12, 16, 16)
_COLUMNS = "ABCDEFG"
_STATIC = {
    "[Content_Types].xml": (
        f'{_XML}<Types xmlns="{_PKG}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.styles+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'{_XML}<Relationships xmlns="{_PKG}/relationships"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'{_XML}<Relationships xmlns="{_PKG}/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
    ),
    "xl/styles.xml": (
        f'{_XML}<styleSheet xmlns="{_MAIN}"><numFmts count="2">'
        f'<numFmt numFmtId="164" formatCode={quoteattr(DATE_FORMAT)}/>'
        f'<numFmt numFmtId="165" formatCode={quoteattr(EURO_FORMAT)}/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        '</cellStyleXfs><cellXfs count="4">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '</cellXfs><cellStyles count="1"><cellStyle name="Standard" xfId="0" builtinId="0"/>'
        "</cellStyles></styleSheet>"
    ),
}


def _text(value: str) -> str:
    """A string as XML character data (escaped, characters XML forbids dropped)."""
    return escape(_NOT_XML.sub("", value))


def _cell(ref: str, value: object, style: int = 0) -> str:
    """One cell of a header, payment or total row (the 50,000 lines are inlined below)."""
    s = f' s="{style}"' if style else ""
    if value is None:
        return ""
    if isinstance(value, str):
        return (
            f'<c r="{ref}" t="inlineStr"{s}><is><t xml:space="preserve">{_text(value)}</t></is></c>'
        )
    if isinstance(value, date):
        return f'<c r="{ref}"{s}><v>{value.toordinal() - _EPOCH}</v></c>'
    if isinstance(value, Decimal):
        return f'<c r="{ref}"{s}><v>{value:f}</v></c>'
    return f'<c r="{ref}"{s}><v>{value}</v></c>'


def _row(number: int, values: Iterable[object], styles: Sequence[int] = ()) -> str:
    cells = "".join(
        _cell(f"{column}{number}", value, styles[i] if i < len(styles) else 0)
        for i, (column, value) in enumerate(zip(_COLUMNS, values, strict=False))
    )
    return f'<row r="{number}">{cells}</row>'


def xlsx_bytes(
    cooperation: Cooperation,
    year: int,
    balance: PartnerBalance,
    lines: Sequence[StatementLine],
    payments: Sequence[Payment],
) -> bytes:
    """The XLSX file's content: one sheet "Abrechnung <year>", streamed row by row."""
    return _book([(f"Abrechnung {year}", (cooperation, year, balance, lines, payments))])


def xlsx_all_bytes(
    cooperation: Cooperation,
    year: int,
    parts: Sequence[tuple[PartnerBalance, Sequence[StatementLine], Sequence[Payment]]],
) -> bytes:
    """The Sammelabrechnung: one sheet per partner, named after it (Excel allows 31 chars)."""
    sheets = []
    used: set[str] = set()
    for balance, lines, payments in parts:
        name = re.sub(r"[\\/*?:\[\]]", "-", balance.municipality.name)[:31]
        while name in used:  # two partners of the same name: the AGS tells them apart
            name = f"{name[:22]} {balance.municipality.ags}"
        used.add(name)
        sheets.append((name, (cooperation, year, balance, lines, payments)))
    return _book(sheets)


def _book(sheets: Sequence[tuple[str, tuple]]) -> bytes:
    """A workbook with the given statement sheets."""
    out = io.BytesIO()
    count = len(sheets)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, count + 1)
    )
    static = dict(_STATIC)
    static["[Content_Types].xml"] = static["[Content_Types].xml"].replace(
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>',
        overrides,
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, count + 1)
    )
    static["xl/_rels/workbook.xml.rels"] = (
        f'{_XML}<Relationships xmlns="{_PKG}/relationships">{rels}'
        f'<Relationship Id="rId{count + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
        "</Relationships>"
    )
    entries = "".join(
        f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>'
        for i, (name, _) in enumerate(sheets, 1)
    )
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        for name, content in static.items():
            book.writestr(name, content)
        book.writestr(
            "xl/workbook.xml",
            f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{entries}'
            "</sheets></workbook>",
        )
        for i, (_name, args) in enumerate(sheets, 1):
            _write_sheet(book, f"xl/worksheets/sheet{i}.xml", *args)
    return out.getvalue()


def _write_sheet(
    book: zipfile.ZipFile,
    path: str,
    cooperation: Cooperation,
    year: int,
    balance: PartnerBalance,
    lines: Sequence[StatementLine],
    payments: Sequence[Payment],
) -> None:
    """One partner's statement as a worksheet, streamed row by row."""
    who = balance.municipality
    paid = payment_rows(balance, payments)
    totals = _totals(balance)
    last = 5 + len(lines) + 2 + len(paid) + 1 + len(totals)
    head = [
        _row(1, ["Abrechnung", cooperation.title]),
        _row(2, ["Kommune", who.name, "AGS", who.ags]),
        _row(3, ["Haushaltsjahr", year]),
        _row(5, LINE_HEADER, [_BOLD] * 7),
    ]
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{width}" customWidth="1"/>'
        for i, width in enumerate(_WIDTHS, 1)
    )
    with book.open(path, "w", force_zip64=True) as sheet:
        sheet.write(
            f'{_XML}<worksheet xmlns="{_MAIN}"><dimension ref="A1:G{last}"/>'
            f"<cols>{cols}</cols><sheetData>{''.join(head)}".encode()
        )
        for chunk in _line_rows(year, lines, 6):
            sheet.write(chunk.encode())
        number = 6 + len(lines) + 1
        tail = [_row(number, PAYMENT_HEADER, [_BOLD] * 4)]
        for day, text, amount in paid:
            number += 1
            tail.append(_row(number, [year, day, text, amount], [0, _DATE, 0, _EURO]))
        number += 1
        for label, value in totals:
            number += 1
            tail.append(_row(number, [label, value], [_BOLD, _EURO]))
        sheet.write(f"{''.join(tail)}</sheetData></worksheet>".encode())


def _line_rows(year: int, lines: Sequence[StatementLine], first: int) -> Iterator[str]:
    """The statement lines as rows from row ``first`` on, in chunks: one f-string per line."""
    words: dict[str, str] = {}  # categories and kinds repeat: escape each once
    rows = []
    for number, line in enumerate(lines, first):
        category = words.get(line.category)
        if category is None:
            category = words[line.category] = _text(line.category)
        kind = words.get(line.kind)
        if kind is None:
            kind = words[line.kind] = _text(line.kind)
        rows.append(
            f'<row r="{number}"><c r="A{number}"><v>{year}</v></c>'
            f'<c r="B{number}" s="1"><v>{line.booking_date.toordinal() - _EPOCH}</v></c>'
            f'<c r="C{number}" t="inlineStr">{_IS}{_text(line.text)}</t></is></c>'
            f'<c r="D{number}" t="inlineStr">{_IS}{category}</t></is></c>'
            f'<c r="E{number}" t="inlineStr">{_IS}{kind}</t></is></c>'
            f'<c r="F{number}" s="2"><v>{line.amount:f}</v></c>'
            f'<c r="G{number}" s="2"><v>{line.share:f}</v></c></row>'
        )
        if len(rows) == _CHUNK:
            yield "".join(rows)
            rows.clear()
    yield "".join(rows)
