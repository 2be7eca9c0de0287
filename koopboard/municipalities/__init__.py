"""The municipality register: search (and the importer in ``importer.py``)."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import login_required
from werkzeug.wrappers import Response

from koopboard.cooperations.services import search_municipalities
from koopboard.web import render

bp = Blueprint("municipalities", __name__, url_prefix="/kommunen")


@bp.get("/suche")
@login_required
def search() -> Response:
    """Search the public register by name, postcode or AGS (page, or fragment for htmx)."""
    query = (request.args.get("query") or request.args.get("q") or "").strip()[:100]
    results = search_municipalities(query)
    return render(
        "municipalities/search.html",
        "municipalities/_results.html",
        query=query,
        results=results,
        for_partner=request.args.get("for_partner") == "1",
    )
