"""Bar chart geometry: fills proportional to the fraction, rows stacked, shares clamped."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from koopboard.domain import charts


def test_fill_is_the_fraction_of_the_width_to_a_tenth() -> None:
    chart = charts.layout([Fraction(1, 3), Fraction(0), Fraction(1)], width=460)
    assert [r.fill for r in chart.rows] == [Decimal("153.3"), Decimal("0.0"), Decimal("460.0")]
    assert [r.bar_y for r in chart.rows] == [24, 78, 132]
    assert [r.label_y for r in chart.rows] == [17, 71, 125]
    assert chart.height == 132 + charts.BAR_HEIGHT


def test_share_is_clamped_and_safe_for_an_empty_whole() -> None:
    assert charts.share(3, 5) == Fraction(3, 5)
    assert charts.share(0, 0) == 0
    assert charts.share(7, 5) == 1 and charts.share(-1, 5) == 0
    assert charts.share(Fraction(100, 3), 100) == Fraction(1, 3)
    assert charts.layout([]).rows == []
