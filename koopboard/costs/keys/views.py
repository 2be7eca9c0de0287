"""The key page: each partner's parameters for the budget year, the weights and
percentages they give, and how every cent of an example amount falls (with the tie-break).

Kämmerei and Projektleitung edit the key while the year is open; every role reads.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Response, abort, flash, request, url_for
from sqlalchemy.orm.exc import StaleDataError

from koopboard.cooperations.access import load_cooperation
from koopboard.costs import services
from koopboard.costs.keys import services as keys
from koopboard.costs.services import KEY_EDITORS
from koopboard.costs.web import COOP, bp, done, posted_version
from koopboard.domain.allocation import TIE_BREAK_RULE, AllocationError, explain
from koopboard.domain.keys import KeyKind, SharingKeyError, parse_percent
from koopboard.domain.money import MoneyError, parse_amount
from koopboard.extensions import db
from koopboard.models import Cooperation
from koopboard.web import form_status, render


def _example_amount() -> tuple[Decimal, str | None]:
    raw = request.args.get("beispiel", "").strip()
    if not raw:
        return Decimal("10000.00"), None
    try:
        return parse_amount(raw, allow_negative=True), None
    except MoneyError as exc:
        return Decimal("10000.00"), exc.message


def _key_rows(
    cooperation: Cooperation, year: int, key: Any, entries: list[keys.EntryData]
) -> list[dict]:
    names = {
        p.municipality_id: p.municipality for p in services.partners_in_year(cooperation.id, year)
    }
    return [{"m": names[e.municipality_id], "e": e} for e in entries if e.municipality_id in names]


def _explained(cooperation: Cooperation, year: int, key: Any, amount: Decimal) -> dict:
    """Weights, percentages and how every cent of ``amount`` falls under the stored key."""
    if key is None:
        return {"lines": [], "error": None, "description": ""}
    try:
        weighting = keys.key_weighting(key)
        lines = explain(amount, weighting.weights)
    except (SharingKeyError, AllocationError) as exc:
        return {"lines": [], "error": exc.message, "description": ""}
    names = {e.municipality.ags: e.municipality for e in key.entries}
    return {
        "lines": [(names[line.partner], line) for line in lines],
        "error": None,
        "description": weighting.description,
        "sum": sum((line.share for line in lines), Decimal("0.00")),
    }


def _posted_key(cooperation: Cooperation, year: int) -> tuple[keys.KeyData, dict[str, str]]:
    """Read the key form; German errors per field name."""
    form = request.form
    errors: dict[str, str] = {}
    data = keys.KeyData(
        kind=form.get("kind", ""),
        usage_unit=form.get("usage_unit", "").strip(),
        basis_note=form.get("basis_note", "").strip()[:500],
    )
    if data.kind == KeyKind.MIXED.value:
        try:
            data.base_percent = parse_percent(form.get("base_percent", ""))
        except SharingKeyError as exc:
            errors["base_percent"] = exc.message
    for partner in services.partners_in_year(cooperation.id, year):
        mid = partner.municipality_id
        entry = keys.EntryData(
            municipality_id=mid,
            population_source=form.get(f"source_{mid}", "").strip(),
            change_reason=form.get(f"reason_{mid}", "").strip(),
        )
        if data.kind in (KeyKind.POPULATION.value, KeyKind.MIXED.value):
            raw = form.get(f"population_{mid}", "").replace(".", "").strip()
            if raw.isdigit():
                entry.population = int(raw)
            else:
                errors[f"population_{mid}"] = "Bitte die Einwohnerzahl als ganze Zahl angeben."
            stichtag = form.get(f"stichtag_{mid}", "").strip()
            entry.population_date = _parse_date(stichtag)
            if entry.population_date is None:
                errors[f"stichtag_{mid}"] = "Bitte den Stichtag angeben (TT.MM.JJJJ)."
        if data.kind == KeyKind.PERCENTAGES.value:
            try:
                entry.percent = parse_percent(form.get(f"percent_{mid}", ""))
            except SharingKeyError as exc:
                errors[f"percent_{mid}"] = exc.message
        if data.kind == KeyKind.USAGE.value:
            raw = form.get(f"units_{mid}", "").replace(".", "").replace(",", ".").strip()
            try:
                entry.usage_units = Decimal(raw)
                if not entry.usage_units.is_finite() or entry.usage_units < 0:
                    raise InvalidOperation
                if entry.usage_units.as_tuple().exponent < -3:  # type: ignore[operator]
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                errors[f"units_{mid}"] = (
                    "Bitte die Nutzungseinheiten als Zahl angeben "
                    "(höchstens drei Nachkommastellen)."
                )
        data.entries.append(entry)
    return data, errors


def _parse_date(text: str) -> date | None:
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


@bp.route(COOP + "/schluessel/<int:year>", methods=["GET", "POST"])
def key(cooperation_id: int, year: int) -> Response:
    """The key of a budget year: weights, percentages and how every cent falls."""
    if request.method == "POST":
        cooperation, role = load_cooperation(cooperation_id, *KEY_EDITORS)
    else:
        cooperation, role = load_cooperation(cooperation_id)
    if not 1990 <= year <= 2200:
        abort(404)
    stored = keys.key_for(cooperation.id, year)
    errors: dict[str, str] = {}
    message = None
    status = 200
    conflict = False
    if request.method == "POST":
        data, errors = _posted_key(cooperation, year)
        if not errors:
            try:
                keys.save_key(cooperation, year, data, version=posted_version())
            except (services.StaleVersion, StaleDataError):
                db.session.rollback()
                conflict = True
                status = 409
            except services.CostError as exc:
                db.session.rollback()
                if exc.field:
                    errors[exc.field] = str(exc)
                else:
                    message = str(exc)
            else:
                db.session.commit()
                flash(f"Der Verteilungsschlüssel {year} ist gespeichert.", "success")
                return done(url_for("costs.key", cooperation_id=cooperation.id, year=year))
        if errors or message:
            status = form_status(False)
        stored = keys.key_for(cooperation.id, year)
        if status != 409:
            entries = data.entries
            values = data
        else:
            entries, values = _stored_entries(cooperation, year, stored), stored
    else:
        entries = _stored_entries(cooperation, year, stored)
        values = stored
    amount, amount_error = _example_amount()
    closed = services.is_closed(cooperation.id, year)
    return render(
        "costs/keys/index.html",
        cooperation=cooperation,
        role=role,
        year=year,
        key=stored,
        values=values,
        rows=_key_rows(cooperation, year, stored, entries),
        kinds=list(KeyKind),
        errors=errors,
        message=message,
        conflict=conflict,
        may_edit=role in KEY_EDITORS and not closed,
        closed=closed,
        example=amount,
        example_error=amount_error,
        explained=_explained(cooperation, year, stored, amount),
        tie_break=TIE_BREAK_RULE,
        status=status,
    )


def _stored_entries(cooperation: Cooperation, year: int, key: Any) -> list[keys.EntryData]:
    defaults = keys.default_entries(cooperation.id, year)
    if key is None:
        return defaults
    stored = {
        e.municipality_id: keys.EntryData(
            municipality_id=e.municipality_id,
            population=e.population,
            population_date=e.population_date,
            population_source=e.population_source,
            change_reason=e.change_reason,
            percent=e.percent,
            usage_units=e.usage_units,
        )
        for e in key.entries
    }
    return [stored.get(d.municipality_id, d) for d in defaults]
