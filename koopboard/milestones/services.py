"""Milestone use-cases: check the rules, write, record events. The view owns the commit.

History entries are written by ``koopboard.history`` in the same flush; each status
change, new milestone and due-date change also adds a ``NotificationEvent`` here, so
both land in the one transaction the view commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import Row, select

from koopboard.domain.catalog import Role
from koopboard.domain.milestones import (
    MilestoneStatus,
    Phase,
    Summary,
    berlin_today,
    completion_date,
    statuses_for,
    summarize,
    upcoming_window,
)
from koopboard.extensions import db
from koopboard.models import (
    Cooperation,
    CooperationPartner,
    HistoryEntry,
    Membership,
    Milestone,
    Municipality,
    NotificationEvent,
    User,
)
from koopboard.notifications.outbox import publish

EVENT_CREATED = "milestone.created"
EVENT_STATUS_CHANGED = "milestone.status_changed"
EVENT_DUE_DATE_CHANGED = "milestone.due_date_changed"
DASHBOARD_LIMIT = 200


class MilestoneError(ValueError):
    """A rule was broken; ``field`` names the form field the German message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StaleVersion(Exception):  # noqa: N818 (reads as a state, like StaleDataError)
    """The milestone changed since the form was loaded (optimistic locking)."""


@dataclass
class MilestoneData:
    """Everything the lead's full form edits."""

    title: str
    description: str
    phase: str
    due_date: date
    status: str
    responsible_municipality_id: int | None
    progress_note: str


# --- rules --------------------------------------------------------------------------------


def can_update_progress(role: Role, user: User, milestone: Milestone) -> bool:
    """The lead always; a member for milestones assigned to their own municipality."""
    if role is Role.LEAD:
        return True
    return (
        role is Role.MEMBER
        and user.municipality_id is not None
        and milestone.responsible_municipality_id == user.municipality_id
    )


def _check_version(milestone: Milestone, version: int | None) -> None:
    if version is None or version != milestone.version:
        raise StaleVersion()


def _check_due_date(cooperation: Cooperation, due: date) -> None:
    if due < cooperation.start_date:
        raise MilestoneError(
            _(
                "Der Termin darf nicht vor dem Beginn der Kooperation (%(d)s) liegen.",
                d=format_date(cooperation.start_date, "dd.MM.yyyy"),
            ),
            "due_date",
        )


def _check_responsible(
    cooperation: Cooperation, municipality_id: int | None, current: int | None = None
) -> None:
    # An unchanged assignment stays valid even if that partner has left since.
    if municipality_id is None or municipality_id == current:
        return
    if municipality_id not in {m.id for m in partner_municipalities(cooperation)}:
        raise MilestoneError(
            _("Verantwortlich kann nur eine Partnerkommune dieser Kooperation sein."),
            "responsible_municipality_id",
        )


def _enum_or_error(enum_cls: type, value: str, field: str) -> Any:
    try:
        return enum_cls(value)
    except ValueError as exc:
        raise MilestoneError(_("Bitte wählen Sie einen Eintrag aus der Liste."), field) from exc


def _event(milestone: Milestone, event_type: str, by: User | None, **payload: Any) -> None:
    publish(
        NotificationEvent(
            cooperation_id=milestone.cooperation_id,
            event_type=event_type,
            record_type="Milestone",
            record_id=milestone.id,
            actor_id=by.id if by else None,
            payload={"title": milestone.title, **payload},
        )
    )


def _apply_status(milestone: Milestone, new: MilestoneStatus, now: datetime) -> bool:
    """Set the status and its completion date; True if the status changed."""
    old = milestone.status
    milestone.completed_on = completion_date(old, new, milestone.completed_on, berlin_today(now))
    milestone.status = new
    return old is not new


# --- writing ------------------------------------------------------------------------------


def create_milestone(
    cooperation: Cooperation, data: MilestoneData, *, by: User, now: datetime
) -> Milestone:
    """A new milestone of the cooperation (the lead's use-case)."""
    phase = _enum_or_error(Phase, data.phase, "phase")
    status = _enum_or_error(MilestoneStatus, data.status, "status")
    _check_due_date(cooperation, data.due_date)
    _check_responsible(cooperation, data.responsible_municipality_id)
    milestone = Milestone(
        cooperation_id=cooperation.id,
        title=data.title.strip(),
        description=(data.description or "").strip(),
        phase=phase,
        due_date=data.due_date,
        status=status,
        completed_on=completion_date(status, status, None, berlin_today(now)),
        responsible_municipality_id=data.responsible_municipality_id,
        progress_note=(data.progress_note or "").strip(),
    )
    db.session.add(milestone)
    db.session.flush()
    _event(milestone, EVENT_CREATED, by, status=status.value, due_date=data.due_date.isoformat())
    db.session.flush()
    return milestone


def update_milestone(
    milestone: Milestone,
    cooperation: Cooperation,
    data: MilestoneData,
    *,
    version: int | None,
    by: User,
    now: datetime,
) -> None:
    """The lead's full edit; unless someone saved in between (then StaleVersion)."""
    _check_version(milestone, version)
    phase = _enum_or_error(Phase, data.phase, "phase")
    status = _enum_or_error(MilestoneStatus, data.status, "status")
    if data.due_date != milestone.due_date:
        _check_due_date(cooperation, data.due_date)
    _check_responsible(
        cooperation, data.responsible_municipality_id, milestone.responsible_municipality_id
    )
    old_status, old_due = milestone.status, milestone.due_date
    milestone.title = data.title.strip()
    milestone.description = (data.description or "").strip()
    milestone.phase = phase
    milestone.due_date = data.due_date
    milestone.responsible_municipality_id = data.responsible_municipality_id
    milestone.progress_note = (data.progress_note or "").strip()
    if _apply_status(milestone, status, now):
        _event(milestone, EVENT_STATUS_CHANGED, by, old=old_status.value, new=status.value)
    if old_due != data.due_date:
        _event(
            milestone,
            EVENT_DUE_DATE_CHANGED,
            by,
            old=old_due.isoformat(),
            new=data.due_date.isoformat(),
        )
    db.session.flush()  # the version_id_col makes a concurrent UPDATE fail here


def change_status(
    milestone: Milestone,
    status: str,
    *,
    version: int | None,
    by: User,
    is_lead: bool,
    now: datetime,
) -> None:
    """Inline status change; only the lead may cancel or reopen a cancelled milestone."""
    _check_version(milestone, version)
    new = _enum_or_error(MilestoneStatus, status, "status")
    allowed = statuses_for(is_lead, milestone.status)
    if new is not milestone.status and new not in allowed:
        raise MilestoneError(
            _("Nur die Projektleitung kann Meilensteine absagen oder wieder aufnehmen."), "status"
        )
    old = milestone.status
    if _apply_status(milestone, new, now):
        _event(milestone, EVENT_STATUS_CHANGED, by, old=old.value, new=new.value)
    db.session.flush()


def change_due_date(
    milestone: Milestone,
    cooperation: Cooperation,
    due: date,
    *,
    version: int | None,
    by: User,
) -> None:
    """Inline due-date change (the lead's)."""
    _check_version(milestone, version)
    _check_due_date(cooperation, due)
    old = milestone.due_date
    if old != due:
        milestone.due_date = due
        _event(milestone, EVENT_DUE_DATE_CHANGED, by, old=old.isoformat(), new=due.isoformat())
    db.session.flush()


def change_note(milestone: Milestone, note: str, *, version: int | None) -> None:
    """Inline progress-note change."""
    _check_version(milestone, version)
    milestone.progress_note = (note or "").strip()
    db.session.flush()


# --- reading ------------------------------------------------------------------------------


def partner_municipalities(cooperation: Cooperation) -> list[Municipality]:
    """Current partners (not left), by name: who can be responsible for a milestone."""
    return list(
        db.session.scalars(
            select(Municipality)
            .join(CooperationPartner, CooperationPartner.municipality_id == Municipality.id)
            .where(
                CooperationPartner.cooperation_id == cooperation.id,
                CooperationPartner.left_on.is_(None),
            )
            .order_by(Municipality.name)
        )
    )


def milestones_of(cooperation_id: int) -> list[Milestone]:
    """All milestones of the cooperation with their responsible municipality (one query)."""
    return list(
        db.session.scalars(
            select(Milestone)
            .where(Milestone.cooperation_id == cooperation_id)
            .order_by(Milestone.due_date, Milestone.id)
        )
    )


def get_milestone(cooperation_id: int, milestone_id: int) -> Milestone | None:
    """The milestone if it belongs to the cooperation."""
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None or milestone.cooperation_id != cooperation_id:
        return None
    return milestone


def summary_of(cooperation_id: int, now: datetime) -> Summary[Row]:
    """The progress summary from light rows (id, title, status, due date, phase)."""
    rows = db.session.execute(
        select(
            Milestone.id, Milestone.title, Milestone.status, Milestone.due_date, Milestone.phase
        ).where(Milestone.cooperation_id == cooperation_id)
    ).all()
    return summarize(rows, now)


def last_change(milestone_id: int) -> HistoryEntry | None:
    """The newest history entry of the milestone: who changed it, and when."""
    return db.session.scalar(
        select(HistoryEntry)
        .where(HistoryEntry.record_type == "Milestone", HistoryEntry.record_id == milestone_id)
        .order_by(HistoryEntry.id.desc())
        .limit(1)
    )


def upcoming_for(user: User, now: datetime) -> list[tuple[Milestone, Cooperation]]:
    """Open milestones of the user's cooperations, overdue or due in the next 30 days."""
    _today, last = upcoming_window(now)
    closed = [MilestoneStatus.ERLEDIGT, MilestoneStatus.ABGESAGT]
    rows = db.session.execute(
        select(Milestone, Cooperation)
        .join(Cooperation, Cooperation.id == Milestone.cooperation_id)
        .join(Membership, Membership.cooperation_id == Cooperation.id)
        .where(
            Membership.user_id == user.id,
            Milestone.status.not_in(closed),
            Milestone.due_date <= last,
        )
        .order_by(Milestone.due_date, Milestone.id)
        .limit(DASHBOARD_LIMIT)
    )
    return [(m, c) for m, c in rows]


def feed_rows_for_user(user: User) -> list[tuple[Milestone, Cooperation]]:
    """Every milestone of every cooperation the user has a role in, for the calendar."""
    rows = db.session.execute(
        select(Milestone, Cooperation)
        .join(Cooperation, Cooperation.id == Milestone.cooperation_id)
        .join(Membership, Membership.cooperation_id == Cooperation.id)
        .where(Membership.user_id == user.id)
        .order_by(Milestone.due_date, Milestone.id)
    )
    return [(m, c) for m, c in rows]
