"""Accounts, server-side login sessions and one-time account tokens."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from koopboard.extensions import db
from koopboard.models.municipality import Municipality
from koopboard.models.types import UTCDateTime, utcnow


class User(UserMixin, db.Model):
    """A person; belongs to one municipality (the platform admin may have none)."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("is_admin OR municipality_id IS NOT NULL", name="municipality_or_admin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("municipality.id", ondelete="RESTRICT"), index=True
    )
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set once, when the platform admin anonymised the account of a person who left
    # (koopboard.account.anonymisation): name and address replaced, no way to sign in.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    municipality: Mapped[Municipality | None] = relationship(lazy="joined")

    history_exclude = frozenset({"password_hash"})

    # Set by the user loader / at login: the server-side session this request runs in, and
    # the value the session cookie holds for it (its token and the password's state).
    login_session = None  # LoginSession | None
    session_key = None  # str | None

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    def get_id(self) -> str | None:
        # Flask-Login keeps only the login session's random token in the cookie, bound to
        # the password's state: a password change ends every session made before it.
        return self.session_key

    def history_cooperation_id(self) -> int | None:
        return None

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class LoginSession(db.Model):
    """One signed-in browser. Flask-Login stores only this row's random token,
    so logout (revoking the row) invalidates every copy of the session cookie."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")

    history_exclude = frozenset({"token"})

    def history_cooperation_id(self) -> int | None:
        return None


class AccountToken(db.Model):
    """A one-time token behind an invitation or password-reset link ("invite": an account
    in a municipality, "coop": an account with a role in a cooperation, "reset").

    The link carries a signed, expiring payload naming this row; the row records
    its use, so a link works once."""

    __tablename__ = "account_token"
    __table_args__ = (
        CheckConstraint("purpose IN ('invite', 'reset', 'coop')", name="purpose_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(10))
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("municipality.id", ondelete="RESTRICT"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    municipality: Mapped[Municipality | None] = relationship(lazy="joined")

    history_exclude = frozenset({"nonce"})

    def history_cooperation_id(self) -> int | None:
        return None
