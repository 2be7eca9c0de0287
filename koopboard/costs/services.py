"""What every feature of the costs area shares: who may do what, the error types, the
partners of a cooperation, open and closed budget years, the last change of a record, now.

Each feature (``keys``, ``books``, ``receipts``, ``recurring``, ``budget``, ``statements``)
keeps its own rules in its ``services.py`` and builds on these. The view owns the commit.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from koopboard.domain.catalog import Role
from koopboard.domain.messages import Msg
from koopboard.extensions import db
from koopboard.models import CooperationPartner, HistoryEntry, Municipality
from koopboard.models.cost import YearClosing
from koopboard.models.types import utcnow

# Who may do what: booking, payments and year closing are the Kämmerei's; approving and
# rejecting also the lead's where the cooperation allows it (``may_decide``); the key and
# the Planansatz are kept by Kämmerei and Projektleitung. Every role reads.
BOOKERS = (Role.TREASURER,)
DECIDERS = (Role.TREASURER, Role.LEAD)
KEY_EDITORS = (Role.TREASURER, Role.LEAD)


class CostError(ValueError):
    """A rule was broken; ``field`` names the form field the German message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StaleVersion(Exception):  # noqa: N818 (reads as a state, like StaleDataError)
    """The record changed since the form was loaded (optimistic locking)."""


def check_version(record: Any, version: int | None) -> None:
    if version is None or version != record.version:
        raise StaleVersion()


# --- reading ------------------------------------------------------------------------------


def partners_of(cooperation_id: int) -> list[CooperationPartner]:
    """All partner rows (also those who left) with their municipality, by name."""
    return list(
        db.session.scalars(
            select(CooperationPartner)
            .join(Municipality, Municipality.id == CooperationPartner.municipality_id)
            .where(CooperationPartner.cooperation_id == cooperation_id)
            .order_by(Municipality.name)
        )
    )


def partners_in_year(cooperation_id: int, year: int) -> list[CooperationPartner]:
    """Partners active on at least one day of the budget year."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    return [
        p
        for p in partners_of(cooperation_id)
        if p.joined_on <= last and (p.left_on is None or p.left_on > first)
    ]


def is_closed(cooperation_id: int, year: int) -> bool:
    """Whether the budget year is closed."""
    return (
        db.session.scalar(
            select(YearClosing.id).where(
                YearClosing.cooperation_id == cooperation_id, YearClosing.budget_year == year
            )
        )
        is not None
    )


def first_open_year(cooperation_id: int, from_year: int) -> int:
    """The first budget year from ``from_year`` on that is not closed (one query)."""
    closed = set(
        db.session.scalars(
            select(YearClosing.budget_year).where(
                YearClosing.cooperation_id == cooperation_id, YearClosing.budget_year >= from_year
            )
        )
    )
    year = from_year
    while year in closed:
        year += 1
    return year


def check_open(cooperation_id: int, year: int, field: str | None = "budget_year") -> None:
    """Refuse changes in a closed budget year."""
    if is_closed(cooperation_id, year):
        raise CostError(
            Msg(
                "Das Haushaltsjahr %(year)s ist abgeschlossen und kann nicht mehr geändert "
                "werden. Korrekturen bitte als neue Buchung in einem offenen Jahr erfassen.",
                year=year,
            ),
            field,
        )


def last_change(record_type: str, record_id: int) -> HistoryEntry | None:
    """Who changed the record last, and when."""
    return db.session.scalar(
        select(HistoryEntry)
        .where(HistoryEntry.record_type == record_type, HistoryEntry.record_id == record_id)
        .order_by(HistoryEntry.id.desc())
        .limit(1)
    )


def now() -> datetime:
    """The current time (one place, for tests)."""
    return utcnow()


def partner_label(municipality: Municipality) -> str:
    """How a text names a partner: "Illingen (AGS 10043112)" (the key's tie-break is by AGS)."""
    return f"{municipality.name} (AGS {municipality.ags})"
