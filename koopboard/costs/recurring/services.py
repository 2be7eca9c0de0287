"""Recurring costs (rent, licences): the schedule and the drafts it books.

The Kämmerei sets up a cost that falls due monthly, quarterly or yearly on a day of the
month. Celery beat (``tasks.costs.book_recurring``) calls ``book_due`` with today's date in
Europe/Berlin; every due date up to today gets one draft (Entwurf) with the shares of the
year's key, exactly like a booking by hand, and then goes through the four-eyes approval.

Double booking is impossible three times over: ``SELECT … FOR UPDATE SKIP LOCKED`` lets only
one run handle a recurring cost at a time, the row is re-read with ``next_date <= today``
after the lock, and ``UNIQUE (recurring_id, booking_date)`` refuses a second draft for the
same due date. A due date that cannot be booked (budget year closed, no key for the year,
a key that misses a partner) stays ``next_date``: it is retried every run, logged, and
explained on the recurring page until someone fixes the cause.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from koopboard.costs import services
from koopboard.costs.books import services as books
from koopboard.costs.keys import services as keys
from koopboard.domain.messages import Msg
from koopboard.domain.money import Amount
from koopboard.domain.recurrence import following, next_after
from koopboard.extensions import db
from koopboard.history import acting_as
from koopboard.models import Cooperation, User
from koopboard.models.cost import Cost, CostKind, CostState, RecurringCost, RecurringInterval

log = logging.getLogger(__name__)

# The history names this actor for drafts booked by beat (no user is signed in there).
SYSTEM_ACTOR = "System (wiederkehrende Kosten)"
# Drafts per recurring cost and run: a schedule started long ago is caught up over a few
# runs instead of one long transaction.
MAX_CATCH_UP = 120


# --- the schedule ---------------------------------------------------------------------------


@dataclass
class RecurringData:
    """The recurring-cost form, parsed (amounts are Decimal with two places)."""

    text: str
    category: str
    amount: Decimal
    net_amount: Decimal | None
    vat_amount: Decimal | None
    paid_by_id: int | None
    interval: str
    start_date: date
    end_date: date | None
    day_of_month: int | None = None


def recurring_of(cooperation_id: int) -> list[RecurringCost]:
    """The cooperation's recurring costs: running ones first, then by text."""
    return list(
        db.session.scalars(
            select(RecurringCost)
            .where(RecurringCost.cooperation_id == cooperation_id)
            .order_by(RecurringCost.active.desc(), RecurringCost.text, RecurringCost.id)
        )
    )


def get_recurring(cooperation_id: int, recurring_id: int) -> RecurringCost | None:
    """The recurring cost if it belongs to the cooperation."""
    rc = db.session.get(RecurringCost, recurring_id)
    if rc is None or rc.cooperation_id != cooperation_id:
        return None
    return rc


def drafts_booked(cooperation_id: int) -> dict[int, int]:
    """How many costs each recurring cost has booked so far."""
    rows = db.session.execute(
        select(Cost.recurring_id, func.count(Cost.id))
        .where(Cost.cooperation_id == cooperation_id, Cost.recurring_id.is_not(None))
        .group_by(Cost.recurring_id)
    )
    return dict(rows.all())


def _last_booked(recurring_id: int) -> date | None:
    return db.session.scalar(
        select(func.max(Cost.booking_date)).where(Cost.recurring_id == recurring_id)
    )


def _interval(value: str) -> RecurringInterval:
    try:
        return RecurringInterval(value)
    except ValueError as exc:
        raise services.CostError(
            Msg("Bitte wählen Sie monatlich, vierteljährlich oder jährlich."), "interval"
        ) from exc


def _check(cooperation: Cooperation, data: RecurringData) -> tuple[RecurringInterval, int, int]:
    """The rules of the form; returns interval, day of month and the paying partner."""
    interval = _interval(data.interval)
    if data.amount <= 0:
        raise services.CostError(
            Msg("Wiederkehrende Kosten sind positiv: Bitte einen Betrag größer als 0 angeben."),
            "amount",
        )
    if data.net_amount is not None and data.vat_amount is not None:
        if data.net_amount + data.vat_amount != data.amount:
            raise services.CostError(
                Msg(
                    "Netto (%(net)s) und Umsatzsteuer (%(vat)s) ergeben nicht den Betrag "
                    "%(amount)s.",
                    net=Amount(data.net_amount),
                    vat=Amount(data.vat_amount),
                    amount=Amount(data.amount),
                ),
                "vat_amount",
            )
    for name, value in (("start_date", data.start_date), ("end_date", data.end_date)):
        if value is not None and not 1990 <= value.year <= 2200:
            raise services.CostError(Msg("Bitte ein Datum zwischen 1990 und 2200 angeben."), name)
    if data.end_date is not None and data.end_date < data.start_date:
        raise services.CostError(Msg("Das Ende darf nicht vor dem Beginn liegen."), "end_date")
    day = data.day_of_month if data.day_of_month is not None else data.start_date.day
    if not 1 <= day <= 31:
        raise services.CostError(Msg("Bitte einen Tag zwischen 1 und 31 angeben."), "day_of_month")
    paid_by = books.check_paid_by(cooperation, data.paid_by_id)
    return interval, day, paid_by


def _schedule(rc: RecurringCost, after: date | None) -> date | None:
    """The first due date of ``rc``'s schedule after ``after`` (None once it has ended)."""
    return next_after(rc.start_date, rc.interval.months, rc.day_of_month, after, rc.end_date)


def _apply(rc: RecurringCost, data: RecurringData, interval: RecurringInterval, day: int) -> None:
    rc.text = data.text.strip()
    rc.category = (data.category or "").strip()
    rc.amount = data.amount
    rc.net_amount = data.net_amount
    rc.vat_amount = data.vat_amount
    rc.interval = interval
    rc.start_date = data.start_date
    rc.end_date = data.end_date
    rc.day_of_month = day


def _check_next_open(rc: RecurringCost) -> None:
    """A first due date in a closed year could never be booked: say so now."""
    if rc.next_date is not None and services.is_closed(rc.cooperation_id, rc.next_date.year):
        raise services.CostError(
            Msg(
                "Die erste Fälligkeit %(day)s liegt im abgeschlossenen Haushaltsjahr %(year)s. "
                "Bitte einen späteren Beginn wählen.",
                day=rc.next_date,
                year=rc.next_date.year,
            ),
            "start_date",
        )


def create_recurring(cooperation: Cooperation, data: RecurringData, by: User) -> RecurringCost:
    """Set up a recurring cost (Kämmerei); its first draft comes with the next beat run."""
    interval, day, paid_by = _check(cooperation, data)
    rc = RecurringCost(
        cooperation_id=cooperation.id, created_by_id=by.id, amount_set_by_id=by.id, active=True
    )
    _apply(rc, data, interval, day)
    rc.paid_by_id = paid_by
    rc.next_date = _schedule(rc, None)
    _check_next_open(rc)
    db.session.add(rc)
    db.session.flush()
    return rc


def update_recurring(
    cooperation: Cooperation,
    rc: RecurringCost,
    data: RecurringData,
    *,
    version: int | None,
    by: User,
) -> None:
    """Change a running recurring cost; drafts already booked stay as they are."""
    services.check_version(rc, version)
    if not rc.active:
        raise services.CostError(
            Msg("Beendete wiederkehrende Kosten lassen sich nicht mehr bearbeiten."), None
        )
    interval, day, paid_by = _check(cooperation, data)
    priced = (rc.amount, rc.paid_by_id)
    _apply(rc, data, interval, day)
    rc.paid_by_id = paid_by
    if priced != (rc.amount, rc.paid_by_id):  # kept from approving the drafts to come
        rc.amount_set_by_id = by.id
    # The new schedule continues after the last draft: no due date is booked twice.
    rc.next_date = _schedule(rc, _last_booked(rc.id))
    _check_next_open(rc)
    db.session.flush()  # the version_id_col makes a concurrent UPDATE fail here


def deactivate(rc: RecurringCost, *, version: int | None, by: User) -> None:
    """End a recurring cost: no further drafts; those already booked stay."""
    services.check_version(rc, version)
    if not rc.active:
        raise services.CostError(Msg("Diese wiederkehrenden Kosten sind bereits beendet."), None)
    rc.active = False
    db.session.flush()


# --- booking the drafts ----------------------------------------------------------------------


@dataclass
class BookingRun:
    """What one run of ``book_due`` did."""

    booked: int = 0
    skipped: list[str] = field(default_factory=list)
    failed: int = 0


@dataclass(frozen=True)
class _Split:
    key_id: int
    description: str
    paid_by_id: int
    shares: list


def _prepare(cooperation: Cooperation, rc: RecurringCost, due: date) -> _Split | str:
    """The draft's key and shares for ``due``, or the German reason it cannot be booked."""
    year = due.year
    prefix = Msg("Entwurf für %(day)s nicht angelegt", day=due)
    if services.is_closed(cooperation.id, year):
        return Msg("%(prefix)s: Haushaltsjahr %(year)s ist abgeschlossen", prefix=prefix, year=year)
    key = keys.key_for(cooperation.id, year)
    if key is None:
        return Msg("%(prefix)s: kein Verteilungsschlüssel %(year)s", prefix=prefix, year=year)
    try:
        paid_by = books.check_paid_by(cooperation, rc.paid_by_id)
        used, description, shares = books.split_shares(cooperation, rc.amount, due, year)
    except services.CostError as exc:
        return Msg("%(prefix)s: %(reason)s", prefix=prefix, reason=exc.args[0])
    return _Split(used.id if used else key.id, description, paid_by, shares)


def pending_note(cooperation: Cooperation, rc: RecurringCost, today: date) -> str | None:
    """Why a due date is still without a draft (shown on the recurring page), if it is."""
    if not rc.active or rc.next_date is None or rc.next_date > today:
        return None
    prepared = _prepare(cooperation, rc, rc.next_date)
    if isinstance(prepared, str):
        return prepared
    return Msg("Entwurf für %(day)s wird beim nächsten stündlichen Lauf angelegt", day=rc.next_date)


def _draft(rc: RecurringCost, due: date, split: _Split) -> Cost:
    cost = Cost(
        cooperation_id=rc.cooperation_id,
        budget_year=due.year,
        booking_date=due,
        text=rc.text,
        category=rc.category,
        kind=CostKind.KOSTEN,
        amount=rc.amount,
        net_amount=rc.net_amount,
        vat_amount=rc.vat_amount,
        paid_by_id=split.paid_by_id,
        key_id=split.key_id,
        key_description=split.description[:500],
        state=CostState.ENTWURF,
        recurring_id=rc.id,
        created_by_id=None,  # booked by the system; the template's author may not approve it
        amount_set_by_id=rc.amount_set_by_id or rc.created_by_id,
    )
    db.session.add(cost)
    db.session.flush()
    books.write_shares(cost, split.shares)
    db.session.flush()
    return cost


def _book_one(recurring_id: int, today: date, run: BookingRun) -> None:
    """Book every due date of one recurring cost up to today (one transaction, not committed)."""
    rc = db.session.scalar(
        select(RecurringCost)
        .where(
            RecurringCost.id == recurring_id,
            RecurringCost.active.is_(True),
            RecurringCost.next_date <= today,
        )
        # Another run holds the row: it books these dates, this one moves on.
        .with_for_update(skip_locked=True, of=RecurringCost)
        .execution_options(populate_existing=True)
    )
    if rc is None:
        return
    cooperation = db.session.get(Cooperation, rc.cooperation_id)
    months, day = rc.interval.months, rc.day_of_month
    booked = 0
    while rc.next_date is not None and rc.next_date <= today and booked < MAX_CATCH_UP:
        due = rc.next_date
        if rc.end_date is not None and due > rc.end_date:
            rc.next_date = None
            break
        exists = db.session.scalar(
            select(Cost.id).where(Cost.recurring_id == rc.id, Cost.booking_date == due)
        )
        if exists is None:
            prepared = _prepare(cooperation, rc, due)
            if isinstance(prepared, str):
                log.warning("Wiederkehrende Kosten %s („%s“): %s", rc.id, rc.text, prepared)
                run.skipped.append(f"{rc.text}: {prepared}")
                break
            _draft(rc, due, prepared)
            booked += 1
        following_due = following(due, months, day)
        rc.next_date = (
            None if rc.end_date is not None and following_due > rc.end_date else following_due
        )
    db.session.flush()
    run.booked += booked


def book_due(today: date) -> BookingRun:
    """Book the drafts of every active recurring cost due up to ``today`` (Europe/Berlin).

    Each recurring cost is its own transaction (committed here, as the beat task's unit of
    work): one that fails is rolled back and logged, the others are booked regardless."""
    ids = list(
        db.session.scalars(
            select(RecurringCost.id)
            .where(RecurringCost.active.is_(True), RecurringCost.next_date <= today)
            .order_by(RecurringCost.id)
        )
    )
    db.session.commit()
    run = BookingRun()
    for recurring_id in ids:
        try:
            with acting_as(SYSTEM_ACTOR):
                _book_one(recurring_id, today, run)
                db.session.commit()
        except Exception:
            db.session.rollback()
            run.failed += 1
            log.exception("Wiederkehrende Kosten %s: Entwürfe nicht angelegt", recurring_id)
    if run.booked or run.skipped or run.failed:
        log.info(
            "Wiederkehrende Kosten: %s Entwürfe angelegt, %s übersprungen, %s fehlgeschlagen",
            run.booked,
            len(run.skipped),
            run.failed,
        )
    return run
