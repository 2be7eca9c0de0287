"""A partner's statement (Abrechnung) of one budget year: the approved cost lines with the
partner's share, the payments seen from the partner, the balance and how the key splits.

The page, the PDF (``pdf``) and the CSV/XLSX exports (``exports``) all show these numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext
from sqlalchemy import select

from koopboard.costs import services as shared
from koopboard.costs.books.services import PartnerBalance, balance_for, payments_of
from koopboard.costs.keys.services import key_for, key_weighting
from koopboard.domain.allocation import AllocationError
from koopboard.domain.keys import SharingKeyError
from koopboard.domain.milestones import BERLIN
from koopboard.extensions import db
from koopboard.models import Cooperation
from koopboard.models.cost import Cost, CostShare, CostState, Payment


@dataclass(frozen=True)
class StatementLine:
    """One approved cost in a partner's statement."""

    booking_date: date
    text: str
    category: str
    kind: str
    amount: Decimal
    share: Decimal


def statement_lines(cooperation_id: int, year: int, municipality_id: int) -> list[StatementLine]:
    """The partner's shares of the year's approved costs (one query)."""
    rows = db.session.execute(
        select(
            Cost.booking_date, Cost.text, Cost.category, Cost.kind, Cost.amount, CostShare.amount
        )
        .join(CostShare, CostShare.cost_id == Cost.id)
        .where(
            Cost.cooperation_id == cooperation_id,
            Cost.budget_year == year,
            Cost.state == CostState.FREIGEGEBEN,
            CostShare.municipality_id == municipality_id,
        )
        .order_by(Cost.booking_date, Cost.id)
    )
    return [StatementLine(d, t, c, k.label, a, s) for d, t, c, k, a, s in rows]


def payment_rows(balance: PartnerBalance, payments: Sequence[Payment]) -> list[tuple]:
    """Payments as (date, text, amount) seen from the partner: paid positive, received negative."""
    rows = []
    for p in payments:
        if p.municipality_id == balance.municipality.id:
            other = p.recipient.name if p.recipient else ""
            text = gettext("%(kind)s an %(other)s", kind=gettext(p.kind.label), other=other)
            rows.append((p.paid_on, f"{text} {p.note or ''}".strip(), p.amount))
        else:
            text = gettext(
                "%(kind)s von %(other)s", kind=gettext(p.kind.label), other=p.municipality.name
            )
            rows.append((p.paid_on, text, -p.amount))
    return rows


def payments_for(cooperation_id: int, year: int, municipality_id: int) -> list[Payment]:
    """The year's payments the partner made or received, newest first."""
    return [
        p
        for p in payments_of(cooperation_id, year)
        if municipality_id in (p.municipality_id, p.recipient_id)
    ]


@dataclass(frozen=True)
class Statement:
    """Everything a statement shows, loaded once for the page and the PDF."""

    cooperation: Cooperation
    year: int
    balance: PartnerBalance
    lines: list[StatementLine]
    payments: list[tuple[date, str, Decimal]]  # seen from the partner: received negative
    key_description: str
    created_at: datetime  # Europe/Berlin

    @property
    def line_total(self) -> Decimal:
        """The sum of the lines' amounts (the cooperation's approved costs)."""
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def share_total(self) -> Decimal:
        """The sum of the partner's shares; equals ``balance.shares``."""
        return sum((line.share for line in self.lines), Decimal("0.00"))

    @property
    def totals(self) -> list[tuple[str, Decimal]]:
        """The balance in the order and words of the CSV/XLSX export."""
        b = self.balance
        return [
            ("Summe Anteile", b.shares),
            ("Vorleistungen", b.outlays),
            ("Gezahlt", b.paid),
            ("Erhalten", b.received),
            ("Noch offen", b.open),
        ]


def key_description(cooperation_id: int, year: int) -> str:
    """How the year's key splits, in words (or why it cannot)."""
    key = key_for(cooperation_id, year)
    if key is None:
        return "Für das Haushaltsjahr ist kein Schlüssel hinterlegt: gleiche Teile."
    try:
        return key_weighting(key).description
    except (SharingKeyError, AllocationError) as exc:
        return exc.message


def load_statement(cooperation: Cooperation, year: int, municipality_id: int) -> Statement | None:
    """The partner's statement of the year; None for a municipality that is no partner."""
    balance = balance_for(cooperation.id, year, municipality_id)
    if balance is None:
        return None
    return Statement(
        cooperation=cooperation,
        year=year,
        balance=balance,
        lines=statement_lines(cooperation.id, year, municipality_id),
        payments=payment_rows(balance, payments_for(cooperation.id, year, municipality_id)),
        key_description=key_description(cooperation.id, year),
        created_at=shared.now().astimezone(BERLIN),
    )
