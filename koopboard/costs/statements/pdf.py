"""A partner's statement (Abrechnung) as an A4 PDF.

It shows the numbers the page and the CSV and XLSX exports show (``services.Statement``):
the same approved cost lines, the same payment rows, the same balance, every amount
formatted by ``format_eur`` from the stored Decimal. The PDF is drawn with ReportLab's
canvas and its standard Helvetica (WinAnsi: €, ä, ö, ü, ß and „“ are in it), laid out once
and then drawn page by page, so 50,000 lines stay linear in time.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import getFont
from reportlab.pdfgen.canvas import Canvas

from koopboard.costs.statements.services import Statement, german_value, payment_details
from koopboard.domain.money import format_eur

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 48.0
TOP = PAGE_HEIGHT - MARGIN - 28  # below the running head
BOTTOM = MARGIN + 20  # above the footer
FONT, BOLD = "Helvetica", "Helvetica-Bold"
SIZE = 8.5
LEADING = 10.5
# Buchungsdatum, Text, Kategorie, Art, Betrag, Anteil (sum: the text width between margins)
COLUMNS = (50.0, 166.0, 72.0, 48.0, 81.0, 82.27)
PAYMENT_COLUMNS = (50.0, 367.0, 82.27)  # Zahlungsdatum, Zahlung, Betrag
PAD = 3.0


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # tabs, line breaks: no glyphs in a PDF line


def pdf_text(text: str) -> str:
    """Text the standard fonts can show (WinAnsi): other letters lose their accents, and
    what has no counterpart becomes "?" (the HTML page and the exports keep the original)."""
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", text).replace("\u2212", "-"))
    try:
        text.encode("cp1252")
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for ch in text:
        try:
            ch.encode("cp1252")
            out.append(ch)
        except UnicodeEncodeError:
            base = "".join(
                c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
            )
            try:
                base.encode("cp1252")
                out.append(base or "?")
            except UnicodeEncodeError:
                out.append("?")
    return "".join(out)


@cache
def _glyph_widths(font: str) -> tuple[int, ...]:
    """The standard font's 256 glyph widths (1/1000 em) in its WinAnsi encoding."""
    return tuple(getFont(font).widths)


def text_width(text: str, font: str, size: float) -> float:
    """Width of ``text`` (already ``pdf_text``) in points; a table lookup per byte, which
    is what keeps 50,000 lines fast (ReportLab's own stringWidth is far slower per call)."""
    return sum(map(_glyph_widths(font).__getitem__, text.encode("cp1252"))) * size / 1000


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy word wrap; a word wider than the column is broken where it must."""
    if text_width(text, font, size) <= width:
        return [text]
    space = text_width(" ", font, size)
    lines: list[str] = []
    current, used = "", 0.0
    for word in text.split(" "):
        need = text_width(word, font, size)
        if current and used + space + need <= width:
            current, used = f"{current} {word}", used + space + need
            continue
        if current:
            lines.append(current)
        while need > width and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and text_width(word[:cut], font, size) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
            need = text_width(word, font, size)
        current, used = word, need
    if current or not lines:
        lines.append(current)
    return lines


class Ink:
    """Draws one page: all text through one text object, rules collected and drawn once."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.text = canvas.beginText()
        self.current: tuple[str, float] | None = None
        self.rules: list[tuple[float, float, float, float]] = []

    def font(self, name: str, size: float) -> None:
        if self.current != (name, size):
            self.text.setFont(name, size)
            self.current = (name, size)

    def left(self, x: float, y: float, text: str) -> None:
        self.text.setTextOrigin(x, y)
        self.text.textOut(text)

    def right(self, x: float, y: float, text: str) -> None:
        if self.current is None:
            raise RuntimeError("set a font before right-aligned text")
        self.left(x - text_width(text, *self.current), y, text)

    def rule(self, y: float) -> None:
        self.rules.append((MARGIN, y, PAGE_WIDTH - MARGIN, y))

    def finish(self) -> None:
        self.canvas.drawText(self.text)
        self.canvas.setLineWidth(0.3)
        self.canvas.lines(self.rules)


Draw = Callable[[Ink, float], None]


@dataclass(frozen=True)
class Block:
    """Something of fixed height drawn at a given top y; ``need`` keeps it with what follows,
    ``head`` is repeated at the top of a page the block starts (a table's column heads)."""

    height: float
    draw: Draw
    need: float = 0.0
    head: Block | None = None


def _cells(
    values: Sequence[str],
    bold: bool = False,
    right: frozenset[int] = frozenset(),
    columns: Sequence[float] = COLUMNS,
) -> Block:
    """One table row; long texts wrap inside their column, amounts stand right-aligned."""
    font = BOLD if bold else FONT
    wrapped = [
        [value] if i in right else wrap(value, font, SIZE, columns[i] - 2 * PAD)
        for i, value in enumerate(values)
    ]
    height = max(len(w) for w in wrapped) * LEADING + 3

    def draw(ink: Ink, top: float) -> None:
        ink.font(font, SIZE)
        x = MARGIN
        for i, lines in enumerate(wrapped):
            y = top - LEADING + 2
            for line in lines:
                if not line:
                    continue
                if i in right:
                    ink.right(x + columns[i] - PAD, y, line)
                else:
                    ink.left(x + PAD, y, line)
                y -= LEADING
            x += columns[i]
        ink.rule(top - height)

    return Block(height, draw)


def _heading(text: str, need: float = 60.0) -> Block:
    def draw(ink: Ink, top: float) -> None:
        ink.font(BOLD, 11)
        ink.left(MARGIN, top - 16, text)

    return Block(24.0, draw, need=need)


def _pairs(rows: Sequence[tuple[str, str]]) -> list[Block]:
    """Label–value rows (the facts at the top)."""
    blocks = []
    for label, value in rows:
        wrapped = wrap(value, FONT, 9.5, 330)

        def draw(ink: Ink, top: float, label: str = label, wrapped: list = wrapped) -> None:
            ink.font(BOLD, 9.5)
            ink.left(MARGIN, top - 11, label)
            ink.font(FONT, 9.5)
            for i, line in enumerate(wrapped):
                ink.left(MARGIN + 150, top - 11 - i * 12, line)

        blocks.append(Block(len(wrapped) * 12 + 2, draw))
    return blocks


def _amounts(rows: Sequence[tuple[str, Decimal]]) -> list[Block]:
    """Label and right-aligned euro amount (the balance; the last row bold)."""
    blocks = []
    for n, (label, amount) in enumerate(rows):
        font = BOLD if n == len(rows) - 1 else FONT
        text = pdf_text(format_eur(amount))

        def draw(
            ink: Ink, top: float, label: str = label, text: str = text, font: str = font
        ) -> None:
            ink.font(font, 9.5)
            ink.left(MARGIN, top - 11, label)
            ink.right(MARGIN + 260, top - 11, text)

        blocks.append(Block(14.0, draw))
    return blocks


def _blocks(s: Statement) -> list[Block]:
    who = s.balance.municipality
    eur = format_eur
    blocks: list[Block] = []

    def title(ink: Ink, top: float) -> None:
        ink.font(BOLD, 15)
        ink.left(MARGIN, top - 18, pdf_text(f"Abrechnung {s.year}: {who.name}"))

    office = s.office
    if office is not None and (office.letter_address or office.letter_contact):
        sender = [office.name, *office.letter_address.splitlines(), office.letter_contact]
        sender = [pdf_text(line) for line in sender if line.strip()]

        def letterhead(ink: Ink, top: float) -> None:
            ink.font(FONT, 8)
            for i, line in enumerate(sender):
                ink.right(PAGE_WIDTH - MARGIN, top - 9 - 10 * i, line)

        blocks.append(Block(10.0 * len(sender) + 8, letterhead))
    blocks.append(Block(28.0, title))
    blocks += _pairs(
        [
            ("Kooperation", pdf_text(s.cooperation.title)),
            ("Kommune", pdf_text(f"{who.name} (AGS {who.ags})")),
            ("Haushaltsjahr", str(s.year)),
            ("Verteilungsschlüssel", pdf_text(s.key_description)),
            ("Erstellt am", s.created_at.strftime("%d.%m.%Y, %H:%M Uhr")),
        ]
    )
    blocks.append(_heading("Saldo", need=90.0))
    blocks += _amounts(s.totals)
    payment = payment_details(s)
    if payment:
        blocks.append(_heading("Zahlungsangaben", need=70.0))
        blocks += _pairs([(label, pdf_text(german_value(value))) for label, value in payment])

    def rule(ink: Ink, top: float) -> None:
        ink.font(FONT, 8)
        ink.left(
            MARGIN,
            top - 11,
            "Noch offen = Anteile - Vorleistungen - Gezahlt + Erhalten. "
            "Negativ: Die Kommune bekommt Geld zurück.",
        )

    blocks.append(Block(16.0, rule))

    right = frozenset({4, 5})
    head = _cells(["Datum", "Text", "Kategorie", "Art", "Betrag", "Anteil"], True, right)
    blocks.append(_heading(f"Anteile an freigegebenen Kosten ({len(s.lines)} Buchungen)"))
    blocks.append(Block(head.height, head.draw, need=head.height * 2))
    for line in s.lines:
        row = _cells(
            [
                line.booking_date.strftime("%d.%m.%Y"),
                pdf_text(line.text),
                pdf_text(line.category or "–"),
                pdf_text(line.kind),
                pdf_text(eur(line.amount)),
                pdf_text(eur(line.share)),
            ],
            right=right,
        )
        blocks.append(Block(row.height, row.draw, head=head))
    if not s.lines:
        blocks.append(_cells(["", "Keine freigegebenen Kosten.", "", "", "", ""]))
    total = _cells(
        ["", "Summe", "", "", pdf_text(eur(s.line_total)), pdf_text(eur(s.share_total))],
        True,
        right,
    )
    blocks.append(Block(total.height, total.draw, head=head))

    paid = frozenset({2})
    pay_head = _cells(["Datum", "Zahlung", "Betrag"], True, paid, PAYMENT_COLUMNS)
    blocks.append(_heading("Zahlungen (erhaltene negativ)"))
    blocks.append(Block(pay_head.height, pay_head.draw, need=pay_head.height * 2))
    for day, text, amount in s.payments:
        row = _cells(
            [day.strftime("%d.%m.%Y"), pdf_text(text), pdf_text(eur(amount))],
            right=paid,
            columns=PAYMENT_COLUMNS,
        )
        blocks.append(Block(row.height, row.draw, head=pay_head))
    if not s.payments:
        blocks.append(_cells(["", "Keine Zahlungen.", ""], columns=PAYMENT_COLUMNS))
    return blocks


def _paginate(blocks: list[Block]) -> list[list[tuple[Block, float]]]:
    """Each block's page and top y; a page never starts with a lone heading."""
    pages: list[list[tuple[Block, float]]] = [[]]
    y = TOP
    for block in blocks:
        if y - max(block.height, block.need) < BOTTOM and pages[-1]:
            pages.append([])
            y = TOP
            if block.head is not None:
                pages[-1].append((block.head, y))
                y -= block.head.height
        pages[-1].append((block, y))
        y -= block.height
    return pages


def to_pdf(s: Statement) -> bytes:
    """The statement as an A4 PDF with a running head and "Seite n von m"."""
    return to_pdf_all([s])


def to_pdf_all(statements: Sequence[Statement]) -> bytes:
    """One PDF with each partner's statement starting on its own page (Sammelabrechnung);
    pages are counted per partner ("Seite n von m")."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    first = statements[0]
    if len(statements) == 1:
        who = first.balance.municipality
        canvas.setTitle(f"Abrechnung {first.year} – {who.name} – {first.cooperation.title}")
    else:
        canvas.setTitle(f"Sammelabrechnung {first.year} – {first.cooperation.title}")
    canvas.setAuthor("KoopBoard")
    canvas.setSubject(f"Abrechnung Haushaltsjahr {first.year}")
    for s in statements:
        _draw(canvas, s)
    canvas.save()
    return out.getvalue()


def _draw(canvas: Canvas, s: Statement) -> None:
    """One partner's statement onto new pages of the canvas."""
    who = s.balance.municipality
    pages = _paginate(_blocks(s))
    head = pdf_text(f"{s.cooperation.title} · Abrechnung {s.year} · {who.name}")
    lines = wrap(head, FONT, 8, PAGE_WIDTH - 2 * MARGIN - 10)
    head = lines[0] + (" …" if len(lines) > 1 else "")
    created = s.created_at.strftime("%d.%m.%Y, %H:%M Uhr")
    for number, page in enumerate(pages, 1):
        ink = Ink(canvas)
        ink.font(FONT, 8)
        ink.left(MARGIN, PAGE_HEIGHT - MARGIN, head)
        ink.left(MARGIN, MARGIN - 4, f"Erstellt am {created} mit KoopBoard")
        ink.right(PAGE_WIDTH - MARGIN, MARGIN - 4, f"Seite {number} von {len(pages)}")
        for block, top in page:
            block.draw(ink, top)
        ink.finish()
        canvas.showPage()
