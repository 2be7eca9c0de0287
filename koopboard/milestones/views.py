"""Views for milestones. Each loads through ``access.load_cooperation`` (404/403).

The inline forms (status, due date, note) answer an htmx request with the milestone's
fragment and an ``HX-Trigger`` event that makes the summary reload itself; without
JavaScript they are plain forms that redirect back to the list (Post/Redirect/Get).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_htmx import make_response as htmx_response
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError

from koopboard.cooperations.access import load_cooperation
from koopboard.domain import charts
from koopboard.domain.catalog import Role
from koopboard.domain.milestones import (
    MilestoneStatus,
    Phase,
    PhaseProgress,
    berlin_today,
    by_phase,
    is_overdue,
    phase_bars,
    split_upcoming,
    statuses_for,
    summarize,
    timeline_scale,
    upcoming_window,
)
from koopboard.extensions import db, htmx, login_manager
from koopboard.inputs import posted_version
from koopboard.milestones import listing, services
from koopboard.milestones.forms import (
    DueDateForm,
    MilestoneForm,
    NoteForm,
    StatusForm,
    optional_id,
)
from koopboard.models import Cooperation, Milestone, User
from koopboard.models.types import utcnow
from koopboard.web import form_status, render

bp = Blueprint("milestones", __name__)

COOP = "/kooperationen/<int:cooperation_id>/meilensteine"
CHANGED_EVENT = "milestone-changed"
TIMELINE_WIDTH = 900  # the date axis of the timeline, in px (the SVG is drawn at real size)
# Calendar programs cannot sign in: these routes authenticate by the secret token only.
TOKEN_ENDPOINTS = frozenset({"milestones.user_feed", "milestones.cooperation_feed"})


@bp.before_request
def _require_login() -> Response | None:
    """Every page here needs a signed-in user, except the token-guarded calendar feeds."""
    if request.endpoint in TOKEN_ENDPOINTS or current_user.is_authenticated:
        return None
    return login_manager.unauthorized()


@bp.app_template_global()
def milestone_summary(cooperation_id: int) -> services.Summary:
    """The progress summary for the cooperation page (one query)."""
    return services.summary_of(cooperation_id, utcnow())


@bp.app_template_global()
def milestone_overview(cooperation_id: int) -> tuple[services.Summary, list[PhaseProgress]]:
    """The summary and the progress per phase for the cooperation page (one query)."""
    return services.overview_of(cooperation_id, utcnow())


@bp.app_template_global()
def phase_chart(phases: list[PhaseProgress]) -> charts.Chart:
    """The bar geometry of the per-phase progress chart: done of total per phase."""
    return charts.layout([charts.share(p.done, p.total) for p in phases])


# --- helpers ------------------------------------------------------------------------------


def _now() -> datetime:
    return utcnow()


def _row_context(cooperation: Cooperation, role: Role, now: datetime) -> dict[str, Any]:
    """What the milestone fragment needs to decide what to show to whom."""
    is_lead = role is Role.LEAD
    return {
        "cooperation": cooperation,
        "role": role,
        "is_lead": is_lead,
        "today": berlin_today(now),
        "overdue": lambda m: is_overdue(m.status, m.due_date, now),
        "may_progress": lambda m: services.can_update_progress(role, current_user, m),
        "statuses": lambda m: statuses_for(is_lead, m.status),
        "errors": {},
        "values": {},
        "conflict": None,
        "saved": None,
    }


def _load(
    cooperation_id: int, milestone_id: int, *roles: Role
) -> tuple[Cooperation, Role, Milestone]:
    cooperation, role = load_cooperation(cooperation_id, *roles)
    milestone = services.get_milestone(cooperation.id, milestone_id)
    if milestone is None:
        abort(404)
    return cooperation, role, milestone


def _posted_version() -> int | None:
    return posted_version(request.form.get("version"))


def _list_url(cooperation_id: int, milestone_id: int | None = None) -> str:
    """The list as it was (view, filters, sort: the posted ``zurueck``), at the milestone."""
    anchor = f"meilenstein-{milestone_id}" if milestone_id else None
    params = _posted_query().params()
    return url_for("milestones.index", cooperation_id=cooperation_id, _anchor=anchor, **params)


def _posted_query() -> listing.ListQuery:
    """The list's view, filters and sort order an inline form came from (``zurueck``)."""
    return listing.parse(dict(parse_qsl(request.form.get("zurueck", ""))))


def _done(url: str) -> Response:
    """Post/Redirect/Get; htmx gets ``HX-Redirect`` so it loads the whole page."""
    if htmx:
        return Response(status=204, headers={"HX-Redirect": url})
    return redirect(url)


def _attach(form: FlaskForm, exc: services.MilestoneError) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        flash(str(exc), "error")


def _conflict(milestone_id: int) -> dict[str, Any]:
    """The current state after a lost race, and the history entry that says who won it."""
    db.session.rollback()
    db.session.expire_all()
    return {"changed_by": services.last_change(milestone_id)}


# --- pages --------------------------------------------------------------------------------


@bp.get("/meilensteine/")
def mine() -> Response:
    """Meine nächsten Meilensteine: those I am the responsible person of, then the others,
    overdue first, then the next 30 days, all cooperations."""
    now = _now()
    rows = services.upcoming_for(current_user, now)
    cooperations = {m.id: c for m, c in rows}
    mine_first = [m for m, _c in rows if m.responsible_person_id == current_user.id]
    overdue, soon = split_upcoming(
        [m for m, _c in rows if m.responsible_person_id != current_user.id], now
    )
    return render(
        "milestones/mine.html",
        responsible=mine_first,
        overdue=overdue,
        soon=soon,
        cooperations=cooperations,
        today=berlin_today(now),
        until=upcoming_window(now)[1],
        own_municipality_id=current_user.municipality_id,
    )


@bp.get(COOP + "/")
def index(cooperation_id: int) -> Response:
    """All milestones of the cooperation: a dense table (default) or cards by phase, filtered
    and sorted as the GET parameters say; htmx gets only the list when a filter changes."""
    cooperation, role = load_cooperation(cooperation_id)
    now = _now()
    milestones = services.milestones_of(cooperation.id)
    query = listing.parse(request.args)
    shown = listing.apply(milestones, query, now)
    response = render(
        "milestones/index.html",
        "milestones/_list.html",
        milestones=shown,
        groups=by_phase(shown),
        total=len(milestones),
        query=query,
        back=_query_string(query),
        responsible_choices=_responsible_choices(milestones),
        phases=list(Phase),
        all_statuses=list(MilestoneStatus),
        editable=any(services.can_update_progress(role, current_user, m) for m in shown),
        summary=summarize(milestones, now),
        **_row_context(cooperation, role, now),
    )
    if htmx:
        # The address bar gets the canonical address (no empty parameters) to share.
        response.headers["HX-Push-Url"] = url_for(
            "milestones.index", cooperation_id=cooperation.id, **query.params()
        )
    return response


def _responsible_choices(milestones: list[Milestone]) -> list[tuple[str, str]]:
    """The municipalities that hold milestones here (by name), and "noch offen" if any has none."""
    towns = {
        m.responsible_municipality.id: m.responsible_municipality.name
        for m in milestones
        if m.responsible_municipality
    }
    choices = [(str(i), name) for i, name in sorted(towns.items(), key=lambda t: t[1].casefold())]
    if any(m.responsible_municipality_id is None for m in milestones):
        choices.append((listing.NOBODY, _("noch offen")))
    return choices


def _query_string(query: listing.ListQuery) -> str:
    return urlencode(query.params())


@bp.get(COOP + "/uebersicht")
def summary(cooperation_id: int) -> Response:
    """The summary alone: what the ``milestone-changed`` event reloads."""
    cooperation, _role = load_cooperation(cooperation_id)
    return render(
        "milestones/summary.html",
        "milestones/_summary_body.html",
        cooperation=cooperation,
        summary=services.summary_of(cooperation.id, _now()),
    )


@bp.get(COOP + "/phasen")
def phases(cooperation_id: int) -> Response:
    """Progress per phase alone: what the ``milestone-changed`` event reloads."""
    cooperation, _role = load_cooperation(cooperation_id)
    return render(
        "milestones/phases.html",
        "milestones/_phases_body.html",
        cooperation=cooperation,
        phases=services.phase_progress_of(cooperation.id, _now()),
    )


@bp.get(COOP + "/zeitleiste")
def timeline(cooperation_id: int) -> Response:
    """Timeline: an SVG overview and the same milestones as an ordered list, with today."""
    cooperation, role = load_cooperation(cooperation_id)
    now = _now()
    today = berlin_today(now)
    milestones = services.milestones_of(cooperation.id)
    scale = timeline_scale([m.due_date for m in milestones], today, width=TIMELINE_WIDTH)
    return render(
        "milestones/timeline.html",
        milestones=milestones,
        scale=scale,
        bars=phase_bars(milestones, scale, now),
        groups=by_phase(milestones),
        summary=summarize(milestones, now),
        **_row_context(cooperation, role, now),
    )


@bp.get(COOP + "/<int:milestone_id>")
def show(cooperation_id: int, milestone_id: int) -> Response:
    """One milestone with its inline forms (the target of links and plain-form errors)."""
    cooperation, role, milestone = _load(cooperation_id, milestone_id)
    return render(
        "milestones/show.html",
        m=milestone,
        changed_by=services.last_change(milestone.id),
        **_row_context(cooperation, role, _now()),
    )


@bp.route(COOP + "/neu", methods=["GET", "POST"])
def create(cooperation_id: int) -> Response:
    """A new milestone (Projektleitung)."""
    cooperation, _role = load_cooperation(cooperation_id, Role.LEAD)
    form = MilestoneForm()
    form.set_partners(services.partner_municipalities(cooperation))
    people = services.responsible_people(cooperation)
    form.set_people(people)
    if request.method == "GET":
        form.status.data = "geplant"
        form.phase.data = "planung"
        form.completed_on.data = berlin_today(_now())
        _narrow_people(form, people)
    elif form.validate_on_submit():
        try:
            milestone = services.create_milestone(
                cooperation, _data(form), by=current_user, now=_now()
            )
        except services.MilestoneError as exc:
            db.session.rollback()
            _attach(form, exc)
        else:
            db.session.commit()
            flash(_("Der Meilenstein „%(t)s“ ist angelegt.", t=milestone.title), "success")
            return _done(_list_url(cooperation.id, milestone.id))
    return render(
        "milestones/form.html",
        "milestones/_form.html",
        today_iso=berlin_today(_now()).isoformat(),
        form=form,
        cooperation=cooperation,
        milestone=None,
        conflict=None,
        status=form_status(not form.is_submitted()),
    )


@bp.route(COOP + "/<int:milestone_id>/bearbeiten", methods=["GET", "POST"])
def edit(cooperation_id: int, milestone_id: int) -> Response:
    """Edit every field (Projektleitung); a stale version answers 409 with current values."""
    cooperation, _role, milestone = _load(cooperation_id, milestone_id, Role.LEAD)
    partners = services.partner_municipalities(cooperation)
    people = services.responsible_people(cooperation)
    if request.method == "GET":
        form = _edit_form(milestone, partners, people)
        _narrow_people(form, people)
    else:
        form = MilestoneForm()
        form.set_partners(partners)
        form.set_people(_with_current_person(people, milestone))
        if form.validate_on_submit():
            try:
                services.update_milestone(
                    milestone,
                    cooperation,
                    _data(form),
                    version=_posted_version(),
                    by=current_user,
                    now=_now(),
                )
            except (services.StaleVersion, StaleDataError):
                conflict = _conflict(milestone.id)
                current = services.get_milestone(cooperation.id, milestone_id)
                if current is None:
                    abort(404)
                return render(
                    "milestones/form.html",
                    "milestones/_form.html",
                    today_iso=berlin_today(_now()).isoformat(),
                    form=_edit_form(current, partners, people),
                    cooperation=cooperation,
                    milestone=current,
                    conflict=conflict,
                    status=409,
                )
            except services.MilestoneError as exc:
                db.session.rollback()
                _attach(form, exc)
            else:
                db.session.commit()
                flash(_("Änderungen gespeichert."), "success")
                return _done(_list_url(cooperation.id, milestone.id))
    return render(
        "milestones/form.html",
        "milestones/_form.html",
        today_iso=berlin_today(_now()).isoformat(),
        form=form,
        cooperation=cooperation,
        milestone=milestone,
        conflict=None,
        status=form_status(not form.is_submitted()),
    )


def _narrow_people(form: MilestoneForm, people: list[User]) -> None:
    """``?responsible_municipality_id=``: what htmx asks for when the municipality changes
    (it swaps in only the person field): that municipality chosen, its people offered and
    none of them chosen yet. Without JavaScript the form lists everyone; the server checks."""
    if "responsible_municipality_id" not in request.args:
        return
    chosen = optional_id(request.args["responsible_municipality_id"])
    form.responsible_municipality_id.data = chosen
    form.set_people([p for p in people if chosen is not None and p.municipality_id == chosen])
    form.responsible_person_id.data = None


def _with_current_person(people: list[User], milestone: Milestone) -> list[User]:
    """A person who has lost the role since stays selectable for the milestone they hold."""
    person = milestone.responsible_person
    return people if person is None or person in people else [*people, person]


def _edit_form(milestone: Milestone, partners: list, people: list[User]) -> MilestoneForm:
    form = MilestoneForm(formdata=None, obj=milestone)
    form.set_partners(partners)
    form.set_people(_with_current_person(people, milestone))
    if form.completed_on.data is None:
        form.completed_on.data = berlin_today(_now())
    if milestone.responsible_municipality and milestone.responsible_municipality not in partners:
        # A partner who has left stays selectable for the milestones it already holds.
        form.responsible_municipality_id.choices.append(
            (milestone.responsible_municipality.id, milestone.responsible_municipality.name)
        )
    form.phase.data = milestone.phase.value
    form.status.data = milestone.status.value
    form.version.data = str(milestone.version)
    return form


def _data(form: MilestoneForm) -> services.MilestoneData:
    return services.MilestoneData(
        title=form.title.data or "",
        description=form.description.data or "",
        phase=form.phase.data,
        due_date=form.due_date.data,
        status=form.status.data,
        responsible_municipality_id=form.responsible_municipality_id.data,
        progress_note=form.progress_note.data or "",
        responsible_person_id=form.responsible_person_id.data,
        completed_on=form.completed_on.data,
    )


# --- inline updates -----------------------------------------------------------------------


def _inline(
    cooperation_id: int,
    milestone_id: int,
    form_cls: type[FlaskForm],
    apply: Callable[[FlaskForm, Cooperation, Role, Milestone], None],
    *,
    saved_field: str,
    lead_only: bool = False,
) -> Response:
    """Validate, apply, commit; answer htmx with the fragment, a plain post with a redirect.

    After a save the fragment says "gespeichert" beside the control (``saved_field``)."""
    cooperation, role, milestone = _load(cooperation_id, milestone_id)
    allowed = (
        role is Role.LEAD
        if lead_only
        else services.can_update_progress(role, current_user, milestone)
    )
    if not allowed:
        abort(403)
    form = form_cls()
    conflict = None
    status = 200
    saved = None
    if form.validate_on_submit():
        try:
            apply(form, cooperation, role, milestone)
        except (services.StaleVersion, StaleDataError):
            conflict = _conflict(milestone.id)
            status = 409
        except services.MilestoneError as exc:
            db.session.rollback()
            _attach(form, exc)
            status = form_status(False)
        else:
            db.session.commit()
            if not htmx:
                flash(_("„%(t)s“ gespeichert.", t=milestone.title), "success")
                return redirect(_list_url(cooperation.id, milestone.id))
            saved = saved_field
    else:
        status = form_status(False)
    now = _now()
    milestone = services.get_milestone(cooperation.id, milestone_id)
    if milestone is None:
        abort(404)
    context = _row_context(cooperation, role, now)
    if status != 409:
        context.update(errors=form.errors, values=request.form if status >= 400 else {})
    context["conflict"] = conflict
    context["saved"] = saved
    # The table's status form asks for its row back, the cards for the card.
    in_table = request.form.get("ansicht") == "tabelle"
    response = render(
        "milestones/show.html",
        "milestones/_row.html" if in_table else "milestones/_milestone.html",
        back=_query_string(_posted_query()),
        status=status,
        m=milestone,
        changed_by=services.last_change(milestone.id) if not htmx else None,
        **context,
    )
    if status in (200, 409):
        # The summary (and anything else listening) reloads itself on this event.
        return htmx_response(response, trigger={CHANGED_EVENT: {"id": milestone.id}})
    return response


@bp.post(COOP + "/<int:milestone_id>/status")
def update_status(cooperation_id: int, milestone_id: int) -> Response:
    """Inline: change the status (lead, or a member of the responsible municipality)."""

    def apply(form: StatusForm, _c: Cooperation, role: Role, m: Milestone) -> None:
        services.change_status(
            m,
            form.status.data,
            version=_posted_version(),
            by=current_user,
            is_lead=role is Role.LEAD,
            now=_now(),
        )

    return _inline(cooperation_id, milestone_id, StatusForm, apply, saved_field="status")


@bp.post(COOP + "/<int:milestone_id>/termin")
def update_due_date(cooperation_id: int, milestone_id: int) -> Response:
    """Inline: move the due date (Projektleitung)."""

    def apply(form: DueDateForm, cooperation: Cooperation, _r: Role, m: Milestone) -> None:
        services.change_due_date(
            m, cooperation, form.due_date.data, version=_posted_version(), by=current_user
        )

    return _inline(
        cooperation_id, milestone_id, DueDateForm, apply, saved_field="due_date", lead_only=True
    )


@bp.post(COOP + "/<int:milestone_id>/notiz")
def update_note(cooperation_id: int, milestone_id: int) -> Response:
    """Inline: change the progress note (lead, or a member of the responsible municipality)."""

    def apply(form: NoteForm, _c: Cooperation, _r: Role, m: Milestone) -> None:
        services.change_note(m, form.progress_note.data or "", version=_posted_version())

    return _inline(cooperation_id, milestone_id, NoteForm, apply, saved_field="progress_note")
