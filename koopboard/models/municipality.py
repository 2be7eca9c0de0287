"""Municipalities from the official register (Destatis Gemeindeverzeichnis)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from koopboard.extensions import db


class Municipality(db.Model):
    __tablename__ = "municipality"
    __table_args__ = (
        CheckConstraint("length(ags) = 8", name="ags_8_digits"),
        Index("ix_municipality_name", "name"),
        Index("ix_municipality_postcode", "postcode"),
        Index("ix_municipality_verband", "verband"),
        Index("ix_municipality_coordinates", "breitengrad", "laengengrad"),  # the Umkreis' box
        Index("ix_municipality_land_kreis", "land", "kreis"),  # the directory's Land/Kreis pickers
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ags: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(60))  # Stadt, Markt, Gemeinde, ...
    land: Mapped[str] = mapped_column(String(60))
    kreis: Mapped[str] = mapped_column(String(200))
    population: Mapped[int | None] = mapped_column(Integer)
    population_date: Mapped[date | None] = mapped_column(Date)
    population_source: Mapped[str | None] = mapped_column(String(200))
    area_km2: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    postcode: Mapped[str | None] = mapped_column(String(5))
    # The register's centre of the municipality (degrees; distances in the directory).
    breitengrad: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    laengengrad: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    # Its Gemeindeverband's key (ARS without the Gemeinde part, 9 digits): Amt, Samtgemeinde, ...
    verband: Mapped[str | None] = mapped_column(String(9))
    # Letterhead and bank details for the statements it sends as paying office, entered
    # once per municipality by its Kämmerei (not from the register).
    letter_address: Mapped[str] = mapped_column(String(500), default="", server_default="")
    letter_contact: Mapped[str] = mapped_column(String(300), default="", server_default="")
    iban: Mapped[str] = mapped_column(String(34), default="", server_default="")
    bic: Mapped[str] = mapped_column(String(11), default="", server_default="")
    bank_name: Mapped[str] = mapped_column(String(200), default="", server_default="")

    history_exclude = frozenset()

    def history_cooperation_id(self) -> int | None:
        return None

    def __str__(self) -> str:
        return self.name
