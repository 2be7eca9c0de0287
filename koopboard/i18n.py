"""Locale and time zone selection, and German formatting filters."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_login import current_user

from koopboard.extensions import babel


def select_locale() -> str:
    """Session choice, then the user's setting, then German (not the browser: German first)."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # workers, CLI: German (e-mails pick their own locale)
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if request.args.get("lang") in languages:
        return request.args["lang"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=lambda: "Europe/Berlin",
        default_translation_directories="translations",
    )

    @app.template_filter("datum")
    def datum(value: date | datetime | None) -> str:
        if value is None:
            return "–"
        if isinstance(value, datetime):
            return format_datetime(
                value, "short" if str(get_locale()) != "de" else "dd.MM.yyyy HH:mm"
            )
        return format_date(value, "dd.MM.yyyy" if str(get_locale()) == "de" else "medium")

    @app.template_filter("zahl")
    def zahl(value: int | Decimal | None) -> str:
        if value is None:
            return "–"
        return format_decimal(value)

    @app.context_processor
    def inject_locale() -> dict:
        return {"current_locale": str(get_locale())}
