"""Accounts: login sessions, invitations, password resets."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from koopboard.extensions import db, login_manager
from koopboard.models import LoginSession, User
from koopboard.models.types import utcnow


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Bitte melden Sie sich an.")
    login_manager.login_message_category = "info"
    # Remember-me cookies would outlive logout; the login session row is the only truth.
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(seconds=0)

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        lifetime = app.permanent_session_lifetime
        row = db.session.scalar(
            select(LoginSession).where(
                LoginSession.token == token,
                LoginSession.revoked_at.is_(None),
                LoginSession.created_at > utcnow() - lifetime,
            )
        )
        if row is None or not row.user.is_active_account:
            return None
        row.user.login_session = row
        return row.user
