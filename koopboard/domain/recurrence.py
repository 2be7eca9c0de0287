"""Due dates of a recurring cost: every n months on a day of the month, clamped to month-end.

Pure date arithmetic, no Flask, no database. A schedule is anchored on the first due
date on or after its start; the k-th due date is computed from that anchor's month, never
from the previous (possibly clamped) date, so day 31 falls on 31.01., 28.02. (29.02. in a
leap year), 31.03., 30.04. … and never drifts to the 28th.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date

from koopboard.domain.messages import Msg

MONTHS_PER_INTERVAL = frozenset({1, 3, 12})


class RecurrenceError(ValueError):
    """An impossible schedule (day outside 1–31, a step other than 1, 3 or 12 months)."""


def _check(months: int, day_of_month: int) -> None:
    if months not in MONTHS_PER_INTERVAL:
        raise RecurrenceError(Msg("Ungültiger Rhythmus: alle %(n)s Monate.", n=months))
    if not 1 <= day_of_month <= 31:
        raise RecurrenceError(Msg("Der Tag im Monat muss zwischen 1 und 31 liegen."))


def clamped(year: int, month: int, day_of_month: int) -> date:
    """``day_of_month`` in that month, or the month's last day if it is shorter."""
    return date(year, month, min(day_of_month, calendar.monthrange(year, month)[1]))


def shift_month(year: int, month: int, months: int) -> tuple[int, int]:
    """The (year, month) ``months`` after the given one."""
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def first_due(start: date, day_of_month: int) -> date:
    """The first due date on or after ``start`` (this month's or next month's)."""
    _check(1, day_of_month)
    due = clamped(start.year, start.month, day_of_month)
    if due >= start:
        return due
    year, month = shift_month(start.year, start.month, 1)
    return clamped(year, month, day_of_month)


def following(due: date, months: int, day_of_month: int) -> date:
    """The due date after ``due`` (itself a due date of the schedule): from its month, not day."""
    _check(months, day_of_month)
    year, month = shift_month(due.year, due.month, months)
    return clamped(year, month, day_of_month)


def due_dates(start: date, months: int, day_of_month: int) -> Iterator[date]:
    """Every due date from the first on or after ``start``, ``months`` apart (endless)."""
    _check(months, day_of_month)
    anchor = first_due(start, day_of_month)
    k = 0
    while True:
        year, month = shift_month(anchor.year, anchor.month, k * months)
        if year > 9999:
            return
        yield clamped(year, month, day_of_month)
        k += 1


def next_after(
    start: date, months: int, day_of_month: int, after: date | None, end: date | None = None
) -> date | None:
    """The first due date of the schedule later than ``after`` (None: the first at all).

    None when the schedule ends (``end``) before it."""
    for due in due_dates(start, months, day_of_month):
        if end is not None and due > end:
            return None
        if after is None or due > after:
            return due
    return None


def due_until(
    start: date, months: int, day_of_month: int, until: date, end: date | None = None
) -> list[date]:
    """All due dates up to and including ``until`` (and ``end`` if the schedule ends)."""
    last = until if end is None else min(until, end)
    dates = []
    for due in due_dates(start, months, day_of_month):
        if due > last:
            break
        dates.append(due)
    return dates
