"""Invitations: the Projektleitung invites and withdraws; the invited person answers.

Routes under ``/kooperationen/<id>/einladungen`` need the cooperation's Projektleitung
(404 without a role, 403 with another one). ``/einladungen/<id>`` is the offer page of an
account holder (only for the invited address, else 403). ``/einladung-kooperation/<token>``
is the link mailed to a new address: it works without an account, once, until it expires.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from koopboard.auth import throttle
from koopboard.auth.views import sign_in
from koopboard.cooperations.access import load_cooperation
from koopboard.cooperations.invitations import services
from koopboard.cooperations.invitations.forms import AnswerForm, NewAccountForm, invitation_form
from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.models import CooperationInvitation
from koopboard.web import form_status, render

bp = Blueprint("invitations", __name__)
log = logging.getLogger(__name__)

COOP = "/kooperationen/<int:cooperation_id>/einladungen"


def send_link_after_commit(invitation_id: int, link: str) -> None:
    """Queue the link mail to a new address; if the broker is down, inviting again sends a
    new one (the older link stops working then)."""
    from tasks.mail import send_invitation_mail

    try:
        send_invitation_mail.delay(invitation_id, link)
    except Exception:  # broker down
        log.exception("could not queue the mail of invitation %s", invitation_id)


def send_withdrawal_after_commit(invitation_id: int) -> None:
    """Queue the mail telling an address without an account that its invitation is gone."""
    from tasks.mail import send_withdrawal_mail

    try:
        send_withdrawal_mail.delay(invitation_id)
    except Exception:  # broker down: the link stopped working anyway
        log.exception("could not queue the withdrawal mail of invitation %s", invitation_id)


@bp.route(COOP + "/neu", methods=["GET", "POST"])
@login_required
@throttle.limit_invitations
def create(cooperation_id: int) -> Response:
    """Invite a person of a partner municipality; the answer never tells whether the
    address has an account."""
    cooperation, _role = load_cooperation(cooperation_id, Role.LEAD)
    form = invitation_form(services.partner_municipalities(cooperation))
    if form.validate_on_submit():
        try:
            invited = services.invite(
                cooperation,
                municipality_id=form.municipality_id.data,
                email=form.email.data,
                role=form.role.data,
                by=current_user,
            )
        except services.InvitationError as exc:
            db.session.rollback()
            getattr(form, exc.field or "", form.email).errors.append(str(exc))
        else:
            invitation_id, email = invited.invitation.id, invited.invitation.email
            role = _(invited.invitation.role.label)
            db.session.commit()
            if invited.link is not None:
                send_link_after_commit(invitation_id, invited.link)
            flash(_("Die Einladung an %(e)s als %(r)s ist unterwegs.", e=email, r=role), "success")
            return redirect(url_for("cooperations.roles", cooperation_id=cooperation.id))
    return render(
        "cooperations/invitations/new.html",
        form=form,
        cooperation=cooperation,
        status=form_status(not form.is_submitted()),
    )


@bp.post(COOP + "/<int:invitation_id>/zurueckziehen")
@login_required
def withdraw(cooperation_id: int, invitation_id: int) -> Response:
    """The Projektleitung takes an open invitation back."""
    cooperation, _role = load_cooperation(cooperation_id, Role.LEAD)
    invitation = db.session.get(CooperationInvitation, invitation_id)
    if invitation is None or invitation.cooperation_id != cooperation.id:
        abort(404)
    if not AnswerForm().validate_on_submit():
        abort(400)
    try:
        mail_the_address = services.withdraw(invitation, by=current_user)
    except services.InvitationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        email = invitation.email
        db.session.commit()
        if mail_the_address:
            send_withdrawal_after_commit(invitation_id)
        flash(_("Die Einladung an %(e)s ist zurückgezogen.", e=email), "success")
    return redirect(url_for("cooperations.roles", cooperation_id=cooperation.id))


# --- an account holder's offer ----------------------------------------------------------------


def _mine(invitation_id: int) -> CooperationInvitation:
    """The invitation, if it went to the signed-in user's address (else 403, or 404)."""
    invitation = services.for_user(invitation_id, current_user)
    if invitation is None:
        abort(403 if db.session.get(CooperationInvitation, invitation_id) else 404)
    return invitation


@bp.get("/einladungen/<int:invitation_id>")
@login_required
def show(invitation_id: int) -> Response:
    """The offer: who invites, to which cooperation and role; accept or decline."""
    invitation = _mine(invitation_id)
    closed = services.closed_reason(invitation)
    return render(
        "cooperations/invitations/offer.html",
        invitation=invitation,
        closed=closed,
        refusal=None if closed else services.refusal(invitation, current_user.municipality_id),
        form=AnswerForm(),
    )


@bp.post("/einladungen/<int:invitation_id>/annehmen")
@login_required
def accept(invitation_id: int) -> Response:
    """Take the role and land on the cooperation."""
    invitation = _mine(invitation_id)
    if not AnswerForm().validate_on_submit():
        abort(400)
    try:
        membership = services.accept_offer(invitation, current_user)
    except services.InvitationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("invitations.show", invitation_id=invitation_id))
    cooperation_id, title = membership.cooperation_id, membership.cooperation.title
    role = _(membership.role.label)
    db.session.commit()
    flash(_("Willkommen in „%(t)s“: Sie haben jetzt die Rolle %(r)s.", t=title, r=role), "success")
    return redirect(url_for("cooperations.show", cooperation_id=cooperation_id))


@bp.post("/einladungen/<int:invitation_id>/ablehnen")
@login_required
def decline(invitation_id: int) -> Response:
    invitation = _mine(invitation_id)
    if not AnswerForm().validate_on_submit():
        abort(400)
    return _decline(invitation, url_for("cooperations.mine"))


def _decline(invitation: CooperationInvitation, target: str) -> Response:
    try:
        services.decline(invitation)
    except services.InvitationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Sie haben die Einladung abgelehnt."), "success")
    return redirect(target)


# --- the link of a new address ----------------------------------------------------------------


@bp.route("/einladung-kooperation/<token>", methods=["GET", "POST"])
def accept_link(token: str) -> Response:
    """Create one's account in the partner municipality with the invited role."""
    try:
        _token, invitation = services.load_link(token)
    except services.InvitationError as exc:
        return render("auth/link_invalid.html", message=str(exc), status=400)
    if services.has_account(invitation):
        # The address got an account meanwhile: the offer waits on its page, after signing in.
        return redirect(url_for("invitations.show", invitation_id=invitation.id))
    form = NewAccountForm()
    form.confirm.label.text = _(
        "Ich bin bei der Kommune %(m)s beschäftigt.", m=invitation.municipality.name
    )
    if form.validate_on_submit():
        try:
            user, membership = services.accept_with_new_account(
                token,
                name=form.name.data,
                password=form.password.data,
                confirmed=bool(form.confirm.data),
            )
        except services.InvitationError as exc:
            db.session.rollback()
            field = getattr(form, exc.field, None) if exc.field else None
            if field is None:
                return render("auth/link_invalid.html", message=str(exc), status=400)
            field.errors.append(str(exc))
        else:
            cooperation_id, title = membership.cooperation_id, membership.cooperation.title
            role = _(membership.role.label)
            db.session.commit()
            sign_in(user)
            flash(
                _(
                    "Willkommen bei KoopBoard, %(n)s! Sie haben in „%(t)s“ die Rolle %(r)s.",
                    n=user.name,
                    t=title,
                    r=role,
                ),
                "success",
            )
            return redirect(url_for("cooperations.show", cooperation_id=cooperation_id))
    return render(
        "cooperations/invitations/accept.html",
        form=form,
        invitation=invitation,
        token=token,
        decline_form=AnswerForm(),
        status=form_status(not form.is_submitted()),
    )


@bp.post("/einladung-kooperation/<token>/ablehnen")
def decline_link(token: str) -> Response:
    """Decline without an account (e.g. the person does not work for that municipality)."""
    try:
        _token, invitation = services.load_link(token)
    except services.InvitationError as exc:
        return render("auth/link_invalid.html", message=str(exc), status=400)
    if not AnswerForm().validate_on_submit():
        abort(400)
    return _decline(invitation, url_for("auth.login"))
