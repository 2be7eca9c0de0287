"""The Kooperationsbörse: published cooperations and the register's joint administrations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, Enum, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from koopboard.domain.directory import Visibility
from koopboard.extensions import db
from koopboard.models.cooperation import Cooperation
from koopboard.models.types import UTCDateTime, utcnow


class RegisterAssociation(db.Model):
    """A Gemeindeverband of Satzart 50 (Amt, Samtgemeinde, Verbandsgemeinde, ...) with at
    least two members: a real joint administration, shown in the directory, never run here.

    Written only by the register import; members are the municipalities whose ``verband``
    equals ``ars``. Member names, population and centre are stored with it so the directory
    reads one row per entry."""

    __tablename__ = "register_association"

    id: Mapped[int] = mapped_column(primary_key=True)
    ars: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    textkennzeichen: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(40))  # Amt, Samtgemeinde, ...
    land: Mapped[str] = mapped_column(String(60), index=True)
    kreis: Mapped[str] = mapped_column(String(200), index=True)
    member_count: Mapped[int] = mapped_column(Integer)
    member_names: Mapped[str] = mapped_column(Text)  # "A, B, C" by name
    population: Mapped[int | None] = mapped_column(Integer)
    population_date: Mapped[date | None] = mapped_column(Date)
    breitengrad: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    laengengrad: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    register_date: Mapped[date] = mapped_column(Date)  # the register's Stand

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class CooperationListing(db.Model):
    """What a cooperation's Projektleitung publishes to the directory, and to whom.

    Kept apart from the cooperation's own master data: the summary is written for the
    public, not the internal goals, and no row means *intern*."""

    __tablename__ = "cooperation_listing"

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperation_id: Mapped[int] = mapped_column(
        ForeignKey("cooperation.id", ondelete="CASCADE"), unique=True
    )
    visibility: Mapped[Visibility] = mapped_column(
        Enum(
            Visibility,
            name="listing_visibility",
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda members: [m.value for m in members],
            validate_strings=True,
        ),
        default=Visibility.INTERN,
        index=True,
    )
    summary: Mapped[str] = mapped_column(Text, default="")
    seeking_partners: Mapped[bool] = mapped_column(Boolean, default=False)
    seeking_kreis: Mapped[str | None] = mapped_column(String(200))
    seeking_radius_km: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    cooperation: Mapped[Cooperation] = relationship(lazy="raise")

    history_exclude = frozenset()

    def history_cooperation_id(self) -> int | None:
        return self.cooperation_id

    def __str__(self) -> str:
        return "Eintrag in der Kooperationsbörse"
