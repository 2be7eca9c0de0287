"""Contact and join requests from the directory. The view owns the commit.

Both reach their people through the notification outbox (e-mail and bell): a message or a
request goes to the cooperation's Projektleitung, the answer to a request to the users of
the requesting municipality. No address is ever published: the sender's e-mail travels
only inside the message to the Projektleitung.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from koopboard.cooperations.services import CooperationError, add_partner
from koopboard.domain.catalog import Role
from koopboard.domain.directory import JoinRequestStatus, Visibility
from koopboard.domain.notifications import EventType
from koopboard.extensions import db
from koopboard.models import (
    Cooperation,
    CooperationListing,
    CooperationPartner,
    JoinRequest,
    Membership,
    NotificationEvent,
    User,
)
from koopboard.models.types import utcnow
from koopboard.notifications.outbox import publish

CONTACTS_PER_HOUR = 5
CONTACTS_PER_DAY = 20


class JoinError(ValueError):
    """A rule was broken; ``field`` names the form field the German message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def listed_cooperation(cooperation_id: int) -> tuple[Cooperation, CooperationListing] | None:
    """A cooperation signed-in users may see in the directory, with its listing."""
    row = db.session.execute(
        select(Cooperation, CooperationListing)
        .join(CooperationListing, CooperationListing.cooperation_id == Cooperation.id)
        .where(
            Cooperation.id == cooperation_id,
            CooperationListing.visibility.in_(Visibility.visible_to(signed_in=True)),
        )
    ).first()
    return (row[0], row[1]) if row else None


def _leads(cooperation_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(Membership.user_id).where(
                Membership.cooperation_id == cooperation_id, Membership.role == Role.LEAD
            )
        )
    )


def _users_of(municipality_id: int) -> list[int]:
    return list(db.session.scalars(select(User.id).where(User.municipality_id == municipality_id)))


def _notify(cooperation_id: int, record_id: int, by: User, to: list[int], **payload: Any) -> None:
    publish(
        NotificationEvent(
            cooperation_id=cooperation_id,
            event_type=payload.pop("event_type", EventType.JOIN_REQUEST.value),
            record_type="JoinRequest",
            record_id=record_id,
            actor_id=by.id,
            payload=payload,
        ),
        to=to,
    )


def is_partner(cooperation_id: int, municipality_id: int, today: date) -> bool:
    """Whether the municipality takes part now or will from a set join date."""
    return bool(
        db.session.scalar(
            select(func.count()).where(
                CooperationPartner.cooperation_id == cooperation_id,
                CooperationPartner.municipality_id == municipality_id,
                (CooperationPartner.left_on.is_(None)) | (CooperationPartner.left_on > today),
            )
        )
    )


# --- contact --------------------------------------------------------------------------------


def send_contact(cooperation_id: int, message: str, *, by: User) -> None:
    """A message to the Projektleitung, at most 5 an hour and 20 a day per sender."""
    listed = listed_cooperation(cooperation_id)
    if listed is None:
        raise JoinError(_("Diese Kooperation ist nicht in der Kooperationsbörse."))
    if by.municipality is None:
        raise JoinError(_("Nur Beschäftigte einer Kommune können Kooperationen kontaktieren."))
    now = utcnow()
    for window, limit in (
        (timedelta(hours=1), CONTACTS_PER_HOUR),
        (timedelta(days=1), CONTACTS_PER_DAY),
    ):
        sent = db.session.scalar(
            select(func.count()).where(
                NotificationEvent.event_type == EventType.DIRECTORY_CONTACT.value,
                NotificationEvent.actor_id == by.id,
                NotificationEvent.created_at > now - window,
            )
        )
        if sent >= limit:
            raise JoinError(
                _(
                    "Sie haben in kurzer Zeit schon %(n)d Nachrichten geschrieben. "
                    "Bitte versuchen Sie es später noch einmal.",
                    n=sent,
                ),
                "message",
            )
    cooperation, _listing = listed
    _notify(
        cooperation.id,
        cooperation.id,
        by,
        _leads(cooperation.id),
        event_type=EventType.DIRECTORY_CONTACT.value,
        sender=by.name,
        email=by.email,
        municipality=by.municipality.name,
        message=message.strip(),
        title=cooperation.title,
        page=f"/kooperationen/{cooperation.id}",
    )


# --- join requests ------------------------------------------------------------------------------


def open_request(cooperation_id: int, municipality_id: int) -> JoinRequest | None:
    """The municipality's open request to this cooperation, if any."""
    return db.session.scalar(
        select(JoinRequest).where(
            JoinRequest.cooperation_id == cooperation_id,
            JoinRequest.municipality_id == municipality_id,
            JoinRequest.status == JoinRequestStatus.OPEN,
        )
    )


def request_join(
    cooperation_id: int, *, message: str, intended_join_on: date, by: User, today: date
) -> JoinRequest:
    """Ask, for the user's municipality, to join a cooperation that welcomes partners."""
    listed = listed_cooperation(cooperation_id)
    if listed is None:
        raise JoinError(_("Diese Kooperation ist nicht in der Kooperationsbörse."))
    cooperation, listing = listed
    if not listing.seeking_partners:
        raise JoinError(_("Diese Kooperation sucht derzeit keine neuen Partner."))
    municipality = by.municipality
    if municipality is None:
        raise JoinError(_("Nur Beschäftigte einer Kommune können einen Beitritt anfragen."))
    if is_partner(cooperation.id, municipality.id, today):
        raise JoinError(_("%(m)s ist bereits Partner dieser Kooperation.", m=municipality.name))
    if open_request(cooperation.id, municipality.id) is not None:
        raise JoinError(_("Für %(m)s ist bereits eine Anfrage offen.", m=municipality.name))
    if intended_join_on < cooperation.start_date:
        raise JoinError(
            _("Der Beitritt kann nicht vor dem Beginn der Kooperation liegen."),
            "intended_join_on",
        )
    request = JoinRequest(
        cooperation_id=cooperation.id,
        municipality=municipality,
        requested_by_id=by.id,
        message=message.strip(),
        intended_join_on=intended_join_on,
        status=JoinRequestStatus.OPEN,
    )
    db.session.add(request)
    try:
        db.session.flush()  # the partial unique index settles a race between two colleagues
    except IntegrityError as exc:
        raise JoinError(
            _("Für %(m)s ist bereits eine Anfrage offen.", m=municipality.name)
        ) from exc
    _notify(
        cooperation.id,
        request.id,
        by,
        _leads(cooperation.id),
        step="requested",
        municipality=municipality.name,
        message=request.message,
        intended_join_on=intended_join_on.isoformat(),
        page=f"/kooperationen/{cooperation.id}/beitrittsanfragen/{request.id}",
    )
    return request


def withdraw(request: JoinRequest, *, by: User) -> None:
    """The requesting municipality takes its open request back."""
    if by.municipality_id != request.municipality_id:
        raise JoinError(_("Nur die anfragende Kommune kann ihre Anfrage zurückziehen."))
    _check_open(request)
    request.status = JoinRequestStatus.WITHDRAWN
    request.decided_by_id = by.id
    request.decided_at = utcnow()
    db.session.flush()
    _notify(
        request.cooperation_id,
        request.id,
        by,
        _leads(request.cooperation_id),
        step="withdrawn",
        municipality=request.municipality.name,
        page=f"/kooperationen/{request.cooperation_id}",
    )


def _check_open(request: JoinRequest) -> None:
    if request.status is not JoinRequestStatus.OPEN:
        raise JoinError(_("Diese Anfrage ist bereits %(s)s.", s=_(request.status.label)))


def accept(
    cooperation: Cooperation,
    request: JoinRequest,
    *,
    joined_on: date,
    council_resolution_on: date | None,
    by: User,
) -> CooperationPartner:
    """The municipality becomes a partner from ``joined_on``; its users are told."""
    _check_open(request)
    try:
        partner = add_partner(
            cooperation,
            ags=request.municipality.ags,
            joined_on=joined_on,
            council_resolution_on=council_resolution_on,
            by=by,
        )
    except CooperationError as exc:
        raise JoinError(str(exc), "joined_on" if exc.field == "joined_on" else None) from exc
    request.status = JoinRequestStatus.ACCEPTED
    request.joined_on = joined_on
    request.council_resolution_on = council_resolution_on
    request.decided_by_id = by.id
    request.decided_at = utcnow()
    db.session.flush()
    _notify(
        cooperation.id,
        request.id,
        by,
        _users_of(request.municipality_id),
        step="accepted",
        municipality=request.municipality.name,
        joined_on=joined_on.isoformat(),
        title=cooperation.title,
        page=f"/kooperationsboerse/{cooperation.id}",
    )
    return partner


def decline(cooperation: Cooperation, request: JoinRequest, *, reason: str, by: User) -> None:
    """No, with a reason the requesting municipality reads."""
    _check_open(request)
    reason = (reason or "").strip()
    if not reason:
        raise JoinError(_("Bitte geben Sie eine Begründung an."), "reason")
    request.status = JoinRequestStatus.DECLINED
    request.decision_reason = reason
    request.decided_by_id = by.id
    request.decided_at = utcnow()
    db.session.flush()
    _notify(
        cooperation.id,
        request.id,
        by,
        _users_of(request.municipality_id),
        step="declined",
        municipality=request.municipality.name,
        reason=reason,
        title=cooperation.title,
        page=f"/kooperationsboerse/{cooperation.id}",
    )


def requests_of(cooperation_id: int, *, limit: int = 20) -> list[JoinRequest]:
    """The cooperation's requests: open ones first, then the latest decided."""
    return list(
        db.session.scalars(
            select(JoinRequest)
            .where(JoinRequest.cooperation_id == cooperation_id)
            .order_by(JoinRequest.status != JoinRequestStatus.OPEN, JoinRequest.id.desc())
            .limit(limit)
        )
    )


def request_of(cooperation_id: int, request_id: int) -> JoinRequest | None:
    request = db.session.get(JoinRequest, request_id)
    if request is None or request.cooperation_id != cooperation_id:
        return None
    return request


def latest_request(cooperation_id: int, municipality_id: int) -> JoinRequest | None:
    """The municipality's newest request to this cooperation (for the entry page)."""
    return db.session.scalar(
        select(JoinRequest)
        .where(
            JoinRequest.cooperation_id == cooperation_id,
            JoinRequest.municipality_id == municipality_id,
        )
        .order_by(JoinRequest.id.desc())
        .limit(1)
    )
