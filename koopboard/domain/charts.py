"""Horizontal bar charts as pure geometry (no Flask, no database), drawn as server-side SVG.

Each row has its label and value on one line and a bar under it, on a track of the full
width, so the chart stays narrow: at 460 user units and 16-unit text it keeps its labels
at 12 px or more even when a 390 px phone scales it down. The table beside every chart
holds the same numbers and is its accessible equivalent; the chart has no script and no
inline style (colours are SVG attributes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

WIDTH = 460
ROW_HEIGHT = 54  # label line, bar, gap
LABEL_BASELINE = 17
BAR_TOP = 24
BAR_HEIGHT = 18
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Row:
    """One row in SVG user units: the label's baseline, the bar's top and its filled length."""

    label_y: int
    bar_y: int
    fill: Decimal  # 0 … width, rounded to a tenth


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bar_height: int = BAR_HEIGHT
    rows: list[Row] = field(default_factory=list)


def share(part: int | Decimal | Fraction, whole: int | Decimal | Fraction) -> Fraction:
    """``part`` of ``whole`` as an exact fraction between 0 and 1 (0 when ``whole`` is 0)."""
    whole_f = Fraction(whole)
    if whole_f <= 0:
        return Fraction(0)
    return min(max(Fraction(part) / whole_f, Fraction(0)), Fraction(1))


def layout(fractions: Sequence[Fraction], width: int = WIDTH) -> Chart:
    """One row per fraction (0 … 1 of the full track), top to bottom."""
    rows = []
    for index, fraction in enumerate(fractions):
        top = index * ROW_HEIGHT
        fill = (Decimal(fraction.numerator) * width / Decimal(fraction.denominator)).quantize(
            TENTH, ROUND_HALF_UP
        )
        rows.append(Row(label_y=top + LABEL_BASELINE, bar_y=top + BAR_TOP, fill=fill))
    height = max(len(rows) * ROW_HEIGHT - (ROW_HEIGHT - BAR_TOP - BAR_HEIGHT), 1)
    return Chart(width=width, height=height, rows=rows)
