"""The mail with the account link of an invitation into a cooperation (a new address).

An account holder hears of an invitation through the notification outbox instead; this
mail carries a link that creates an account, and such a link is never stored anywhere but
in the queued task, like ``auth``'s invitation and reset links."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _

from koopboard.domain.invitations import InvitationStatus
from koopboard.extensions import db
from koopboard.mail import build_message, send_message
from koopboard.models import AccountToken, CooperationInvitation, User


def send_invitation_mail(invitation_id: int, link: str) -> None:
    """Compose and send the link mail of one invitation (called by the Celery task)."""
    invitation = db.session.get(CooperationInvitation, invitation_id)
    if invitation is None or invitation.status is not InvitationStatus.OPEN:
        return  # withdrawn, replaced or answered before the worker came to it
    token = db.session.get(AccountToken, invitation.account_token_id)
    if token is None or token.used_at is not None:
        return
    inviter = invitation.invited_by
    context = {
        "invitation": invitation,
        "cooperation": invitation.cooperation,
        "role": _(invitation.role.label),
        "inviter": inviter.name if inviter else _("Die Projektleitung"),
        "inviter_municipality": inviter.municipality.name
        if inviter and inviter.municipality
        else invitation.cooperation.lead_municipality.name,
        "link": link,
    }
    subject = _(
        "Einladung in die Kooperation „%(c)s“ (%(r)s)",
        c=invitation.cooperation.title,
        r=context["role"],
    )
    msg = build_message(
        invitation.email,
        subject,
        render_template("cooperations/invitations/mail/invitation.txt", **context),
        render_template("cooperations/invitations/mail/invitation.html", **context),
        message_id=f"<cooperation-invitation-{invitation.id}@koopboard.localhost>",
    )
    send_message(msg)


def send_withdrawal_mail(invitation_id: int) -> None:
    """Tell an address without an account that its invitation was withdrawn (called by the
    Celery task). It names the cooperation, the role and who withdrew it, nothing else."""
    invitation = db.session.get(CooperationInvitation, invitation_id)
    if invitation is None or invitation.status is not InvitationStatus.WITHDRAWN:
        return
    by = db.session.get(User, invitation.decided_by_id) if invitation.decided_by_id else None
    context = {
        "invitation": invitation,
        "cooperation": invitation.cooperation,
        "role": _(invitation.role.label),
        "by": by.name if by else _("Die Projektleitung"),
    }
    subject = _(
        "Einladung in die Kooperation „%(c)s“ zurückgezogen", c=invitation.cooperation.title
    )
    msg = build_message(
        invitation.email,
        subject,
        render_template("cooperations/invitations/mail/withdrawn.txt", **context),
        render_template("cooperations/invitations/mail/withdrawn.html", **context),
        message_id=f"<cooperation-invitation-{invitation.id}-withdrawn@koopboard.localhost>",
    )
    send_message(msg)
