"""/start: what needs the signed-in person now, each item with its action in place.

Every action is a plain form (CSRF) that answers Post/Redirect/Get back to /start; with
htmx the item is replaced by a short confirmation in place (or its German error, 4xx)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from koopboard import inputs
from koopboard.boerse import joining
from koopboard.boerse.forms import AcceptForm, DeclineForm
from koopboard.cooperations.access import load_cooperation
from koopboard.cooperations.invitations import services as invitations
from koopboard.cooperations.invitations.forms import AnswerForm
from koopboard.costs import services as costs
from koopboard.costs.books import services as books
from koopboard.domain.catalog import Role
from koopboard.domain.directory import JoinRequestStatus
from koopboard.domain.milestones import MilestoneStatus, berlin_today
from koopboard.extensions import db, htmx
from koopboard.milestones import services as milestones
from koopboard.models import CooperationInvitation
from koopboard.models.types import utcnow
from koopboard.notifications import inbox
from koopboard.start import services
from koopboard.start.forms import ItemActionForm
from koopboard.web import form_status, render

bp = Blueprint("start", __name__)


@bp.before_request
@login_required
def _require_login() -> None:
    """Every page here needs a signed-in user."""


@bp.get("/start")
def index() -> Response:
    """Was ansteht: costs to approve, my municipality's milestones, requests, invitations,
    unread notifications; below, every cooperation's figures of this year."""
    return _page()


def _page(join_forms: dict | None = None, *, status: int = 200) -> Response:
    """The start page; ``join_forms`` holds a join request's forms with their errors."""
    now = costs.now()
    agenda = services.agenda_for(current_user, now, berlin_today(now).year)
    forms = {r.id: _join_forms(r.id, berlin_today(now)) for r in agenda.join_requests}
    forms.update(join_forms or {})
    response = render(
        "start/index.html",
        agenda=agenda,
        action_form=ItemActionForm(),
        answer_form=AnswerForm(),
        join_forms=forms,
        status=status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _ids(form, item_id: str):  # noqa: ANN001, ANN202
    """Field ids unique on the page (several requests, each with its forms); names stay."""
    for f in form:
        f.id = f"{item_id}-{f.name}"
        f.label.field_id = f.id
    return form


def _join_forms(
    request_id: int,
    today: date,
    accept: AcceptForm | None = None,
    decline: DeclineForm | None = None,
) -> tuple[AcceptForm, DeclineForm]:
    """A join request's accept form (join date today, Europe/Berlin) and decline form."""
    item_id = f"anfrage-{request_id}"
    if accept is None:
        accept = AcceptForm(formdata=None)
        accept.joined_on.data = today
    if decline is None:
        decline = DeclineForm(formdata=None)
    return _ids(accept, item_id + "-annehmen"), _ids(decline, item_id + "-ablehnen")


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


# --- join requests to cooperations I lead (the Börse's rules: boerse.joining) --------------


def _join_request(cooperation_id: int, request_id: int):  # noqa: ANN202
    """The request of a cooperation the signed-in user leads (403 other roles, 404)."""
    cooperation, _role = load_cooperation(cooperation_id, Role.LEAD)
    found = joining.request_of(cooperation.id, request_id)
    if found is None:
        abort(404)
    return cooperation, found


def _join_refused(  # noqa: ANN202
    cooperation,  # noqa: ANN001
    found,  # noqa: ANN001
    accept: AcceptForm | None,
    decline: DeclineForm | None,
):
    """The item again with the German message next to its field: 422 to htmx, else the
    whole page (400)."""
    db.session.rollback()
    if found.status is not JoinRequestStatus.OPEN:  # decided meanwhile: no form to fix
        message = _("Diese Anfrage ist bereits %(s)s.", s=_(found.status.label))
        return _answer(f"anfrage-{found.id}", message, status=409, ok=False)
    forms = _join_forms(found.id, berlin_today(costs.now()), accept, decline)
    if not htmx:
        return _page({found.id: forms}, status=form_status(False))
    item = services.join_item(found, cooperation.title)
    return render(
        "start/_join_request.html",
        r=item,
        forms=forms,
        action_form=ItemActionForm(),
        status=form_status(False),
    )


@bp.post("/start/kooperationen/<int:cooperation_id>/beitrittsanfragen/<int:request_id>/annehmen")
def accept_join(cooperation_id: int, request_id: int) -> Response:
    """Accept a join request in place: the municipality becomes a partner from the date."""
    cooperation, found = _join_request(cooperation_id, request_id)
    form = AcceptForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _join_refused(cooperation, found, form, None)
    try:
        joining.accept(
            cooperation,
            found,
            joined_on=form.joined_on.data,
            council_resolution_on=form.council_resolution_on.data,
            by=current_user,
        )
    except joining.JoinError as exc:
        return _join_error(cooperation, found, exc, form, None)
    name = found.municipality.name
    db.session.commit()
    message = _(
        "%(m)s ist ab dem %(d)s Partner von „%(c)s“.",
        m=name,
        d=format_date(form.joined_on.data, "dd.MM.yyyy"),
        c=cooperation.title,
    )
    return _answer(f"anfrage-{request_id}", message)


@bp.post("/start/kooperationen/<int:cooperation_id>/beitrittsanfragen/<int:request_id>/ablehnen")
def decline_join(cooperation_id: int, request_id: int) -> Response:
    """Decline a join request in place, with the reason the municipality reads."""
    cooperation, found = _join_request(cooperation_id, request_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _join_refused(cooperation, found, None, form)
    try:
        joining.decline(cooperation, found, reason=form.reason.data, by=current_user)
    except joining.JoinError as exc:
        return _join_error(cooperation, found, exc, None, form)
    name = found.municipality.name
    db.session.commit()
    return _answer(f"anfrage-{request_id}", _("Die Anfrage von %(m)s ist abgelehnt.", m=name))


def _join_error(cooperation, found, exc: joining.JoinError, accept, decline) -> Response:  # noqa: ANN001
    """A refusal of the Börse's rules: next to its field; a request decided meanwhile
    leaves its item for the message."""
    db.session.rollback()
    if found.status is not JoinRequestStatus.OPEN:
        return _answer(f"anfrage-{found.id}", str(exc), status=409, ok=False)
    form = accept if accept is not None else decline
    field = getattr(form, exc.field or "", None)
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        form.form_errors.append(str(exc))
    return _join_refused(cooperation, found, accept, decline)


# --- invitations to me -----------------------------------------------------------------------


@bp.post("/start/einladungen/<int:invitation_id>/ablehnen")
def decline_invitation(invitation_id: int) -> Response:
    """Decline an invitation; with htmx its item turns into the confirmation in place."""
    invitation = invitations.for_user(invitation_id, current_user)
    if invitation is None:
        abort(403 if db.session.get(CooperationInvitation, invitation_id) else 404)
    if not AnswerForm().validate_on_submit():
        abort(400)
    item = f"einladung-{invitation.id}"
    title = invitation.cooperation.title
    try:
        invitations.decline(invitation)
    except invitations.InvitationError as exc:
        db.session.rollback()
        return _answer(item, str(exc), status=409, ok=False)
    db.session.commit()
    return _answer(item, _("Sie haben die Einladung in „%(t)s“ abgelehnt.", t=title))
