"""Mein Konto: who KoopBoard knows the user as, and their copy of it (Art. 15 DSGVO)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response
from flask_login import current_user, login_required

from koopboard.account import services
from koopboard.web import render

bp = Blueprint("account", __name__, url_prefix="/konto")


@bp.before_request
@login_required
def _require_login() -> None:
    """Every page here is about the signed-in user."""


@bp.get("/")
def show() -> Response:
    """Profile, roles and the links to settings and to the copy of one's data."""
    return render("account/show.html", roles=services.roles_of(current_user))


@bp.get("/meine-daten")
def data_page() -> Response:
    """Everything stored about the user as a readable, printable page."""
    return render("account/data.html", data=services.personal_data(current_user))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not serialisable: {type(value).__name__}")


@bp.get("/meine-daten.json")
def data_json() -> Response:
    """Everything stored about the user as JSON (a download, never cached)."""
    data = services.personal_data(current_user)
    body = json.dumps(
        {"format": "koopboard-auskunft-1", **dataclasses.asdict(data)},
        default=_plain,
        ensure_ascii=False,
        indent=2,
    )
    stamp = data.generated_at.strftime("%Y-%m-%d")
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="koopboard-meine-daten-{stamp}.json"',
            "Cache-Control": "no-store",
        },
    )
