"""Platform admin (Betreiber): invite the first user of a municipality; failed e-mails;
find an account and anonymise it when the person has left (Art. 17 DSGVO)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Email, Length, Regexp

from koopboard.account import anonymisation
from koopboard.auth import services as accounts
from koopboard.auth.views import send_token_mail_after_commit
from koopboard.extensions import db
from koopboard.inputs import BaseForm, page_number
from koopboard.models import AccountToken, Municipality, User
from koopboard.notifications import delivery
from koopboard.notifications.outbox import nudge_relay
from koopboard.web import form_status, render

bp = Blueprint("admin", __name__, url_prefix="/verwaltung")


class AdminInviteForm(BaseForm):
    ags = StringField(
        _l("Amtlicher Gemeindeschlüssel (AGS) der Kommune"),
        validators=[
            DataRequired(_l("Bitte füllen Sie dieses Feld aus.")),
            Regexp(r"^\d{8}$", message=_l("Der AGS hat genau acht Ziffern.")),
        ],
        description=_l(
            "Achtstellig, z. B. 10043113 für Merchweiler. Die Suche im Gemeindeverzeichnis hilft."
        ),
    )
    email = EmailField(
        _l("E-Mail-Adresse der Person"),
        validators=[
            DataRequired(_l("Bitte füllen Sie dieses Feld aus.")),
            Email(
                _l("Bitte geben Sie eine gültige E-Mail-Adresse an."), check_deliverability=False
            ),
            Length(max=254),
        ],
    )


class RetryForm(BaseForm):
    """CSRF-only form for the "erneut versuchen" buttons."""


class AnonymiseForm(BaseForm):
    """CSRF-only form of the confirmation page; successor choices are read per cooperation."""


@bp.before_request
@login_required
def _admins_only() -> None:
    """Only platform admins; everyone else learns nothing (404)."""
    if not current_user.is_admin:
        abort(404)


@bp.route("/einladen", methods=["GET", "POST"])
def invite() -> Response:
    """Invite the first user of a municipality (any municipality of the register)."""
    form = AdminInviteForm()
    if form.validate_on_submit():
        municipality = db.session.scalar(
            select(Municipality).where(Municipality.ags == form.ags.data)
        )
        if municipality is None:
            form.ags.errors.append(_("Zu diesem AGS gibt es keine Kommune im Gemeindeverzeichnis."))
        else:
            try:
                issued = accounts.invite(
                    email=form.email.data, municipality=municipality, invited_by=current_user
                )
            except accounts.AccountError as exc:
                getattr(form, exc.field or "", form.email).errors.append(str(exc))
            else:
                db.session.commit()
                send_token_mail_after_commit(issued)
                flash(
                    _(
                        "Einladung an %(e)s (%(m)s) ist unterwegs.",
                        e=issued.token.email,
                        m=municipality.name,
                    ),
                    "success",
                )
                return redirect(url_for("admin.invite"))
    pending = db.session.scalars(
        select(AccountToken)
        .where(AccountToken.purpose == "invite")
        .order_by(AccountToken.id.desc())
        .limit(50)
    ).all()
    return render(
        "admin/invite.html", form=form, pending=pending, status=form_status(not form.is_submitted())
    )


@bp.get("/zustellungen")
def deliveries() -> Response:
    """Failed notification e-mails (deliveries and digests), newest first."""
    number = page_number(request.args.get("seite"))
    return render(
        "admin/deliveries.html", listing=delivery.failed_page(number), retry_form=RetryForm()
    )


@bp.post("/zustellungen/<any(delivery, digest):kind>/<int:row_id>/erneut")
def retry_delivery(kind: str, row_id: int) -> Response:
    """Queue a failed e-mail again: pending, attempts back to zero."""
    form = RetryForm()
    if not form.validate_on_submit():
        abort(400)
    if delivery.retry_failed(kind, row_id):
        db.session.commit()
        nudge_relay()
        flash(_("Die E-Mail wird erneut zugestellt."), "success")
    else:
        db.session.rollback()
        flash(_("Diese Zustellung ist nicht (mehr) fehlgeschlagen."), "error")
    page = page_number(request.form.get("seite"))
    return redirect(url_for("admin.deliveries", seite=page))


# --- accounts and their anonymisation (Art. 17 DSGVO) -------------------------------------------


@bp.get("/personen")
def people() -> Response:
    """Find an account by name or e-mail address."""
    query = (request.args.get("q") or "").strip()[:200]
    return render("admin/people.html", query=query, found=anonymisation.find_accounts(query))


def _account(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/personen/<int:user_id>/anonymisieren", methods=["GET", "POST"])
def anonymise(user_id: int) -> Response:
    """Confirmation page (what will go, who takes over a Projektleitung), then the change."""
    user = _account(user_id)
    form = AnonymiseForm()
    errors: dict[str | None, str] = {}
    chosen: dict[int, int] = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        for handover in anonymisation.handovers(user):
            choice = request.form.get(handover.field, type=int)
            if choice is not None:
                chosen[handover.cooperation_id] = choice
        try:
            result = anonymisation.anonymise(user, by=current_user, successors=chosen)
        except anonymisation.AnonymisationError as exc:
            db.session.rollback()
            errors[exc.field] = str(exc)
        else:
            db.session.commit()
            flash(
                # Not the old name: the flash travels in the session cookie.
                _(
                    "Das Konto ist anonymisiert: %(r)s Rollen beendet, %(s)s Anmeldungen und "
                    "%(l)s Links gelöscht, %(h)s Verlaufseinträge umbenannt.",
                    r=result.roles,
                    s=result.sessions,
                    l=result.links,
                    h=result.history_entries,
                ),
                "success",
            )
            return redirect(url_for("admin.people"))
    blocked = None
    if user.anonymised_at is None:
        try:
            anonymisation.check_allowed(user, by=current_user)
        except anonymisation.AnonymisationError as exc:
            blocked = str(exc)
    status = 200 if not errors else form_status(False)
    return render(
        "admin/anonymise.html",
        user=user,
        form=form,
        preview=anonymisation.preview(user),
        blocked=blocked,
        errors=errors,
        chosen=chosen,
        status=status,
    )
