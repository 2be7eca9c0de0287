"""Anonymising the account of a person who left (Art. 17 DSGVO), by the platform admin.

What the cooperations recorded stays: costs, milestones, approvals, payments, receipts and
join requests keep their foreign keys to the account, so the four-eyes rules still know
who booked what, and the history keeps every entry. What identifies the person goes:

- the account: name → "ehemalige Person (anonymisiert)", e-mail → a unique address under
  ``.invalid`` (no mail can reach it), a password hash nothing matches (which also breaks
  every session cookie: they are bound to the password's state), inactive, no language;
- login sessions, invitation and reset links, the calendar feed, notification settings
  and preferences, and every mail to the person not yet delivered (pending, being sent,
  failed, or waiting for a digest), together with those digests;
- invitations into a cooperation addressed to the person: open ones are withdrawn, and
  all of them keep the placeholder address instead of the person's;
- the person's roles (each cooperation's history records the role's end). A cooperation
  keeps at least one Projektleitung: where the person was the only one, the admin names
  a successor among the cooperation's other roles, who becomes Projektleitung;
- the person's name and address in the history (who made a change, the labels and values
  of their account and roles, any text that carries their address) and in stored
  notification events (a contact message's sender, a role grant's name), so no page,
  CSV or mail shows them again. The history entries themselves stay; only these texts are
  rewritten (``koopboard.history.redact_person``).

Texts that people typed about the person (a cost's text naming them, a message) are the
cooperation's records and stay as written.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import String, cast, delete, func, or_, select, update
from sqlalchemy.orm import aliased

from koopboard.domain.catalog import Role
from koopboard.domain.invitations import InvitationStatus
from koopboard.domain.notifications import EventType
from koopboard.domain.persons import ANONYMISED_NAME, anonymised_email
from koopboard.extensions import db
from koopboard.history import record_event, redact_person
from koopboard.models import (
    AccountToken,
    CalendarFeed,
    Cooperation,
    CooperationInvitation,
    HistoryEntry,
    LoginSession,
    Membership,
    NotificationDelivery,
    NotificationDigest,
    NotificationEvent,
    NotificationPreference,
    NotificationSettings,
    User,
)
from koopboard.models.types import utcnow

SEARCH_LIMIT = 50
# Delivery states in which a mail has not (yet) reached the person.
_UNDELIVERED = ("pending", "sending", "failed")


class AnonymisationError(ValueError):
    """Why an account cannot be anonymised (German, for the page or the CLI); ``field``
    names the form field it belongs to (a successor choice)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Candidate:
    membership_id: int
    name: str
    municipality: str | None
    role: Role


@dataclass(frozen=True)
class Handover:
    """A cooperation whose only Projektleitung the person is, and who could take over."""

    cooperation_id: int
    title: str
    candidates: list[Candidate]

    @property
    def field(self) -> str:
        return f"nachfolge-{self.cooperation_id}"


@dataclass(frozen=True)
class Preview:
    """What anonymising ``user`` will remove, for the confirmation page."""

    user: User
    roles: list[tuple[str, Role]]  # cooperation title, role
    handovers: list[Handover]  # where the person is the only Projektleitung
    sessions: int
    links: int
    calendar: bool
    preferences: int
    undelivered: int


@dataclass
class Result:
    """What was done (for the flash message and the CLI)."""

    roles: int = 0
    invitations: int = 0
    sessions: int = 0
    links: int = 0
    undelivered: int = 0
    history_entries: int = 0
    events: int = 0
    cooperations: list[str] = field(default_factory=list)


def find_accounts(query: str) -> list[User]:
    """Accounts whose name or e-mail contains ``query`` (at most ``SEARCH_LIMIT``)."""
    needle = (query or "").strip().lower()
    if len(needle) < 2:
        return []
    return list(
        db.session.scalars(
            select(User)
            .where(
                or_(
                    func.lower(User.name).contains(needle, autoescape=True),
                    func.lower(User.email).contains(needle, autoescape=True),
                )
            )
            .order_by(User.name, User.id)
            .limit(SEARCH_LIMIT)
        )
    )


def check_allowed(user: User, *, by: User | None) -> None:
    """Raise an AnonymisationError if ``user`` may not be anonymised (now)."""
    if user.anonymised_at is not None:
        raise AnonymisationError(_("Dieses Konto ist bereits anonymisiert."))
    if by is not None and by.id == user.id:
        raise AnonymisationError(_("Das eigene Konto kann man nicht selbst anonymisieren."))


def _count(model: type, *conditions: object) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def _roles(user: User) -> list[tuple[str, Role]]:
    rows = db.session.execute(
        select(Cooperation.title, Membership.role)
        .join(Membership, Membership.cooperation_id == Cooperation.id)
        .where(Membership.user_id == user.id)
        .order_by(Cooperation.title)
    ).all()
    return [(title, role) for title, role in rows]


def handovers(user: User) -> list[Handover]:
    """Cooperations in which ``user`` is the only Projektleitung, with everyone else who
    holds a role there (two queries)."""
    other = aliased(Membership)
    other_leads = (
        select(func.count())
        .select_from(other)
        .where(
            other.cooperation_id == Membership.cooperation_id,
            other.role == Role.LEAD,
            other.user_id != user.id,
        )
        .scalar_subquery()
    )
    coops = db.session.execute(
        select(Cooperation.id, Cooperation.title)
        .join(Membership, Membership.cooperation_id == Cooperation.id)
        .where(Membership.user_id == user.id, Membership.role == Role.LEAD, other_leads == 0)
        .order_by(Cooperation.title, Cooperation.id)
    ).all()
    if not coops:
        return []
    candidates: dict[int, list[Candidate]] = {cid: [] for cid, _title in coops}
    rows = db.session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.cooperation_id.in_(candidates),
            Membership.user_id != user.id,
            User.is_active_account.is_(True),
        )
        .order_by(User.name, Membership.id)
    ).all()
    for membership, person in rows:
        candidates[membership.cooperation_id].append(
            Candidate(
                membership.id,
                person.name,
                person.municipality.name if person.municipality else None,
                membership.role,
            )
        )
    return [Handover(cid, title, candidates[cid]) for cid, title in coops]


def _undelivered(user_id: int) -> object:
    """The person's deliveries that no mail has carried yet (also those awaiting a digest)."""
    unsent_digests = select(NotificationDigest.id).where(
        NotificationDigest.user_id == user_id, NotificationDigest.status != "sent"
    )
    return (NotificationDelivery.user_id == user_id) & (
        NotificationDelivery.status.in_(_UNDELIVERED)
        | (
            (NotificationDelivery.status == "digested")
            & (
                NotificationDelivery.digest_id.is_(None)
                | NotificationDelivery.digest_id.in_(unsent_digests)
            )
        )
    )


def _links_of(user: User) -> object:
    return or_(AccountToken.user_id == user.id, AccountToken.email == user.email)


def preview(user: User) -> Preview:
    """What anonymising ``user`` removes (a fixed number of queries)."""
    return Preview(
        user=user,
        roles=_roles(user),
        handovers=handovers(user),
        sessions=_count(LoginSession, LoginSession.user_id == user.id),
        links=_count(AccountToken, _links_of(user)),
        calendar=_count(CalendarFeed, CalendarFeed.user_id == user.id) > 0,
        preferences=_count(NotificationPreference, NotificationPreference.user_id == user.id)
        + _count(NotificationSettings, NotificationSettings.user_id == user.id),
        undelivered=_count(NotificationDelivery, _undelivered(user.id)),
    )


# --- the identities to remove -----------------------------------------------------------------


@dataclass(frozen=True)
class _Identity:
    user_id: int
    names: tuple[str, ...]  # every name the account had, longest first
    emails: tuple[str, ...]  # every address it had
    membership_ids: frozenset[int]  # its roles, current and ended
    email: str  # the placeholder address

    def scrub(self, value: str | None, *, own_record: bool) -> str | None:
        """``value`` without the person's name and address."""
        if not value:
            return value
        for name in self.names:
            for email in self.emails:
                value = value.replace(f"{name} <{email}>", ANONYMISED_NAME)
        for email in self.emails:
            value = re.sub(re.escape(email), self.email, value, flags=re.IGNORECASE)
        if own_record:  # the account's and its roles' labels and values: the name itself
            for name in self.names:
                value = value.replace(name, ANONYMISED_NAME)
        return value


def _identity(user: User) -> _Identity:
    """Current and earlier names and addresses (from the account's history), and roles."""
    names, emails = {user.name}, {user.email}
    rows = db.session.execute(
        select(HistoryEntry.field, HistoryEntry.old_value, HistoryEntry.new_value).where(
            HistoryEntry.record_type == "User",
            HistoryEntry.record_id == user.id,
            HistoryEntry.field.in_(("name", "email")),
        )
    )
    for field_name, old, new in rows:
        for value in (old, new):
            if value and value.strip():
                (names if field_name == "name" else emails).add(value)
    uid = str(user.id)
    memberships = set(
        db.session.scalars(select(Membership.id).where(Membership.user_id == user.id))
    )
    memberships.update(
        db.session.scalars(
            select(HistoryEntry.record_id).where(
                HistoryEntry.record_type == "Membership",
                HistoryEntry.field == "user_id",
                or_(HistoryEntry.old_value == uid, HistoryEntry.new_value == uid),
            )
        )
    )
    names.discard(ANONYMISED_NAME)
    return _Identity(
        user_id=user.id,
        names=tuple(sorted(names, key=len, reverse=True)),
        emails=tuple(sorted({e for e in emails if "@" in e}, key=len, reverse=True)),
        membership_ids=frozenset(memberships),
        email=anonymised_email(user.id),
    )


# --- the use-case -----------------------------------------------------------------------------


def anonymise(user: User, *, by: User | None, successors: dict[int, int] | None = None) -> Result:
    """Anonymise ``user`` in the caller's transaction (the caller commits).

    ``by`` is the admin doing it (None: the CLI, which acts as a named system actor).
    ``successors`` maps each cooperation of ``handovers(user)`` that has candidates to the
    membership id of the one who becomes Projektleitung."""
    # One anonymisation at a time per account: the row lock makes a second, concurrent
    # request wait and then find the account already anonymised.
    locked = db.session.scalar(
        select(User)
        .where(User.id == user.id)
        .with_for_update(of=User)
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise AnonymisationError(_("Dieses Konto gibt es nicht."))
    user = locked
    check_allowed(user, by=by)
    promoted = _successors(user, successors or {})
    identity = _identity(user)
    now = utcnow()
    result = Result(cooperations=[title for title, _role in _roles(user)])

    # Sign-ins, links, feed, settings, mails not yet delivered: these rows are the person's
    # alone, and go. (Bulk statements: the history records the anonymisation once, below.)
    result.sessions = _delete(LoginSession, LoginSession.user_id == user.id)
    result.links = _delete(
        AccountToken,
        or_(AccountToken.user_id == user.id, AccountToken.email.in_(identity.emails)),
    )
    _delete(CalendarFeed, CalendarFeed.user_id == user.id)
    _delete(NotificationPreference, NotificationPreference.user_id == user.id)
    _delete(NotificationSettings, NotificationSettings.user_id == user.id)
    result.undelivered = _delete(NotificationDelivery, _undelivered(user.id))
    _delete(
        NotificationDigest,
        NotificationDigest.user_id == user.id,
        NotificationDigest.status != "sent",
    )

    result.invitations = _withdraw_invitations(identity, now)

    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(
            name=ANONYMISED_NAME,
            email=identity.email,
            # No "method$salt$hash": werkzeug matches no password against it, and the
            # password's state (bound into every session cookie) changes with it.
            password_hash="!" + secrets.token_hex(32),
            is_active_account=False,
            locale=None,
            anonymised_at=now,
        )
        .execution_options(synchronize_session="fetch")
    )
    db.session.refresh(user)

    # Successors first (the cooperation never lacks its Projektleitung), then the roles
    # end; each cooperation's history says both (the person under the new name).
    for membership in promoted:
        membership.role = Role.LEAD
    memberships = list(db.session.scalars(select(Membership).where(Membership.user_id == user.id)))
    for membership in memberships:
        db.session.delete(membership)
    result.roles = len(memberships)
    db.session.flush()

    result.events = _scrub_events(identity)
    record_event(
        db.session,
        record_type="User",
        record_id=user.id,
        action="update",
        record_label=ANONYMISED_NAME,
        field="anonymised_at",
        new_value=now.isoformat(),
    )
    result.history_entries = _scrub_history(identity)
    return result


def _successors(user: User, chosen: dict[int, int]) -> list[Membership]:
    """The memberships that become Projektleitung; a German error if one is missing."""
    promoted = []
    for handover in handovers(user):
        if not handover.candidates:
            continue  # nobody else is in it: there is no one to hand over to
        ids = {c.membership_id for c in handover.candidates}
        choice = chosen.get(handover.cooperation_id)
        if choice not in ids:
            raise AnonymisationError(
                _(
                    "Bitte wählen Sie, wer die Projektleitung von „%(t)s“ übernimmt.",
                    t=handover.title,
                ),
                handover.field,
            )
        promoted.append(db.session.get(Membership, choice))
    return promoted


def _withdraw_invitations(identity: _Identity, now: datetime) -> int:
    """Invitations into a cooperation addressed to the person: the open ones end, and every
    one of them names the placeholder address from now on (how many)."""
    addressed = CooperationInvitation.email.in_(identity.emails)
    db.session.execute(
        update(CooperationInvitation)
        .where(addressed, CooperationInvitation.status == InvitationStatus.OPEN)
        .values(status=InvitationStatus.WITHDRAWN, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(
        update(CooperationInvitation)
        .where(addressed)
        .values(email=identity.email)
        .execution_options(synchronize_session=False)
    ).rowcount


def _delete(model: type, *conditions: object) -> int:
    return db.session.execute(
        delete(model).where(*conditions).execution_options(synchronize_session=False)
    ).rowcount


def _json_fragment(value: str) -> str:
    """How ``value`` appears inside the stored JSON text (non-ASCII is escaped there)."""
    return json.dumps(value)[1:-1]


def _scrub_events(identity: _Identity) -> int:
    """Stored notification events that name the person: a contact message they sent, a role
    they were given, any text with their address. Their mails are written from these."""
    as_text = cast(NotificationEvent.payload, String)
    conditions = [
        (NotificationEvent.event_type == EventType.DIRECTORY_CONTACT.value)
        & (NotificationEvent.actor_id == identity.user_id),
        (NotificationEvent.event_type == EventType.ROLE_GRANTED.value)
        & (NotificationEvent.record_type == "Membership")
        & NotificationEvent.record_id.in_(identity.membership_ids or {-1}),
    ]
    conditions += [
        func.lower(as_text).contains(_json_fragment(email.lower()), autoescape=True)
        for email in identity.emails
    ]
    changed = 0
    for event in db.session.scalars(select(NotificationEvent).where(or_(*conditions))):
        payload = dict(event.payload or {})
        if (
            event.event_type == EventType.DIRECTORY_CONTACT.value
            and event.actor_id == identity.user_id
        ):
            for key in ("sender", "email"):
                if key in payload:
                    payload[key] = ANONYMISED_NAME if key == "sender" else identity.email
        own = event.event_type == EventType.ROLE_GRANTED.value and (
            event.record_id in identity.membership_ids
        )
        if own and "user" in payload:
            payload["user"] = ANONYMISED_NAME
        for key, value in payload.items():
            if isinstance(value, str):
                payload[key] = identity.scrub(value, own_record=False)
        if payload != event.payload:
            event.payload = payload
            changed += 1
    db.session.flush()
    return changed


def _scrub_history(identity: _Identity) -> int:
    """Rewrite who/label/values of every history entry that names the person."""
    columns = (
        HistoryEntry.actor_label,
        HistoryEntry.record_label,
        HistoryEntry.old_value,
        HistoryEntry.new_value,
    )
    conditions = [
        HistoryEntry.actor_id == identity.user_id,
        (HistoryEntry.record_type == "User") & (HistoryEntry.record_id == identity.user_id),
    ]
    if identity.membership_ids:
        conditions.append(
            (HistoryEntry.record_type == "Membership")
            & HistoryEntry.record_id.in_(identity.membership_ids)
        )
    for email in identity.emails:
        needle = email.lower()
        conditions += [func.lower(c).contains(needle, autoescape=True) for c in columns]
    rows = db.session.execute(
        select(
            HistoryEntry.id,
            HistoryEntry.actor_id,
            HistoryEntry.record_type,
            HistoryEntry.record_id,
            *columns,
        ).where(or_(*conditions))
    ).all()
    changes = []
    for row in rows:
        own = (row.record_type == "User" and row.record_id == identity.user_id) or (
            row.record_type == "Membership" and row.record_id in identity.membership_ids
        )
        new = {
            "actor_label": ANONYMISED_NAME
            if row.actor_id == identity.user_id
            else identity.scrub(row.actor_label, own_record=False),
            "record_label": identity.scrub(row.record_label, own_record=own),
            "old_value": identity.scrub(row.old_value, own_record=own),
            "new_value": identity.scrub(row.new_value, own_record=own),
        }
        for key in ("actor_label", "record_label"):
            new[key] = (new[key] or "")[:300]
        if any(new[key] != getattr(row, key) for key in new):
            changes.append({"id": row.id, **new})
    return redact_person(db.session, changes)
