"""A partner's statement of the budget year: the printable page, the PDF and the CSV and
XLSX downloads (every role reads). The numbers come from ``statements.services``.
"""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from koopboard.cooperations.access import load_cooperation
from koopboard.costs import services as shared
from koopboard.costs.books import services as books
from koopboard.costs.services import BOOKERS
from koopboard.costs.statements import exports
from koopboard.costs.statements import services as statements
from koopboard.costs.statements.forms import LetterheadForm, TermsForm, normalise_iban
from koopboard.costs.statements.pdf import to_pdf, to_pdf_all
from koopboard.costs.web import COOP, bp, done
from koopboard.extensions import db
from koopboard.i18n import format_day, format_money
from koopboard.models import Cooperation
from koopboard.web import form_status, render

STATEMENT = COOP + "/abrechnung/<int:year>/<int:municipality_id>"


def _load(cooperation: Cooperation, year: int, municipality_id: int) -> statements.Statement:
    """The partner's statement of the year; 404 for a municipality that is no partner."""
    if not 1990 <= year <= 2200:
        abort(404)
    statement = statements.load_statement(cooperation, year, municipality_id)
    if statement is None:
        abort(404)
    return statement


@bp.get(STATEMENT)
def statement_page(cooperation_id: int, year: int, municipality_id: int) -> Response:
    """A partner's statement as a printable page (every role reads)."""
    cooperation, role = load_cooperation(cooperation_id)
    statement = _load(cooperation, year, municipality_id)
    return render(
        "costs/statements/show.html",
        cooperation=cooperation,
        role=role,
        year=year,
        s=statement,
        payment_details=statements.payment_details,
        payment_value=payment_value,
    )


def payment_value(value: str | statements.Transfer | date) -> str:
    """A payment detail in the reader's language: "9.340,84 € an Merchweiler"."""
    if isinstance(value, statements.Transfer):
        if value.to_office:
            return gettext(
                "%(amount)s an %(office)s", amount=format_money(value.amount), office=value.office
            )
        return gettext(
            "%(amount)s von %(office)s", amount=format_money(value.amount), office=value.office
        )
    if isinstance(value, date):
        return format_day(value)
    return value


@bp.get(STATEMENT + ".pdf")
def statement_pdf(cooperation_id: int, year: int, municipality_id: int) -> Response:
    """A partner's statement as PDF, always a download (every role reads)."""
    cooperation, _role = load_cooperation(cooperation_id)
    statement = _load(cooperation, year, municipality_id)
    return Response(
        to_pdf(statement),
        mimetype="application/pdf",
        headers={
            "Content-Disposition": exports.attachment(cooperation, year, statement.balance, "pdf"),
            "Cache-Control": "no-store",  # financial data, like the HTML pages
        },
    )


@bp.get(COOP + "/abrechnung/<int:year>/<int:municipality_id>.<any(csv, xlsx):fmt>")
def statement(cooperation_id: int, year: int, municipality_id: int, fmt: str) -> Response:
    """A partner's statement of the budget year as CSV or XLSX (every role reads)."""
    cooperation, _role = load_cooperation(cooperation_id)
    balance = books.balance_for(cooperation.id, year, municipality_id)
    if balance is None:
        abort(404)
    lines = statements.statement_lines(cooperation.id, year, municipality_id)
    payments = statements.payments_for(cooperation.id, year, municipality_id)
    build = exports.to_csv if fmt == "csv" else exports.to_xlsx
    return build(cooperation, year, balance, lines, payments)


DETAILS = COOP + "/abrechnung/<int:year>/angaben"


@bp.route(DETAILS, methods=["GET", "POST"])
def statement_details(cooperation_id: int, year: int) -> Response:
    """Letterhead and bank details of the paying municipality (its own Kämmerei keeps them,
    once for every cooperation it leads) and the year's due date and Kassenzeichen."""
    cooperation, role = load_cooperation(cooperation_id, *BOOKERS)
    if not 1990 <= year <= 2200:
        abort(404)
    office = statements.paying_office(cooperation)
    terms = statements.terms_for(cooperation.id, year)
    may_letterhead = statements.may_edit_letterhead(current_user, cooperation, role)
    posted = request.method == "POST"
    # One form on the page: the terms form carries the CSRF token for both.
    letterhead = LetterheadForm(
        obj=None if posted else office, prefix="brief", meta={"csrf": False}
    )
    terms_form = TermsForm(obj=None if posted else terms)
    if not posted and terms is not None:
        terms_form.version.data = str(terms.version)
    status = 200
    if posted:
        ok = terms_form.validate_on_submit()
        if may_letterhead:
            ok = letterhead.validate() and ok
        if ok:
            try:
                if may_letterhead:
                    statements.save_letterhead(
                        office,
                        statements.LetterheadData(
                            letter_address=letterhead.letter_address.data or "",
                            letter_contact=letterhead.letter_contact.data or "",
                            iban=normalise_iban(letterhead.iban.data or ""),
                            bic=letterhead.bic.data or "",
                            bank_name=letterhead.bank_name.data or "",
                        ),
                    )
                version = terms_form.version.data
                statements.save_terms(
                    cooperation,
                    year,
                    terms_form.due_date.data,
                    terms_form.reference.data or "",
                    int(version) if version and version.isdigit() else None,
                )
            except (shared.StaleVersion, StaleDataError):
                db.session.rollback()
                flash(
                    gettext("Jemand hat die Angaben inzwischen geändert; bitte erneut prüfen."),
                    "error",
                )
                return redirect(
                    url_for("costs.statement_details", cooperation_id=cooperation.id, year=year)
                )
            db.session.commit()
            flash(
                gettext("Die Angaben für die Abrechnungen %(y)s sind gespeichert.", y=year),
                "success",
            )
            return done(url_for("costs.index", cooperation_id=cooperation.id, jahr=year))
        status = form_status(False)
    return render(
        "costs/statements/details.html",
        cooperation=cooperation,
        role=role,
        year=year,
        office=office,
        letterhead=letterhead,
        terms_form=terms_form,
        may_letterhead=may_letterhead,
        status=status,
    )


@bp.get(COOP + "/abrechnung/<int:year>/alle.<any(pdf, xlsx):fmt>")
def statement_all(cooperation_id: int, year: int, fmt: str) -> Response:
    """The Sammelabrechnung: every partner's statement, one PDF (a page each) or one XLSX
    (a sheet each); every role reads, like the single statements."""
    cooperation, _role = load_cooperation(cooperation_id)
    if not 1990 <= year <= 2200:
        abort(404)
    all_statements = statements.load_all(cooperation, year)
    if not all_statements:
        abort(404)
    name = "".join(ch if ch.isalnum() else "-" for ch in cooperation.title)[:60]
    if fmt == "pdf":
        body, mimetype = to_pdf_all(all_statements), "application/pdf"
    else:
        parts = [
            (
                s.balance,
                statements.statement_lines(cooperation.id, year, s.balance.municipality.id),
                statements.payments_for(cooperation.id, year, s.balance.municipality.id),
            )
            for s in all_statements
        ]
        body, mimetype = exports.xlsx_all_bytes(cooperation, year, parts), exports.XLSX_TYPE
    filename = f"sammelabrechnung-{cooperation.id}-{year}-{name}.{fmt}"
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
