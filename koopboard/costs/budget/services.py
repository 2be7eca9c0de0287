"""Planansatz: the budget per year and category against the approved actual costs.

Kämmerei and Projektleitung set the plan rows while the year is open; each row carries its
version, so a concurrent edit answers 409 instead of being overwritten. The view commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import Numeric, cast, func, literal, select, union, union_all

from koopboard.costs import services
from koopboard.costs.services import KEY_EDITORS
from koopboard.domain.messages import Msg
from koopboard.extensions import db
from koopboard.models.cost import Cost, CostBudget, CostState

EDITORS = KEY_EDITORS  # Kämmerei and Projektleitung, like the cost-sharing key
ZERO = Decimal("0.00")

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


COMPARED_YEARS = 5


@dataclass(frozen=True)
class YearsComparison:
    """Plan and approved costs per category and year, for the latest years that have a
    Planansatz or approved costs (oldest first)."""

    years: list[int]
    categories: list[str]
    lines: dict[tuple[str, int], BudgetLine]

    def line(self, category: str, year: int) -> BudgetLine:
        return self.lines.get((category, year), BudgetLine(category, None, ZERO))

    def total(self, year: int) -> BudgetLine:
        return total_line([self.line(c, year) for c in self.categories])


def years_compared(cooperation_id: int, up_to: int, limit: int = COMPARED_YEARS) -> YearsComparison:
    """The up to ``limit`` latest years until ``up_to`` with a Planansatz or approved costs,
    each category's plan and approved costs: one statement, however many years."""
    money = Numeric(14, 2)
    years = (
        union(
            select(CostBudget.budget_year.label("y")).where(
                CostBudget.cooperation_id == cooperation_id, CostBudget.budget_year <= up_to
            ),
            select(Cost.budget_year).where(
                Cost.cooperation_id == cooperation_id,
                Cost.budget_year <= up_to,
                Cost.state == CostState.FREIGEGEBEN,
            ),
        )
    ).subquery()
    latest = select(years.c.y).order_by(years.c.y.desc()).limit(limit).scalar_subquery()
    plans = select(
        literal("plan").label("kind"),
        CostBudget.budget_year,
        CostBudget.category,
        cast(func.sum(CostBudget.amount), money),
    ).where(CostBudget.cooperation_id == cooperation_id, CostBudget.budget_year.in_(latest))
    plans = plans.group_by(CostBudget.budget_year, CostBudget.category)
    actuals = (
        select(
            literal("actual"),
            Cost.budget_year,
            Cost.category,
            cast(func.sum(Cost.amount), money),
        )
        .where(
            Cost.cooperation_id == cooperation_id,
            Cost.budget_year.in_(latest),
            Cost.state == CostState.FREIGEGEBEN,
        )
        .group_by(Cost.budget_year, Cost.category)
    )
    plan: dict[tuple[str, int], Decimal] = {}
    actual: dict[tuple[str, int], Decimal] = {}
    for kind, year, category, amount in db.session.execute(union_all(plans, actuals)):
        target = plan if kind == "plan" else actual
        key = (category or "", year)
        target[key] = target.get(key, ZERO) + Decimal(amount).quantize(Decimal("0.01"))
    keys = set(plan) | set(actual)
    categories = sorted({c for c, _y in keys}, key=lambda c: (c == "", c.casefold(), c))
    return YearsComparison(
        years=sorted({y for _c, y in keys}),
        categories=categories,
        lines={k: BudgetLine(k[0], plan.get(k), actual.get(k, ZERO)) for k in keys},
    )


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
                Msg(
                    "Die Kategorie „%(category)s“ steht mehrfach in der Liste; je Kategorie gibt "
                    "es einen Planansatz.",
                    category=row.category,
                ),
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
