"""Invitations of a person (by address) into a cooperation with a role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from koopboard.domain.catalog import Role
from koopboard.domain.invitations import InvitationStatus
from koopboard.extensions import db
from koopboard.models.cooperation import Cooperation
from koopboard.models.municipality import Municipality
from koopboard.models.types import UTCDateTime, utcnow
from koopboard.models.user import User


class CooperationInvitation(db.Model):
    """A Projektleitung invites an address of a partner municipality with a role.

    The row is the same whether the address has an account or not (nothing here, nor in
    the history, tells the two apart): an account holder accepts the offer after signing
    in, a new person creates the account through the link of ``account_token``. One open
    invitation per address and cooperation (a newer one replaces it). Audited: every step
    is in the cooperation's history."""

    __tablename__ = "cooperation_invitation"
    __table_args__ = (
        Index(
            "uq_cooperation_invitation_open",
            "cooperation_id",
            "email",
            unique=True,
            postgresql_where=text("status = 'offen'"),
            sqlite_where=text("status = 'offen'"),
        ),
        Index("ix_cooperation_invitation_cooperation_status", "cooperation_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperation_id: Mapped[int] = mapped_column(ForeignKey("cooperation.id", ondelete="CASCADE"))
    municipality_id: Mapped[int] = mapped_column(
        ForeignKey("municipality.id", ondelete="RESTRICT"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), index=True)
    role: Mapped[Role] = mapped_column(
        Enum(
            Role,
            name="invitation_role",
            native_enum=False,
            create_constraint=True,
            length=40,
            values_callable=lambda members: [m.value for m in members],
            validate_strings=True,
        )
    )
    status: Mapped[InvitationStatus] = mapped_column(
        Enum(
            InvitationStatus,
            name="invitation_status",
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda members: [m.value for m in members],
            validate_strings=True,
        ),
        default=InvitationStatus.OPEN,
    )
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    account_token_id: Mapped[int | None] = mapped_column(
        ForeignKey("account_token.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who withdrew it (the Projektleitung) or accepted it (the invited person's account).
    # A decline records no account: it would tell the inviter the address has one.
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )

    cooperation: Mapped[Cooperation] = relationship(lazy="joined", innerjoin=True)
    municipality: Mapped[Municipality] = relationship(lazy="joined", innerjoin=True)
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id], lazy="joined")

    history_exclude = frozenset({"account_token_id"})

    def history_cooperation_id(self) -> int | None:
        return self.cooperation_id

    def __str__(self) -> str:
        return f"Einladung an {self.email} ({self.role.label})"
