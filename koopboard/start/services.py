"""Was ansteht: across all of a person's cooperations, what needs them now, and where each
cooperation stands. A fixed number of statements, however many cooperations there are:
one per kind of item, one for every cooperation's figures together.

The rules are the areas' own: who may approve a cost is ``costs.books.services.decides``
and ``four_eyes_reasons`` (the rules the approve button obeys), overdue is
``domain.milestones``, the unread notifications are the feed's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Numeric, and_, case, cast, func, literal, select, union_all
from sqlalchemy.orm import aliased

from koopboard.cooperations.invitations import services as invitations
from koopboard.costs.books.services import decides, four_eyes_reasons
from koopboard.domain.catalog import Role
from koopboard.domain.directory import JoinRequestStatus
from koopboard.domain.milestones import MilestoneStatus, Summary, berlin_today
from koopboard.extensions import db
from koopboard.milestones.services import can_update_progress
from koopboard.models import (
    Cooperation,
    CooperationInvitation,
    Cost,
    CostBudget,
    JoinRequest,
    Membership,
    Milestone,
    Municipality,
    User,
)
from koopboard.models.cost import CostBalance, CostState, RecurringCost
from koopboard.notifications import inbox

DUE_SOON_DAYS = 14
UNREAD_SHOWN = 10


@dataclass
class CooperationRow:
    """One of my cooperations, with my role and its figures of this year."""

    id: int
    title: str
    role: Role
    lead_may_approve: bool
    treasurers: int
    milestones: Summary = field(default_factory=lambda: Summary(0, 0, 0, 0, None))
    approved: Decimal = Decimal("0.00")
    planned: Decimal | None = None
    open_balance: Decimal | None = None

    @property
    def budget_percent(self) -> int | None:
        """Approved costs as a share of the Planansatz (None without one)."""
        if not self.planned:
            return None
        return int(self.approved * 100 // self.planned)


@dataclass
class CostItem:
    id: int
    cooperation_id: int
    cooperation_title: str
    text: str
    amount: Decimal
    budget_year: int
    submitted_by: str
    version: int


@dataclass
class MilestoneItem:
    id: int
    cooperation_id: int
    cooperation_title: str
    title: str
    due_date: object
    overdue: bool
    version: int
    may_complete: bool


@dataclass
class JoinItem:
    id: int
    cooperation_id: int
    cooperation_title: str
    municipality: str
    intended_join_on: object


@dataclass
class Agenda:
    """Everything the start page shows."""

    today: object
    year: int
    cooperations: list[CooperationRow]
    costs: list[CostItem]
    milestones: list[MilestoneItem]
    join_requests: list[JoinItem]
    invitations: list[CooperationInvitation]
    unread: inbox.Bell

    @property
    def nothing_due(self) -> bool:
        return not (
            self.costs
            or self.milestones
            or self.join_requests
            or self.invitations
            or self.unread.unread
        )


def _cooperations(user: User) -> list[CooperationRow]:
    treasurers = (
        select(func.count(Membership.id))
        .where(
            Membership.cooperation_id == Cooperation.id,
            Membership.role == Role.TREASURER,
        )
        .correlate(Cooperation)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(
            Cooperation.id,
            Cooperation.title,
            Membership.role,
            Cooperation.lead_may_approve,
            treasurers,
        )
        .join(Membership, Membership.cooperation_id == Cooperation.id)
        .where(Membership.user_id == user.id)
        .order_by(Cooperation.title, Cooperation.id)
    ).all()
    return [CooperationRow(*row) for row in rows]


def _may_decide(row: CooperationRow) -> bool:
    return decides(
        row.role, lead_may_approve=row.lead_may_approve, treasurers=lambda: row.treasurers
    )


def costs_to_approve(user: User, cooperations: list[CooperationRow]) -> list[CostItem]:
    """Submitted costs the user may approve: a deciding role, and not kept out by the
    four-eyes rule (one statement)."""
    deciding = {row.id: row for row in cooperations if _may_decide(row)}
    if not deciding:
        return []
    submitter = aliased(User)
    town = aliased(Municipality)
    rows = db.session.execute(
        select(
            Cost,
            RecurringCost.created_by_id,
            RecurringCost.amount_set_by_id,
            submitter.name,
            town.name,
        )
        .outerjoin(RecurringCost, RecurringCost.id == Cost.recurring_id)
        .outerjoin(submitter, submitter.id == Cost.submitted_by_id)
        .outerjoin(town, town.id == submitter.municipality_id)
        .where(Cost.cooperation_id.in_(deciding), Cost.state == CostState.EINGEREICHT)
        .order_by(Cost.submitted_at, Cost.id)
    ).all()
    items = []
    for cost, template_by, template_amount_by, name, town_name in rows:
        if user.id in four_eyes_reasons(cost, template_by, template_amount_by):
            continue
        items.append(
            CostItem(
                id=cost.id,
                cooperation_id=cost.cooperation_id,
                cooperation_title=deciding[cost.cooperation_id].title,
                text=cost.text,
                amount=cost.amount,
                budget_year=cost.budget_year,
                submitted_by=f"{name} ({town_name})" if town_name else (name or ""),
                version=cost.version,
            )
        )
    return items


def milestones_due(
    user: User, cooperations: list[CooperationRow], now: datetime
) -> list[MilestoneItem]:
    """My municipality's open milestones, overdue or due within 14 days (Europe/Berlin)."""
    if user.municipality_id is None or not cooperations:
        return []
    today = berlin_today(now)
    mine = {row.id: row for row in cooperations}
    rows = db.session.scalars(
        select(Milestone)
        .where(
            Milestone.cooperation_id.in_(mine),
            Milestone.responsible_municipality_id == user.municipality_id,
            Milestone.status.not_in([MilestoneStatus.ERLEDIGT, MilestoneStatus.ABGESAGT]),
            Milestone.due_date <= today + timedelta(days=DUE_SOON_DAYS),
        )
        .order_by(Milestone.due_date, Milestone.id)
    ).all()
    return [
        MilestoneItem(
            id=m.id,
            cooperation_id=m.cooperation_id,
            cooperation_title=mine[m.cooperation_id].title,
            title=m.title,
            due_date=m.due_date,
            overdue=m.due_date < today,
            version=m.version,
            may_complete=can_update_progress(mine[m.cooperation_id].role, user, m),
        )
        for m in rows
    ]


def open_join_requests(cooperations: list[CooperationRow]) -> list[JoinItem]:
    """Open Beitrittsanfragen to the cooperations the user leads (one statement)."""
    led = {row.id: row for row in cooperations if row.role is Role.LEAD}
    if not led:
        return []
    rows = db.session.execute(
        select(
            JoinRequest.id,
            JoinRequest.cooperation_id,
            Municipality.name,
            JoinRequest.intended_join_on,
        )
        .join(Municipality, Municipality.id == JoinRequest.municipality_id)
        .where(JoinRequest.cooperation_id.in_(led), JoinRequest.status == JoinRequestStatus.OPEN)
        .order_by(JoinRequest.created_at, JoinRequest.id)
    ).all()
    return [JoinItem(rid, cid, led[cid].title, name, intended) for rid, cid, name, intended in rows]


def join_item(request: JoinRequest, cooperation_title: str) -> JoinItem:
    """One request as the start page lists it (to show it again with its errors)."""
    return JoinItem(
        request.id,
        request.cooperation_id,
        cooperation_title,
        request.municipality.name,
        request.intended_join_on,
    )


def _figures(user: User, cooperations: list[CooperationRow], year: int, now: datetime) -> None:
    """Every cooperation's milestone counts, approved costs, Planansatz and my municipality's
    open balance of ``year``: one statement for all cooperations."""
    if not cooperations:
        return
    ids = [row.id for row in cooperations]
    today = berlin_today(now)
    money = Numeric(14, 2)
    milestone_counts = select(
        literal("milestones").label("kind"),
        Milestone.cooperation_id.label("cid"),
        cast(func.count(Milestone.id), money).label("a"),
        cast(func.count(case((Milestone.status == MilestoneStatus.ERLEDIGT, 1))), money).label("b"),
        cast(
            func.count(
                case(
                    (
                        and_(
                            Milestone.status != MilestoneStatus.ERLEDIGT,
                            Milestone.due_date < today,
                        ),
                        1,
                    )
                )
            ),
            money,
        ).label("c"),
    ).where(Milestone.cooperation_id.in_(ids), Milestone.status != MilestoneStatus.ABGESAGT)
    milestone_counts = milestone_counts.group_by(Milestone.cooperation_id)
    zero = cast(literal(0), money)
    approved = (
        select(
            literal("approved"),
            Cost.cooperation_id,
            cast(func.sum(Cost.amount), money),
            zero,
            zero,
        )
        .where(
            Cost.cooperation_id.in_(ids),
            Cost.budget_year == year,
            Cost.state == CostState.FREIGEGEBEN,
        )
        .group_by(Cost.cooperation_id)
    )
    planned = (
        select(
            literal("planned"),
            CostBudget.cooperation_id,
            cast(func.sum(CostBudget.amount), money),
            zero,
            zero,
        )
        .where(CostBudget.cooperation_id.in_(ids), CostBudget.budget_year == year)
        .group_by(CostBudget.cooperation_id)
    )
    parts = [milestone_counts, approved, planned]
    if user.municipality_id is not None:
        parts.append(
            select(
                literal("balance"),
                CostBalance.cooperation_id,
                cast(
                    CostBalance.shares
                    - CostBalance.outlays
                    - CostBalance.paid
                    + CostBalance.received,
                    money,
                ),
                zero,
                zero,
            ).where(
                CostBalance.cooperation_id.in_(ids),
                CostBalance.budget_year == year,
                CostBalance.municipality_id == user.municipality_id,
            )
        )
    by_id = {row.id: row for row in cooperations}
    for kind, cid, a, b, c in db.session.execute(union_all(*parts)):
        row = by_id[cid]
        if kind == "milestones":
            row.milestones = Summary(int(a), int(b), 0, int(c), None)
        elif kind == "approved":
            row.approved = Decimal(a)
        elif kind == "planned":
            row.planned = Decimal(a)
        else:
            row.open_balance = Decimal(a)


def agenda_for(user: User, now: datetime, year: int) -> Agenda:
    """What needs ``user`` now, and every cooperation's figures of ``year``."""
    cooperations = _cooperations(user)
    agenda = Agenda(
        today=berlin_today(now),
        year=year,
        cooperations=cooperations,
        costs=costs_to_approve(user, cooperations),
        milestones=milestones_due(user, cooperations, now),
        join_requests=open_join_requests(cooperations),
        invitations=invitations.open_for(user),
        unread=inbox.unread_of(user.id, UNREAD_SHOWN),
    )
    _figures(user, cooperations, year, now)
    return agenda
