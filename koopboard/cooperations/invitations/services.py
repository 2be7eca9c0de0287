"""Invitations into a cooperation: a Projektleitung invites an address of a partner
municipality with a role. The view owns the commit.

What the inviter sees and what is written does not depend on whether the address has an
account: the invitation row, its link row and its history are the same, and so is the
answer. Only the invited person learns the difference:

- an account holder gets the offer through the notification outbox (e-mail and bell) and
  accepts it after signing in, on the invitation's page;
- a new address gets an account link (``auth``'s one-time, expiring link, purpose
  "coop") by e-mail; following it creates the account in the partner municipality, after
  the person confirmed working there, and the municipality's existing users are told.

Either way the person then has the role and lands on the cooperation. A newer invitation
to the same address replaces an open one (its link stops working), the Projektleitung may
withdraw an open one, the invited person may decline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from koopboard.auth import services as accounts
from koopboard.cooperations.services import (
    announce_role,
    lead_count,
    lead_municipality_only,
)
from koopboard.domain.catalog import Role
from koopboard.domain.invitations import InvitationStatus, may_hold
from koopboard.domain.notifications import EventType
from koopboard.extensions import db
from koopboard.history import acting_as
from koopboard.models import (
    AccountToken,
    Cooperation,
    CooperationInvitation,
    CooperationPartner,
    Membership,
    Municipality,
    NotificationEvent,
    User,
)
from koopboard.models.types import utcnow
from koopboard.notifications.outbox import publish


class InvitationError(ValueError):
    """A rule was broken; ``field`` names the form field the German message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class Invited:
    """An invitation just made, and the account link to mail (None: the address has an
    account, its holder was told through the outbox). Never shown to the inviter."""

    invitation: CooperationInvitation
    link: str | None


# --- the Projektleitung ---------------------------------------------------------------------


def partner_municipalities(cooperation: Cooperation) -> list[Municipality]:
    """The current partners' municipalities, the lead municipality first."""
    return list(
        db.session.scalars(
            select(Municipality)
            .join(CooperationPartner, CooperationPartner.municipality_id == Municipality.id)
            .where(
                CooperationPartner.cooperation_id == cooperation.id,
                CooperationPartner.left_on.is_(None),
            )
            .order_by((Municipality.id != cooperation.lead_municipality_id), Municipality.name)
        )
    )


def _is_current_partner(cooperation: Cooperation, municipality_id: int | None) -> bool:
    if municipality_id is None:
        return False
    return bool(
        db.session.scalar(
            select(func.count()).where(
                CooperationPartner.cooperation_id == cooperation.id,
                CooperationPartner.municipality_id == municipality_id,
                CooperationPartner.left_on.is_(None),
            )
        )
    )


def _open_to(cooperation_id: int, email: str) -> list[CooperationInvitation]:
    return list(
        db.session.scalars(
            select(CooperationInvitation).where(
                CooperationInvitation.cooperation_id == cooperation_id,
                CooperationInvitation.email == email,
                CooperationInvitation.status == InvitationStatus.OPEN,
            )
        )
    )


def invite(
    cooperation: Cooperation, *, municipality_id: int, email: str, role: str, by: User
) -> Invited:
    """Invite ``email`` as a person of a current partner municipality with ``role``.

    The caller has checked that ``by`` is the cooperation's Projektleitung."""
    municipality = db.session.get(Municipality, municipality_id)
    if municipality is None or not _is_current_partner(cooperation, municipality.id):
        raise InvitationError(
            _("Bitte wählen Sie eine der Partnerkommunen dieser Kooperation."), "municipality_id"
        )
    role_ = Role(role)
    if not may_hold(
        role_, of_lead_municipality=municipality.id == cooperation.lead_municipality_id
    ):
        raise InvitationError(lead_municipality_only(cooperation), "role")
    email = accounts.normalize_email(email)
    if email == accounts.normalize_email(by.email):
        raise InvitationError(_("Sie können sich nicht selbst einladen."), "email")
    now = utcnow()
    for older in _open_to(cooperation.id, email):  # its link stops working
        older.status = InvitationStatus.REPLACED
        older.decided_at = now
    db.session.flush()
    issued = accounts.cooperation_link(email=email, municipality=municipality, created_by=by)
    invitation = CooperationInvitation(
        cooperation=cooperation,
        municipality=municipality,
        email=email,
        role=role_,
        status=InvitationStatus.OPEN,
        invited_by=by,
        account_token_id=issued.token.id,
        expires_at=issued.token.expires_at,
    )
    db.session.add(invitation)
    try:
        db.session.flush()  # the partial unique index settles a race between two leads
    except IntegrityError as exc:
        raise InvitationError(
            _("An diese Adresse ging eben schon eine Einladung. Bitte laden Sie die Seite neu."),
            "email",
        ) from exc
    holder = db.session.scalar(select(User).where(User.email == email))
    if holder is None:
        return Invited(invitation, issued.link)
    _offer(invitation, holder, by)
    return Invited(invitation, None)


def _offer(invitation: CooperationInvitation, holder: User, by: User) -> None:
    """Tell the account holder through the outbox (e-mail per their settings, and the bell)."""
    _tell_holder(invitation, holder, by, EventType.INVITATION_OFFERED)


def _tell_holder(
    invitation: CooperationInvitation, holder: User, by: User, event_type: EventType
) -> None:
    """One event about this invitation to the account holder it was sent to."""
    publish(
        NotificationEvent(
            cooperation_id=invitation.cooperation_id,
            event_type=event_type.value,
            record_type="CooperationInvitation",
            record_id=invitation.id,
            actor_id=by.id,
            payload={
                "inviter": by.name,
                "inviter_municipality": by.municipality.name if by.municipality else "",
                "role": invitation.role.value,
                "for_municipality": invitation.municipality.name,
                "page": f"/einladungen/{invitation.id}",
            },
        ),
        to=[holder.id],
    )


def pending_of(cooperation: Cooperation) -> list[CooperationInvitation]:
    """The cooperation's open invitations, newest first (one query)."""
    return list(
        db.session.scalars(
            select(CooperationInvitation)
            .where(
                CooperationInvitation.cooperation_id == cooperation.id,
                CooperationInvitation.status == InvitationStatus.OPEN,
            )
            .order_by(CooperationInvitation.created_at.desc(), CooperationInvitation.id.desc())
        ).unique()
    )


def withdraw(invitation: CooperationInvitation, *, by: User) -> bool:
    """The Projektleitung takes an open invitation back; its link and offer stop working.

    An account holder is told through the outbox (feed, and mail per their settings);
    for an address without an account the answer is True: the caller mails that the
    invitation was withdrawn (the Projektleitung's answer is the same either way)."""
    if invitation.status is not InvitationStatus.OPEN:
        raise InvitationError(_("Diese Einladung ist nicht mehr offen."))
    invitation.status = InvitationStatus.WITHDRAWN
    invitation.decided_at = utcnow()
    invitation.decided_by_id = by.id
    db.session.flush()
    holder = db.session.scalar(select(User).where(User.email == invitation.email))
    if holder is None:
        return True
    _tell_holder(invitation, holder, by, EventType.INVITATION_WITHDRAWN)
    return False


# --- the invited person ---------------------------------------------------------------------


def is_expired(invitation: CooperationInvitation) -> bool:
    return invitation.expires_at <= utcnow()


def closed_reason(invitation: CooperationInvitation) -> str | None:
    """Why the invitation can no longer be answered, or None while it is open."""
    status = invitation.status
    if status is InvitationStatus.ACCEPTED:
        return _("Diese Einladung wurde bereits angenommen.")
    if status is InvitationStatus.DECLINED:
        return _("Diese Einladung wurde abgelehnt.")
    if status is InvitationStatus.WITHDRAWN:
        return _("Die Projektleitung hat diese Einladung zurückgezogen.")
    if status is InvitationStatus.REPLACED:
        return _(
            "Inzwischen wurde eine neuere Einladung an diese Adresse geschickt. "
            "Bitte nutzen Sie die neuere."
        )
    if is_expired(invitation):
        return _(
            "Diese Einladung ist abgelaufen. Bitte bitten Sie die Projektleitung um eine neue."
        )
    return None


def refusal(invitation: CooperationInvitation, municipality_id: int | None) -> str | None:
    """Why a person of ``municipality_id`` cannot take the invited role, or None."""
    cooperation = invitation.cooperation
    if not _is_current_partner(cooperation, municipality_id):
        return _(
            "Ihre Kommune ist nicht (mehr) Partner dieser Kooperation. Bitte sprechen Sie mit "
            "der Projektleitung."
        )
    if not may_hold(
        invitation.role, of_lead_municipality=municipality_id == cooperation.lead_municipality_id
    ):
        return lead_municipality_only(cooperation)
    return None


def for_user(invitation_id: int, user: User) -> CooperationInvitation | None:
    """The invitation if it was sent to the user's address (else None: not theirs)."""
    invitation = db.session.get(CooperationInvitation, invitation_id)
    if invitation is None or invitation.email != accounts.normalize_email(user.email):
        return None
    return invitation


def open_for(user: User) -> list[CooperationInvitation]:
    """Open, unexpired invitations to the user's address (for "Meine Kooperationen")."""
    return list(
        db.session.scalars(
            select(CooperationInvitation)
            .where(
                CooperationInvitation.email == accounts.normalize_email(user.email),
                CooperationInvitation.status == InvitationStatus.OPEN,
                CooperationInvitation.expires_at > utcnow(),
            )
            .order_by(CooperationInvitation.created_at.desc())
        ).unique()
    )


def _answerable(invitation: CooperationInvitation, municipality_id: int | None) -> None:
    reason = closed_reason(invitation) or refusal(invitation, municipality_id)
    if reason:
        raise InvitationError(reason)


def _grant(invitation: CooperationInvitation, user: User) -> Membership:
    """The invited role for ``user`` (a role they hold already is changed to it)."""
    cooperation = invitation.cooperation
    membership = db.session.scalar(
        select(Membership).where(
            Membership.cooperation_id == cooperation.id, Membership.user_id == user.id
        )
    )
    if membership is None:
        membership = Membership(cooperation=cooperation, user=user, role=invitation.role)
        db.session.add(membership)
    elif membership.role is not invitation.role:
        if membership.role is Role.LEAD and lead_count(cooperation.id) <= 1:
            raise InvitationError(
                _(
                    "Sie sind die einzige Projektleitung dieser Kooperation. Vergeben Sie die "
                    "Projektleitung zuerst an eine andere Person."
                )
            )
        membership.role = invitation.role
    invitation.status = InvitationStatus.ACCEPTED
    invitation.decided_at = utcnow()
    invitation.decided_by_id = user.id
    db.session.flush()
    announce_role(membership, by=user)
    return membership


def accept_offer(invitation: CooperationInvitation, user: User) -> Membership:
    """The signed-in account holder takes the role (``for_user`` has matched the address)."""
    _answerable(invitation, user.municipality_id)
    return _grant(invitation, user)


def decline(invitation: CooperationInvitation) -> None:
    """The invited person says no. Recorded the same way with or without an account (the
    history names the address, not an account), so a decline tells the inviter nothing."""
    reason = closed_reason(invitation)
    if reason:
        raise InvitationError(reason)
    with acting_as(f"{invitation.email} (eingeladene Person)"[:300]):
        invitation.status = InvitationStatus.DECLINED
        invitation.decided_at = utcnow()
        db.session.flush()
    _tell_inviter_of_decline(invitation)


def _tell_inviter_of_decline(invitation: CooperationInvitation) -> None:
    """The inviter learns of the decline (feed, and mail per their settings). No actor and
    the address only: the same event whether the address has an account or not."""
    if invitation.invited_by_id is None:
        return
    publish(
        NotificationEvent(
            cooperation_id=invitation.cooperation_id,
            event_type=EventType.INVITATION_DECLINED.value,
            record_type="CooperationInvitation",
            record_id=invitation.id,
            actor_id=None,
            payload={
                "email": invitation.email,
                "role": invitation.role.value,
                "for_municipality": invitation.municipality.name,
                "page": f"/kooperationen/{invitation.cooperation_id}/rollen",
            },
        ),
        to=[invitation.invited_by_id],
    )


# --- the link of a new address --------------------------------------------------------------


def load_link(signed: str) -> tuple[AccountToken, CooperationInvitation]:
    """The link's token and its open invitation, or an InvitationError saying why not."""
    try:
        token = accounts.load_token("coop", signed)
    except accounts.AccountError as exc:
        raise InvitationError(str(exc)) from exc
    invitation = db.session.scalar(
        select(CooperationInvitation).where(CooperationInvitation.account_token_id == token.id)
    )
    if invitation is None:
        raise InvitationError(_("Dieser Link ist ungültig."))
    reason = closed_reason(invitation)
    if reason:
        raise InvitationError(reason)
    return token, invitation


def has_account(invitation: CooperationInvitation) -> bool:
    return accounts.account_exists(invitation.email)


def accept_with_new_account(
    signed: str, *, name: str, password: str, confirmed: bool
) -> tuple[User, Membership]:
    """Create the account in the invited municipality with the invited role.

    The person confirms working for that municipality (the address's domain need not fit);
    its users who had an account already are told. The history names the person who
    followed the link."""
    token, invitation = load_link(signed)
    if has_account(invitation):
        raise InvitationError(
            _("Für diese Adresse gibt es inzwischen ein Konto. Bitte melden Sie sich an.")
        )
    try:
        accounts.check_password_rules(password)
    except accounts.AccountError as exc:
        raise InvitationError(str(exc), exc.field) from exc
    if not confirmed:
        raise InvitationError(
            _(
                "Bitte bestätigen Sie, dass Sie bei %(m)s beschäftigt sind.",
                m=invitation.municipality.name,
            ),
            "confirm",
        )
    _answerable(invitation, invitation.municipality_id)
    with acting_as(accounts.link_actor(name, token)):
        try:
            user = accounts.create_account_from_link(token, name=name, password=password)
        except accounts.AccountError as exc:
            raise InvitationError(str(exc), exc.field) from exc
        membership = _grant(invitation, user)
        _tell_colleagues(invitation, user)
    return user, membership


def _tell_colleagues(invitation: CooperationInvitation, user: User) -> None:
    """The municipality's other users learn of the new account (they can object)."""
    colleagues = list(
        db.session.scalars(
            select(User.id).where(
                User.municipality_id == invitation.municipality_id,
                User.id != user.id,
                User.is_active_account.is_(True),
            )
        )
    )
    if not colleagues:
        return
    inviter = invitation.invited_by
    payload: dict[str, Any] = {
        "user": user.name,
        "email": user.email,
        "for_municipality": invitation.municipality.name,
        "inviter": inviter.name if inviter else "",
        "role": invitation.role.value,
        "page": "/benachrichtigungen/",
    }
    publish(
        NotificationEvent(
            cooperation_id=invitation.cooperation_id,
            event_type=EventType.INVITATION_ACCOUNT.value,
            record_type="CooperationInvitation",
            record_id=invitation.id,
            actor_id=user.id,
            payload=payload,
        ),
        to=colleagues,
    )
