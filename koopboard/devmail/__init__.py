"""Development only: read the mails the local sink received (registered only in development)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request
from werkzeug.wrappers import Response

from koopboard.web import render

bp = Blueprint("devmail", __name__, url_prefix="/dev/mail")


@bp.before_request
def _local_only() -> None:
    """The development inbox answers only on the machine itself."""
    if request.remote_addr not in {"127.0.0.1", "::1"}:
        abort(404)


@bp.get("/")
def inbox() -> Response:
    """All mails the development sink received, newest first."""
    from koopboard.devmail.sink import list_messages

    return render("devmail/inbox.html", messages=list_messages(current_app.config["MAIL_SINK_DIR"]))


@bp.get("/<message_id>")
def message(message_id: str) -> Response:
    """One mail, as plain text (and its HTML part as text, never rendered)."""
    from koopboard.devmail.sink import read_message

    found = read_message(current_app.config["MAIL_SINK_DIR"], message_id)
    if found is None:
        abort(404)
    return render("devmail/message.html", message=found)
