"""A partner's statement of the budget year: the printable page, the PDF and the CSV and
XLSX downloads (every role reads). The numbers come from ``statements.services``.
"""

from __future__ import annotations

from flask import Response, abort

from koopboard.cooperations.access import load_cooperation
from koopboard.costs.books import services as books
from koopboard.costs.statements import exports
from koopboard.costs.statements import services as statements
from koopboard.costs.statements.pdf import to_pdf
from koopboard.costs.web import COOP, bp
from koopboard.models import Cooperation
from koopboard.web import render

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
        "costs/statements/show.html", cooperation=cooperation, role=role, year=year, s=statement
    )


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
