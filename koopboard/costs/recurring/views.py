"""The recurring-cost pages: the list with rhythm and next due date (every role reads), and
setting up, changing and ending a recurring cost (Kämmerei).
"""

from __future__ import annotations

from decimal import Decimal

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from koopboard.cooperations.access import load_cooperation
from koopboard.costs import services
from koopboard.costs.forms import VersionForm
from koopboard.costs.recurring.forms import RecurringForm
from koopboard.costs.recurring.services import (
    create_recurring,
    deactivate,
    drafts_booked,
    get_recurring,
    pending_note,
    recurring_of,
    update_recurring,
)
from koopboard.costs.services import BOOKERS
from koopboard.costs.web import (
    COOP,
    attach_error,
    bp,
    done,
    local_today,
    partner_choices,
    posted_version,
)
from koopboard.domain.catalog import Role
from koopboard.domain.money import format_eur
from koopboard.extensions import db
from koopboard.i18n import quote
from koopboard.models import Cooperation
from koopboard.models.cost import RecurringCost, RecurringInterval
from koopboard.web import form_status, render


def _plain(amount: Decimal | None) -> str:
    return "" if amount is None else format_eur(amount).removesuffix("\u00a0€")


def _edit_form(cooperation: Cooperation, rc: RecurringCost) -> RecurringForm:
    form = RecurringForm(formdata=None, obj=rc)
    form.paid_by_id.choices = partner_choices(cooperation, gettext("– federführende Kommune –"))
    form.interval.data = rc.interval.value
    form.amount.data = _plain(rc.amount)
    form.net_amount.data = _plain(rc.net_amount)
    form.vat_amount.data = _plain(rc.vat_amount)
    form.version.data = str(rc.version)
    return form


RECURRING = COOP + "/wiederkehrend"


def _list_url(cooperation_id: int) -> str:
    return url_for("costs.recurring", cooperation_id=cooperation_id)


def _render_list(
    cooperation: Cooperation, role: Role, *, status: int = 200, conflict: bool = False
) -> Response:
    today = local_today()
    rows = recurring_of(cooperation.id)
    return render(
        "costs/recurring/index.html",
        cooperation=cooperation,
        role=role,
        year=today.year,
        rows=[(rc, pending_note(cooperation, rc, today)) for rc in rows],
        booked=drafts_booked(cooperation.id),
        may_book=role in BOOKERS,
        end_form=VersionForm(),
        conflict=conflict,
        status=status,
    )


def _render_form(
    cooperation: Cooperation,
    form: RecurringForm,
    rc: RecurringCost | None,
    status: int,
    conflict: object = None,
) -> Response:
    return render(
        "costs/recurring/form.html",
        "costs/recurring/_form.html",
        cooperation=cooperation,
        form=form,
        recurring=rc,
        conflict=conflict,
        status=status,
    )


@bp.get(RECURRING)
def recurring(cooperation_id: int) -> Response:
    """The recurring costs with their rhythm and next due date (every role reads)."""
    cooperation, role = load_cooperation(cooperation_id)
    return _render_list(cooperation, role)


@bp.route(RECURRING + "/neu", methods=["GET", "POST"])
def recurring_create(cooperation_id: int) -> Response:
    """Set up a recurring cost (Kämmerei)."""
    cooperation, _role = load_cooperation(cooperation_id, *BOOKERS)
    form = RecurringForm()
    form.paid_by_id.choices = partner_choices(cooperation, gettext("– federführende Kommune –"))
    if request.method == "GET":
        form.start_date.data = local_today()
        form.interval.data = RecurringInterval.MONATLICH.value
    elif form.validate_on_submit():
        try:
            rc = create_recurring(cooperation, form.data_for_service(), by=current_user)
        except services.CostError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            db.session.commit()
            flash(
                gettext("Die wiederkehrenden Kosten %(t)s sind angelegt.", t=quote(rc.text)),
                "success",
            )
            return done(_list_url(cooperation.id))
    return _render_form(cooperation, form, None, form_status(not form.is_submitted()))


def _load(cooperation_id: int, recurring_id: int) -> tuple[Cooperation, Role, RecurringCost]:
    cooperation, role = load_cooperation(cooperation_id, *BOOKERS)
    rc = get_recurring(cooperation.id, recurring_id)
    if rc is None:
        abort(404)
    return cooperation, role, rc


@bp.route(RECURRING + "/<int:recurring_id>/bearbeiten", methods=["GET", "POST"])
def recurring_edit(cooperation_id: int, recurring_id: int) -> Response:
    """Change a recurring cost (Kämmerei); a stale version answers 409 with current values."""
    cooperation, _role, rc = _load(cooperation_id, recurring_id)
    if request.method == "GET":
        return _render_form(cooperation, _edit_form(cooperation, rc), rc, 200)
    form = RecurringForm()
    form.paid_by_id.choices = partner_choices(cooperation, gettext("– federführende Kommune –"))
    if form.validate_on_submit():
        try:
            update_recurring(
                cooperation,
                rc,
                form.data_for_service(),
                version=posted_version(),
                by=current_user,
            )
        except (services.StaleVersion, StaleDataError):
            db.session.rollback()
            db.session.expire_all()
            current = get_recurring(cooperation.id, recurring_id)
            if current is None:
                abort(404)
            conflict = {"changed_by": services.last_change("RecurringCost", current.id)}
            return _render_form(
                cooperation, _edit_form(cooperation, current), current, 409, conflict
            )
        except services.CostError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            db.session.commit()
            flash(gettext("Änderungen gespeichert."), "success")
            return done(_list_url(cooperation.id))
    return _render_form(cooperation, form, rc, form_status(False))


@bp.get(RECURRING + "/<int:recurring_id>/beenden")
def recurring_end_confirm(cooperation_id: int, recurring_id: int) -> Response:
    """Ask before ending: which due dates will no longer be booked, what stays."""
    cooperation, role, rc = _load(cooperation_id, recurring_id)
    if not rc.active:
        flash(gettext("Diese wiederkehrenden Kosten sind bereits beendet."), "error")
        return done(_list_url(cooperation.id))
    return render(
        "costs/recurring/end.html",
        cooperation=cooperation,
        role=role,
        rc=rc,
        booked=drafts_booked(cooperation.id).get(rc.id, 0),
        end_form=VersionForm(),
    )


@bp.post(RECURRING + "/<int:recurring_id>/beenden")
def recurring_end(cooperation_id: int, recurring_id: int) -> Response:
    """End a recurring cost (Kämmerei): no further drafts; booked drafts stay."""
    cooperation, role, rc = _load(cooperation_id, recurring_id)
    if not VersionForm().validate_on_submit():
        abort(400)
    try:
        deactivate(rc, version=posted_version(), by=current_user)
    except (services.StaleVersion, StaleDataError):
        db.session.rollback()
        db.session.expire_all()
        return _render_list(cooperation, role, status=409, conflict=True)
    except services.CostError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return done(_list_url(cooperation.id))
    db.session.commit()
    flash(
        gettext(
            "Die wiederkehrenden Kosten %(t)s sind beendet. Bereits angelegte Entwürfe "
            "bleiben erhalten.",
            t=quote(rc.text),
        ),
        "success",
    )
    return done(_list_url(cooperation.id))
