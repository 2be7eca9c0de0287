"""The Kooperations-Check of a municipality: every save a new version, none overwritten."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from koopboard.extensions import db
from koopboard.models.municipality import Municipality
from koopboard.models.types import UTCDateTime, utcnow
from koopboard.models.user import User


class KoopCheck(db.Model):
    """One version of a municipality's answers, with its author and date."""

    __tablename__ = "koop_check"
    __table_args__ = (UniqueConstraint("municipality_id", "version", name="uq_koop_check_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(
        ForeignKey("municipality.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Question 4 ("ja"/"eher ja"), kept as a column for the counts per Land and Kreis.
    ready: Mapped[bool] = mapped_column(Boolean, default=False)

    municipality: Mapped[Municipality] = relationship(lazy="joined")
    author: Mapped[User | None] = relationship(lazy="joined")

    history_exclude = frozenset()

    def history_cooperation_id(self) -> int | None:
        return None

    def __str__(self) -> str:
        name = self.municipality.name if self.municipality else self.municipality_id
        return f"Kooperations-Check {name}, Version {self.version}"
