"""Views for cooperations. Each loads through ``access.load_cooperation`` (404/403)."""

from __future__ import annotations

import io

from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import NotFound
from wtforms.fields.choices import SelectChoice

from koopboard import csvsafe, inputs
from koopboard.cooperations import changes, services
from koopboard.cooperations.access import can_manage, load_cooperation
from koopboard.cooperations.forms import (
    CooperationForm,
    DeleteForm,
    HistoryFilterForm,
    PartnerEditForm,
    PartnerForm,
    RoleForm,
)
from koopboard.cooperations.history_labels import history_field, history_record, history_value
from koopboard.cooperations.invitations import services as invitations
from koopboard.cooperations.invitations.forms import invitation_form
from koopboard.domain.catalog import Handlungsfeld, Role
from koopboard.extensions import db, htmx
from koopboard.models import Cooperation, CooperationPartner, Membership
from koopboard.models.types import utcnow
from koopboard.web import form_status, render

bp = Blueprint("cooperations", __name__, url_prefix="/kooperationen")

HISTORY_PAGE_SIZE = 50


@bp.before_request
@login_required
def _require_login() -> None:
    """Every page here needs a signed-in user."""


@bp.context_processor
def _history_helpers() -> dict:
    return {
        "history_field": history_field,
        "history_record": history_record,
        "history_value": history_value,
    }


def _done(url: str) -> Response:
    """Post/Redirect/Get; an htmx request gets ``HX-Redirect`` so it loads the whole page
    (a followed 302 would be swapped into the form's region)."""
    if htmx:
        return Response(status=204, headers={"HX-Redirect": url})
    return redirect(url)


def _posted_version() -> int | None:
    """The version the form was loaded with; None if missing or garbled."""
    return inputs.posted_version(request.form.get("version"))


def _edit_form(cooperation: Cooperation) -> CooperationForm:
    """The master-data form filled from the record (enum keys, current version)."""
    form = CooperationForm(formdata=None, obj=cooperation)
    form.handlungsfeld.data = cooperation.handlungsfeld.value
    form.rechtsform.data = cooperation.rechtsform.value
    form.status.data = cooperation.status.value
    form.version.data = str(cooperation.version)
    return form


def _data(form: CooperationForm) -> services.CooperationData:
    return services.CooperationData(
        title=form.title.data,
        goals=form.goals.data or "",
        handlungsfeld=form.handlungsfeld.data,
        rechtsform=form.rechtsform.data,
        status=form.status.data,
        start_date=form.start_date.data,
        end_date=form.end_date.data,
        lead_may_approve=bool(form.lead_may_approve.data),
    )


def _attach(form: FlaskForm, exc: services.CooperationError) -> None:
    """Show a service error next to its field, or above the form (also in the htmx fragment)."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        form.form_errors.append(str(exc))


@bp.get("/")
def mine() -> Response:
    """Meine Kooperationen: every cooperation the user has a role in."""
    return render(
        "cooperations/mine.html",
        rows=services.my_cooperations(current_user),
        invitations=invitations.open_for(current_user),
    )


@bp.route("/neu", methods=["GET", "POST"])
def create() -> Response:
    """Create a cooperation led by the user's municipality."""
    form = CooperationForm()
    if request.method == "GET":
        form.status.data = "anbahnung"
        # The Kooperations-Check's "Kooperation anlegen" names the Handlungsfeld.
        if request.args.get("handlungsfeld") in {h.value for h in Handlungsfeld}:
            form.handlungsfeld.data = request.args["handlungsfeld"]
    # ... and, for a cooperation that already exists, its partners (AGS, ?partner=): offered
    # as checked boxes, added with the start date as join date when it is saved.
    own = current_user.municipality_id
    partners = [
        m for m in services.municipalities_by_ags(request.values.getlist("partner")) if m.id != own
    ]
    if form.validate_on_submit():
        try:
            cooperation = services.create_cooperation(_data(form), by=current_user)
            for municipality in partners:
                services.add_partner(
                    cooperation,
                    ags=municipality.ags,
                    joined_on=cooperation.start_date,
                    council_resolution_on=None,
                )
        except services.CooperationError as exc:
            db.session.rollback()
            _attach(form, exc)
        else:
            db.session.commit()
            if partners:
                message = _(
                    "Die Kooperation „%(t)s“ ist angelegt, mit %(p)s als Partner ab dem Beginn. "
                    "Prüfen Sie die Beitrittsdaten in der Partnerliste.",
                    t=cooperation.title,
                    p=", ".join(m.name for m in partners),
                )
            else:
                message = _(
                    "Die Kooperation „%(t)s“ ist angelegt. "
                    "Fügen Sie nun die Partnerkommunen hinzu.",
                    t=cooperation.title,
                )
            flash(message, "success")
            return _done(url_for("cooperations.show", cooperation_id=cooperation.id))
    return render(
        "cooperations/form.html",
        "cooperations/_form.html",
        form=form,
        cooperation=None,
        partners=partners,
        status=form_status(not form.is_submitted()),
    )


@bp.get("/<int:cooperation_id>")
def show(cooperation_id: int) -> Response:
    """Overview, partners, roles and the latest history."""
    cooperation, role = load_cooperation(cooperation_id)
    return render(
        "cooperations/show.html",
        cooperation=cooperation,
        role=role,
        manage=can_manage(role),
        partners=services.partners_of(cooperation),
        memberships=services.memberships_of(cooperation),
        changes=changes.latest(cooperation.id, 10),
        delete_form=DeleteForm(),
    )


@bp.route("/<int:cooperation_id>/bearbeiten", methods=["GET", "POST"])
def edit(cooperation_id: int) -> Response:
    """Edit the master data; a stale version answers 409 with the current values."""
    cooperation, _role = load_cooperation(cooperation_id, Role.LEAD)
    if request.method == "GET":
        form = _edit_form(cooperation)
        return render(
            "cooperations/form.html", "cooperations/_form.html", form=form, cooperation=cooperation
        )
    form = CooperationForm()
    if form.validate_on_submit():
        version = _posted_version()
        try:
            if version is None:  # no version, no blind overwrite: treat it as a conflict
                raise services.StaleVersion(cooperation)
            services.update_cooperation(cooperation, _data(form), version=version)
        except (services.StaleVersion, StaleDataError):
            db.session.rollback()
            return _conflict(cooperation_id)
        except services.CooperationError as exc:
            db.session.rollback()
            _attach(form, exc)
        else:
            db.session.commit()
            flash(_("Änderungen gespeichert."), "success")
            return _done(url_for("cooperations.show", cooperation_id=cooperation_id))
    return render(
        "cooperations/form.html",
        "cooperations/_form.html",
        form=form,
        cooperation=cooperation,
        status=form_status(False),
    )


def _conflict(cooperation_id: int) -> Response:
    """409: the form again, filled with what is saved now, and who saved it."""
    db.session.expire_all()
    current, _role = load_cooperation(cooperation_id, Role.LEAD)
    conflict = {"current": current, "changed_by": services.last_change(current)}
    return render(
        "cooperations/form.html",
        "cooperations/_form.html",
        form=_edit_form(current),
        cooperation=current,
        conflict=conflict,
        status=409,
    )


def _partner_page(
    cooperation: Cooperation, form: PartnerForm, *, query: str = "", status: int = 200
) -> Response:
    """The partner form: the search (with its results once searched), the chosen
    municipality, the dates. For htmx only the form's region."""
    partners = services.partners_of(cooperation)
    searched = bool(query)
    return render(
        "cooperations/partner_form.html",
        "cooperations/_partner_form.html",
        form=form,
        cooperation=cooperation,
        partners=partners,
        partner_ids={p.municipality_id for p in partners},
        chosen=services.municipality_by_ags(form.ags.data) if not form.ags.errors else None,
        results=_partner_hits(cooperation, query) if searched else [],
        query=query,
        searched=searched,
        for_partner=True,
        status=status,
    )


def _partner_hits(cooperation: Cooperation, query: str) -> list[services.SearchHit]:
    """The register search as the lead sees it: their Kreis, then their Land first."""
    return services.search_municipalities(query, near=cooperation.lead_municipality)


@bp.get("/<int:cooperation_id>/partner/suche")
def partner_search(cooperation_id: int) -> Response:
    """Search results for the partner form (htmx, while typing): each offers "Auswählen",
    which fills the form without saving; existing partners say "bereits Partner"."""
    cooperation, _role = load_cooperation(cooperation_id, Role.LEAD)
    query = (request.args.get("query") or "").strip()[:100]
    if not htmx or htmx.history_restore_request:  # the whole form, with the results
        form = PartnerForm(formdata=None)
        form.joined_on.data = cooperation.start_date
        form.query.data = query
        return _partner_page(cooperation, form, query=query)
    return render(
        "cooperations/partner_form.html",
        "municipalities/_results.html",
        cooperation=cooperation,
        partner_ids=services.partner_municipality_ids(cooperation),
        results=_partner_hits(cooperation, query),
        query=query,
        for_partner=True,
    )


@bp.route("/<int:cooperation_id>/partner/neu", methods=["GET", "POST"])
def add_partner(cooperation_id: int) -> Response:
    """Add a partner in two steps, with or without JavaScript: find the municipality and
    choose it ("Auswählen": a GET of this page with ``?ags=``, which saves nothing), then
    fill in the join date and council resolution and save with "Partner hinzufügen"."""
    cooperation, _role = load_cooperation(cooperation_id, Role.LEAD)
    if request.method == "GET":
        form = PartnerForm(formdata=None)
        form.joined_on.data = cooperation.start_date
        ags = (request.args.get("ags") or "").strip()[:8]
        if services.municipality_by_ags(ags) is not None:
            form.ags.data = ags
        return _partner_page(cooperation, form)
    form = PartnerForm()
    if request.form.get("pick"):
        # A page from before the two steps: choosing only chooses, it never saves.
        return _done(
            url_for(
                "cooperations.add_partner",
                cooperation_id=cooperation.id,
                ags=request.form["pick"][:8],
            )
        )
    if request.form.get("action") == "search":
        # The search without JavaScript: the page again with results, nothing written.
        # Only the query is checked; the other fields are not filled yet.
        form.validate()
        form.ags.errors = []
        form.joined_on.errors = []
        form.council_resolution_on.errors = []
        query = (form.query.data or "").strip()[:100]
        return _partner_page(
            cooperation, form, query=query, status=form_status(not form.query.errors)
        )
    if form.validate_on_submit():
        if not form.ags.data:
            form.ags.errors = [
                _("Bitte wählen Sie eine Kommune aus der Suche oder geben Sie ihren AGS an.")
            ]
        else:
            try:
                partner = services.add_partner(
                    cooperation,
                    ags=form.ags.data,
                    joined_on=form.joined_on.data,
                    council_resolution_on=form.council_resolution_on.data,
                )
            except services.CooperationError as exc:
                db.session.rollback()
                _attach(form, exc)
            else:
                db.session.commit()
                flash(_("%(m)s ist jetzt Partner.", m=partner.municipality.name), "success")
                return _done(url_for("cooperations.add_partner", cooperation_id=cooperation_id))
    return _partner_page(cooperation, form, status=form_status(False))


def _partner(cooperation_id: int, partner_id: int) -> CooperationPartner:
    partner = db.session.get(CooperationPartner, partner_id)
    if partner is None or partner.cooperation_id != cooperation_id:
        raise NotFound()
    return partner


@bp.route("/<int:cooperation_id>/partner/<int:partner_id>", methods=["GET", "POST"])
def edit_partner(cooperation_id: int, partner_id: int) -> Response:
    """Change a partner's join/leave dates and council resolution."""
    cooperation, _role = load_cooperation(cooperation_id, Role.LEAD)
    partner = _partner(cooperation.id, partner_id)
    form = PartnerEditForm(obj=partner)
    if form.validate_on_submit():
        try:
            services.update_partner(
                partner,
                joined_on=form.joined_on.data,
                left_on=form.left_on.data,
                council_resolution_on=form.council_resolution_on.data,
            )
        except services.CooperationError as exc:
            db.session.rollback()
            _attach(form, exc)
        else:
            db.session.commit()
            flash(_("Partnerdaten gespeichert."), "success")
            return _done(url_for("cooperations.show", cooperation_id=cooperation.id))
    return render(
        "cooperations/partner_edit.html",
        form=form,
        cooperation=cooperation,
        partner=partner,
        delete_form=DeleteForm(),
        status=form_status(not form.is_submitted()),
    )


@bp.post("/<int:cooperation_id>/partner/<int:partner_id>/entfernen")
def remove_partner(cooperation_id: int, partner_id: int) -> Response:
    """Remove a partner added by mistake (a partner who leaves gets a leave date instead)."""
    cooperation, _role = load_cooperation(cooperation_id, Role.LEAD)
    partner = _partner(cooperation.id, partner_id)
    form = DeleteForm()
    if form.validate_on_submit():
        name = partner.municipality.name
        try:
            services.remove_partner(partner)
        except services.CooperationError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("%(m)s wurde als Partner entfernt.", m=name), "success")
    return redirect(url_for("cooperations.show", cooperation_id=cooperation.id))


@bp.route("/<int:cooperation_id>/rollen", methods=["GET", "POST"])
def roles(cooperation_id: int) -> Response:
    """Give people of partner municipalities a role."""
    cooperation, _role = load_cooperation(cooperation_id, Role.LEAD)
    form = RoleForm()
    candidates = services.eligible_users(cooperation)
    form.user_id.choices = [
        SelectChoice(u.id, f"{u.name} ({u.municipality.name})") for u in candidates
    ]
    if form.validate_on_submit():
        try:
            membership = services.grant_role(
                cooperation, user_id=form.user_id.data, role=form.role.data
            )
        except services.CooperationError as exc:
            db.session.rollback()
            _attach(form, exc)
        else:
            db.session.commit()
            flash(
                _(
                    "%(n)s hat jetzt die Rolle %(r)s.",
                    n=membership.user.name,
                    r=_(membership.role.label),
                ),
                "success",
            )
            return _done(url_for("cooperations.roles", cooperation_id=cooperation.id))
    elif form.is_submitted() and form.user_id.errors:
        form.user_id.errors = [_("Bitte wählen Sie eine Person aus der Liste.")]
    return render(
        "cooperations/roles.html",
        form=form,
        cooperation=cooperation,
        memberships=services.memberships_of(cooperation),
        invitations=invitations.pending_of(cooperation),
        invite_form=invitation_form(invitations.partner_municipalities(cooperation), bound=False),
        now=utcnow(),
        delete_form=DeleteForm(),
        status=form_status(not form.is_submitted()),
    )


@bp.post("/<int:cooperation_id>/rollen/<int:membership_id>/entfernen")
def revoke_role(cooperation_id: int, membership_id: int) -> Response:
    """Take a role away (not the last Projektleitung)."""
    cooperation, _role = load_cooperation(cooperation_id, Role.LEAD)
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.cooperation_id != cooperation.id:
        raise NotFound()
    form = DeleteForm()
    if form.validate_on_submit():
        try:
            services.revoke_role(membership)
        except services.CooperationError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Rolle entfernt."), "success")
    return redirect(url_for("cooperations.roles", cooperation_id=cooperation.id))


def _history_filters(form: HistoryFilterForm) -> changes.Filters:
    """The validated filter (a field in error filters nothing)."""
    art = form.art.data if not form.art.errors else None
    actor = form.person.data if not form.person.errors else None
    return changes.Filters(
        record_type=art or None,
        actor_id=int(actor) if actor else None,
        since=form.von.data if not form.von.errors else None,
        until=form.bis.data if not (form.bis.errors or form.von.errors) else None,
    )


@bp.get("/<int:cooperation_id>/verlauf")
def history(cooperation_id: int) -> Response:
    """The cooperation's changes, newest first, one sentence each, filtered and paginated."""
    cooperation, _role = load_cooperation(cooperation_id)
    filtering = any(request.args.get(key) for key in ("art", "person", "von", "bis"))
    form = HistoryFilterForm(formdata=request.args if filtering else None)
    form.set_choices(changes.RECORD_TYPES, changes.people_in(cooperation.id))
    valid = form.validate() if filtering else True
    filters = _history_filters(form)
    listing = changes.page_of(
        cooperation.id, filters, inputs.page_number(request.args.get("seite")), HISTORY_PAGE_SIZE
    )
    query = {
        key: request.args[key]
        for key in ("art", "person", "von", "bis")
        if valid and request.args.get(key)
    }
    return render(
        "cooperations/history.html",
        "cooperations/_history_results.html",
        cooperation=cooperation,
        form=form,
        listing=listing,
        query=query,
        status=form_status(valid),
    )


@bp.get("/<int:cooperation_id>/verlauf.csv")
def history_csv(cooperation_id: int) -> Response:
    """The history as CSV (semicolon, UTF-8 with BOM: what Excel in a German office opens)."""
    cooperation, _role = load_cooperation(cooperation_id)
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer, delimiter=";")
    writer.writerow(
        [
            "Zeitpunkt (UTC)",
            "Person",
            "Datensatz",
            "Nr.",
            "Bezeichnung",
            "Aktion",
            "Feld",
            "alter Wert",
            "neuer Wert",
            "alter Wert (Name)",
            "neuer Wert (Name)",
        ]
    )
    entries = services.history_of(cooperation.id, limit=1_000_000)
    names = changes.resolve_names(entries, amounts=False)
    for entry in entries:
        writer.writerow(
            [
                entry.created_at.isoformat(),
                entry.actor_label,
                entry.record_type,
                entry.record_id,
                entry.record_label,
                entry.action,
                entry.field or "",
                entry.old_value or "",
                entry.new_value or "",
                changes.csv_name(names, entry.field, entry.old_value),
                changes.csv_name(names, entry.field, entry.new_value),
            ]
        )
    body = "\ufeff" + buffer.getvalue()
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": (
                f'attachment; filename="verlauf-kooperation-{cooperation.id}.csv"'
            )
        },
    )
