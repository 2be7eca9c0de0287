"""The books' pages: the cost list with balances, a cost with its shares and its receipt,
booking and editing, the four-eyes actions, payments and year closing. Each loads through
``access.load_cooperation`` (404/403).

Kämmerei books, submits, approves (never its own), rejects, cancels, books payments and
uploads receipts; every role reads. The receipt routes live here, beside the cost page
they re-render, so ``receipts`` (rules and form) never imports ``books``. Money pages
switch the htmx history cache off (``data-hx-history="false"``): amounts are never
restored stale.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import RequestEntityTooLarge

from koopboard import inputs
from koopboard.cooperations.access import load_cooperation
from koopboard.costs import services
from koopboard.costs.books import services as books
from koopboard.costs.books.forms import CostForm, PaymentForm, RejectForm
from koopboard.costs.forms import VersionForm
from koopboard.costs.receipts import services as receipts
from koopboard.costs.receipts.forms import ReceiptForm
from koopboard.costs.services import BOOKERS, DECIDERS
from koopboard.costs.web import (
    COOP,
    attach_error,
    bp,
    done,
    local_today,
    partner_choices,
    posted_version,
    url_maker,
    year_arg,
)
from koopboard.domain.allocation import TIE_BREAK_RULE
from koopboard.domain.catalog import Role
from koopboard.domain.money import format_eur
from koopboard.extensions import db, htmx
from koopboard.i18n import format_money, quote
from koopboard.models import Cooperation
from koopboard.models.cost import Cost, CostState
from koopboard.security import is_local_path
from koopboard.web import form_status, render


def load_cost(cooperation_id: int, cost_id: int, *roles: Role) -> tuple[Cooperation, Role, Cost]:
    """The cooperation, the user's role and the cost (404 if it is not the cooperation's)."""
    cooperation, role = load_cooperation(cooperation_id, *roles)
    cost = books.get_cost(cooperation.id, cost_id)
    if cost is None:
        abort(404)
    return cooperation, role, cost


def cost_url(cost: Cost) -> str:
    """The cost's page."""
    return url_for("costs.show", cooperation_id=cost.cooperation_id, cost_id=cost.id)


# --- cost list and balances -----------------------------------------------------------------


class CostRow(NamedTuple):
    """One line of the cost list, ready to print (formatted once per request in Python)."""

    url: str
    day: str
    text: str
    category: str
    kind: str
    state: str
    amount: str


def _cost_rows(cooperation_id: int, costs: list[Any]) -> list[CostRow]:
    """The page's costs as display strings: each date and label is formatted (and
    translated) once per request, and the links come from one ``url_for``."""
    datum = current_app.jinja_env.filters["datum"]
    link = url_maker("costs.show", "cost_id", cooperation_id=cooperation_id)
    days: dict[date, str] = {}
    labels: dict[Any, str] = {}
    rows = []
    for c in costs:
        day = days.get(c.booking_date)
        if day is None:
            day = days[c.booking_date] = datum(c.booking_date)
        kind = labels.get(c.kind)
        if kind is None:
            kind = labels[c.kind] = gettext(c.kind.label)
        state = labels.get(c.state)
        if state is None:
            state = labels[c.state] = gettext(c.state.label)
        rows.append(
            CostRow(link(c.id), day, c.text, c.category or "–", kind, state, format_money(c.amount))
        )
    return rows


class BalanceRow(NamedTuple):
    """One partner's line of the balances table, ready to print."""

    name: Markup
    ags: str
    shares: str
    outlays: str
    paid: str
    received: str
    open: str
    xlsx: str
    csv: str
    pdf: str
    page: str


def _balance_rows(
    cooperation_id: int, year: int, balances: list[books.PartnerBalance]
) -> list[BalanceRow]:
    """The balances as display strings; the four statement links per partner come from
    four ``url_for`` calls in all (not four per partner)."""
    ids = {"cooperation_id": cooperation_id, "year": year}
    xlsx = url_maker("costs.statement", "municipality_id", **ids, fmt="xlsx")
    csv = url_maker("costs.statement", "municipality_id", **ids, fmt="csv")
    pdf = url_maker("costs.statement_pdf", "municipality_id", **ids)
    page = url_maker("costs.statement_page", "municipality_id", **ids)
    rows = []
    for b in balances:
        m = b.municipality
        name = escape(m.name)  # printed five times per row: escaped once
        rows.append(
            BalanceRow(
                name,
                m.ags,
                format_money(b.shares),
                format_money(b.outlays),
                format_money(b.paid),
                format_money(b.received),
                format_money(b.open),
                xlsx(m.id),
                csv(m.id),
                pdf(m.id),
                page(m.id),
            )
        )
    return rows


@bp.get(COOP + "/")
def index(cooperation_id: int) -> Response:
    """The year's costs (filtered, paginated) with each partner's balance."""
    cooperation, role = load_cooperation(cooperation_id)
    year = year_arg()
    state = request.args.get("status") or None
    page = inputs.page_number(request.args.get("seite"))
    costs, total = books.costs_page(cooperation.id, year, state, page)
    balances = books.balances_of(cooperation.id, year)
    return render(
        "costs/books/index.html",
        cooperation=cooperation,
        role=role,
        year=year,
        state=state,
        states=[(s.value, gettext(s.label)) for s in CostState],
        page_no=page,
        pages=max(1, -(-total // books.PAGE_SIZE)),
        total=total,
        costs=_cost_rows(cooperation.id, costs),
        balances=_balance_rows(cooperation.id, year, balances),
        settlement=books.proposed_transfers(cooperation, balances),
        totals=_balance_totals(balances),
        payments=books.payments_of(cooperation.id, year),
        closed=services.is_closed(cooperation.id, year),
        may_book=role in BOOKERS,
    )


def _balance_totals(balances: list[books.PartnerBalance]) -> dict[str, Decimal]:
    """The Summe row under the balances: every column added up, exact to the cent."""
    return {
        column: sum((getattr(b, column) for b in balances), Decimal("0.00"))
        for column in ("shares", "outlays", "paid", "received", "open")
    }


# --- booking ------------------------------------------------------------------------------------


def _cost_data(form: CostForm) -> books.CostData:
    return books.CostData(
        booking_date=form.booking_date.data,
        budget_year=form.budget_year.data,
        text=form.text.data or "",
        category=form.category.data or "",
        kind=form.kind.data,
        amount=form.amount.amount,  # type: ignore[arg-type]
        net_amount=form.net_amount.amount,
        vat_amount=form.vat_amount.amount,
        paid_by_id=form.paid_by_id.data,
    )


def _attach_receipt(cooperation: Cooperation, cost: Cost, form: CostForm) -> None:
    """Store the form's receipt (checked by ``CostForm.validate_receipt``) with the booking."""
    upload = getattr(form.receipt, "upload", None)
    if upload is not None:
        receipts.attach(cooperation, cost, upload, by=current_user)


def _render_form(
    cooperation: Cooperation, form: CostForm, cost: Cost | None, status: int, conflict: Any = None
) -> Response:
    return render(
        "costs/books/form.html",
        "costs/books/_form.html",
        cooperation=cooperation,
        form=form,
        cost=cost,
        conflict=conflict,
        status=status,
    )


@bp.route(COOP + "/neu", methods=["GET", "POST"])
def create(cooperation_id: int) -> Response:
    """Book a cost (Kämmerei): German amount, shares by the year's key."""
    cooperation, _role = load_cooperation(cooperation_id, *BOOKERS)
    form = CostForm()
    form.paid_by_id.choices = partner_choices(cooperation, gettext("– federführende Kommune –"))
    if request.method == "GET":
        today = local_today()
        form.booking_date.data = today
        form.budget_year.data = today.year
        form.kind.data = "kosten"
    elif form.validate_on_submit():
        try:
            cost = books.book_cost(cooperation, _cost_data(form), by=current_user)
            _attach_receipt(cooperation, cost, form)
        except services.CostError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            db.session.commit()
            flash(
                gettext("Die Kosten %(t)s sind als Entwurf gebucht.", t=quote(cost.text)), "success"
            )
            return done(cost_url(cost))
    return _render_form(cooperation, form, None, form_status(not form.is_submitted()))


def _edit_form(cooperation: Cooperation, cost: Cost) -> CostForm:
    form = CostForm(formdata=None, obj=cost)
    form.paid_by_id.choices = partner_choices(cooperation, gettext("– federführende Kommune –"))
    form.kind.data = cost.kind.value
    form.amount.data = format_eur(cost.amount).removesuffix("\u00a0€")
    form.net_amount.data = (
        format_eur(cost.net_amount).removesuffix("\u00a0€") if cost.net_amount is not None else ""
    )
    form.vat_amount.data = (
        format_eur(cost.vat_amount).removesuffix("\u00a0€") if cost.vat_amount is not None else ""
    )
    form.version.data = str(cost.version)
    return form


@bp.route(COOP + "/<int:cost_id>/bearbeiten", methods=["GET", "POST"])
def edit(cooperation_id: int, cost_id: int) -> Response:
    """Edit a draft (Kämmerei); a stale version answers 409 with the current values."""
    cooperation, _role, cost = load_cost(cooperation_id, cost_id, *BOOKERS)
    if request.method == "GET":
        return _render_form(cooperation, _edit_form(cooperation, cost), cost, 200)
    form = CostForm()
    form.paid_by_id.choices = partner_choices(cooperation, gettext("– federführende Kommune –"))
    if form.validate_on_submit():
        try:
            books.update_cost(
                cooperation, cost, _cost_data(form), version=posted_version(), by=current_user
            )
            _attach_receipt(cooperation, cost, form)
        except (services.StaleVersion, StaleDataError):
            db.session.rollback()
            db.session.expire_all()
            current = books.get_cost(cooperation.id, cost_id)
            if current is None:
                abort(404)
            conflict = {"changed_by": services.last_change("Cost", current.id)}
            return _render_form(
                cooperation, _edit_form(cooperation, current), current, 409, conflict
            )
        except services.CostError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            db.session.commit()
            flash(gettext("Änderungen gespeichert."), "success")
            return done(cost_url(cost))
    return _render_form(cooperation, form, cost, form_status(False))


@bp.get(COOP + "/<int:cost_id>")
def show(cooperation_id: int, cost_id: int) -> Response:
    """One cost with its shares to the cent and how they were computed."""
    cooperation, role, cost = load_cost(cooperation_id, cost_id)
    return show_page(cooperation, role, cost)


def show_page(
    cooperation: Cooperation,
    role: Role,
    cost: Cost,
    *,
    status: int = 200,
    error: str | None = None,
    conflict: bool = False,
    reject_form: RejectForm | None = None,
    receipt_form: FlaskForm | None = None,
) -> Response:
    shares = books.shares_of(cost.id)
    closed = services.is_closed(cooperation.id, cost.budget_year)
    weight_sum = sum((s.weight for s in shares), Decimal(0))
    return render(
        "costs/books/show.html",
        cooperation=cooperation,
        role=role,
        cost=cost,
        shares=shares,
        share_sum=sum((s.amount for s in shares), Decimal("0.00")),
        percent=lambda s: Fraction(s.weight) * 100 / Fraction(weight_sum) if weight_sum else 0,
        may_book=role in BOOKERS,
        may_decide=books.may_decide(cooperation, role),
        closed=closed,
        **_receipt_context(cost, role, closed, receipt_form),
        **_four_eyes(cooperation, cost),
        action_form=VersionForm(),
        reject_form=reject_form or RejectForm(),
        error=error,
        conflict=conflict,
        changed_by=services.last_change("Cost", cost.id),
        reversed_cost=(
            books.get_cost(cooperation.id, cost.reverses_id) if cost.reverses_id else None
        ),
        tie_break=TIE_BREAK_RULE,
        status=status,
    )


def _four_eyes(cooperation: Cooperation, cost: Cost) -> dict:
    """Who may not approve this cost and why, and who can (only while it is undecided)."""
    if cost.state not in (CostState.ENTWURF, CostState.EINGEREICHT, CostState.ABGELEHNT):
        return {"excluded": [], "mine": None, "approvers": []}
    excluded = books.excluded_from_approval(cost)
    return {
        "reasons_they": books.REASONS_THEY,
        "reasons_you": books.REASONS_YOU,
        "excluded": excluded,
        "mine": next((e for e in excluded if e.user_id == current_user.id), None),
        "approvers": books.approvers(cooperation, cost, excluded),
    }


def _receipt_context(cost: Cost, role: Role, closed: bool, form: FlaskForm | None) -> dict:
    """What ``costs/receipts/_receipt.html`` needs on the cost page."""
    receipt = receipts.receipt_of(cost.id)
    return {
        "receipt": receipt,
        "receipt_uploader": receipts.uploader_of(receipt),
        "receipt_form": form or ReceiptForm(formdata=None),
        "may_attach_receipt": receipts.may_attach(cost, role, closed),
        "receipt_accept": receipts.ACCEPT,
    }


def _action(
    cooperation_id: int, cost_id: int, apply: Any, message: str, *, decision: bool = False
) -> Response:
    """Run a state change on a cost; errors re-render the cost page (nothing written)."""
    cooperation, role, cost = load_cost(
        cooperation_id, cost_id, *(DECIDERS if decision else BOOKERS)
    )
    if decision and not books.may_decide(cooperation, role):
        abort(403)
    form = RejectForm() if apply is _reject else VersionForm()
    if not form.validate_on_submit():
        return show_page(
            cooperation, role, cost, status=form_status(False), reject_form=_as_reject(form)
        )
    try:
        result = apply(cooperation, cost, form)
    except (services.StaleVersion, StaleDataError):
        db.session.rollback()
        db.session.expire_all()
        current = books.get_cost(cooperation.id, cost_id)
        if current is None:
            abort(404)
        return show_page(cooperation, role, current, status=409, conflict=True)
    except books.FourEyesError as exc:
        db.session.rollback()
        return show_page(cooperation, role, cost, status=403, error=str(exc))
    except services.CostError as exc:
        db.session.rollback()
        db.session.expire_all()
        return show_page(cooperation, role, cost, status=form_status(False), error=str(exc))
    db.session.commit()
    flash(message, "success")
    return done(cost_url(result if isinstance(result, Cost) else cost))


def _as_reject(form: FlaskForm) -> RejectForm | None:
    return form if isinstance(form, RejectForm) else None


def _reject(cooperation: Cooperation, cost: Cost, form: RejectForm) -> None:
    books.reject_cost(cost, form.reason.data or "", version=posted_version(), by=current_user)


@bp.post(COOP + "/<int:cost_id>/einreichen")
def submit(cooperation_id: int, cost_id: int) -> Response:
    """Entwurf → eingereicht (Kämmerei)."""

    def apply(_c: Cooperation, cost: Cost, _f: FlaskForm) -> None:
        books.submit_cost(cost, version=posted_version(), by=current_user)

    return _action(cooperation_id, cost_id, apply, "Zur Freigabe eingereicht.")


@bp.post(COOP + "/<int:cost_id>/freigeben")
def approve(cooperation_id: int, cost_id: int) -> Response:
    """eingereicht → freigegeben, by a second treasurer (four-eyes)."""

    def apply(_c: Cooperation, cost: Cost, _f: FlaskForm) -> None:
        books.approve_cost(cost, version=posted_version(), by=current_user)

    return _action(
        cooperation_id, cost_id, apply, "Freigegeben: Die Kosten zählen jetzt.", decision=True
    )


@bp.post(COOP + "/<int:cost_id>/ablehnen")
def reject(cooperation_id: int, cost_id: int) -> Response:
    """eingereicht → abgelehnt, with a reason."""
    return _action(cooperation_id, cost_id, _reject, "Abgelehnt.", decision=True)


@bp.post(COOP + "/<int:cost_id>/stornieren")
def cancel(cooperation_id: int, cost_id: int) -> Response:
    """Storno of an approved cost: a counter-entry draft; nothing is deleted."""

    def apply(cooperation: Cooperation, cost: Cost, _f: FlaskForm) -> Cost:
        return books.cancel_cost(
            cooperation, cost, version=posted_version(), by=current_user, today=local_today()
        )

    return _action(cooperation_id, cost_id, apply, "Die Gegenbuchung (Storno) ist angelegt.")


# --- payments, year closing, exports ------------------------------------------------------------


@bp.route(COOP + "/zahlungen/neu", methods=["GET", "POST"])
def payment(cooperation_id: int) -> Response:
    """Book a payment of a partner (Kämmerei)."""
    cooperation, _role = load_cooperation(cooperation_id, *BOOKERS)
    form = PaymentForm()
    form.municipality_id.choices = partner_choices(cooperation, gettext("– bitte wählen –"))
    form.recipient_id.choices = partner_choices(cooperation, gettext("– federführende Kommune –"))
    if request.method == "GET":
        today = local_today()
        form.paid_on.data = today
        form.budget_year.data = year_arg()
        form.kind.data = "abschlag"
    elif form.validate_on_submit():
        data = books.PaymentData(
            paid_on=form.paid_on.data,
            budget_year=form.budget_year.data,
            municipality_id=form.municipality_id.data,
            recipient_id=form.recipient_id.data,
            kind=form.kind.data,
            amount=form.amount.amount,  # type: ignore[arg-type]
            note=form.note.data or "",
        )
        try:
            books.book_payment(cooperation, data, by=current_user)
        except services.CostError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            db.session.commit()
            flash(gettext("Die Zahlung ist gebucht."), "success")
            return done(
                url_for("costs.index", cooperation_id=cooperation.id, jahr=data.budget_year)
            )
    return render(
        "costs/books/payment.html",
        "costs/books/_payment_form.html",
        cooperation=cooperation,
        form=form,
        status=form_status(not form.is_submitted()),
    )


@bp.get(COOP + "/jahresabschluss/<int:year>")
def close_year_confirm(cooperation_id: int, year: int) -> Response:
    """Ask before closing: what becomes read-only and the totals that are frozen."""
    cooperation, role = load_cooperation(cooperation_id, *BOOKERS)
    if services.is_closed(cooperation.id, year):
        flash(gettext("Das Haushaltsjahr %(y)s ist bereits abgeschlossen.", y=year), "error")
        return redirect(url_for("costs.index", cooperation_id=cooperation.id, jahr=year))
    balances = books.balances_of(cooperation.id, year)
    return render(
        "costs/books/close_year.html",
        cooperation=cooperation,
        role=role,
        year=year,
        balances=balances,
        totals=_balance_totals(balances),
        counts=books.year_counts(cooperation.id, year),
        action_form=VersionForm(),
    )


@bp.post(COOP + "/jahresabschluss/<int:year>")
def close_year(cooperation_id: int, year: int) -> Response:
    """Close a budget year (Kämmerei): nothing in it changes any more."""
    cooperation, _role = load_cooperation(cooperation_id, *BOOKERS)
    target = url_for("costs.index", cooperation_id=cooperation.id, jahr=year)
    if not VersionForm().validate_on_submit():
        abort(400)
    try:
        books.close_year(cooperation, year, by=current_user)
    except services.CostError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(target)
    db.session.commit()
    flash(gettext("Das Haushaltsjahr %(y)s ist abgeschlossen.", y=year), "success")
    return redirect(target)


# --- the receipt of a cost (download and upload; its panel is part of the cost page) --------

TOO_LARGE = (
    "Die Datei ist zu groß: Belege dürfen höchstens 10 MB groß sein. Es wurde nichts "
    "gespeichert. Bitte eine kleinere Datei wählen (z. B. den Scan mit geringerer Auflösung)."
)


@bp.app_template_filter("dateigroesse")
def file_size(size: int | None) -> str:
    """1,2 MB; 820 KB; 512 Byte (German decimal comma in German)."""
    if size is None:
        return "–"
    if size < 1024:
        return f"{size}\u00a0Byte"
    unit, factor = ("MB", 1024 * 1024) if size >= 1024 * 1024 else ("KB", 1024)
    value = (Decimal(size) / factor).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{format_decimal(value, format='#,##0.#')}\u00a0{unit}"


@bp.app_template_filter("dateityp")
def type_label(media_type: str | None) -> str:
    """PDF, PNG or JPEG."""
    return receipts.TYPE_LABELS.get(media_type or "", media_type or "–")


@bp.get(COOP + "/<int:cost_id>/beleg")
def receipt_download(cooperation_id: int, cost_id: int) -> Response:
    """The receipt as an attachment (every role of the cooperation; 404 for others)."""
    cooperation, _role, cost = load_cost(cooperation_id, cost_id)
    receipt = receipts.receipt_with_data(cooperation.id, cost.id)
    if receipt is None:
        abort(404)
    response = Response(receipt.data, mimetype=receipt.media_type)
    response.headers["Content-Disposition"] = receipts.content_disposition(receipt.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    # Never rendered as a page of this site, even if a browser ignored the attachment.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post(COOP + "/<int:cost_id>/beleg")
def receipt_upload(cooperation_id: int, cost_id: int) -> Response:
    """Upload or replace the receipt of a cost before approval (Kämmerei); a failed upload
    re-renders the cost page with the message next to the file field, nothing written."""
    cooperation, role, cost = load_cost(cooperation_id, cost_id, *BOOKERS)
    form = ReceiptForm()
    if form.validate_on_submit():
        upload: receipts.Upload = form.receipt.upload  # type: ignore[attr-defined]
        try:
            replaced = receipts.attach(cooperation, cost, upload, by=current_user)
        except services.CostError as exc:
            db.session.rollback()
            db.session.expire_all()
            form.form_errors = [*form.form_errors, str(exc)]
        else:
            db.session.commit()
            if replaced:
                flash(gettext("Der Beleg %(f)s ist ersetzt.", f=quote(upload.filename)), "success")
            else:
                flash(
                    gettext("Der Beleg %(f)s ist gespeichert.", f=quote(upload.filename)), "success"
                )
            return done(cost_url(cost))
    return show_page(cooperation, role, cost, status=form_status(False), receipt_form=form)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error: RequestEntityTooLarge) -> Response | tuple[str, int]:
    """A request over MAX_CONTENT_LENGTH: a clear German message, nothing written.

    htmx does not show a 413, so it is sent back to the page it came from with the message."""
    db.session.rollback()
    if htmx:
        flash(TOO_LARGE, "error")
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        target = current.path + (f"?{current.query}" if current.query else "")
        if not is_local_path(target):
            coop = (request.view_args or {}).get("cooperation_id")
            target = url_for("costs.index", cooperation_id=coop) if coop else url_for("main.index")
        return Response(status=204, headers={"HX-Redirect": target})
    return render_template("errors/error.html", code=413, message=TOO_LARGE), 413
