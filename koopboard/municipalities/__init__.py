"""The municipality register: search (and the importer in ``importer.py``)."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from koopboard.cooperations.services import search_municipalities
from koopboard.web import render

bp = Blueprint("municipalities", __name__, url_prefix="/kommunen")


@bp.get("/suche")
@login_required
def search() -> Response:
    """Search the public register by name, postcode or AGS (page, or fragment for htmx);
    the user's own Kreis and Land first. Choosing a partner happens in the partner form."""
    query = (request.args.get("query") or request.args.get("q") or "").strip()[:100]
    results = search_municipalities(query, near=current_user.municipality)
    return render(
        "municipalities/search.html",
        "municipalities/_results.html",
        query=query,
        results=results,
        for_partner=False,
    )
