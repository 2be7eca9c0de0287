"""The Planansatz chart as pure geometry (no Flask, no database): horizontal Plan and Ist
bars per category in SVG user units, drawn by ``templates/costs/budget/_chart.html``.

The chart has no script and no inline style; the table beside it shows the same numbers and
is its accessible equivalent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from koopboard.costs.budget.services import ZERO, BudgetLine, YearsComparison
from koopboard.domain import charts
from koopboard.i18n import format_percent_text


@dataclass(frozen=True)
class Bar:
    """One horizontal bar in SVG user units (rounded to a tenth)."""

    x: Decimal
    y: Decimal
    width: Decimal
    height: Decimal
    text_x: Decimal  # where the value label starts, right of the bar (or of the zero line)


@dataclass(frozen=True)
class ChartRow:
    """A category's label line, the tops of its two bars, the plan bar (None: kein
    Planansatz) and the actual bar."""

    line: BudgetLine
    label_y: Decimal
    plan_y: Decimal
    actual_y: Decimal
    plan: Bar | None
    actual: Bar


@dataclass(frozen=True)
class Chart:
    """The whole chart: size, the zero line and one row per category."""

    width: int
    height: int
    zero_x: Decimal
    rows: list[ChartRow] = field(default_factory=list)


CHART_WIDTH = 760
BAR_LEFT = 48  # room for the words "Plan" and "Ist" left of the bars
VALUE_ROOM = 240  # room right of the longest bar for "999.999.999,99 € (≈ 123,4 %)"
BAR_HEIGHT = 18
ROW_HEIGHT = 76  # category label, plan bar, actual bar, gap
TOP = 8
TENTH = Decimal("0.1")


def _tenth(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        TENTH, rounding=ROUND_HALF_UP
    )


def chart_geometry(lines: list[BudgetLine], width: int = CHART_WIDTH) -> Chart:
    """Bar pairs (plan, actual) per category on one shared scale that includes zero.

    Negative actual costs (more grants than costs) extend left of the zero line. A non-zero
    amount is at least one unit wide so it never vanishes; a zero amount has no width."""
    values = [Fraction(v) for line in lines for v in (line.plan, line.actual) if v is not None]
    low, high = min([Fraction(0), *values]), max([Fraction(0), *values])
    span = high - low
    plot = Fraction(width - BAR_LEFT - VALUE_ROOM)

    def x_of(value: Fraction) -> Fraction:
        return BAR_LEFT + (value - low) * plot / span if span else Fraction(BAR_LEFT)

    zero = x_of(Fraction(0))

    def bar(amount: Decimal, y: int) -> Bar:
        value = Fraction(amount)
        start, end = sorted((x_of(value), zero))
        length = end - start
        if amount and length < 1:
            length = Fraction(1)
            if value < 0:
                start = zero - 1
        return Bar(
            x=_tenth(start),
            y=Decimal(y),
            width=_tenth(length),
            height=Decimal(BAR_HEIGHT),
            text_x=_tenth(max(start + length, zero) + 6),
        )

    rows = []
    for index, line in enumerate(lines):
        top = TOP + index * ROW_HEIGHT
        plan_y, actual_y = top + 22, top + 22 + BAR_HEIGHT + 6
        rows.append(
            ChartRow(
                line=line,
                label_y=Decimal(top + 14),
                plan_y=Decimal(plan_y),
                actual_y=Decimal(actual_y),
                plan=bar(line.plan, plan_y) if line.plan is not None else None,
                actual=bar(line.actual, actual_y),
            )
        )
    return Chart(
        width=width, height=TOP + max(len(lines), 1) * ROW_HEIGHT, zero_x=_tenth(zero), rows=rows
    )


def utilisation_text(value: Fraction | None) -> str:
    """Ausschöpfung with one decimal ("≈ 123,5 %"); "–" without a plan to measure against."""
    return "–" if value is None else format_percent_text(value, 1)


def short(text: str, limit: int = 60) -> str:
    """A category name short enough for one line of the chart (the table has it in full)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- the years compared: per category, each year's approved costs against its Planansatz ------


@dataclass(frozen=True)
class YearBar:
    """One year of a category: its row (label line and Ist bar, ``domain.charts``) and
    where the Planansatz mark stands on the same track (None: kein Planansatz)."""

    year: int
    line: BudgetLine
    row: charts.Row
    plan_x: Decimal | None


@dataclass(frozen=True)
class CategoryChart:
    category: str
    chart: charts.Chart
    bars: list[YearBar]


def years_charts(comparison: YearsComparison) -> list[CategoryChart]:
    """One small chart per category, all on one scale (the largest plan or approved sum of
    any year), so years and categories compare at a glance. Built like ``domain.charts``:
    460 units wide with 16-unit text, readable at 12 px or more on a 390 px phone."""
    values = [
        v for line in comparison.lines.values() for v in (line.plan, line.actual) if v is not None
    ]
    top = max([ZERO, *values])
    result = []
    for category in comparison.categories:
        lines = [comparison.line(category, year) for year in comparison.years]
        chart = charts.layout([charts.share(line.actual, top) for line in lines])
        bars = []
        for year, line, row in zip(comparison.years, lines, chart.rows, strict=True):
            plan_x = None
            if line.plan is not None:
                x = charts.share(line.plan, top) * chart.width
                plan_x = min(max(_tenth(x), Decimal("1.5")), Decimal(chart.width) - Decimal("1.5"))
            bars.append(YearBar(year=year, line=line, row=row, plan_x=plan_x))
        result.append(CategoryChart(category=category, chart=chart, bars=bars))
    return result
