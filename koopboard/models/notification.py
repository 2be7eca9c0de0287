"""Notification events: what happened, stored in the same transaction as the change.

The notifications issue turns each event into deliveries; until then they are only stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from koopboard.extensions import db
from koopboard.models.types import UTCDateTime, utcnow


class NotificationEvent(db.Model):
    """One event (e.g. "milestone.status_changed") of one record in one cooperation."""

    __tablename__ = "notification_event"
    __table_args__ = (Index("ix_notification_event_cooperation", "cooperation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    cooperation_id: Mapped[int] = mapped_column(ForeignKey("cooperation.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(60))
    record_type: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
