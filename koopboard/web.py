"""Rendering helpers (page or HTMX fragment) and central error handling."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from koopboard.extensions import db, htmx
from koopboard.inputs import NulInInput

log = logging.getLogger(__name__)


def render(
    page: str, fragment: str | None = None, *, status: int = 200, **context: Any
) -> Response:
    """Render the full page, or only ``fragment`` for an HTMX request.

    History-restore requests get the full page (htmx asks for it when its cache misses);
    ``Vary: HX-Request`` keeps caches from mixing the two answers."""
    use_fragment = fragment is not None and bool(htmx) and not htmx.history_restore_request
    template = fragment if use_fragment else page
    response = make_response(render_template(template, **context), status)
    response.headers.add("Vary", "HX-Request")
    return response


def form_status(form_valid: bool) -> int:
    """Status for a re-rendered form: 422 to htmx (it swaps it), 400 to a plain post."""
    if form_valid:
        return 200
    return 422 if htmx else 400


def init_app(app: Flask) -> None:
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.add_extension("jinja2.ext.do")

    record_types = {
        "Cooperation": _l("Kooperation"),
        "CooperationPartner": _l("Partner"),
        "Membership": _l("Rolle"),
        "User": _l("Konto"),
        "Municipality": _l("Kommune"),
        "Milestone": _l("Meilenstein"),
        "CalendarFeed": _l("Kalender-Abonnement"),
        "LoginSession": _l("Anmeldung"),
        "AccountToken": _l("Einladung/Link"),
        "NotificationSettings": _l("Benachrichtigungseinstellungen"),
        "NotificationPreference": _l("Benachrichtigungseinstellung"),
        "Cost": _l("Kosten"),
        "CostKey": _l("Verteilungsschlüssel"),
        "CostKeyEntry": _l("Schlüsselanteil"),
        "Payment": _l("Zahlung"),
        "YearClosing": _l("Jahresabschluss"),
        "RecurringCost": _l("Wiederkehrende Kosten"),
        "CostReceipt": _l("Beleg"),
        "CostBudget": _l("Planansatz"),
        "CooperationListing": _l("Eintrag in der Kooperationsbörse"),
        "JoinRequest": _l("Beitrittsanfrage"),
        "CooperationInvitation": _l("Einladung in die Kooperation"),
        "KoopCheck": _l("Kooperations-Check"),
    }
    actions = {"create": _l("angelegt"), "update": _l("geändert"), "delete": _l("gelöscht")}

    @app.template_filter("record_type_label")
    def record_type_label(value: str) -> str:
        return str(record_types.get(value, value))

    @app.template_filter("history_action_label")
    def history_action_label(value: str) -> str:
        return str(actions.get(value, value))

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Response | tuple[str, int]:
        db.session.rollback()
        log.info("CSRF check failed: %s", error.description)
        message = _(
            "Das Formular ist abgelaufen oder unvollständig (Sicherheitsprüfung fehlgeschlagen). "
            "Bitte laden Sie die Seite neu und versuchen Sie es noch einmal."
        )
        if htmx:
            # htmx would drop a 400; show the message in place of the main content instead.
            body = render_template("errors/_error.html", code=400, message=message)
            return make_response(body, 400, {"HX-Retarget": "#inhalt", "HX-Reswap": "innerHTML"})
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(NulInInput)
    def nul_in_input(error: NulInInput) -> Response | tuple[str, int]:
        message = str(error.description)
        if htmx:
            # Shown in place of the main content, as the CSRF failure is.
            body = render_template("errors/_error.html", code=422, message=message)
            return make_response(body, 422, {"HX-Retarget": "#inhalt", "HX-Reswap": "innerHTML"})
        return render_template("errors/error.html", code=422, message=message), 422

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | tuple[str, int]:
        if error.code and error.code >= 500:
            db.session.rollback()
        if request.path.startswith("/static/") or request.path == "/healthz":
            return error
        messages = {
            403: _("Sie haben keine Berechtigung für diese Aktion."),
            404: _("Diese Seite gibt es nicht, oder Sie haben keinen Zugriff darauf."),
            405: _("Diese Aktion ist hier nicht erlaubt."),
            409: _("Der Datensatz wurde inzwischen geändert."),
            413: _("Die Datei ist zu groß."),
            429: _("Zu viele Versuche. Bitte warten Sie einige Minuten."),
        }
        message = messages.get(error.code or 500, error.description)
        return render_template("errors/error.html", code=error.code, message=message), error.code

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int]:
        db.session.rollback()
        log.exception("Unexpected error")
        if app.config.get("TESTING") and app.config.get("PROPAGATE_TEST_ERRORS", True):
            raise error
        message = _("Ein unerwarteter Fehler ist aufgetreten. Es wurde nichts gespeichert.")
        return render_template("errors/error.html", code=500, message=message), 500
