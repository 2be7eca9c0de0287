"""Locale and time zone selection, and German formatting filters."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import (
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    format_time,
    get_locale,
    get_translations,
)
from flask_login import current_user

from koopboard.domain.keys import format_percent
from koopboard.domain.money import format_eur
from koopboard.domain.persons import ANONYMISED_NAME
from koopboard.extensions import babel


def _german() -> bool:
    return str(get_locale() or "de") == "de"


def format_day(value: date | datetime | None) -> str:
    """A date (or time) in the locale's format: 03.12.2026 / Dec 3, 2026."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return format_datetime(value, "dd.MM.yyyy HH:mm" if _german() else "short")
    return format_date(value, "dd.MM.yyyy" if _german() else "medium")


def format_long_day(value: date) -> str:
    """A day with its weekday, for headings: Donnerstag, 3. Dezember 2026 / Thursday, …"""
    return format_date(value, "EEEE, d. MMMM yyyy" if _german() else "full")


def format_clock(value: datetime) -> str:
    """The time of day in Europe/Berlin: 14:32 / 2:32 PM."""
    return format_time(value, "HH:mm" if _german() else "short")


def format_money(value: Decimal | None) -> str:
    """An amount, exact to the cent, in the locale's format: 12.345,67 € / €12,345.67."""
    if value is None:
        return "–"
    amount = Decimal(value)
    if _german():
        return format_eur(amount)
    return format_currency(amount, "EUR", format="¤#,##0.00", currency_digits=False)


def format_share(value: object, places: int = 2) -> str:
    """A percentage in the locale's format, rounded half up: 28,47 % / 28.47%."""
    text = format_percent(Fraction(value), places).replace("≈ ", "")  # type: ignore[arg-type]
    if _german():
        return text
    return text.replace(",", ".").replace("\u00a0%", "%")


def quote(text: object) -> str:
    """Quotation marks of the locale around a text a user wrote: „…“ / “…”."""
    return f"„{text}“" if _german() else f"“{text}”"


def person(value: object) -> object:
    """A stored person label with "ehemalige Person (anonymisiert)" in the reader's language
    (the history, role lists and event texts store it in German, like every stored value)."""
    if isinstance(value, str) and ANONYMISED_NAME in value and not _german():
        return value.replace(ANONYMISED_NAME, _translations().ugettext(ANONYMISED_NAME))
    return value


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


def _translations() -> Any:
    """flask-babel's translations, looked up once per request and locale: its own lookup
    resolves context, domain and locale anew for every string (a page has ~60 of them).
    Keyed by the locale object, so ``refresh()`` and ``force_locale`` still switch."""
    if not g:  # no app context
        return get_translations()
    locale = get_locale()
    cached = g.get("_koop_translations")
    if cached is None or cached[0] is not locale:
        cached = g._koop_translations = (locale, get_translations())
    return cached[1]


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=lambda: "Europe/Berlin",
        default_translation_directories="translations",
    )
    # Same callables as flask-babel installs, with the per-request lookup above.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )

    # Every {{ expression }} of every template passes here: the anonymised person reads
    # "former person (anonymised)" in English wherever a page or mail shows a stored name.
    app.jinja_env.finalize = person
    app.add_template_filter(person, "person")
    app.jinja_env.globals["anonymised_name"] = ANONYMISED_NAME
    app.add_template_filter(format_day, "datum")
    app.add_template_filter(format_clock, "uhrzeit")
    app.add_template_filter(quote, "quoted")

    @app.template_filter("zahl")
    def zahl(value: int | Decimal | None) -> str:
        if value is None:
            return "–"
        return format_decimal(value)

    @app.context_processor
    def inject_locale() -> dict:
        return {"current_locale": str(get_locale())}
