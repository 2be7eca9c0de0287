"""Entry redirect, language switch, accessibility statement, Impressum and Datenschutz,
health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from koopboard.extensions import csrf, db
from koopboard.security import is_local_path
from koopboard.web import render

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> Response:
    """Signed-in users go to their cooperations, everyone else to the login."""
    if current_user.is_authenticated:
        return redirect(url_for("start.index"))
    return redirect(url_for("auth.login"))


@bp.post("/sprache")
def set_language() -> Response:
    """Switch the UI language (German default, English)."""
    lang = request.form.get("lang", "de")
    if lang in current_app.config["LANGUAGES"]:
        session["locale"] = lang
    target = request.form.get("next") or "/"
    return redirect(target if is_local_path(target) else "/")


@bp.get("/barrierefreiheit")
def accessibility() -> Response:
    """Erklärung zur Barrierefreiheit (§ 12b BGG, § 7 BITV 2.0): the state of compliance,
    what is not accessible, when and how it was assessed, the feedback contact and the
    enforcement or conciliation body, the operator's parts from the configuration."""
    config = current_app.config
    return render(
        "main/accessibility.html",
        contact=config["ACCESSIBILITY_CONTACT"],
        operator=_operator(),
        enforcement_url=(config.get("KOOP_ACCESSIBILITY_ENFORCEMENT_URL") or "").strip(),
        site_url=config["PUBLIC_BASE_URL"],
    )


# The operator's details (config, see .env.example): the page names the variable of each
# one still empty, so an operator sees at a glance what to set.
_OPERATOR = {
    "name": "KOOP_OPERATOR_NAME",
    "address": "KOOP_OPERATOR_ADDRESS",
    "representative": "KOOP_OPERATOR_REPRESENTATIVE",
    "email": "KOOP_OPERATOR_EMAIL",
    "phone": "KOOP_OPERATOR_PHONE",
    "supervision": "KOOP_OPERATOR_SUPERVISION",
    "privacy_officer": "KOOP_PRIVACY_OFFICER",
    "privacy_authority": "KOOP_PRIVACY_AUTHORITY",
    "accessibility_reviewed_on": "KOOP_ACCESSIBILITY_REVIEWED_ON",
    "accessibility_enforcement": "KOOP_ACCESSIBILITY_ENFORCEMENT",
}


def _operator() -> dict[str, object]:
    config = current_app.config
    details: dict[str, object] = {
        key: (config.get(variable) or "").strip() for key, variable in _OPERATOR.items()
    }
    address = str(details["address"]).replace("|", "\n").replace("\\n", "\n")
    details["address_lines"] = [line.strip() for line in address.splitlines() if line.strip()]
    details["variables"] = _OPERATOR
    return details


@bp.get("/impressum")
def imprint() -> Response:
    """Impressum (§ 5 DDG): who operates this KoopBoard, from the configuration."""
    return render("main/impressum.html", operator=_operator())


@bp.get("/datenschutz")
def privacy() -> Response:
    """Datenschutzerklärung: what KoopBoard stores, why, how long, and the person's rights."""
    config = current_app.config
    return render(
        "main/datenschutz.html",
        operator=_operator(),
        retention_days=int(config["KOOP_MAIL_RETENTION_DAYS"]),
        session_hours=max(int(current_app.permanent_session_lifetime.total_seconds()) // 3600, 1),
        reset_hours=max(int(config["PASSWORD_RESET_MAX_AGE"]) // 3600, 1),
        invitation_days=max(int(config["INVITATION_MAX_AGE"]) // 86400, 1),
    )


@bp.get("/healthz")
@csrf.exempt
def healthz() -> tuple[Response, int]:
    """Liveness and readiness: the database and the broker, as JSON."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "degraded", **checks}
    return jsonify(body), (200 if healthy else 503)


def _check_database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        return "ok"
    except Exception as exc:  # report, do not crash the health check
        db.session.rollback()
        return f"error: {type(exc).__name__}"


def _check_broker() -> str:
    celery = current_app.extensions["celery"]
    try:
        with celery.connection_for_write() as conn:
            # One quick retry, no back-off: a probe must answer within its own timeout.
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0.2, interval_max=0.5, timeout=2
            )
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
