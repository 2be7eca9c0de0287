"""Milestones of a cooperation and each user's secret calendar-feed address."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from koopboard.domain.milestones import MilestoneStatus, Phase
from koopboard.extensions import db
from koopboard.models.cooperation import Cooperation, _enum
from koopboard.models.municipality import Municipality
from koopboard.models.types import UTCDateTime, utcnow
from koopboard.models.user import User


class Milestone(db.Model):
    """A step of the cooperation with its phase, due date, status and responsible partner
    (and, optionally, the responsible person of that partner)."""

    __tablename__ = "milestone"
    __table_args__ = (
        Index("ix_milestone_cooperation_due", "cooperation_id", "due_date"),
        # The completion date exists exactly while the milestone is done.
        CheckConstraint(
            "(status = 'erledigt') = (completed_on IS NOT NULL)", name="completed_iff_done"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by ix_milestone_cooperation_due (cooperation_id first).
    cooperation_id: Mapped[int] = mapped_column(ForeignKey("cooperation.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    phase: Mapped[Phase] = mapped_column(_enum(Phase, "milestone_phase"))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[MilestoneStatus] = mapped_column(_enum(MilestoneStatus, "milestone_status"))
    responsible_municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("municipality.id", ondelete="RESTRICT"), index=True
    )
    # Optional: a person of the responsible municipality with a role in the cooperation.
    responsible_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    completed_on: Mapped[date | None] = mapped_column(Date)
    progress_note: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    cooperation: Mapped[Cooperation] = relationship(lazy="raise")
    responsible_municipality: Mapped[Municipality | None] = relationship(lazy="joined")
    responsible_person: Mapped[User | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}
    history_exclude = frozenset({"version", "updated_at", "created_at"})

    def history_cooperation_id(self) -> int | None:
        return self.cooperation_id

    def __str__(self) -> str:
        return self.title


class CalendarFeed(db.Model):
    """The secret token behind a user's calendar subscriptions; rotating it revokes old URLs.

    Only the token's SHA-256 is stored: a copy of the database opens no feed. The address
    is shown once, right after it was made."""

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), unique=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")

    history_exclude = frozenset({"token_hash"})

    def history_cooperation_id(self) -> int | None:
        return None

    def __str__(self) -> str:
        return f"Kalender-Abo {self.user_id}"
