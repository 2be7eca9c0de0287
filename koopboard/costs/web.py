"""What every costs view shares: the blueprint, the URL prefix, the template filters and
the small request helpers (Post/Redirect/Get, posted version, today in Berlin).

Every route of the costs area registers on ``bp`` (endpoint names ``costs.*``), whichever
feature module defines it. Who may do what is a rule and lives in ``costs.services``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask import Blueprint, Response, redirect, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from koopboard import inputs, texts
from koopboard.costs import services
from koopboard.domain.milestones import berlin_today
from koopboard.extensions import htmx
from koopboard.i18n import format_money, format_percent_text
from koopboard.models import Cooperation

bp = Blueprint("costs", __name__)

COOP = "/kooperationen/<int:cooperation_id>/kosten"


@bp.before_request
@login_required
def _require_login() -> None:
    """Every page here needs a signed-in user."""


@bp.app_template_filter("eur")
def eur(value: Decimal | None) -> str:
    """12.345,67 € / €12,345.67 (exact cents, in the locale's format)."""
    return format_money(value)


@bp.app_template_global()
def today_year() -> int:
    """The current budget year (Europe/Berlin)."""
    return local_today().year


bp.add_app_template_global(texts.share_reason, "share_reason")
bp.add_app_template_filter(texts.key_text, "key_text")


@bp.app_template_filter("prozent")
def prozent(value: Decimal | Fraction | None) -> str:
    """33,333 % / 33.333% (up to three decimals; ≈ when rounded)."""
    return "–" if value is None else format_percent_text(value)


def local_today() -> date:
    """Today in Europe/Berlin (by ``services.now``, which tests set)."""
    return berlin_today(services.now())


def year_arg() -> int:
    """The budget year of ``?jahr=`` (1990–2200), else the current one."""
    raw = request.args.get("jahr", "")
    return int(raw) if raw.isdigit() and 1990 <= int(raw) <= 2200 else local_today().year


def posted_version() -> int | None:
    """The form's ``version`` field (optimistic locking), None when missing."""
    return inputs.posted_version(request.form.get("version"))


def done(url: str) -> Response:
    """Post/Redirect/Get; htmx gets ``HX-Redirect``."""
    if htmx:
        return Response(status=204, headers={"HX-Redirect": url})
    return redirect(url)


def attach_error(form: FlaskForm, exc: services.CostError) -> None:
    """Show a service's German message next to its field, or above the form."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        form.form_errors = [*getattr(form, "form_errors", []), str(exc)]


def partner_choices(cooperation: Cooperation, blank: str) -> list[SelectChoice]:
    """The partners (also those who left) as choices, by name, after a blank choice."""
    return [SelectChoice("", blank)] + [
        SelectChoice(p.municipality_id, p.municipality.name)
        for p in services.partners_of(cooperation.id)
    ]


# A stand-in id: a URL is built once with it, then completed per row by string joining.
_ID = 987654321


def url_maker(endpoint: str, field: str, **values: Any) -> Callable[[int], str]:
    """``make(id)`` == ``url_for(endpoint, **values, field=id)``, with one ``url_for`` call
    for all rows instead of one per row (each costs ~20 µs; the page had ~130 of them).
    Falls back to ``url_for`` per row unless the stand-in id shows up exactly once."""
    url = url_for(endpoint, **values, **{field: _ID})
    head, sep, tail = url.partition(str(_ID))
    if not sep or str(_ID) in tail:
        return lambda value: url_for(endpoint, **values, **{field: value})
    return lambda value: f"{head}{value}{tail}"
