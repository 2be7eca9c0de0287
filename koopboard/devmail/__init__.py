"""Development only: read the mails the local sink received (registered only in development).

The mails hold everyone's invitation and password-reset links, so only the platform admin
reads them (the demo's admin@koopboard.demo), and only on the machine itself."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request
from flask_login import current_user
from werkzeug.wrappers import Response

from koopboard.extensions import login_manager
from koopboard.web import render

bp = Blueprint("devmail", __name__, url_prefix="/dev/mail")


@bp.before_request
def _local_admin_only() -> Response | None:
    """The development inbox answers only on the machine itself, and only to the admin."""
    if request.remote_addr not in {"127.0.0.1", "::1"}:
        abort(404)
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(404)
    return None


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
