"""The append-only history (Verlauf) of every change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from koopboard.extensions import db
from koopboard.models.types import UTCDateTime, utcnow
from koopboard.models.user import User


class HistoryEntry(db.Model):
    """One changed field of one record: who, when, old → new.

    Written only by ``koopboard.history`` inside the flush that makes the change;
    the ORM refuses to update or delete it, and on PostgreSQL a trigger does too."""

    __tablename__ = "history_entry"
    __table_args__ = (
        Index("ix_history_entry_cooperation_created", "cooperation_id", "id"),
        Index("ix_history_entry_record", "record_type", "record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT"), index=True
    )
    actor_label: Mapped[str] = mapped_column(String(300))
    # No FK: history outlives the records it describes.
    cooperation_id: Mapped[int | None] = mapped_column(Integer)
    record_type: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[int] = mapped_column(Integer)
    record_label: Mapped[str] = mapped_column(String(300), default="")
    action: Mapped[str] = mapped_column(String(10))  # create, update, delete
    field: Mapped[str | None] = mapped_column(String(60))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship(lazy="joined")
