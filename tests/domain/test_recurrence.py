"""Due dates of recurring costs: month-end clamping, no drift, no gaps, no doubles."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from itertools import islice

import pytest
from hypothesis import given
from hypothesis import strategies as st

from koopboard.domain.recurrence import (
    RecurrenceError,
    clamped,
    due_dates,
    due_until,
    first_due,
    following,
    next_after,
    shift_month,
)

starts = st.dates(min_value=date(1990, 1, 1), max_value=date(2190, 12, 31))
days = st.integers(min_value=1, max_value=31)
steps = st.sampled_from([1, 3, 12])


def take(n: int, start: date, months: int, day: int) -> list[date]:
    return list(islice(due_dates(start, months, day), n))


def test_monthly_on_the_31st_clamps_to_each_month_end() -> None:
    assert take(5, date(2026, 1, 31), 1, 31) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]


def test_leap_year_february_gets_the_29th() -> None:
    assert take(3, date(2028, 1, 31), 1, 31) == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
    ]
    assert take(2, date(2028, 1, 30), 1, 30) == [date(2028, 1, 30), date(2028, 2, 29)]


def test_quarterly_and_yearly() -> None:
    assert take(5, date(2026, 1, 15), 3, 15) == [
        date(2026, 1, 15),
        date(2026, 4, 15),
        date(2026, 7, 15),
        date(2026, 10, 15),
        date(2027, 1, 15),
    ]
    assert take(3, date(2027, 2, 28), 12, 29) == [
        date(2027, 2, 28),
        date(2028, 2, 29),
        date(2029, 2, 28),
    ]
    assert take(2, date(2026, 11, 30), 3, 31) == [date(2026, 11, 30), date(2027, 2, 28)]


def test_first_due_is_on_or_after_the_start() -> None:
    assert first_due(date(2026, 3, 1), 1) == date(2026, 3, 1)
    assert first_due(date(2026, 3, 2), 1) == date(2026, 4, 1)
    assert first_due(date(2026, 2, 10), 31) == date(2026, 2, 28)
    assert first_due(date(2026, 12, 20), 15) == date(2027, 1, 15)


def test_following_steps_from_the_month_not_the_clamped_day() -> None:
    assert following(date(2026, 2, 28), 1, 31) == date(2026, 3, 31)
    assert following(date(2026, 11, 30), 3, 31) == date(2027, 2, 28)
    assert following(date(2026, 12, 1), 1, 1) == date(2027, 1, 1)


def test_next_after_and_the_end() -> None:
    assert next_after(date(2026, 1, 31), 1, 31, None) == date(2026, 1, 31)
    assert next_after(date(2026, 1, 31), 1, 31, date(2026, 2, 28)) == date(2026, 3, 31)
    assert next_after(date(2026, 1, 31), 1, 31, date(2026, 3, 5)) == date(2026, 3, 31)
    assert next_after(date(2026, 1, 1), 1, 1, date(2026, 3, 1), end=date(2026, 3, 31)) is None
    yearly = (date(2026, 1, 10), 12, 5)
    assert next_after(*yearly, None, end=date(2026, 12, 31)) == date(2026, 2, 5)
    assert next_after(*yearly, date(2026, 2, 5), end=date(2026, 12, 31)) is None


def test_due_until_includes_the_day_and_stops_at_the_end() -> None:
    assert due_until(date(2026, 1, 31), 1, 31, date(2026, 3, 31)) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]
    assert due_until(date(2026, 1, 31), 1, 31, date(2026, 3, 30)) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
    ]
    assert due_until(date(2026, 1, 1), 1, 1, date(2026, 12, 31), end=date(2026, 2, 15)) == [
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    assert due_until(date(2026, 5, 1), 1, 1, date(2026, 4, 30)) == []


@pytest.mark.parametrize(("months", "day"), [(2, 1), (1, 0), (1, 32), (12, -1)])
def test_impossible_schedules_are_refused(months: int, day: int) -> None:
    with pytest.raises(RecurrenceError):
        next(due_dates(date(2026, 1, 1), months, day))


@given(starts, steps, days)
def test_due_dates_are_consecutive_periods_and_clamp(start: date, months: int, day: int) -> None:
    dates = take(30, start, months, day)
    assert dates[0] >= start
    assert dates[0] - start < timedelta(days=32)  # this month's or next month's
    for earlier, later in zip(dates, dates[1:], strict=False):
        assert later > earlier
        # exactly ``months`` months apart: none skipped, none twice
        assert shift_month(earlier.year, earlier.month, months) == (later.year, later.month)
    for due in dates:
        last = calendar.monthrange(due.year, due.month)[1]
        assert due.day == min(day, last)  # the day asked for, or the month's last day


@given(starts, steps, days, st.integers(min_value=0, max_value=2000))
def test_due_until_is_the_prefix_up_to_the_day(
    start: date, months: int, day: int, span: int
) -> None:
    until = start + timedelta(days=span)
    listed = due_until(start, months, day, until)
    assert all(start <= d <= until for d in listed)
    nxt = next_after(start, months, day, listed[-1] if listed else None)
    assert nxt is not None and nxt > until
    if listed:
        assert following(listed[-1], months, day) == nxt


@given(starts, steps, days)
def test_following_walks_the_same_schedule(start: date, months: int, day: int) -> None:
    dates = take(15, start, months, day)
    walked = [dates[0]]
    for _ in range(14):
        walked.append(following(walked[-1], months, day))
    assert walked == dates


@given(st.integers(min_value=1990, max_value=2200), st.integers(1, 12), days)
def test_clamped_never_leaves_the_month(year: int, month: int, day: int) -> None:
    due = clamped(year, month, day)
    assert (due.year, due.month) == (year, month)
    assert due.day <= day
