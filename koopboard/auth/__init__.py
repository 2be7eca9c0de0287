"""Accounts: login sessions, invitations, password resets."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_babel import lazy_gettext as _l

from koopboard.auth.services import user_for_session_key
from koopboard.extensions import login_manager
from koopboard.models import User


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Bitte melden Sie sich an.")
    login_manager.login_message_category = "info"
    # Remember-me cookies would outlive logout; the login session row is the only truth.
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(seconds=0)

    @login_manager.user_loader
    def load_user(key: str) -> User | None:
        return user_for_session_key(key, lifetime=app.permanent_session_lifetime)
