"""The Kooperationsbörse: published cooperations and the register's joint administrations."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from koopboard.extensions import db


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
