"""The milestone rules: overdue in Europe/Berlin (also across DST switches), completion, summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from koopboard.domain.milestones import (
    BERLIN,
    MEMBER_STATUSES,
    MilestoneStatus,
    Phase,
    TimelineScale,
    berlin_today,
    by_phase,
    completion_date,
    is_overdue,
    split_upcoming,
    statuses_for,
    summarize,
    timeline_scale,
)

S = MilestoneStatus


def berlin(*args: int) -> datetime:
    """An aware instant given as Berlin wall-clock time."""
    return datetime(*args, tzinfo=BERLIN)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass
class M:
    id: int
    due_date: date | None
    status: MilestoneStatus = S.GEPLANT
    phase: Phase = Phase.PLANUNG
    title: str = "Meilenstein"


# --- the overdue rule -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.GEPLANT, S.IN_ARBEIT, S.GEFAEHRDET])
def test_open_milestone_is_overdue_the_day_after_its_due_date(status: MilestoneStatus) -> None:
    now = berlin(2026, 6, 10, 12, 0)
    assert is_overdue(status, date(2026, 6, 9), now)
    assert not is_overdue(status, date(2026, 6, 10), now)  # due today: not yet overdue
    assert not is_overdue(status, date(2026, 6, 11), now)


@pytest.mark.parametrize("status", [S.ERLEDIGT, S.ABGESAGT])
def test_done_or_cancelled_is_never_overdue(status: MilestoneStatus) -> None:
    assert not is_overdue(status, date(2020, 1, 1), berlin(2026, 6, 10, 12, 0))


def test_status_may_be_given_as_stored_key() -> None:
    assert is_overdue("in_arbeit", date(2026, 1, 1), berlin(2026, 1, 2, 0, 0))
    assert not is_overdue("erledigt", date(2026, 1, 1), berlin(2026, 1, 2, 0, 0))


def test_without_due_date_nothing_is_overdue() -> None:
    assert not is_overdue(S.GEPLANT, None, berlin(2026, 1, 2, 0, 0))


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError):
        is_overdue(S.GEPLANT, date(2026, 1, 1), datetime(2026, 1, 2, 12, 0))


# Summer time 2026 begins on 29 March (02:00 CET → 03:00 CEST, UTC+1 → UTC+2) and ends on
# 25 October (03:00 CEST → 02:00 CET). "Today" flips at Berlin midnight, which is 23:00 UTC
# in winter and 22:00 UTC in summer; the UTC date would be wrong for an hour or two.
DST_CASES = [
    # (due date, instant, overdue?)
    # the night into the spring switch day (still CET, UTC+1)
    (date(2026, 3, 28), utc(2026, 3, 28, 22, 59, 59), False),  # 23:59:59 Berlin on the 28th
    (date(2026, 3, 28), utc(2026, 3, 28, 23, 0, 0), True),  # 00:00 Berlin on the 29th
    # the switch day itself is 23 hours long; its midnight end is already CEST (UTC+2)
    (date(2026, 3, 29), utc(2026, 3, 29, 0, 59, 59), False),  # 01:59:59 CET
    (date(2026, 3, 29), utc(2026, 3, 29, 1, 0, 0), False),  # 03:00 CEST, same day
    (date(2026, 3, 29), utc(2026, 3, 29, 21, 59, 59), False),  # 23:59:59 CEST
    (date(2026, 3, 29), utc(2026, 3, 29, 22, 0, 0), True),  # 00:00 on the 30th
    (date(2026, 3, 29), utc(2026, 3, 29, 22, 30, 0), True),  # UTC still says the 29th
    # the night into the autumn switch day (still CEST, UTC+2)
    (date(2026, 10, 24), utc(2026, 10, 24, 21, 59, 59), False),
    (date(2026, 10, 24), utc(2026, 10, 24, 22, 0, 0), True),
    # the autumn switch day is 25 hours long: 02:00-03:00 happens twice
    (date(2026, 10, 25), utc(2026, 10, 25, 0, 30, 0), False),  # 02:30 CEST (first)
    (date(2026, 10, 25), utc(2026, 10, 25, 1, 30, 0), False),  # 02:30 CET (second)
    (date(2026, 10, 25), utc(2026, 10, 25, 22, 59, 59), False),  # 23:59:59 CET
    (date(2026, 10, 25), utc(2026, 10, 25, 23, 0, 0), True),  # 00:00 on the 26th
]


@pytest.mark.parametrize(("due", "now", "overdue"), DST_CASES)
def test_overdue_flips_at_berlin_midnight_around_dst_switches(
    due: date, now: datetime, overdue: bool
) -> None:
    assert is_overdue(S.IN_ARBEIT, due, now) is overdue


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        (berlin(2026, 3, 28, 23, 59, 59), date(2026, 3, 28)),
        (berlin(2026, 3, 29, 0, 0, 0), date(2026, 3, 29)),
        (berlin(2026, 3, 29, 23, 59, 59), date(2026, 3, 29)),
        (berlin(2026, 3, 30, 0, 0, 0), date(2026, 3, 30)),
        (berlin(2026, 10, 25, 0, 0, 0), date(2026, 10, 25)),
        (berlin(2026, 10, 25, 23, 59, 59), date(2026, 10, 25)),
        (berlin(2026, 10, 26, 0, 0, 0), date(2026, 10, 26)),
    ],
)
def test_berlin_today_on_wall_clock_times_around_dst(wall: datetime, expected: date) -> None:
    assert berlin_today(wall) == expected


def test_the_servers_zone_does_not_matter() -> None:
    # 19:30 in New York on 29 March is 01:30 on the 30th in Berlin.
    new_york = datetime(2026, 3, 29, 19, 30, tzinfo=ZoneInfo("America/New_York"))
    assert berlin_today(new_york) == date(2026, 3, 30)
    assert is_overdue(S.GEPLANT, date(2026, 3, 29), new_york)


@given(
    due=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 30)),
    status=st.sampled_from([S.GEPLANT, S.IN_ARBEIT, S.GEFAEHRDET]),
)
def test_overdue_begins_exactly_at_the_next_berlin_midnight(
    due: date, status: MilestoneStatus
) -> None:
    midnight = datetime.combine(due + timedelta(days=1), time(0, 0), tzinfo=BERLIN)
    assert not is_overdue(status, due, midnight - timedelta(microseconds=1))
    assert is_overdue(status, due, midnight)
    assert is_overdue(status, due, midnight.astimezone(UTC))


# --- completion date and who may choose which status ------------------------------------------


def test_completion_date_is_set_when_done() -> None:
    assert completion_date(S.IN_ARBEIT, S.ERLEDIGT, None, date(2026, 5, 1)) == date(2026, 5, 1)


def test_completion_date_is_kept_while_done() -> None:
    assert completion_date(S.ERLEDIGT, S.ERLEDIGT, date(2026, 4, 1), date(2026, 5, 1)) == date(
        2026, 4, 1
    )


@pytest.mark.parametrize("new", [S.GEPLANT, S.IN_ARBEIT, S.GEFAEHRDET, S.ABGESAGT])
def test_completion_date_is_cleared_when_reopened(new: MilestoneStatus) -> None:
    assert completion_date(S.ERLEDIGT, new, date(2026, 4, 1), date(2026, 5, 1)) is None


def test_lead_may_choose_every_status_member_not_cancel() -> None:
    assert statuses_for(True, S.GEPLANT) == tuple(MilestoneStatus)
    assert statuses_for(False, S.GEPLANT) == MEMBER_STATUSES
    assert S.ABGESAGT not in statuses_for(False, S.ERLEDIGT)
    assert statuses_for(False, S.ABGESAGT) == ()  # only the lead reopens a cancelled one
    assert statuses_for(True, S.ABGESAGT) == tuple(MilestoneStatus)


def test_labels_are_german() -> None:
    assert [p.label for p in Phase] == ["Initiierung", "Planung", "Umsetzung", "Abschluss"]
    assert [s.label for s in MilestoneStatus] == [
        "geplant",
        "in Arbeit",
        "erledigt",
        "gefährdet",
        "abgesagt",
    ]


# --- summary, dashboard, grouping, timeline ---------------------------------------------------

NOW = berlin(2026, 6, 10, 9, 0)


def test_summary_counts_done_of_total_without_cancelled() -> None:
    items = [
        M(1, date(2026, 1, 1), S.ERLEDIGT),
        M(2, date(2026, 5, 1), S.IN_ARBEIT),  # overdue
        M(3, date(2026, 6, 9), S.GEFAEHRDET),  # overdue (yesterday)
        M(4, date(2026, 6, 10), S.GEPLANT),  # due today: next
        M(5, date(2026, 7, 1), S.GEPLANT),
        M(6, date(2026, 6, 1), S.ABGESAGT),
    ]
    summary = summarize(items, NOW)
    assert (summary.total, summary.done, summary.cancelled, summary.overdue) == (5, 1, 1, 2)
    assert summary.next_due is items[3]
    assert summary.percent == 20


def test_summary_of_nothing() -> None:
    summary = summarize([], NOW)
    assert (summary.total, summary.done, summary.overdue, summary.next_due) == (0, 0, 0, None)
    assert summary.percent == 0


def test_next_due_ties_break_by_id() -> None:
    items = [M(9, date(2026, 7, 1)), M(3, date(2026, 7, 1))]
    assert summarize(items, NOW).next_due.id == 3


def test_dashboard_lists_overdue_first_then_the_next_30_days() -> None:
    items = [
        M(1, date(2026, 6, 20)),
        M(2, date(2026, 6, 1)),
        M(3, date(2026, 5, 1)),
        M(4, date(2026, 7, 10)),  # today + 30: still in
        M(5, date(2026, 7, 11)),  # today + 31: out
        M(6, date(2026, 6, 1), S.ERLEDIGT),
        M(7, date(2026, 6, 1), S.ABGESAGT),
        M(8, date(2026, 6, 10)),  # today
    ]
    overdue, soon = split_upcoming(items, NOW)
    assert [m.id for m in overdue] == [3, 2]
    assert [m.id for m in soon] == [8, 1, 4]


def test_grouped_by_phase_in_phase_order_sorted_by_due_date() -> None:
    items = [
        M(1, date(2026, 3, 1), phase=Phase.UMSETZUNG),
        M(2, date(2026, 1, 1), phase=Phase.UMSETZUNG),
        M(3, date(2026, 9, 1), phase=Phase.INITIIERUNG),
    ]
    groups = by_phase(items)
    assert [phase for phase, _items in groups] == list(Phase)
    assert [[m.id for m in ms] for _phase, ms in groups] == [[3], [], [2, 1], []]


def test_timeline_scale_covers_dates_and_today() -> None:
    scale = timeline_scale([date(2026, 3, 1), date(2026, 9, 1)], date(2026, 12, 1))
    assert scale.start == date(2026, 2, 15)
    assert scale.end == date(2026, 12, 15)
    assert scale.x(scale.start) == 0.0
    assert scale.x(scale.end) == 1000.0
    assert 0 < scale.x(date(2026, 9, 1)) < scale.x(date(2026, 12, 1)) < 1000
    assert scale.x(date(2030, 1, 1)) == 1000.0  # clamped


def test_month_ticks_monthly_then_quarterly() -> None:
    short = TimelineScale(date(2026, 1, 15), date(2026, 4, 15))
    assert short.month_ticks() == [date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    long = TimelineScale(date(2026, 1, 1), date(2029, 1, 1))
    ticks = long.month_ticks()
    assert ticks[0] == date(2026, 1, 1) and ticks[1] == date(2026, 4, 1)
    assert all(t.month in (1, 4, 7, 10) for t in ticks)


def test_timeline_of_a_single_day_does_not_divide_by_zero() -> None:
    scale = TimelineScale(date(2026, 1, 1), date(2026, 1, 1))
    assert scale.x(date(2026, 1, 1)) == 0.0


def test_progress_by_phase_counts_done_of_total_without_cancelled() -> None:
    from koopboard.domain.milestones import progress_by_phase

    now = datetime(2026, 3, 26, 23, 30, tzinfo=UTC)  # 27 March in Berlin

    @dataclass
    class M:
        id: int
        status: MilestoneStatus
        due_date: date
        phase: Phase

    rows = [
        M(1, MilestoneStatus.ERLEDIGT, date(2026, 1, 1), Phase.PLANUNG),
        M(2, MilestoneStatus.GEPLANT, date(2026, 3, 26), Phase.PLANUNG),  # overdue in Berlin
        M(3, MilestoneStatus.ABGESAGT, date(2026, 1, 1), Phase.PLANUNG),
        M(4, MilestoneStatus.IN_ARBEIT, date(2026, 3, 27), Phase.UMSETZUNG),
    ]
    progress = {p.phase: p for p in progress_by_phase(rows, now)}
    assert list(progress) == list(Phase)
    assert (progress[Phase.PLANUNG].done, progress[Phase.PLANUNG].total) == (1, 2)
    assert progress[Phase.PLANUNG].overdue == 1 and progress[Phase.PLANUNG].percent == 50
    assert (progress[Phase.UMSETZUNG].total, progress[Phase.UMSETZUNG].overdue) == (1, 0)
    assert progress[Phase.ABSCHLUSS].total == 0 and progress[Phase.ABSCHLUSS].percent == 0


def test_phase_bars_span_first_to_last_due_date() -> None:
    from koopboard.domain.milestones import MIN_BAR, TimelineScale, phase_bars

    now = datetime(2026, 3, 26, 23, 30, tzinfo=UTC)  # 27 March in Berlin

    @dataclass
    class M:
        id: int
        status: MilestoneStatus
        due_date: date
        phase: Phase

    scale = TimelineScale(start=date(2026, 1, 1), end=date(2026, 12, 31), width=900)
    rows = [
        M(1, MilestoneStatus.ERLEDIGT, date(2026, 2, 1), Phase.PLANUNG),
        M(2, MilestoneStatus.GEPLANT, date(2026, 3, 26), Phase.PLANUNG),
        M(3, MilestoneStatus.GEPLANT, date(2026, 12, 31), Phase.ABSCHLUSS),
    ]
    bars = {b.phase: b for b in phase_bars(rows, scale, now)}
    planung = bars[Phase.PLANUNG]
    assert (planung.first, planung.last, planung.count) == (date(2026, 2, 1), date(2026, 3, 26), 2)
    assert (planung.done, planung.overdue) == (1, 1)
    assert planung.x == scale.x(date(2026, 2, 1))
    assert planung.width == round(scale.x(date(2026, 3, 26)) - scale.x(date(2026, 2, 1)), 1)
    # A single date at the axis' end still shows as a bar, kept inside the axis.
    abschluss = bars[Phase.ABSCHLUSS]
    assert abschluss.width == MIN_BAR and abschluss.x + abschluss.width <= 900
    assert bars[Phase.INITIIERUNG].first is None and bars[Phase.INITIIERUNG].count == 0
