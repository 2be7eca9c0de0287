"""Cooperations, their partner municipalities and users' roles in them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from koopboard.domain.catalog import CooperationStatus, Handlungsfeld, Rechtsform, Role
from koopboard.extensions import db
from koopboard.models.municipality import Municipality
from koopboard.models.types import UTCDateTime, utcnow
from koopboard.models.user import User


def _enum(enum_cls: type, name: str) -> Enum:
    # Stored as VARCHAR with a CHECK constraint: portable, and new values need no type migration.
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=40,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Cooperation(db.Model):
    __tablename__ = "cooperation"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    goals: Mapped[str] = mapped_column(Text, default="")
    handlungsfeld: Mapped[Handlungsfeld] = mapped_column(_enum(Handlungsfeld, "handlungsfeld"))
    rechtsform: Mapped[Rechtsform] = mapped_column(_enum(Rechtsform, "rechtsform"))
    status: Mapped[CooperationStatus] = mapped_column(
        _enum(CooperationStatus, "cooperation_status")
    )
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    lead_municipality_id: Mapped[int] = mapped_column(
        ForeignKey("municipality.id", ondelete="RESTRICT"), index=True
    )
    # Four-eyes with a single treasurer: the project lead may be the second pair of eyes.
    lead_may_approve: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    lead_municipality: Mapped[Municipality] = relationship(lazy="joined")
    partners: Mapped[list[CooperationPartner]] = relationship(
        back_populates="cooperation", order_by="CooperationPartner.id", lazy="raise"
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="cooperation", order_by="Membership.id", lazy="raise"
    )

    __mapper_args__ = {"version_id_col": version}
    history_exclude = frozenset({"version"})

    def history_cooperation_id(self) -> int | None:
        return self.id

    def __str__(self) -> str:
        return self.title


class CooperationPartner(db.Model):
    """A municipality taking part in a cooperation, with its join/leave dates."""

    __tablename__ = "cooperation_partner"
    __table_args__ = (
        UniqueConstraint("cooperation_id", "municipality_id", name="uq_partner_once"),
        CheckConstraint("left_on IS NULL OR left_on >= joined_on", name="left_after_joined"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperation_id: Mapped[int] = mapped_column(
        ForeignKey("cooperation.id", ondelete="CASCADE"), index=True
    )
    municipality_id: Mapped[int] = mapped_column(
        ForeignKey("municipality.id", ondelete="RESTRICT"), index=True
    )
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    council_resolution_on: Mapped[date | None] = mapped_column(Date)

    cooperation: Mapped[Cooperation] = relationship(back_populates="partners")
    municipality: Mapped[Municipality] = relationship(lazy="joined")

    history_exclude = frozenset()

    def history_cooperation_id(self) -> int | None:
        return self.cooperation_id

    def __str__(self) -> str:
        return self.municipality.name if self.municipality else f"Partner {self.id}"


class Membership(db.Model):
    """A user's role in one cooperation; the only way to see its internals."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("cooperation_id", "user_id", name="uq_membership_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperation_id: Mapped[int] = mapped_column(
        ForeignKey("cooperation.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cooperation: Mapped[Cooperation] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(lazy="joined")

    history_exclude = frozenset()

    def history_cooperation_id(self) -> int | None:
        return self.cooperation_id

    def __str__(self) -> str:
        return f"{self.user.name if self.user else self.user_id}: {self.role.label}"
