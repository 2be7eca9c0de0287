"""Planansatz: the budget per year and category against the approved actual costs.

Every role reads the table and the chart; the chart is drawn on the server as SVG (no
script, no inline style) from the same numbers as the table, which is its accessible
equivalent. Kämmerei and Projektleitung set the plan rows while the year is open; each
row carries its version, so a concurrent edit answers 409 instead of being overwritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from flask import Response, abort, flash, request, url_for
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from koopboard.cooperations.access import load_cooperation
from koopboard.costs import services
from koopboard.costs.services import KEY_EDITORS
from koopboard.costs.web import COOP, bp, done
from koopboard.domain.catalog import Role
from koopboard.domain.keys import format_percent
from koopboard.domain.money import MoneyError, format_eur, parse_amount
from koopboard.extensions import db
from koopboard.models import Cooperation
from koopboard.models.cost import Cost, CostBudget, CostState
from koopboard.web import form_status, render

EDITORS = KEY_EDITORS  # Kämmerei and Projektleitung, like the cost-sharing key
ZERO = Decimal("0.00")
CATEGORY_MAX = 100
MAX_ROWS = 200  # more plan rows than any cooperation needs; bounds the form parsing
BLANK_ROWS = 3


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetLine:
    """One category: the plan (None: kein Planansatz) and the approved actual costs."""

    category: str
    plan: Decimal | None
    actual: Decimal

    @property
    def deviation(self) -> Decimal:
        """Ist − Plan (a category without plan deviates by all of its actual costs)."""
        return self.actual - (self.plan if self.plan is not None else ZERO)

    @property
    def utilisation(self) -> Fraction | None:
        """Ausschöpfung in percent; None without a plan or with a plan of 0."""
        if not self.plan:
            return None
        return Fraction(self.actual) * 100 / Fraction(self.plan)


def plans_of(cooperation_id: int, year: int) -> list[CostBudget]:
    """The year's plan rows, by category."""
    return list(
        db.session.scalars(
            select(CostBudget)
            .where(CostBudget.cooperation_id == cooperation_id, CostBudget.budget_year == year)
            .order_by(func.lower(CostBudget.category), CostBudget.id)
        )
    )


def actual_by_category(cooperation_id: int, year: int) -> dict[str, Decimal]:
    """Approved costs of the year per category (grants and cancellations included): one
    aggregate query, however many costs there are."""
    rows = db.session.execute(
        select(Cost.category, func.sum(Cost.amount))
        .where(
            Cost.cooperation_id == cooperation_id,
            Cost.budget_year == year,
            Cost.state == CostState.FREIGEGEBEN,
        )
        .group_by(Cost.category)
    )
    return {category or "": Decimal(total).quantize(Decimal("0.01")) for category, total in rows}


def budget_lines(plans: dict[str, Decimal], actuals: dict[str, Decimal]) -> list[BudgetLine]:
    """Every planned or booked category, by name; costs without category come last."""
    categories = sorted(set(plans) | set(actuals), key=lambda c: (c == "", c.casefold(), c))
    return [BudgetLine(c, plans.get(c), actuals.get(c, ZERO)) for c in categories]


def total_line(lines: list[BudgetLine]) -> BudgetLine:
    """The totals row: all plans against all approved costs."""
    return BudgetLine(
        "",
        sum((line.plan for line in lines if line.plan is not None), ZERO),
        sum((line.actual for line in lines), ZERO),
    )


# --- the chart (pure geometry, no Flask, no database) -----------------------------------------


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
    return "–" if value is None else format_percent(value, 1)


def short(text: str, limit: int = 60) -> str:
    """A category name short enough for one line of the chart (the table has it in full)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- writing ----------------------------------------------------------------------------------


@dataclass
class PlanRow:
    """One row of the plan form, as posted (``index`` names its fields)."""

    index: int
    id: int | None = None
    version: int | None = None
    category: str = ""
    amount_text: str = ""
    amount: Decimal | None = None
    remove: bool = False

    @property
    def blank(self) -> bool:
        return self.id is None and not self.category and not self.amount_text.strip()


def save_plans(cooperation_id: int, year: int, rows: list[PlanRow]) -> None:
    """Apply the plan form in one go: update, remove and add rows; the view commits.

    A posted row whose version differs from the stored one (or that is gone) raises
    ``StaleVersion``; so does a new category someone else added meanwhile."""
    services.check_open(cooperation_id, year, None)
    stored = {
        b.id: b
        for b in db.session.scalars(
            select(CostBudget)
            .where(CostBudget.cooperation_id == cooperation_id, CostBudget.budget_year == year)
            .with_for_update()
        )
    }
    posted_ids = set()
    for row in rows:
        if row.id is None:
            continue
        current = stored.get(row.id)
        if current is None or row.version != current.version:
            raise services.StaleVersion()
        posted_ids.add(row.id)
    seen: dict[str, PlanRow] = {}
    untouched = {b.category.casefold() for i, b in stored.items() if i not in posted_ids}
    for row in rows:
        if row.remove or row.blank:
            continue
        key = row.category.casefold()
        if key in seen:
            raise services.CostError(
                f"Die Kategorie „{row.category}“ steht mehrfach in der Liste; "
                "je Kategorie gibt es einen Planansatz.",
                f"category_{row.index}",
            )
        if key in untouched:
            raise services.StaleVersion()  # added by someone else since the form was loaded
        seen[key] = row
    for row in rows:
        if row.id is not None and row.remove:
            db.session.delete(stored[row.id])
    db.session.flush()
    for row in rows:
        if row.id is not None and not row.remove:
            plan = stored[row.id]
            plan.category = row.category
            plan.amount = row.amount  # type: ignore[assignment]
    db.session.flush()  # the version_id_col refuses a concurrent UPDATE here
    for row in rows:
        if row.id is None and not row.blank:
            db.session.add(
                CostBudget(
                    cooperation_id=cooperation_id,
                    budget_year=year,
                    category=row.category,
                    amount=row.amount,
                )
            )
    db.session.flush()


# --- the form -----------------------------------------------------------------------------


_FIELD = re.compile(r"(category|amount|id|version|remove)_(\d+)")


def _int(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


def posted_rows() -> tuple[list[PlanRow], dict[str, str]]:
    """Read the plan form; German errors per field name, nothing written."""
    indexes = sorted(
        {int(m[2]) for name in request.form if (m := _FIELD.fullmatch(name)) and len(m[2]) < 4}
    )[:MAX_ROWS]
    rows: list[PlanRow] = []
    errors: dict[str, str] = {}
    for i in indexes:
        form = request.form
        row = PlanRow(
            index=i,
            id=_int(form.get(f"id_{i}")),
            version=_int(form.get(f"version_{i}")),
            category=" ".join(form.get(f"category_{i}", "").split()),
            amount_text=form.get(f"amount_{i}", "").strip()[:60],
            remove=form.get(f"remove_{i}") == "1",
        )
        rows.append(row)
        if row.remove or row.blank:
            continue
        if not row.category:
            errors[f"category_{i}"] = "Bitte eine Kategorie angeben, z. B. Personal."
        elif len(row.category) > CATEGORY_MAX:
            errors[f"category_{i}"] = (
                f"Die Kategorie ist zu lang (höchstens {CATEGORY_MAX} Zeichen)."
            )
        try:
            row.amount = parse_amount(row.amount_text)
        except MoneyError as exc:
            errors[f"amount_{i}"] = exc.message
    return rows, errors


def stored_rows(plans: list[CostBudget], blank: int = BLANK_ROWS) -> list[PlanRow]:
    """The form prefilled from the stored plan, plus some empty rows to add categories."""
    rows = [
        PlanRow(
            index=i,
            id=p.id,
            version=p.version,
            category=p.category,
            amount_text=format_eur(p.amount).removesuffix("\u00a0€"),
        )
        for i, p in enumerate(plans)
    ]
    return rows + blank_rows(len(rows), blank)


def blank_rows(start: int, count: int = BLANK_ROWS) -> list[PlanRow]:
    return [PlanRow(index=start + n) for n in range(count)]


# --- the page -----------------------------------------------------------------------------


@bp.route(COOP + "/planansatz/<int:year>", methods=["GET", "POST"])
def budget(cooperation_id: int, year: int) -> Response:
    """Planansatz and Ist per category as table and chart; Kämmerei and lead edit the plan."""
    if request.method == "POST":
        cooperation, role = load_cooperation(cooperation_id, *EDITORS)
    else:
        cooperation, role = load_cooperation(cooperation_id)
    if not 1990 <= year <= 2200:
        abort(404)
    errors: dict[str, str] = {}
    message = None
    conflict = False
    status = 200
    rows: list[PlanRow] | None = None
    if request.method == "POST":
        rows, errors = posted_rows()
        try:
            services.check_open(cooperation.id, year, None)
        except services.CostError as exc:  # a closed year: say so, not what the rows lack
            errors, rows, message = {}, None, str(exc)
        else:
            if request.form.get("action") == "more":  # more empty rows; nothing is checked
                errors = {}
                rows += blank_rows(max((r.index for r in rows), default=-1) + 1)
            elif not errors:
                message, conflict = _save(cooperation.id, year, rows, errors)
                if not (message or conflict or errors):
                    flash(f"Der Planansatz {year} ist gespeichert.", "success")
                    return done(url_for("costs.budget", cooperation_id=cooperation.id, year=year))
                if conflict:
                    status, rows = 409, None
        if (errors or message) and not conflict:
            status = form_status(False)
    return _page(cooperation, role, year, rows, errors, message, conflict, status)


def _save(
    cooperation_id: int, year: int, rows: list[PlanRow], errors: dict[str, str]
) -> tuple[str | None, bool]:
    """Save and commit; else roll back and return (message, conflict), field errors added."""
    try:
        save_plans(cooperation_id, year, rows)
    except (services.StaleVersion, StaleDataError):
        db.session.rollback()
        db.session.expire_all()
        return None, True
    except services.CostError as exc:
        db.session.rollback()
        if not exc.field:
            return str(exc), False
        errors[exc.field] = str(exc)
        return None, False
    except IntegrityError:  # two rows swapping their names in one go
        db.session.rollback()
        return (
            "Zwei Kategorien würden gleich heißen. Bitte Kategorien, die ihre Namen "
            "tauschen, nacheinander umbenennen.",
            False,
        )
    db.session.commit()
    return None, False


def _page(
    cooperation: Cooperation,
    role: Role,
    year: int,
    rows: list[PlanRow] | None,
    errors: dict[str, str],
    message: str | None,
    conflict: bool,
    status: int,
) -> Response:
    plans = plans_of(cooperation.id, year)
    actuals = actual_by_category(cooperation.id, year)
    lines = budget_lines({p.category: p.amount for p in plans}, actuals)
    closed = services.is_closed(cooperation.id, year)
    last = None
    if conflict:
        changes = [services.last_change("CostBudget", p.id) for p in plans]
        last = max((c for c in changes if c is not None), key=lambda c: c.id, default=None)
    return render(
        "costs/budget.html",
        cooperation=cooperation,
        role=role,
        year=year,
        lines=lines,
        total=total_line(lines),
        chart=chart_geometry(lines),
        short=short,
        rows=rows if rows is not None else stored_rows(plans),
        known_categories=sorted((c for c in actuals if c), key=str.casefold),
        errors=errors,
        message=message,
        conflict=conflict,
        changed_by=last,
        closed=closed,
        may_edit=role in EDITORS and not closed,
        percent=utilisation_text,
        status=status,
    )
