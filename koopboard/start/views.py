"""/start: what needs the signed-in person now, each item with its action in place.

Every action is a plain form (CSRF) that answers Post/Redirect/Get back to /start; with
htmx the item is replaced by a short confirmation in place (or its German error, 4xx)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from koopboard import inputs
from koopboard.cooperations.access import load_cooperation
from koopboard.cooperations.invitations.forms import AnswerForm
from koopboard.costs import services as costs
from koopboard.costs.books import services as books
from koopboard.domain.catalog import Role
from koopboard.domain.milestones import MilestoneStatus, berlin_today
from koopboard.extensions import db, htmx
from koopboard.milestones import services as milestones
from koopboard.models.types import utcnow
from koopboard.notifications import inbox
from koopboard.start import services
from koopboard.start.forms import ItemActionForm
from koopboard.web import render

bp = Blueprint("start", __name__)


@bp.before_request
@login_required
def _require_login() -> None:
    """Every page here needs a signed-in user."""


@bp.get("/start")
def index() -> Response:
    """Was ansteht: costs to approve, my municipality's milestones, requests, invitations,
    unread notifications; below, every cooperation's figures of this year."""
    now = costs.now()
    agenda = services.agenda_for(current_user, now, berlin_today(now).year)
    response = render(
        "start/index.html", agenda=agenda, action_form=ItemActionForm(), answer_form=AnswerForm()
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _version() -> int | None:
    return inputs.posted_version(request.form.get("version"))


def _answer(item_id: str, message: str, *, status: int = 200, ok: bool = True) -> Response:
    """htmx: the item's confirmation (or error) in its place; else back to /start."""
    if not htmx:
        flash(message, "success" if ok else "error")
        return redirect(url_for("start.index"))
    return render("start/_answer.html", item_id=item_id, message=message, ok=ok, status=status)


def _checked_form() -> None:
    if not ItemActionForm().validate_on_submit():
        abort(400)


@bp.post("/start/kooperationen/<int:cooperation_id>/kosten/<int:cost_id>/freigeben")
def approve_cost(cooperation_id: int, cost_id: int) -> Response:
    """Approve a submitted cost from the start page (the cost page's rules: four-eyes)."""
    cooperation, role = load_cooperation(cooperation_id, *costs.DECIDERS)
    cost = books.get_cost(cooperation.id, cost_id)
    if cost is None:
        abort(404)
    if not books.may_decide(cooperation, role):
        abort(403)
    _checked_form()
    item = f"kosten-{cost.id}"
    text = cost.text
    try:
        books.approve_cost(cost, version=_version(), by=current_user)
    except (costs.StaleVersion, StaleDataError):
        db.session.rollback()
        message = _("Die Kosten „%(t)s“ wurden inzwischen geändert. Bitte prüfen Sie sie.", t=text)
        return _answer(item, message, status=409, ok=False)
    except books.FourEyesError as exc:
        db.session.rollback()
        return _answer(item, str(exc), status=403, ok=False)
    except costs.CostError as exc:
        db.session.rollback()
        return _answer(item, str(exc), status=409, ok=False)
    db.session.commit()
    return _answer(item, _("Freigegeben: „%(t)s“ zählt jetzt.", t=text))


@bp.post("/start/kooperationen/<int:cooperation_id>/meilensteine/<int:milestone_id>/erledigt")
def complete_milestone(cooperation_id: int, milestone_id: int) -> Response:
    """Mark one of my municipality's milestones done (the milestone page's rules)."""
    cooperation, role = load_cooperation(cooperation_id)
    milestone = milestones.get_milestone(cooperation.id, milestone_id)
    if milestone is None:
        abort(404)
    if not milestones.can_update_progress(role, current_user, milestone):
        abort(403)
    _checked_form()
    item = f"meilenstein-{milestone.id}"
    title = milestone.title
    try:
        milestones.change_status(
            milestone,
            MilestoneStatus.ERLEDIGT.value,
            version=_version(),
            by=current_user,
            is_lead=role is Role.LEAD,
            now=utcnow(),
        )
    except (milestones.StaleVersion, StaleDataError):
        db.session.rollback()
        message = _("„%(t)s“ wurde inzwischen geändert. Bitte prüfen Sie den Meilenstein.", t=title)
        return _answer(item, message, status=409, ok=False)
    except milestones.MilestoneError as exc:
        db.session.rollback()
        return _answer(item, str(exc), status=409, ok=False)
    db.session.commit()
    return _answer(item, _("Erledigt: „%(t)s“.", t=title))


@bp.post("/start/benachrichtigungen/<int:delivery_id>/gelesen")
def mark_read(delivery_id: int) -> Response:
    """Mark one unread notification read."""
    _checked_form()
    if not inbox.mark_read(current_user.id, delivery_id):
        db.session.rollback()
        abort(404)
    db.session.commit()
    response = _answer(f"benachrichtigung-{delivery_id}", _("Als gelesen markiert."))
    if htmx:
        response.headers["HX-Trigger"] = "notifications-changed"
    return response
