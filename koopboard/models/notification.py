"""Notification events: what happened, stored in the same transaction as the change.

The notifications issue turns each event into deliveries; until then they are only stored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from koopboard.extensions import db
from koopboard.models.types import UTCDateTime, utcnow


class NotificationEvent(db.Model):
    """One event (e.g. "milestone.status_changed") of one record in one cooperation."""

    __tablename__ = "notification_event"
    __table_args__ = (
        Index("ix_notification_event_cooperation", "cooperation_id", "id"),
        # The daily retention run looks for old events whose content is still there.
        Index("ix_notification_event_retention", "content_deleted_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    cooperation_id: Mapped[int] = mapped_column(ForeignKey("cooperation.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(60))
    record_type: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    # What the mail said is written from the payload (titles, names, amounts, messages);
    # the text itself is never stored. After KOOP_MAIL_RETENTION_DAYS the retention run
    # (koopboard.notifications.retention) keeps only the keys a link needs and sets this.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    content_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationDelivery(db.Model):
    """One event for one recipient: the outbox row a worker delivers (or a digest collects).

    Written in the same transaction as the event; unique per event and recipient, so a
    repeated fan-out can never mail anyone twice. ``mode`` is the recipient's preference
    at the time of the event; ``status`` moves pending → sending → sent | failed, or
    pending → digested (collected into a digest), or skipped (preference "off", or
    published while the outbox was silenced, as the demo loader does: the event still shows
    in the in-app list)."""

    __tablename__ = "notification_delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id", name="uq_delivery_once"),
        CheckConstraint("mode IN ('immediate', 'digest', 'off')", name="mode_known"),
        CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'digested', 'skipped')",
            name="status_known",
        ),
        Index("ix_notification_delivery_due", "status", "mode", "next_attempt_at"),
        Index("ix_notification_delivery_user", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("notification_event.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_digest.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[NotificationEvent] = relationship(lazy="joined")

    # Delivery bookkeeping changes several times per mail; the event itself is what the
    # cooperation's history needs, so these rows are not audited field by field.


class NotificationDigest(db.Model):
    """One digest e-mail for one user and one scheduled run (unique: a run never repeats)."""

    __tablename__ = "notification_digest"
    __table_args__ = (
        UniqueConstraint("user_id", "scheduled_for", name="uq_digest_once"),
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status_known"),
        Index("ix_notification_digest_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationSettings(db.Model):
    """A user's digest schedule and pause switch (defaults: Mon–Fri 7:00, Europe/Berlin)."""

    __tablename__ = "notification_settings"
    __table_args__ = (CheckConstraint("digest_hour >= 0 AND digest_hour <= 23", name="hour_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), unique=True
    )
    # ISO weekdays 1 (Monday) … 7 (Sunday), comma-separated.
    digest_days: Mapped[str] = mapped_column(String(20), default="1,2,3,4,5")
    digest_hour: Mapped[int] = mapped_column(Integer, default=7)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)

    def history_cooperation_id(self) -> int | None:
        return None

    def __str__(self) -> str:
        return f"Benachrichtigungen von Konto {self.user_id}"


class NotificationPreference(db.Model):
    """Per user and event type: immediately, digest or off; optionally for one cooperation.

    A row with ``cooperation_id`` overrides the user's general row for that cooperation;
    without any row the preset of the user's role in the event's cooperation applies
    (``domain.notifications.ROLE_DEFAULTS``)."""

    __tablename__ = "notification_preference"
    __table_args__ = (
        UniqueConstraint(
            "user_id",
            "event_type",
            "cooperation_id",
            name="uq_preference_once",
            postgresql_nulls_not_distinct=True,
        ),
        CheckConstraint("mode IN ('immediate', 'digest', 'off')", name="mode_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(60))
    cooperation_id: Mapped[int | None] = mapped_column(
        ForeignKey("cooperation.id", ondelete="CASCADE"), index=True
    )
    mode: Mapped[str] = mapped_column(String(10))

    def history_cooperation_id(self) -> int | None:
        return self.cooperation_id

    def __str__(self) -> str:
        return f"{self.event_type}: {self.mode}"


class MilestoneAlert(db.Model):
    """When a date alert (due soon / overdue) last went out for a milestone: beat ticks
    often, alerts repeat only at the configured interval."""

    __tablename__ = "milestone_alert"
    __table_args__ = (
        UniqueConstraint("milestone_id", "kind", name="uq_milestone_alert_once"),
        CheckConstraint("kind IN ('due_soon', 'overdue')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    last_alert_on: Mapped[date] = mapped_column(Date)
