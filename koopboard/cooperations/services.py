"""Cooperation use-cases: load, check the rules, write. The view owns the commit."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import lazyload

from koopboard.domain.catalog import CooperationStatus, Handlungsfeld, Rechtsform, Role
from koopboard.domain.invitations import may_hold
from koopboard.domain.notifications import EventType
from koopboard.extensions import db
from koopboard.models import (
    Cooperation,
    CooperationPartner,
    HistoryEntry,
    Membership,
    Municipality,
    NotificationEvent,
    User,
)
from koopboard.notifications.outbox import publish


class CooperationError(ValueError):
    """A rule was broken; ``field`` names the form field the German message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StaleVersion(Exception):  # noqa: N818 (public name)
    """The record changed since the form was loaded (optimistic locking)."""

    def __init__(self, current: Cooperation) -> None:
        super().__init__("stale")
        self.current = current


@dataclass
class CooperationData:
    title: str
    goals: str
    handlungsfeld: str
    rechtsform: str
    status: str
    start_date: date
    end_date: date | None
    lead_may_approve: bool = False


def _actor_id(by: User | None) -> int | None:
    """The acting user: ``by`` if given, else the signed-in user of the request (if any)."""
    if by is not None:
        return by.id
    from flask import has_request_context
    from flask_login import current_user

    if has_request_context() and current_user.is_authenticated:
        return current_user.id
    return None


def _event(
    cooperation: Cooperation,
    event_type: EventType,
    record_type: str,
    record_id: int,
    by: User | None,
    **payload: Any,
) -> None:
    """Publish a notification event in the caller's transaction (the view commits)."""
    publish(
        NotificationEvent(
            cooperation_id=cooperation.id,
            event_type=event_type.value,
            record_type=record_type,
            record_id=record_id,
            actor_id=_actor_id(by),
            payload=payload,
        )
    )


def _check(data: CooperationData) -> None:
    if data.end_date and data.end_date < data.start_date:
        raise CooperationError(_("Das Ende darf nicht vor dem Beginn liegen."), "end_date")


def create_cooperation(data: CooperationData, *, by: User) -> Cooperation:
    """The user's municipality leads; it is the first partner, the user its Projektleitung."""
    if by.municipality is None:
        raise CooperationError(_("Nur Beschäftigte einer Kommune können Kooperationen anlegen."))
    _check(data)
    cooperation = Cooperation(
        title=data.title.strip(),
        goals=(data.goals or "").strip(),
        handlungsfeld=Handlungsfeld(data.handlungsfeld),
        rechtsform=Rechtsform(data.rechtsform),
        status=CooperationStatus(data.status),
        start_date=data.start_date,
        end_date=data.end_date,
        lead_may_approve=bool(data.lead_may_approve),
        lead_municipality=by.municipality,
    )
    db.session.add(cooperation)
    db.session.flush()
    db.session.add(
        CooperationPartner(
            cooperation=cooperation, municipality=by.municipality, joined_on=data.start_date
        )
    )
    db.session.add(Membership(cooperation=cooperation, user=by, role=Role.LEAD))
    db.session.flush()
    return cooperation


def update_cooperation(cooperation: Cooperation, data: CooperationData, *, version: int) -> None:
    """Apply the edit unless someone saved in between (then StaleVersion)."""
    if version != cooperation.version:
        raise StaleVersion(cooperation)
    _check(data)
    cooperation.title = data.title.strip()
    cooperation.goals = (data.goals or "").strip()
    cooperation.handlungsfeld = Handlungsfeld(data.handlungsfeld)
    cooperation.rechtsform = Rechtsform(data.rechtsform)
    cooperation.status = CooperationStatus(data.status)
    cooperation.start_date = data.start_date
    cooperation.end_date = data.end_date
    cooperation.lead_may_approve = bool(data.lead_may_approve)
    db.session.flush()  # the version_id_col makes a concurrent UPDATE fail here


# Where a name match starts: the whole name, its beginning, a word inside it ("Elchesheim-
# Illingen"), or somewhere inside a word ("Dillingen" for "illingen": noise, shown last).
MATCH_EXACT, MATCH_PREFIX, MATCH_WORD, MATCH_INSIDE = range(4)
_WORD_BREAKS = (" ", "-", "/", "(")


@dataclass(frozen=True)
class SearchHit:
    """One municipality found in the register, and how well it matched."""

    municipality: Municipality
    match: int

    @property
    def is_noise(self) -> bool:
        """Only inside a word of the name: listed apart, after the real matches."""
        return self.match == MATCH_INSIDE


def _name_match(name: str, query: str) -> int:
    lower, q = name.lower(), query.lower()
    if lower == q:
        return MATCH_EXACT
    if lower.startswith(q):
        return MATCH_PREFIX
    if any(brk + q in lower for brk in _WORD_BREAKS):
        return MATCH_WORD
    return MATCH_INSIDE


def search_municipalities(
    query: str, limit: int = 20, *, near: Municipality | None = None
) -> list[SearchHit]:
    """Register search by AGS, postcode or name.

    Exact names first, then names that begin with the query, then a word inside the name,
    then names that only contain it somewhere ("Dillingen", "Willingen" for "Illingen").
    Within each, municipalities of ``near``'s Kreis, then of its Land, then the rest (by
    the AGS: Land = its first two digits, Kreis = the first five), then by name."""
    query = (query or "").strip()
    if len(query) < 2:
        return []
    stmt = select(Municipality)
    lower = func.lower(Municipality.name)
    q = query.lower()
    if re.fullmatch(r"\d{8}", query):
        stmt = stmt.where(Municipality.ags == query)  # one at most
        quality = None
    elif re.fullmatch(r"\d{2,5}", query):
        stmt = stmt.where(
            or_(Municipality.postcode.startswith(query), Municipality.ags.startswith(query))
        )
        quality = case((Municipality.postcode == query, MATCH_EXACT), else_=MATCH_PREFIX)
    else:
        stmt = stmt.where(lower.contains(q, autoescape=True))
        word = or_(*(lower.contains(brk + q, autoescape=True) for brk in _WORD_BREAKS))
        quality = case(
            (lower == q, MATCH_EXACT),
            (lower.startswith(q, autoescape=True), MATCH_PREFIX),
            (word, MATCH_WORD),
            else_=MATCH_INSIDE,
        )
    ordering = [] if quality is None else [quality]
    if near is not None:
        ordering.append(
            case(
                (Municipality.ags.startswith(near.ags[:5]), 0),
                (Municipality.ags.startswith(near.ags[:2]), 1),
                else_=2,
            )
        )
    ordering += [Municipality.name, Municipality.ags]
    found = db.session.scalars(stmt.order_by(*ordering).limit(limit))
    numeric = query.isdigit()
    return [SearchHit(m, MATCH_PREFIX if numeric else _name_match(m.name, query)) for m in found]


def partner_municipality_ids(cooperation: Cooperation) -> set[int]:
    """Every municipality that is or was a partner (it cannot be added a second time)."""
    return set(
        db.session.scalars(
            select(CooperationPartner.municipality_id).where(
                CooperationPartner.cooperation_id == cooperation.id
            )
        )
    )


def municipalities_by_ags(ags: Iterable[str], limit: int = 20) -> list[Municipality]:
    """The register's municipalities with these AGS, by name (unknown ones are dropped)."""
    wanted = [a for a in dict.fromkeys(ags) if a.isdigit() and len(a) == 8][:limit]
    if not wanted:
        return []
    query = select(Municipality).where(Municipality.ags.in_(wanted)).order_by(Municipality.name)
    return list(db.session.scalars(query))


def municipality_by_ags(ags: str | None) -> Municipality | None:
    """The register entry with this AGS (None for anything else)."""
    if not ags or not re.fullmatch(r"\d{8}", ags):
        return None
    return db.session.scalar(select(Municipality).where(Municipality.ags == ags))


def add_partner(
    cooperation: Cooperation,
    *,
    ags: str,
    joined_on: date,
    council_resolution_on: date | None,
    by: User | None = None,
) -> CooperationPartner:
    """Add the municipality with this AGS as partner (once, not before the start)."""
    municipality = db.session.scalar(select(Municipality).where(Municipality.ags == ags))
    if municipality is None:
        raise CooperationError(
            _("Zu diesem AGS gibt es keine Kommune im Gemeindeverzeichnis."), "ags"
        )
    exists = db.session.scalar(
        select(func.count()).where(
            CooperationPartner.cooperation_id == cooperation.id,
            CooperationPartner.municipality_id == municipality.id,
        )
    )
    if exists:
        raise CooperationError(
            _("%(m)s ist bereits Partner dieser Kooperation.", m=municipality.name), "ags"
        )
    if joined_on < cooperation.start_date:
        raise CooperationError(
            _("Der Beitritt darf nicht vor dem Beginn der Kooperation liegen."), "joined_on"
        )
    partner = CooperationPartner(
        cooperation=cooperation,
        municipality=municipality,
        joined_on=joined_on,
        council_resolution_on=council_resolution_on,
    )
    db.session.add(partner)
    db.session.flush()
    _event(
        cooperation,
        EventType.PARTNER_JOINED,
        "CooperationPartner",
        partner.id,
        by,
        municipality=municipality.name,
        joined_on=joined_on.isoformat(),
    )
    return partner


def update_partner(
    partner: CooperationPartner,
    *,
    joined_on: date,
    left_on: date | None,
    council_resolution_on: date | None,
    by: User | None = None,
) -> None:
    """Change a partner's dates; the lead municipality cannot leave.

    A newly set leave date tells the cooperation's members ("partner.left")."""
    if left_on and left_on < joined_on:
        raise CooperationError(_("Der Austritt darf nicht vor dem Beitritt liegen."), "left_on")
    if partner.municipality_id == partner.cooperation.lead_municipality_id and left_on:
        raise CooperationError(
            _(
                "Die federführende Kommune kann nicht austreten. "
                "Übertragen Sie zuerst die Federführung."
            ),
            "left_on",
        )
    newly_left = left_on is not None and partner.left_on is None
    partner.joined_on = joined_on
    partner.left_on = left_on
    partner.council_resolution_on = council_resolution_on
    db.session.flush()
    if newly_left:
        _event(
            partner.cooperation,
            EventType.PARTNER_LEFT,
            "CooperationPartner",
            partner.id,
            by,
            municipality=partner.municipality.name,
            left_on=left_on.isoformat(),
        )


def remove_partner(partner: CooperationPartner) -> None:
    """Remove a partner added by mistake, with the roles of its users."""
    cooperation = partner.cooperation
    if partner.municipality_id == cooperation.lead_municipality_id:
        raise CooperationError(_("Die federführende Kommune kann nicht entfernt werden."))
    memberships = list(
        db.session.scalars(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.cooperation_id == cooperation.id,
                User.municipality_id == partner.municipality_id,
            )
        )
    )
    removed_leads = sum(1 for m in memberships if m.role is Role.LEAD)
    if removed_leads and removed_leads >= lead_count(cooperation.id):
        raise CooperationError(
            _(
                "Mit dieser Kommune ginge die letzte Projektleitung. "
                "Vergeben Sie die Projektleitung zuerst an eine andere Person."
            )
        )
    for membership in memberships:
        db.session.delete(membership)
    db.session.delete(partner)
    db.session.flush()


def eligible_users(cooperation: Cooperation) -> list[User]:
    """Users of current partner municipalities who have no role yet."""
    has_role = select(Membership.user_id).where(Membership.cooperation_id == cooperation.id)
    partner_municipalities = select(CooperationPartner.municipality_id).where(
        CooperationPartner.cooperation_id == cooperation.id, CooperationPartner.left_on.is_(None)
    )
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.municipality_id.in_(partner_municipalities),
                User.id.not_in(has_role),
                User.is_active_account.is_(True),
            )
            .order_by(User.name)
        )
    )


def grant_role(
    cooperation: Cooperation, *, user_id: int, role: str, by: User | None = None
) -> Membership:
    """Give a user of a current partner municipality a role (one per cooperation).

    The event goes to everyone with a role, the new member included (but not the actor)."""
    user = db.session.get(User, user_id)
    if user is None or user not in eligible_users(cooperation):
        raise CooperationError(
            _("Rollen erhalten nur Personen aus Partnerkommunen, die noch keine Rolle haben."),
            "user_id",
        )
    if not may_hold(Role(role), of_lead_municipality=is_of_lead_municipality(cooperation, user)):
        raise CooperationError(lead_municipality_only(cooperation), "role")
    membership = Membership(cooperation=cooperation, user=user, role=Role(role))
    db.session.add(membership)
    db.session.flush()
    announce_role(membership, by=by)
    return membership


def is_of_lead_municipality(cooperation: Cooperation, user: User) -> bool:
    return user.municipality_id == cooperation.lead_municipality_id


def lead_municipality_only(cooperation: Cooperation) -> str:
    """The message when a Projektleitung is meant for someone outside the lead municipality."""
    return _(
        "Eine weitere Projektleitung kann nur eine Person der federführenden Kommune "
        "%(m)s übernehmen.",
        m=cooperation.lead_municipality.name,
    )


def announce_role(membership: Membership, *, by: User | None = None) -> None:
    """Tell everyone with a role (the member included, not the actor) who got which role.
    ``by`` the member themselves: they accepted an invitation (the feed and the mail say so)."""
    extra = {"accepted": True} if by is not None and by.id == membership.user_id else {}
    _event(
        membership.cooperation,
        EventType.ROLE_GRANTED,
        "Membership",
        membership.id,
        by,
        user=membership.user.name,
        user_id=membership.user_id,
        role=membership.role.value,
        **extra,
    )


def lead_count(cooperation_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Membership.cooperation_id == cooperation_id, Membership.role == Role.LEAD
        )
    )


def revoke_role(membership: Membership) -> None:
    """Take a role away; a cooperation keeps at least one Projektleitung."""
    if membership.role is Role.LEAD:
        if lead_count(membership.cooperation_id) <= 1:
            raise CooperationError(_("Eine Kooperation braucht mindestens eine Projektleitung."))
    db.session.delete(membership)
    db.session.flush()


# --- reading ------------------------------------------------------------------------------


def my_cooperations(user: User) -> list[tuple[Cooperation, Role, int]]:
    """The user's cooperations with their role and the number of active partners."""
    partner_count = (
        select(func.count(CooperationPartner.id))
        .where(
            CooperationPartner.cooperation_id == Cooperation.id,
            CooperationPartner.left_on.is_(None),
        )
        .correlate(Cooperation)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Cooperation, Membership.role, partner_count)
        .join(Membership, Membership.cooperation_id == Cooperation.id)
        .where(Membership.user_id == user.id)
        .order_by(Cooperation.title)
    ).all()
    return [(c, r, n) for c, r, n in rows]


def partners_of(cooperation: Cooperation) -> list[CooperationPartner]:
    """Current partners first (by join date), then those who left."""
    return list(
        db.session.scalars(
            select(CooperationPartner)
            .where(CooperationPartner.cooperation_id == cooperation.id)
            .order_by(
                CooperationPartner.left_on.is_not(None),
                CooperationPartner.joined_on,
                CooperationPartner.id,
            )
        )
    )


_ROLE_ORDER = case({role.value: rank for rank, role in enumerate(Role)}, value=Membership.role)


def memberships_of(cooperation: Cooperation) -> list[Membership]:
    """Everyone with a role, with their user and municipality (one query)."""
    return list(
        db.session.scalars(
            select(Membership)
            .where(Membership.cooperation_id == cooperation.id)
            .order_by(_ROLE_ORDER, Membership.id)
        )
    )


def history_of(cooperation_id: int, *, limit: int, offset: int = 0) -> list[HistoryEntry]:
    """The cooperation's history, newest first."""
    return list(
        db.session.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.cooperation_id == cooperation_id)
            # The pages show the stored actor label; joining the accounts would be waste.
            .options(lazyload(HistoryEntry.actor))
            .order_by(HistoryEntry.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )


# History values that are the key of a named record: the history pages show the name.
_NAMED_FIELDS: dict[str, type[Municipality] | type[User]] = {
    "responsible_municipality_id": Municipality,
    "responsible_person_id": User,
}


def history_names(entries: list[HistoryEntry]) -> dict[tuple[str, str], str]:
    """Names for the keys those entries store, as {(field, stored value): name}
    (one query per kind of record, whatever the number of entries)."""
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        if entry.field in _NAMED_FIELDS:
            for value in (entry.old_value, entry.new_value):
                if value and value.isdigit():
                    wanted.setdefault(entry.field, set()).add(int(value))
    names: dict[tuple[str, str], str] = {}
    for field, ids in wanted.items():
        model = _NAMED_FIELDS[field]
        rows = db.session.execute(select(model.id, model.name).where(model.id.in_(ids)))
        names.update({(field, str(key)): name for key, name in rows})
    return names


def last_change(cooperation: Cooperation) -> HistoryEntry | None:
    """The newest history entry of the cooperation's own master data (who saved last)."""
    return db.session.scalar(
        select(HistoryEntry)
        .where(
            HistoryEntry.cooperation_id == cooperation.id,
            HistoryEntry.record_type == "Cooperation",
            HistoryEntry.record_id == cooperation.id,
        )
        .order_by(HistoryEntry.id.desc())
        .limit(1)
    )
