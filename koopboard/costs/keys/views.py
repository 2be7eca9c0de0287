"""The key page: each partner's parameters for the budget year, the weights and
percentages they give, and how every cent of an example amount falls (with the tie-break).

Kämmerei and Projektleitung edit the key while the year is open; every role reads.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Response, abort, flash, request, url_for
from flask_babel import format_decimal, gettext
from sqlalchemy.orm.exc import StaleDataError

from koopboard.cooperations.access import load_cooperation
from koopboard.costs import services
from koopboard.costs.keys import services as keys
from koopboard.costs.services import KEY_EDITORS
from koopboard.costs.web import COOP, bp, done, local_today, posted_version
from koopboard.domain import charts
from koopboard.domain.allocation import TIE_BREAK_RULE, AllocationError, explain
from koopboard.domain.keys import KeyKind, SharingKeyError, parse_percent
from koopboard.domain.money import MoneyError, parse_amount
from koopboard.extensions import db
from koopboard.i18n import format_day, format_money, format_share
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


def _key_rows(partners: list[Any], entries: list[keys.EntryData]) -> list[dict]:
    names = {p.municipality_id: p.municipality for p in partners}
    return [{"m": names[e.municipality_id], "e": e} for e in entries if e.municipality_id in names]


STALE_AFTER_YEARS = 2  # a register population older than this is flagged


def chosen_kind(stored: Any, posted: str | None = None) -> str:
    """The kind whose inputs the form shows: ?art= (the two-step form), the posted kind,
    the stored key's, else by population."""
    values = {k.value for k in KeyKind}
    for candidate in (request.args.get("art"), posted, stored.kind.value if stored else None):
        if candidate in values:
            return candidate
    return KeyKind.POPULATION.value


def stale_populations(rows: list[dict], kind: str, today: date) -> dict[int, date]:
    """Partners whose population Stichtag is older than two years: id -> Stichtag."""
    if kind not in (KeyKind.POPULATION.value, KeyKind.MIXED.value):
        return {}
    limit = today.replace(year=today.year - STALE_AFTER_YEARS)
    return {
        row["m"].id: row["e"].population_date
        for row in rows
        if row["e"].population_date is not None and row["e"].population_date < limit
    }


def council_sentences(key: Any, explained: dict, amount: Decimal) -> list[str]:
    """One sentence per partner for a council report: "Illingen trägt 37,84 % (…), weil …"."""
    if key is None or explained.get("error") or not explained["lines"]:
        return []
    entries = {e.municipality_id: e for e in key.entries}
    total_population = sum(e.population or 0 for e in entries.values())
    total_units = sum((e.usage_units or Decimal(0) for e in entries.values()), Decimal(0))
    partners = len(explained["lines"])
    sentences = []
    for m, line in explained["lines"]:
        e = entries.get(m.id)
        head = gettext(
            "%(name)s trägt %(pct)s (%(share)s von %(total)s)",
            name=m.name,
            pct=format_share(line.percentage),
            share=format_money(line.share),
            total=format_money(amount),
        )
        if key.kind is KeyKind.EQUAL or e is None:
            why = gettext("weil alle %(n)s Partner zu gleichen Teilen tragen", n=partners)
        elif key.kind is KeyKind.POPULATION:
            why = gettext(
                "weil %(name)s %(pop)s der %(all)s Einwohnerinnen und Einwohner aller Partner "
                "hat (Stichtag %(day)s)",
                name=m.name,
                pop=format_decimal(e.population or 0),
                all=format_decimal(total_population),
                day=format_day(e.population_date),
            )
        elif key.kind is KeyKind.PERCENTAGES:
            why = gettext(
                "weil der Schlüssel %(name)s einen festen Anteil von %(pct)s zuweist",
                name=m.name,
                pct=format_share(e.percent or 0, 3),
            )
        elif key.kind is KeyKind.USAGE:
            why = gettext(
                "weil auf %(name)s %(units)s von %(all)s %(unit)s entfallen",
                name=m.name,
                units=format_decimal(e.usage_units or 0),
                all=format_decimal(total_units),
                unit=key.usage_unit or gettext("Nutzungseinheiten"),
            )
        else:  # mixed
            why = gettext(
                "weil %(base)s zu gleichen Teilen und der Rest nach Einwohnern verteilt wird "
                "(%(name)s: %(pop)s von %(all)s)",
                base=format_share(key.base_percent or 0, 3),
                name=m.name,
                pop=format_decimal(e.population or 0),
                all=format_decimal(total_population),
            )
        sentences.append(f"{head}, {why}.")
    return sentences


def _explained(cooperation: Cooperation, year: int, key: Any, amount: Decimal) -> dict:
    """Weights, percentages and how every cent of ``amount`` falls under the stored key."""
    if key is None:
        return {"lines": [], "error": None, "description": ""}
    try:
        weighting = keys.key_weighting(key)
        labels = {e.municipality.ags: services.partner_label(e.municipality) for e in key.entries}
        lines = explain(amount, weighting.weights, labels)
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
                errors[f"population_{mid}"] = gettext(
                    "Bitte die Einwohnerzahl als ganze Zahl angeben."
                )
            stichtag = form.get(f"stichtag_{mid}", "").strip()
            entry.population_date = _parse_date(stichtag)
            if entry.population_date is None:
                errors[f"stichtag_{mid}"] = gettext("Bitte den Stichtag angeben (TT.MM.JJJJ).")
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
                errors[f"units_{mid}"] = gettext(
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
                flash(gettext("Der Verteilungsschlüssel %(y)s ist gespeichert.", y=year), "success")
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
    partners = services.partners_in_year(cooperation.id, year)
    rows = _key_rows(partners, entries)
    # Partners of the year the stored key does not name yet (a join accepted after it was
    # saved): the page says so until the Kämmerei saves a new version with them.
    not_in_key = [] if closed or stored is None else keys.partners_not_in_key(stored, partners)
    kind = chosen_kind(stored, request.form.get("kind") if request.method == "POST" else None)
    explained = _explained(cooperation, year, stored, amount)
    return render(
        "costs/keys/index.html",
        cooperation=cooperation,
        role=role,
        year=year,
        key=stored,
        values=values,
        rows=rows,
        kinds=list(KeyKind),
        kind=kind,
        stale=stale_populations(rows, kind, local_today()),
        not_in_key=not_in_key,
        proposed={e.municipality_id: e for e in entries},
        council=council_sentences(stored, explained, amount),
        errors=errors,
        message=message,
        conflict=conflict,
        may_edit=role in KEY_EDITORS and not closed,
        closed=closed,
        example=amount,
        example_error=amount_error,
        explained=explained,
        share_chart=charts.layout(
            [charts.share(line.percentage, 100) for _m, line in explained["lines"]]
        ),
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
