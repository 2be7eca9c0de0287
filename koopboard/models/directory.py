"""The Kooperationsbörse: published cooperations and the register's joint administrations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Computed,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from koopboard.domain.directory import JoinRequestStatus, Visibility
from koopboard.extensions import db
from koopboard.models.cooperation import Cooperation
from koopboard.models.municipality import Municipality
from koopboard.models.types import UTCDateTime, utcnow
from koopboard.models.user import User

SEARCH_VECTOR = TSVECTOR().with_variant(Text(), "sqlite")
REGISTER_VECTOR = (
    "setweight(to_tsvector('german'::regconfig, coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('german'::regconfig, coalesce(member_names, '')), 'C')"
)


class RegisterAssociation(db.Model):
    """A Gemeindeverband of Satzart 50 (Amt, Samtgemeinde, Verbandsgemeinde, ...) with at
    least two members: a real joint administration, shown in the directory, never run here.

    Written only by the register import; members are the municipalities whose ``verband``
    equals ``ars``. Member names, population and centre are stored with it so the directory
    reads one row per entry."""

    __tablename__ = "register_association"
    __table_args__ = (
        Index("ix_register_association_coordinates", "breitengrad", "laengengrad"),
        Index("ix_register_association_search_vector", "search_vector", postgresql_using="gin"),
    )

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
    # PostgreSQL: generated from name and member names for the directory's text search
    # (migration 0018); SQLite: an unused NULL column. Never loaded with the row.
    search_vector: Mapped[str | None] = deferred(
        mapped_column(SEARCH_VECTOR, Computed(REGISTER_VECTOR, persisted=True), nullable=True)
    )

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class CooperationListing(db.Model):
    """What a cooperation's Projektleitung publishes to the directory, and to whom.

    Kept apart from the cooperation's own master data: the summary is written for the
    public, not the internal goals, and no row means *intern*."""

    __tablename__ = "cooperation_listing"
    __table_args__ = (
        Index("ix_cooperation_listing_search_vector", "search_vector", postgresql_using="gin"),
    )

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
    # PostgreSQL: title, summary and active partner names as a German tsvector, kept by
    # the triggers of migration 0018 (never written here); SQLite: an unused NULL column.
    search_vector: Mapped[str | None] = deferred(mapped_column(SEARCH_VECTOR, nullable=True))

    cooperation: Mapped[Cooperation] = relationship(lazy="raise")

    history_exclude = frozenset()

    def history_cooperation_id(self) -> int | None:
        return self.cooperation_id

    def __str__(self) -> str:
        return "Eintrag in der Kooperationsbörse"


class JoinRequest(db.Model):
    """A municipality asks to join a cooperation; its Projektleitung accepts or declines.

    One open request per municipality and cooperation (a partial unique index); a declined
    or withdrawn one may be made again. Audited: every step is in the cooperation's history."""

    __tablename__ = "join_request"
    __table_args__ = (
        Index(
            "uq_join_request_open",
            "cooperation_id",
            "municipality_id",
            unique=True,
            postgresql_where=text("status = 'offen'"),
            sqlite_where=text("status = 'offen'"),
        ),
        Index("ix_join_request_cooperation_status", "cooperation_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperation_id: Mapped[int] = mapped_column(ForeignKey("cooperation.id", ondelete="CASCADE"))
    municipality_id: Mapped[int] = mapped_column(
        ForeignKey("municipality.id", ondelete="RESTRICT"), index=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    message: Mapped[str] = mapped_column(Text)
    intended_join_on: Mapped[date] = mapped_column(Date)
    status: Mapped[JoinRequestStatus] = mapped_column(
        Enum(
            JoinRequestStatus,
            name="join_request_status",
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda members: [m.value for m in members],
            validate_strings=True,
        ),
        default=JoinRequestStatus.OPEN,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    joined_on: Mapped[date | None] = mapped_column(Date)
    council_resolution_on: Mapped[date | None] = mapped_column(Date)

    municipality: Mapped[Municipality] = relationship(lazy="joined")
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id], lazy="joined")

    history_exclude = frozenset()

    def history_cooperation_id(self) -> int | None:
        return self.cooperation_id

    def __str__(self) -> str:
        name = self.municipality.name if self.municipality else self.municipality_id
        return f"Beitrittsanfrage von {name}"
