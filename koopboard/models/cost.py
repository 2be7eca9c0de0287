"""Costs, cost-sharing keys, shares, payments and year closings — money as NUMERIC, never float."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from koopboard.domain.catalog import N_
from koopboard.domain.keys import KeyKind
from koopboard.extensions import db
from koopboard.models.cooperation import _enum
from koopboard.models.municipality import Municipality
from koopboard.models.types import UTCDateTime, utcnow

MONEY = Numeric(14, 2)
PERCENT = Numeric(6, 3)


class CostState(StrEnum):
    """Entwurf → eingereicht → freigegeben | abgelehnt (four-eyes)."""

    ENTWURF = "entwurf"
    EINGEREICHT = "eingereicht"
    FREIGEGEBEN = "freigegeben"
    ABGELEHNT = "abgelehnt"

    @property
    def label(self) -> str:
        """German label."""
        return {
            CostState.ENTWURF: N_("Entwurf"),
            CostState.EINGEREICHT: N_("eingereicht"),
            CostState.FREIGEGEBEN: N_("freigegeben"),
            CostState.ABGELEHNT: N_("abgelehnt"),
        }[self]


class CostKind(StrEnum):
    """A cost (positive), a grant (Förderung, negative) or a cancellation (Storno)."""

    KOSTEN = "kosten"
    FOERDERUNG = "foerderung"
    STORNO = "storno"

    @property
    def label(self) -> str:
        """German label."""
        return {
            CostKind.KOSTEN: N_("Kosten"),
            CostKind.FOERDERUNG: N_("Förderung"),
            CostKind.STORNO: N_("Storno"),
        }[self]


class PaymentKind(StrEnum):
    """Advance payment to the paying office, or a settlement."""

    ABSCHLAG = "abschlag"
    AUSGLEICH = "ausgleich"

    @property
    def label(self) -> str:
        """German label."""
        return {PaymentKind.ABSCHLAG: N_("Abschlag"), PaymentKind.AUSGLEICH: N_("Ausgleich")}[self]


class CostKey(db.Model):
    """The cost-sharing key of one cooperation for one budget year (Verteilungsschlüssel)."""

    __tablename__ = "cost_key"
    __table_args__ = (
        UniqueConstraint("cooperation_id", "budget_year", name="uq_cost_key_year"),
        CheckConstraint(
            "base_percent IS NULL OR (base_percent >= 0 AND base_percent <= 100)",
            name="base_percent_range",
        ),
        CheckConstraint("budget_year BETWEEN 1990 AND 2200", name="year_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperation_id: Mapped[int] = mapped_column(
        ForeignKey("cooperation.id", ondelete="CASCADE"), index=True
    )
    budget_year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[KeyKind] = mapped_column(_enum(KeyKind, "cost_key_kind"))
    base_percent: Mapped[Decimal | None] = mapped_column(PERCENT)
    usage_unit: Mapped[str] = mapped_column(String(100), default="")
    basis_note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    entries: Mapped[list[CostKeyEntry]] = relationship(
        back_populates="key", order_by="CostKeyEntry.id", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}
    history_exclude = frozenset({"version", "created_at"})

    def history_cooperation_id(self) -> int | None:
        return self.cooperation_id

    def __str__(self) -> str:
        return f"Verteilungsschlüssel {self.budget_year}"


class CostKeyEntry(db.Model):
    """One partner's parameters in a key: population with Stichtag, percentage or units."""

    __tablename__ = "cost_key_entry"
    __table_args__ = (
        UniqueConstraint("key_id", "municipality_id", name="uq_cost_key_entry_once"),
        CheckConstraint("population IS NULL OR population >= 0", name="population_positive"),
        CheckConstraint(
            "percent IS NULL OR (percent >= 0 AND percent <= 100)", name="percent_range"
        ),
        CheckConstraint("usage_units IS NULL OR usage_units >= 0", name="units_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("cost_key.id", ondelete="CASCADE"), index=True)
    # Repeated from the key so the history names the cooperation without a lookup.
    cooperation_id: Mapped[int] = mapped_column(
        ForeignKey("cooperation.id", ondelete="CASCADE"), index=True
    )
    municipality_id: Mapped[int] = mapped_column(
        ForeignKey("municipality.id", ondelete="RESTRICT"), index=True
    )
    population: Mapped[int | None] = mapped_column(Integer)
    population_date: Mapped[date | None] = mapped_column(Date)
    population_source: Mapped[str] = mapped_column(String(300), default="")
    change_reason: Mapped[str] = mapped_column(String(300), default="")
    percent: Mapped[Decimal | None] = mapped_column(PERCENT)
    usage_units: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))

    key: Mapped[CostKey] = relationship(back_populates="entries")
    municipality: Mapped[Municipality] = relationship(lazy="joined")

    history_exclude = frozenset()

    def history_cooperation_id(self) -> int | None:
        return self.cooperation_id

    def __str__(self) -> str:
        return self.municipality.name if self.municipality else f"Eintrag {self.id}"


class Cost(db.Model):
    """A cost position (Kostenposition) with the key used and its state."""

    __tablename__ = "cost"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("kind <> 'kosten' OR amount > 0", name="cost_positive"),
        CheckConstraint("kind <> 'foerderung' OR amount < 0", name="grant_negative"),
        CheckConstraint(
            "state <> 'abgelehnt' OR (rejection_reason IS NOT NULL AND rejection_reason <> '')",
            name="rejected_with_reason",
        ),
        CheckConstraint(
            "approved_by_id IS NULL OR submitted_by_id IS NULL "
            "OR approved_by_id <> submitted_by_id",
            name="four_eyes",
        ),
        # Whoever booked or last chose the amount, key or payer never approves (four-eyes).
        CheckConstraint(
            "approved_by_id IS NULL OR created_by_id IS NULL OR approved_by_id <> created_by_id",
            name="four_eyes_creator",
        ),
        CheckConstraint(
            "approved_by_id IS NULL OR amount_set_by_id IS NULL "
            "OR approved_by_id <> amount_set_by_id",
            name="four_eyes_amount",
        ),
        CheckConstraint("budget_year BETWEEN 1990 AND 2200", name="year_range"),
        Index("ix_cost_cooperation_year_state", "cooperation_id", "budget_year", "state"),
        UniqueConstraint("recurring_id", "booking_date", name="uq_cost_recurring_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by ix_cost_cooperation_year_state (cooperation_id first).
    cooperation_id: Mapped[int] = mapped_column(ForeignKey("cooperation.id", ondelete="CASCADE"))
    budget_year: Mapped[int] = mapped_column(Integer)
    booking_date: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[CostKind] = mapped_column(_enum(CostKind, "cost_kind"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    net_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    vat_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    paid_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("municipality.id", ondelete="RESTRICT"), index=True
    )
    key_id: Mapped[int | None] = mapped_column(
        ForeignKey("cost_key.id", ondelete="RESTRICT"), index=True
    )
    key_description: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[CostState] = mapped_column(_enum(CostState, "cost_state"))
    rejection_reason: Mapped[str | None] = mapped_column(String(1000))
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("cost.id", ondelete="RESTRICT"), index=True
    )
    # The recurring cost that created this draft (unique per due date: beat runs are idempotent).
    recurring_id: Mapped[int | None] = mapped_column(
        ForeignKey("recurring_cost.id", ondelete="RESTRICT"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    # Who last chose the amount, the key (budget year, booking date) or the payer: the
    # person the four-eyes rule keeps from approving, besides creator and submitter.
    amount_set_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    submitted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    paid_by: Mapped[Municipality | None] = relationship(lazy="joined")
    shares: Mapped[list[CostShare]] = relationship(
        back_populates="cost", order_by="CostShare.id", lazy="raise"
    )

    __mapper_args__ = {"version_id_col": version}
    history_exclude = frozenset({"version", "created_at"})

    def history_cooperation_id(self) -> int | None:
        return self.cooperation_id

    def __str__(self) -> str:
        return self.text


class CostShare(db.Model):
    """One partner's share of one cost, snapshotted at booking (later key edits never touch it)."""

    __tablename__ = "cost_share"
    __table_args__ = (
        UniqueConstraint("cost_id", "municipality_id", name="uq_cost_share_once"),
        Index("ix_cost_share_municipality", "municipality_id", "cost_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cost_id: Mapped[int] = mapped_column(ForeignKey("cost.id", ondelete="CASCADE"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id", ondelete="RESTRICT"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    weight: Mapped[Decimal] = mapped_column(Numeric(30, 6))
    explanation: Mapped[str] = mapped_column(String(1000), default="")  # German, as booked
    # The same reason as data (domain.allocation.Why.to_data, or a reversal's original), so
    # pages say it in the reader's language; None on shares booked before it existed.
    explanation_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    cost: Mapped[Cost] = relationship(back_populates="shares")
    municipality: Mapped[Municipality] = relationship(lazy="joined")

    # Shares are written once with their cost (whose history records the booking).


class Payment(db.Model):
    """A payment of a partner: an advance (Abschlag) to the paying office or a settlement."""

    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "recipient_id IS NULL OR recipient_id <> municipality_id", name="not_to_itself"
        ),
        CheckConstraint("budget_year BETWEEN 1990 AND 2200", name="year_range"),
        Index("ix_payment_cooperation_year", "cooperation_id", "budget_year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by ix_payment_cooperation_year.
    cooperation_id: Mapped[int] = mapped_column(ForeignKey("cooperation.id", ondelete="CASCADE"))
    budget_year: Mapped[int] = mapped_column(Integer)
    paid_on: Mapped[date] = mapped_column(Date)
    municipality_id: Mapped[int] = mapped_column(
        ForeignKey("municipality.id", ondelete="RESTRICT"), index=True
    )
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("municipality.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[PaymentKind] = mapped_column(_enum(PaymentKind, "payment_kind"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    municipality: Mapped[Municipality] = relationship(lazy="joined", foreign_keys=[municipality_id])
    recipient: Mapped[Municipality | None] = relationship(
        lazy="joined", foreign_keys=[recipient_id]
    )

    __mapper_args__ = {"version_id_col": version}
    history_exclude = frozenset({"version", "created_at"})

    def history_cooperation_id(self) -> int | None:
        return self.cooperation_id

    def __str__(self) -> str:
        return f"Zahlung {self.paid_on:%d.%m.%Y}"


class YearClosing(db.Model):
    """A closed budget year: nothing in it changes any more; corrections go to an open year."""

    __tablename__ = "year_closing"
    __table_args__ = (UniqueConstraint("cooperation_id", "budget_year", name="uq_year_closed"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperation_id: Mapped[int] = mapped_column(
        ForeignKey("cooperation.id", ondelete="CASCADE"), index=True
    )
    budget_year: Mapped[int] = mapped_column(Integer)
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    history_exclude = frozenset()

    def history_cooperation_id(self) -> int | None:
        return self.cooperation_id

    def __str__(self) -> str:
        return f"Jahresabschluss {self.budget_year}"


class StatementTerms(db.Model):
    """What the statements of a budget year ask for: due date and Kassenzeichen."""

    __tablename__ = "statement_terms"
    __table_args__ = (UniqueConstraint("cooperation_id", "budget_year", name="uq_statement_terms"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperation_id: Mapped[int] = mapped_column(
        ForeignKey("cooperation.id", ondelete="CASCADE"), index=True
    )
    budget_year: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date | None] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(60), default="")  # Kassenzeichen
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    history_exclude = frozenset({"version"})

    def history_cooperation_id(self) -> int | None:
        return self.cooperation_id

    def __str__(self) -> str:
        return f"Zahlungsangaben {self.budget_year}"


class RecurringInterval(StrEnum):
    """How often a recurring cost falls due."""

    MONATLICH = "monatlich"
    QUARTALSWEISE = "quartalsweise"
    JAEHRLICH = "jaehrlich"

    @property
    def months(self) -> int:
        """Months between two due dates."""
        return {
            RecurringInterval.MONATLICH: 1,
            RecurringInterval.QUARTALSWEISE: 3,
            RecurringInterval.JAEHRLICH: 12,
        }[self]

    @property
    def label(self) -> str:
        """German label."""
        return {
            RecurringInterval.MONATLICH: N_("monatlich"),
            RecurringInterval.QUARTALSWEISE: N_("vierteljährlich"),
            RecurringInterval.JAEHRLICH: N_("jährlich"),
        }[self]


class RecurringCost(db.Model):
    """A cost that falls due on schedule (rent, licence): Celery beat books its drafts."""

    __tablename__ = "recurring_cost"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
        CheckConstraint("day_of_month BETWEEN 1 AND 31", name="day_range"),
        Index("ix_recurring_cost_due", "active", "next_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperation_id: Mapped[int] = mapped_column(
        ForeignKey("cooperation.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(100), default="")
    amount: Mapped[Decimal] = mapped_column(MONEY)
    net_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    vat_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    paid_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("municipality.id", ondelete="RESTRICT"), index=True
    )
    interval: Mapped[RecurringInterval] = mapped_column(
        _enum(RecurringInterval, "recurring_interval")
    )
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    # The day in the month the cost falls due (31 → the last day of shorter months).
    day_of_month: Mapped[int] = mapped_column(Integer)
    # The next due date without a draft yet; beat books every due date up to today.
    next_date: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    # Who last set the template's amount or payer: kept from approving its drafts.
    amount_set_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    paid_by: Mapped[Municipality | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}
    history_exclude = frozenset({"version", "created_at"})

    def history_cooperation_id(self) -> int | None:
        return self.cooperation_id

    def __str__(self) -> str:
        return self.text


class CostReceipt(db.Model):
    """The receipt (Beleg) of a cost: PDF, PNG or JPEG up to 10 MB, stored with the cost.

    Kept in the database so the upload is part of the same transaction as the booking:
    nothing half-written, and backups hold the books and their receipts together.
    """

    __tablename__ = "cost_receipt"
    __table_args__ = (
        CheckConstraint("size_bytes > 0 AND size_bytes <= 10485760", name="size_range"),
        CheckConstraint(
            "media_type IN ('application/pdf', 'image/png', 'image/jpeg')", name="media_type"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cost_id: Mapped[int] = mapped_column(
        ForeignKey("cost.id", ondelete="RESTRICT"), unique=True, index=True
    )
    cooperation_id: Mapped[int] = mapped_column(
        ForeignKey("cooperation.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    history_exclude = frozenset({"data", "uploaded_at"})

    def history_cooperation_id(self) -> int | None:
        return self.cooperation_id

    def __str__(self) -> str:
        return self.filename


class CostBudget(db.Model):
    """The planned amount (Planansatz) of one budget year and category."""

    __tablename__ = "cost_budget"
    __table_args__ = (
        UniqueConstraint("cooperation_id", "budget_year", "category", name="uq_cost_budget"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("budget_year BETWEEN 1990 AND 2200", name="year_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperation_id: Mapped[int] = mapped_column(
        ForeignKey("cooperation.id", ondelete="CASCADE"), index=True
    )
    budget_year: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    history_exclude = frozenset({"version", "created_at"})

    def history_cooperation_id(self) -> int | None:
        return self.cooperation_id

    def __str__(self) -> str:
        return f"Planansatz {self.budget_year}: {self.category}"


class CostBalance(db.Model):
    """Each partner's running totals of one budget year, kept in step with every approval and
    payment (in the same transaction, by atomic increments), so the balances on the cost list
    are one indexed read however many costs the year holds.

    Derived data: ``koopboard.costs.books.services.rebuild_balances`` recomputes it from the costs
    and payments, and a test checks both agree after every kind of booking.
    """

    __tablename__ = "cost_balance"
    __table_args__ = (
        UniqueConstraint(
            "cooperation_id", "budget_year", "municipality_id", name="uq_cost_balance_partner"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperation_id: Mapped[int] = mapped_column(
        ForeignKey("cooperation.id", ondelete="CASCADE"), index=True
    )
    budget_year: Mapped[int] = mapped_column(Integer)
    municipality_id: Mapped[int] = mapped_column(
        ForeignKey("municipality.id", ondelete="RESTRICT"), index=True
    )
    # Shares of approved costs, approved costs advanced (paid_by), payments made and received.
    shares: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    outlays: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    paid: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    received: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
