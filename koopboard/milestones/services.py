"""Milestone use-cases: check the rules, write, record events. The view owns the commit.

History entries are written by ``koopboard.history`` in the same flush; each status
change, new milestone and due-date change also adds a ``NotificationEvent`` here, so
both land in the one transaction the view commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Row, case, select

from koopboard.domain.catalog import Role
from koopboard.domain.milestones import (
    MilestoneStatus,
    Phase,
    PhaseProgress,
    Summary,
    berlin_today,
    completion_date,
    progress_by_phase,
    statuses_for,
    summarize,
    upcoming_window,
)
from koopboard.extensions import db
from koopboard.i18n import format_day
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
    responsible_person_id: int | None = None
    # Only for a milestone that is "erledigt"; None: today (or the date it already has).
    completed_on: date | None = None


# Who can be named as responsible person: anyone with a role except Beobachtung (which
# only reads, so it could not keep its own milestone up to date).
RESPONSIBLE_ROLES = (Role.LEAD, Role.TREASURER, Role.MEMBER)


# --- rules --------------------------------------------------------------------------------


def can_update_progress(role: Role, user: User, milestone: Milestone) -> bool:
    """The lead always; a member for milestones assigned to their own municipality; the
    responsible person for their milestone (unless they now only observe)."""
    if role is Role.LEAD:
        return True
    if role in RESPONSIBLE_ROLES and milestone.responsible_person_id == user.id:
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
                d=format_day(cooperation.start_date),
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


def _check_person(
    cooperation: Cooperation,
    municipality_id: int | None,
    person_id: int | None,
    current: tuple[int | None, int | None] = (None, None),
) -> None:
    """The person must have a role here and belong to the responsible municipality.

    ``current`` is the stored (municipality, person): an unchanged assignment stays valid
    even if the person has lost the role since."""
    if person_id is None or (municipality_id, person_id) == current:
        return
    if municipality_id is None:
        raise MilestoneError(
            _("Bitte wählen Sie zuerst die verantwortliche Kommune, dann eine Person aus ihr."),
            "responsible_person_id",
        )
    person = next((u for u in responsible_people(cooperation) if u.id == person_id), None)
    if person is None:
        raise MilestoneError(
            _(
                "Verantwortlich kann nur eine Person mit einer Rolle in dieser Kooperation "
                "sein (nicht Beobachtung)."
            ),
            "responsible_person_id",
        )
    if person.municipality_id != municipality_id:
        municipality = db.session.get(Municipality, municipality_id)
        raise MilestoneError(
            _(
                "%(p)s gehört nicht zur verantwortlichen Kommune %(m)s. Bitte wählen Sie "
                "eine Person aus %(m)s oder niemanden.",
                p=person.name,
                m=municipality.name if municipality else "–",
            ),
            "responsible_person_id",
        )


def _completed_on(
    status: MilestoneStatus,
    given: date | None,
    *,
    old: MilestoneStatus | None,
    stored: date | None,
    now: datetime,
) -> date | None:
    """The completion date of a milestone with this status: the given day (not after today
    in Europe/Berlin), else the one it has, else today; none unless it is "erledigt"."""
    if status is not MilestoneStatus.ERLEDIGT:
        return None
    today = berlin_today(now)
    day = given or (stored if old is MilestoneStatus.ERLEDIGT else None) or today
    if day > today:
        raise MilestoneError(
            _(
                "Das Erledigungsdatum darf nicht in der Zukunft liegen (heute ist der %(d)s).",
                d=format_day(today),
            ),
            "completed_on",
        )
    return day


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
    _check_person(cooperation, data.responsible_municipality_id, data.responsible_person_id)
    completed_on = _completed_on(status, data.completed_on, old=None, stored=None, now=now)
    milestone = Milestone(
        cooperation_id=cooperation.id,
        title=data.title.strip(),
        description=(data.description or "").strip(),
        phase=phase,
        due_date=data.due_date,
        status=status,
        completed_on=completed_on,
        responsible_municipality_id=data.responsible_municipality_id,
        responsible_person_id=data.responsible_person_id,
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
    _check_person(
        cooperation,
        data.responsible_municipality_id,
        data.responsible_person_id,
        (milestone.responsible_municipality_id, milestone.responsible_person_id),
    )
    completed_on = _completed_on(
        status, data.completed_on, old=milestone.status, stored=milestone.completed_on, now=now
    )
    old_status, old_due = milestone.status, milestone.due_date
    milestone.title = data.title.strip()
    milestone.description = (data.description or "").strip()
    milestone.phase = phase
    milestone.due_date = data.due_date
    milestone.responsible_municipality_id = data.responsible_municipality_id
    milestone.responsible_person_id = data.responsible_person_id
    milestone.progress_note = (data.progress_note or "").strip()
    milestone.status = status
    milestone.completed_on = completed_on
    if old_status is not status:
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


def responsible_people(cooperation: Cooperation) -> list[User]:
    """Active people with a role here (not Beobachtung), by municipality and name: who can
    be named as a milestone's responsible person (of their own municipality)."""
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .join(Municipality, Municipality.id == User.municipality_id)
            .where(
                Membership.cooperation_id == cooperation.id,
                Membership.role.in_(RESPONSIBLE_ROLES),
                User.is_active_account.is_(True),
            )
            .order_by(Municipality.name, User.name, User.id)
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


def _light_rows(cooperation_id: int) -> list[Row]:
    """Light rows (id, title, status, due date, phase) of the cooperation's milestones."""
    return list(
        db.session.execute(
            select(
                Milestone.id, Milestone.title, Milestone.status, Milestone.due_date, Milestone.phase
            ).where(Milestone.cooperation_id == cooperation_id)
        ).all()
    )


def summary_of(cooperation_id: int, now: datetime) -> Summary[Row]:
    """The progress summary from light rows (one query)."""
    return summarize(_light_rows(cooperation_id), now)


def phase_progress_of(cooperation_id: int, now: datetime) -> list[PhaseProgress]:
    """Done / total / overdue per phase from light rows (one query)."""
    return progress_by_phase(_light_rows(cooperation_id), now)


def overview_of(cooperation_id: int, now: datetime) -> tuple[Summary[Row], list[PhaseProgress]]:
    """The summary and the progress per phase from the same light rows (one query)."""
    rows = _light_rows(cooperation_id)
    return summarize(rows, now), progress_by_phase(rows, now)


def last_change(milestone_id: int) -> HistoryEntry | None:
    """The newest history entry of the milestone: who changed it, and when."""
    return db.session.scalar(
        select(HistoryEntry)
        .where(HistoryEntry.record_type == "Milestone", HistoryEntry.record_id == milestone_id)
        .order_by(HistoryEntry.id.desc())
        .limit(1)
    )


def upcoming_for(user: User, now: datetime) -> list[tuple[Milestone, Cooperation]]:
    """Open milestones of the user's cooperations, overdue or due in the next 30 days:
    those the user is the responsible person of first, then the others, each by due date
    (one query, with the responsible municipality and person)."""
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
        .order_by(
            case((Milestone.responsible_person_id == user.id, 0), else_=1),
            Milestone.due_date,
            Milestone.id,
        )
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
