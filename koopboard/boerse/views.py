"""Views of the Kooperationsbörse: the directory (public where published), entries, publishing."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from koopboard.boerse import joining, publishing, services
from koopboard.boerse.forms import (
    AcceptForm,
    ActionForm,
    ContactForm,
    DeclineForm,
    DirectoryFilterForm,
    JoinRequestForm,
    ListingForm,
)
from koopboard.boerse.map import map_of
from koopboard.cooperations.access import load_cooperation
from koopboard.domain.catalog import Role
from koopboard.domain.directory import Visibility
from koopboard.domain.milestones import BERLIN
from koopboard.extensions import db, htmx
from koopboard.inputs import page_number
from koopboard.web import form_status, render

bp = Blueprint("boerse", __name__)


def _today():  # noqa: ANN202
    return datetime.now(BERLIN).date()


def _signed_in() -> bool:
    return bool(current_user.is_authenticated)


# --- the directory --------------------------------------------------------------------------


def _filter_form() -> DirectoryFilterForm:
    form = DirectoryFilterForm(formdata=MultiDict(request.args) if request.args else None)
    pairs = services.kreise_by_land()
    lands = sorted({land for land, _k in pairs})
    form.land.choices = [SelectChoice("", _("alle")), *(SelectChoice(x, x) for x in lands)]
    chosen_land = form.land.data if form.land.data in lands else None
    kreise = sorted({k for land, k in pairs if chosen_land in (None, land)})
    form.kreis.choices = [SelectChoice("", _("alle")), *(SelectChoice(k, k) for k in kreise)]
    return form


def _filters(form: DirectoryFilterForm) -> tuple[services.Filters, str | None]:
    """Filters from a validated form; invalid fields are dropped (their errors are shown)."""
    form.validate()
    origin = None
    origin_error = None
    if form.von.data and not form.von.errors:
        origin = services.find_origin(form.von.data)
        if origin is None:
            origin_error = _("Keine Kommune „%(v)s“ im Gemeindeverzeichnis.", v=form.von.data)
    elif _signed_in() and current_user.municipality is not None:
        origin = current_user.municipality

    def ok(field):  # noqa: ANN001, ANN202
        return field.data if field.data and not field.errors else None

    filters = services.Filters(
        handlungsfeld=ok(form.handlungsfeld),
        land=ok(form.land),
        kreis=ok(form.kreis),
        rechtsform=ok(form.rechtsform),
        status=ok(form.status),
        seeking=bool(form.sucht.data),
        text=(form.q.data or "").strip() if not form.q.errors else "",
        radius_km=ok(form.umkreis) if origin is not None else None,
        origin=origin,
        kind=ok(form.art),
        page=page_number(request.args.get("seite")),
    )
    return filters, origin_error


@bp.get("/kooperationsboerse")
def directory() -> Response:
    """Search published cooperations and the register's joint administrations (GET form)."""
    form = _filter_form()
    filters, origin_error = _filters(form)
    if form.umkreis.data and filters.origin is None and not origin_error:
        origin_error = _("Für den Umkreis bitte eine Kommune angeben.")
    result = services.search(filters, signed_in=_signed_in(), today=_today())
    args = {k: v for k, v in request.args.items() if k != "seite" and v}
    return render(
        "boerse/directory.html",
        "boerse/_results.html",
        form=form,
        filters=filters,
        origin_error=origin_error,
        result=result,
        map=map_of(result.entries, result.offset + 1),
        page_args=args,
    )


@bp.get("/kooperationsboerse/<int:cooperation_id>")
def entry(cooperation_id: int) -> Response:
    """One published cooperation's entry (404 where the visitor may not see it)."""
    found = services.cooperation_entry(cooperation_id, signed_in=_signed_in(), today=_today())
    if found is None:
        if not _signed_in():
            # It may be published for signed-in users only: let them sign in and come back.
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(404)
    join_request = None
    is_partner = False
    municipality = current_user.municipality if _signed_in() else None
    if municipality is not None:
        join_request = joining.latest_request(cooperation_id, municipality.id)
        is_partner = joining.is_partner(cooperation_id, municipality.id, _today())
    return render(
        "boerse/entry.html",
        entry=found,
        join_request=join_request,
        is_partner=is_partner,
        action_form=ActionForm(),
    )


@bp.get("/kooperationsboerse/verband/<ars>")
def register_entry(ars: str) -> Response:
    """One of the register's joint administrations, with its member municipalities."""
    found = services.register_entry(ars, today=_today()) if ars.isdigit() else None
    if found is None:
        abort(404)
    return render("boerse/register_entry.html", entry=found, members=services.members_of(ars))


# --- publishing (Projektleitung) -----------------------------------------------------------


@bp.route("/kooperationen/<int:cooperation_id>/boerse", methods=["GET", "POST"])
@login_required
def publish(cooperation_id: int) -> Response:
    """Visibility, public summary and what the cooperation is looking for."""
    cooperation, _role = load_cooperation(cooperation_id, Role.LEAD)
    listing = publishing.listing_of(cooperation)
    form = ListingForm(obj=listing if request.method == "GET" else None)
    if request.method == "GET":
        form.visibility.data = listing.visibility.value
    if form.validate_on_submit():
        data = publishing.ListingData(
            visibility=form.visibility.data,
            summary=form.summary.data or "",
            seeking_partners=bool(form.seeking_partners.data),
            seeking_kreis=form.seeking_kreis.data,
            seeking_radius_km=form.seeking_radius_km.data,
        )
        try:
            saved = publishing.save_listing(cooperation, data)
        except publishing.ListingError as exc:
            db.session.rollback()
            field = getattr(form, exc.field or "", None)
            if field is not None:
                field.errors = [*field.errors, str(exc)]
            else:
                form.form_errors.append(str(exc))
        else:
            db.session.commit()
            if saved.visibility is Visibility.INTERN:
                flash(_("Gespeichert. Die Kooperation erscheint nicht in der Börse."), "success")
            else:
                flash(_("Gespeichert. Der Eintrag ist in der Kooperationsbörse."), "success")
            target = url_for("boerse.publish", cooperation_id=cooperation.id)
            if htmx:
                return Response(status=204, headers={"HX-Redirect": target})
            return redirect(target)
    return render(
        "boerse/publish.html",
        form=form,
        cooperation=cooperation,
        listing=listing,
        kreise=publishing.kreise(),
        status=form_status(not form.is_submitted()),
    )


@bp.app_template_filter("km")
def km(value: float | None) -> str:
    """Whole kilometres, German digits ("1.204")."""
    from flask_babel import format_decimal

    from koopboard.domain.geo import format_km

    return format_decimal(format_km(value), format="#,##0") if value is not None else "–"


# --- contact and join requests (signed-in municipality users) ------------------------------


def _listed_or_404(cooperation_id: int):  # noqa: ANN202
    listed = joining.listed_cooperation(cooperation_id)
    if listed is None:
        abort(404)
    return listed


def _attach(form, exc: joining.JoinError) -> None:  # noqa: ANN001
    field = getattr(form, exc.field or "", None)
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        form.form_errors.append(str(exc))


@bp.route("/kooperationsboerse/<int:cooperation_id>/kontakt", methods=["GET", "POST"])
@login_required
def contact(cooperation_id: int) -> Response:
    """Write to the cooperation's Projektleitung (delivered by e-mail and bell)."""
    cooperation, listing = _listed_or_404(cooperation_id)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            joining.send_contact(cooperation.id, form.message.data, by=current_user)
        except joining.JoinError as exc:
            db.session.rollback()
            _attach(form, exc)
        else:
            db.session.commit()
            flash(_("Ihre Nachricht ist an die Projektleitung unterwegs."), "success")
            return redirect(url_for("boerse.entry", cooperation_id=cooperation.id))
    return render(
        "boerse/contact.html",
        form=form,
        cooperation=cooperation,
        status=form_status(not form.is_submitted()),
    )


@bp.route("/kooperationsboerse/<int:cooperation_id>/beitritt", methods=["GET", "POST"])
@login_required
def request_join(cooperation_id: int) -> Response:
    """Ask, for one's own municipality, to join a cooperation that welcomes partners."""
    cooperation, listing = _listed_or_404(cooperation_id)
    if not listing.seeking_partners:
        abort(404)
    form = JoinRequestForm()
    if request.method == "GET":
        form.intended_join_on.data = _today()
    if form.validate_on_submit():
        try:
            joining.request_join(
                cooperation.id,
                message=form.message.data,
                intended_join_on=form.intended_join_on.data,
                by=current_user,
                today=_today(),
            )
        except joining.JoinError as exc:
            db.session.rollback()
            _attach(form, exc)
        else:
            db.session.commit()
            flash(
                _("Ihre Beitrittsanfrage ist gestellt. Die Projektleitung entscheidet."), "success"
            )
            return redirect(url_for("boerse.entry", cooperation_id=cooperation.id))
    return render(
        "boerse/join.html",
        form=form,
        cooperation=cooperation,
        status=form_status(not form.is_submitted()),
    )


@bp.post("/kooperationsboerse/<int:cooperation_id>/beitritt/<int:request_id>/zurueckziehen")
@login_required
def withdraw(cooperation_id: int, request_id: int) -> Response:
    """The requesting municipality takes its open request back."""
    found = joining.request_of(cooperation_id, request_id)
    if found is None or found.municipality_id != current_user.municipality_id:
        abort(404)
    if ActionForm().validate_on_submit():
        try:
            joining.withdraw(found, by=current_user)
        except joining.JoinError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Die Anfrage ist zurückgezogen."), "success")
    return redirect(url_for("boerse.entry", cooperation_id=cooperation_id))


# --- deciding (Projektleitung) ------------------------------------------------------------------


@bp.get("/kooperationen/<int:cooperation_id>/beitrittsanfragen/<int:request_id>")
@login_required
def decision(cooperation_id: int, request_id: int) -> Response:
    """One request with the forms to accept or decline it."""
    cooperation, _role = load_cooperation(cooperation_id, Role.LEAD)
    found = joining.request_of(cooperation.id, request_id)
    if found is None:
        abort(404)
    accept_form = AcceptForm()
    accept_form.joined_on.data = max(found.intended_join_on, cooperation.start_date)
    return render(
        "boerse/decision.html",
        cooperation=cooperation,
        join_request=found,
        accept_form=accept_form,
        decline_form=DeclineForm(),
    )


def _decided(cooperation_id: int) -> Response:
    return redirect(
        url_for("cooperations.show", cooperation_id=cooperation_id) + "#beitrittsanfragen"
    )


@bp.post("/kooperationen/<int:cooperation_id>/beitrittsanfragen/<int:request_id>/annehmen")
@login_required
def accept(cooperation_id: int, request_id: int) -> Response:
    """Accept: the municipality becomes a partner from the join date."""
    cooperation, _role = load_cooperation(cooperation_id, Role.LEAD)
    found = joining.request_of(cooperation.id, request_id)
    if found is None:
        abort(404)
    form = AcceptForm()
    if form.validate_on_submit():
        try:
            joining.accept(
                cooperation,
                found,
                joined_on=form.joined_on.data,
                council_resolution_on=form.council_resolution_on.data,
                by=current_user,
            )
        except joining.JoinError as exc:
            db.session.rollback()
            _attach(form, exc)
        else:
            db.session.commit()
            flash(
                _(
                    "%(m)s ist ab dem %(d)s Partner.",
                    m=found.municipality.name,
                    d=_datum(found.joined_on),
                ),
                "success",
            )
            return _decided(cooperation.id)
    db.session.rollback()
    return render(
        "boerse/decision.html",
        cooperation=cooperation,
        join_request=joining.request_of(cooperation.id, request_id),
        accept_form=form,
        decline_form=DeclineForm(formdata=None),
        status=form_status(False),
    )


@bp.post("/kooperationen/<int:cooperation_id>/beitrittsanfragen/<int:request_id>/ablehnen")
@login_required
def decline(cooperation_id: int, request_id: int) -> Response:
    """Decline with a reason."""
    cooperation, _role = load_cooperation(cooperation_id, Role.LEAD)
    found = joining.request_of(cooperation.id, request_id)
    if found is None:
        abort(404)
    form = DeclineForm()
    if form.validate_on_submit():
        try:
            joining.decline(cooperation, found, reason=form.reason.data, by=current_user)
        except joining.JoinError as exc:
            db.session.rollback()
            _attach(form, exc)
        else:
            db.session.commit()
            flash(_("Die Anfrage von %(m)s ist abgelehnt.", m=found.municipality.name), "success")
            return _decided(cooperation.id)
    accept_form = AcceptForm(formdata=None)
    return render(
        "boerse/decision.html",
        cooperation=cooperation,
        join_request=found,
        accept_form=accept_form,
        decline_form=form,
        status=form_status(False),
    )


def _datum(value):  # noqa: ANN001, ANN202
    from flask_babel import format_date

    return format_date(value, "dd.MM.yyyy")


@bp.app_template_global("join_requests_of")
def join_requests_of(cooperation_id: int) -> list:
    """The cooperation page's list of join requests (its lead sees it)."""
    return joining.requests_of(cooperation_id)
