"""Milestones as pure rules: phases, statuses, the overdue rule, progress summaries.

No Flask, no database. "Today" is always the calendar day in Europe/Berlin: a milestone
due on the 25th is overdue from 00:00 Berlin time on the 26th, whatever the server's zone
and whether summer time just began or ended.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from koopboard.domain.catalog import N_, LabelledEnum

BERLIN = ZoneInfo("Europe/Berlin")
UPCOMING_DAYS = 30


class Phase(LabelledEnum):
    """The four phases of a cooperation project, in their order."""

    INITIIERUNG = "initiierung"
    PLANUNG = "planung"
    UMSETZUNG = "umsetzung"
    ABSCHLUSS = "abschluss"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.INITIIERUNG: N_("Initiierung"),
            cls.PLANUNG: N_("Planung"),
            cls.UMSETZUNG: N_("Umsetzung"),
            cls.ABSCHLUSS: N_("Abschluss"),
        }


class MilestoneStatus(LabelledEnum):
    GEPLANT = "geplant"
    IN_ARBEIT = "in_arbeit"
    ERLEDIGT = "erledigt"
    GEFAEHRDET = "gefaehrdet"
    ABGESAGT = "abgesagt"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.GEPLANT: N_("geplant"),
            cls.IN_ARBEIT: N_("in Arbeit"),
            cls.ERLEDIGT: N_("erledigt"),
            cls.GEFAEHRDET: N_("gefährdet"),
            cls.ABGESAGT: N_("abgesagt"),
        }

    @property
    def is_closed(self) -> bool:
        """Done or cancelled: nothing is due any more."""
        return self in (MilestoneStatus.ERLEDIGT, MilestoneStatus.ABGESAGT)


PHASE_ORDER = {phase: index for index, phase in enumerate(Phase)}
# A member (not the lead) may move a milestone among these; cancelling is the lead's call.
MEMBER_STATUSES = (
    MilestoneStatus.GEPLANT,
    MilestoneStatus.IN_ARBEIT,
    MilestoneStatus.ERLEDIGT,
    MilestoneStatus.GEFAEHRDET,
)


def berlin_today(now: datetime) -> date:
    """The calendar day in Europe/Berlin at the aware instant ``now``."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("naive datetime given; pass an aware datetime")
    return now.astimezone(BERLIN).date()


def is_overdue(status: MilestoneStatus | str, due_date: date | None, now: datetime) -> bool:
    """Not done, not cancelled, and due before today in Europe/Berlin."""
    if due_date is None or MilestoneStatus(status).is_closed:
        return False
    return due_date < berlin_today(now)


def completion_date(
    old: MilestoneStatus, new: MilestoneStatus, completed_on: date | None, today: date
) -> date | None:
    """Set when a milestone becomes "erledigt", kept while it stays so, cleared on reopening."""
    if new is not MilestoneStatus.ERLEDIGT:
        return None
    if old is MilestoneStatus.ERLEDIGT and completed_on is not None:
        return completed_on
    return today


def statuses_for(is_lead: bool, current: MilestoneStatus) -> tuple[MilestoneStatus, ...]:
    """The statuses a person may choose: the lead all; a member not "abgesagt"."""
    if is_lead:
        return tuple(MilestoneStatus)
    if current is MilestoneStatus.ABGESAGT:
        return ()
    return MEMBER_STATUSES


class MilestoneLike(Protocol):
    """What the rules need to know about a milestone."""

    @property
    def status(self) -> MilestoneStatus: ...

    @property
    def due_date(self) -> date | None: ...

    @property
    def phase(self) -> Phase: ...

    @property
    def id(self) -> int: ...


M = TypeVar("M", bound=MilestoneLike)


@dataclass(frozen=True)
class Summary(Generic[M]):
    """A cooperation's progress: done of total (cancelled ones do not count), next due, overdue."""

    total: int
    done: int
    cancelled: int
    overdue: int
    next_due: M | None

    @property
    def percent(self) -> int:
        """Share done, rounded down to whole percent (0 without milestones)."""
        return (self.done * 100) // self.total if self.total else 0


def summarize(milestones: Iterable[M], now: datetime) -> Summary[M]:
    """Done / total, the next open milestone due today or later, and the overdue count."""
    today = berlin_today(now)
    total = done = cancelled = overdue = 0
    next_due: M | None = None
    for m in milestones:
        status = MilestoneStatus(m.status)
        if status is MilestoneStatus.ABGESAGT:
            cancelled += 1
            continue
        total += 1
        if status is MilestoneStatus.ERLEDIGT:
            done += 1
            continue
        if m.due_date is None:
            continue
        if m.due_date < today:
            overdue += 1
        elif next_due is None or (m.due_date, m.id) < (next_due.due_date, next_due.id):
            next_due = m
    return Summary(total=total, done=done, cancelled=cancelled, overdue=overdue, next_due=next_due)


def sort_key(m: MilestoneLike) -> tuple:
    """Phase order, then due date (undated last), then creation order."""
    return (PHASE_ORDER[Phase(m.phase)], m.due_date is None, m.due_date or date.max, m.id)


def by_phase(milestones: Iterable[M]) -> list[tuple[Phase, list[M]]]:
    """Every phase in order with its milestones (possibly none), sorted by due date."""
    groups: dict[Phase, list[M]] = {phase: [] for phase in Phase}
    for m in sorted(milestones, key=sort_key):
        groups[Phase(m.phase)].append(m)
    return list(groups.items())


def upcoming_window(now: datetime, days: int = UPCOMING_DAYS) -> tuple[date, date]:
    """Today in Berlin and the last day of the "next ``days`` days" window."""
    today = berlin_today(now)
    return today, today + timedelta(days=days)


def split_upcoming(
    milestones: Iterable[M], now: datetime, days: int = UPCOMING_DAYS
) -> tuple[list[M], list[M]]:
    """For the dashboard: overdue ones (oldest first), then open ones due within ``days``."""
    today, last = upcoming_window(now, days)
    overdue: list[M] = []
    soon: list[M] = []
    for m in milestones:
        if MilestoneStatus(m.status).is_closed or m.due_date is None:
            continue
        if m.due_date < today:
            overdue.append(m)
        elif m.due_date <= last:
            soon.append(m)
    key = lambda m: (m.due_date, m.id)  # noqa: E731
    return sorted(overdue, key=key), sorted(soon, key=key)


@dataclass(frozen=True)
class TimelineScale:
    """Maps dates onto a horizontal axis of ``width`` units between ``start`` and ``end``."""

    start: date
    end: date
    width: float = 1000.0

    def x(self, day: date) -> float:
        """The position of ``day``, clamped to the axis, rounded to one decimal."""
        span = max((self.end - self.start).days, 1)
        offset = min(max((day - self.start).days, 0), span)
        return round(offset / span * self.width, 1)

    def month_ticks(self) -> list[date]:
        """First days of months on the axis; every quarter when the axis spans over two years."""
        months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month
        step = 1 if months <= 24 else 3
        ticks: list[date] = []
        year, month = self.start.year, self.start.month
        while True:
            day = date(year, month, 1)
            if day > self.end:
                break
            if day >= self.start and (month - 1) % step == 0:
                ticks.append(day)
            month += 1
            if month > 12:
                year, month = year + 1, 1
        return ticks


def timeline_scale(due_dates: Sequence[date], today: date, width: float = 1000.0) -> TimelineScale:
    """An axis covering every due date and today, with two weeks of margin on both sides."""
    days = [*due_dates, today]
    margin = timedelta(days=14)
    return TimelineScale(start=min(days) - margin, end=max(days) + margin, width=width)


@dataclass(frozen=True)
class PhaseProgress:
    """One phase's milestones: done of total (cancelled ones do not count) and overdue."""

    phase: Phase
    total: int
    done: int
    overdue: int

    @property
    def percent(self) -> int:
        """Share done, rounded down to whole percent (0 without milestones)."""
        return (self.done * 100) // self.total if self.total else 0


def progress_by_phase(milestones: Iterable[MilestoneLike], now: datetime) -> list[PhaseProgress]:
    """Every phase in order with its done / total / overdue counts (the chart's numbers)."""
    counts = {phase: [0, 0, 0] for phase in Phase}
    for m in milestones:
        status = MilestoneStatus(m.status)
        if status is MilestoneStatus.ABGESAGT:
            continue
        row = counts[Phase(m.phase)]
        row[0] += 1
        row[1] += status is MilestoneStatus.ERLEDIGT
        row[2] += is_overdue(status, m.due_date, now)
    return [
        PhaseProgress(phase, total, done, late) for phase, (total, done, late) in counts.items()
    ]


@dataclass(frozen=True)
class PhaseBar:
    """A phase on the timeline: a bar from its first to its last due date (x and width in
    the scale's units; at least ``MIN_BAR`` wide so a single date still shows as a bar)."""

    phase: Phase
    first: date | None
    last: date | None
    count: int
    done: int
    overdue: int
    x: float
    width: float


MIN_BAR = 8.0


def phase_bars(milestones: Iterable[M], scale: TimelineScale, now: datetime) -> list[PhaseBar]:
    """Every phase in order with the span of its due dates on ``scale`` and its counts."""
    bars = []
    for phase, items in by_phase(milestones):
        dates = [m.due_date for m in items if m.due_date is not None]
        if not dates:
            bars.append(PhaseBar(phase, None, None, len(items), 0, 0, 0.0, 0.0))
            continue
        first, last = min(dates), max(dates)
        x, end = scale.x(first), scale.x(last)
        width = max(end - x, MIN_BAR)
        x = min(x, scale.width - width)
        bars.append(
            PhaseBar(
                phase,
                first,
                last,
                len(items),
                sum(1 for m in items if MilestoneStatus(m.status) is MilestoneStatus.ERLEDIGT),
                sum(1 for m in items if is_overdue(m.status, m.due_date, now)),
                round(max(x, 0.0), 1),
                round(width, 1),
            )
        )
    return bars
