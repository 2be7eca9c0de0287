"""The Planansatz page: the budget per year and category against the approved actual costs.

Every role reads the table and the chart; the chart is drawn on the server as SVG (no
script, no inline style) from the same numbers as the table, which is its accessible
equivalent. Kämmerei and Projektleitung set the plan rows while the year is open; each
row carries its version, so a concurrent edit answers 409 instead of being overwritten.
"""

from __future__ import annotations

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from koopboard.cooperations.access import load_cooperation
from koopboard.costs import services
from koopboard.costs.budget.chart import chart_geometry, short, utilisation_text, years_charts
from koopboard.costs.budget.forms import blank_rows, posted_rows, stored_rows
from koopboard.costs.budget.services import (
    EDITORS,
    PlanRow,
    actual_by_category,
    budget_lines,
    plans_of,
    save_plans,
    total_line,
    years_compared,
)
from koopboard.costs.web import COOP, bp, done
from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.models import Cooperation
from koopboard.web import form_status, render


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
                    flash(gettext("Der Planansatz %(y)s ist gespeichert.", y=year), "success")
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
    comparison = years_compared(cooperation.id, year)
    last = None
    if conflict:
        changes = [services.last_change("CostBudget", p.id) for p in plans]
        last = max((c for c in changes if c is not None), key=lambda c: c.id, default=None)
    return render(
        "costs/budget/index.html",
        cooperation=cooperation,
        role=role,
        year=year,
        lines=lines,
        total=total_line(lines),
        chart=chart_geometry(lines),
        comparison=comparison,
        years_charts=years_charts(comparison),
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
