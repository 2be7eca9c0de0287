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
from koopboard.costs.books.services import PartnerBalance, balance_for, balances_of, payments_of
from koopboard.costs.keys.services import key_for, key_weighting
from koopboard.costs.services import BOOKERS
from koopboard.domain.allocation import AllocationError
from koopboard.domain.catalog import N_, Role
from koopboard.domain.keys import SharingKeyError
from koopboard.domain.milestones import BERLIN
from koopboard.domain.money import format_eur
from koopboard.extensions import db
from koopboard.models import Cooperation, Municipality, User
from koopboard.models.cost import Cost, CostShare, CostState, Payment, StatementTerms


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


def terms_for(cooperation_id: int, year: int) -> StatementTerms | None:
    """Due date and Kassenzeichen of the year's statements, if the Kämmerei set them."""
    return db.session.scalar(
        select(StatementTerms).where(
            StatementTerms.cooperation_id == cooperation_id, StatementTerms.budget_year == year
        )
    )


def paying_office(cooperation: Cooperation) -> Municipality:
    """Who sends the statements and receives the payments: the lead municipality."""
    return db.session.get(Municipality, cooperation.lead_municipality_id)


def may_edit_letterhead(user: User, cooperation: Cooperation, role: Role | None) -> bool:
    """The paying municipality's own Kämmerei (or the platform admin) keeps its letterhead."""
    if getattr(user, "is_admin", False):
        return True
    return role in BOOKERS and user.municipality_id == cooperation.lead_municipality_id


@dataclass
class LetterheadData:
    """The letterhead form's values."""

    letter_address: str = ""
    letter_contact: str = ""
    iban: str = ""
    bic: str = ""
    bank_name: str = ""


def save_letterhead(office: Municipality, data: LetterheadData) -> None:
    """Store the letterhead on the municipality (every cooperation it leads uses it)."""
    office.letter_address = data.letter_address.strip()[:500]
    office.letter_contact = data.letter_contact.strip()[:300]
    office.iban = data.iban
    office.bic = data.bic.strip().upper()
    office.bank_name = data.bank_name.strip()[:200]
    db.session.flush()


def save_terms(
    cooperation: Cooperation, year: int, due_date: date | None, reference: str, version: int | None
) -> StatementTerms:
    """Due date and Kassenzeichen of the year's statements (optimistic locking)."""
    terms = terms_for(cooperation.id, year)
    if terms is None:
        terms = StatementTerms(cooperation_id=cooperation.id, budget_year=year)
        db.session.add(terms)
    else:
        shared.check_version(terms, version)
    terms.due_date = due_date
    terms.reference = reference.strip()[:60]
    db.session.flush()
    return terms


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
    office: Municipality | None = None  # the paying office: letterhead and bank account
    terms: StatementTerms | None = None  # due date and Kassenzeichen

    @property
    def reference(self) -> str:
        """The Kassenzeichen with the partner's AGS, as the transfer should name it."""
        if self.terms is None or not self.terms.reference:
            return ""
        return f"{self.terms.reference}-{self.balance.municipality.ags}"

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


@dataclass(frozen=True)
class Transfer:
    """The open balance as a transfer: ``amount`` to (or, ``to_office`` False, from) ``office``."""

    amount: Decimal
    to_office: bool
    office: str


def payment_details(s: Statement) -> list[tuple[str, str | Transfer | date]]:
    """What the transfer needs: amount and direction, account, Kassenzeichen, due date.
    Values are text, a ``Transfer`` or a date: the page says them in the reader's
    language, the PDF in German (``german_value``)."""
    open_amount = s.balance.open
    office = s.office
    rows: list[tuple[str, str | Transfer | date]] = []
    if office is None or open_amount == 0:
        return rows
    if open_amount > 0:
        rows.append((N_("Zu überweisen"), Transfer(open_amount, True, office.name)))
    else:
        rows.append((N_("Sie erhalten"), Transfer(-open_amount, False, office.name)))
    if office.iban:
        rows.append(
            ("IBAN", " ".join(office.iban[i : i + 4] for i in range(0, len(office.iban), 4)))
        )
    if office.bic:
        rows.append(("BIC", office.bic + (f" ({office.bank_name})" if office.bank_name else "")))
    if s.reference:
        rows.append((N_("Kassenzeichen"), s.reference))
    if s.terms is not None and s.terms.due_date is not None:
        rows.append((N_("Fällig am"), s.terms.due_date))
    return rows


def german_value(value: str | Transfer | date) -> str:
    """A payment detail as the German PDF prints it."""
    if isinstance(value, Transfer):
        word = "an" if value.to_office else "von"
        return f"{format_eur(value.amount)} {word} {value.office}"
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return value


def load_all(cooperation: Cooperation, year: int) -> list[Statement]:
    """Every partner's statement of the year, in the balances' order (Sammelabrechnung)."""
    office = paying_office(cooperation)
    terms = terms_for(cooperation.id, year)
    description = key_description(cooperation.id, year)
    created = shared.now().astimezone(BERLIN)
    payments = payments_of(cooperation.id, year)
    out = []
    for balance in balances_of(cooperation.id, year):
        mid = balance.municipality.id
        mine = [p for p in payments if mid in (p.municipality_id, p.recipient_id)]
        out.append(
            Statement(
                cooperation=cooperation,
                year=year,
                balance=balance,
                lines=statement_lines(cooperation.id, year, mid),
                payments=payment_rows(balance, mine),
                key_description=description,
                created_at=created,
                office=office,
                terms=terms,
            )
        )
    return out


def key_description(cooperation_id: int, year: int) -> str:
    """How the year's key splits, in words (or why it cannot)."""
    key = key_for(cooperation_id, year)
    if key is None:
        return gettext("Für das Haushaltsjahr ist kein Schlüssel hinterlegt: gleiche Teile.")
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
        office=paying_office(cooperation),
        terms=terms_for(cooperation.id, year),
        created_at=shared.now().astimezone(BERLIN),
    )
