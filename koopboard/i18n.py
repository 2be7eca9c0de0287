"""Locale and time zone selection, and German formatting filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import DateTimePattern
from babel.dates import parse_pattern as parse_date_pattern
from babel.numbers import NumberPattern
from babel.numbers import parse_pattern as parse_number_pattern
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale, get_translations
from flask_login import current_user

from koopboard.domain import messages
from koopboard.domain.keys import PERCENT_PLACES, Share, format_percent
from koopboard.domain.money import Amount, format_eur
from koopboard.domain.persons import ANONYMISED_NAME
from koopboard.extensions import babel

BERLIN = ZoneInfo("Europe/Berlin")  # the one time zone of every page (timezone_selector)
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class LocaleFormats:
    """A locale's date and number patterns, looked up in Babel's locale data once per
    process and reused for every value (a lookup per value cost ~0.1 ms, ~100 per page).
    German numeric dates and whole numbers need no pattern at all: plain f-strings give
    the same text as Babel's "dd.MM.yyyy", "HH:mm" and "#,##0"."""

    locale: Locale
    german: bool
    group: str  # thousands separator
    minus: str
    currency_symbol: str  # €
    day: DateTimePattern  # English "medium"
    day_time: tuple[str, DateTimePattern, DateTimePattern]  # "short": "{1}, {0}", date, time
    long_day: DateTimePattern
    clock: DateTimePattern
    number: NumberPattern  # the locale's decimal pattern, for non-integers

    @classmethod
    def of(cls, locale: Locale) -> LocaleFormats:
        german = locale.language == "de"
        symbols = locale.number_symbols["latn"]
        if german:
            day = parse_date_pattern("dd.MM.yyyy")
            day_time = ("{1} {0}", parse_date_pattern("dd.MM.yyyy"), parse_date_pattern("HH:mm"))
            long_day, clock = parse_date_pattern("EEEE, d. MMMM yyyy"), parse_date_pattern("HH:mm")
        else:
            day = parse_date_pattern(locale.date_formats["medium"].pattern)
            day_time = (
                str(locale.datetime_formats["short"]).replace("'", ""),
                parse_date_pattern(locale.date_formats["short"].pattern),
                parse_date_pattern(locale.time_formats["short"].pattern),
            )
            long_day = parse_date_pattern(locale.date_formats["full"].pattern)
            clock = parse_date_pattern(locale.time_formats["short"].pattern)
        return cls(
            locale=locale,
            german=german,
            group=symbols["group"],
            minus=symbols["minusSign"],
            currency_symbol=locale.currency_symbols.get("EUR", "€"),
            day=day,
            day_time=day_time,
            long_day=long_day,
            clock=clock,
            number=parse_number_pattern(locale.decimal_formats[None]),
        )


_FORMATS: dict[str, LocaleFormats] = {}


def _state() -> tuple[Locale, LocaleFormats, Any] | None:
    """The locale, its patterns and its translations, resolved once per app context (a
    request) and kept in ``g``: flask-babel's own lookups go through several context
    proxies per call, and a page asks ~250 times (strings, dates, amounts). Keyed by the
    locale object, so ``refresh()`` and ``force_locale`` still switch; the locale is read
    where flask-babel 4 keeps it (``g._flask_babel.babel_locale``), else asked for."""
    if not g:
        return None
    holder = g._get_current_object()  # type: ignore[attr-defined]
    ns = holder.__dict__
    locale = getattr(ns.get("_flask_babel"), "babel_locale", None) or get_locale()
    if locale is None:
        locale = Locale.parse(current_app.config["BABEL_DEFAULT_LOCALE"])
    state = ns.get("_koop_i18n")
    if state is None or state[0] is not locale:
        state = ns["_koop_i18n"] = (locale, _formats_of(locale), get_translations())
    return state


def formats() -> LocaleFormats:
    """The current locale's resolved patterns (German outside an app context)."""
    state = _state()
    return _formats_of(Locale.parse("de")) if state is None else state[1]


def _formats_of(locale: Locale) -> LocaleFormats:
    key = str(locale)
    found = _FORMATS.get(key)
    if found is None:
        found = _FORMATS[key] = LocaleFormats.of(locale)
    return found


def _german() -> bool:
    return formats().german


def _berlin(value: datetime) -> datetime:
    """As flask-babel rebases: a naive datetime is UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BERLIN)


def format_day(value: date | datetime | None) -> str:
    """A date (or time) in the locale's format: 03.12.2026 / Dec 3, 2026."""
    if value is None:
        return "–"
    f = formats()
    if isinstance(value, datetime):
        moment = _berlin(value)
        if f.german:
            return (
                f"{moment.day:02d}.{moment.month:02d}.{moment.year:04d} "
                f"{moment.hour:02d}:{moment.minute:02d}"
            )
        template, day, clock = f.day_time
        return template.replace("{0}", clock.apply(moment, f.locale)).replace(
            "{1}", day.apply(moment, f.locale)
        )
    if f.german:
        return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"
    return f.day.apply(value, f.locale)


def format_long_day(value: date) -> str:
    """A day with its weekday, for headings: Donnerstag, 3. Dezember 2026 / Thursday, …"""
    if isinstance(value, datetime):
        value = _berlin(value)
    f = formats()
    return f.long_day.apply(value, f.locale)


def format_clock(value: datetime) -> str:
    """The time of day in Europe/Berlin: 14:32 / 2:32 PM."""
    moment = _berlin(value)
    f = formats()
    if f.german:
        return f"{moment.hour:02d}:{moment.minute:02d}"
    return f.clock.apply(moment, f.locale)


def format_number(value: int | Decimal | None) -> str:
    """A number in the locale's format: 12.345 / 12,345 (non-integers: up to 3 places)."""
    if value is None:
        return "–"
    f = formats()
    if isinstance(value, int) and not isinstance(value, bool):
        text = f"{abs(value):,}"
        if f.group != ",":
            text = text.replace(",", f.group)
        return f"{f.minus}{text}" if value < 0 else text
    return f.number.apply(value, f.locale)


def format_money(value: Decimal | None) -> str:
    """An amount, exact to the cent, in the locale's format: 12.345,67 € / €12,345.67."""
    if value is None:
        return "–"
    amount = Decimal(value)
    f = formats()
    if f.german:
        return format_eur(amount)
    # Babel's "¤#,##0.00" (half-even to the cent, minus before the symbol), without it.
    exact = amount.quantize(_CENT, ROUND_HALF_EVEN)
    text = f"{abs(exact):,.2f}"
    return f"{f.minus if exact < 0 else ''}{f.currency_symbol}{text}"


def format_share(value: object, places: int = 2) -> str:
    """A percentage in the locale's format, rounded half up: 28,47 % / 28.47%."""
    text = format_percent(Fraction(value), places).replace("≈ ", "")  # type: ignore[arg-type]
    if _german():
        return text
    return text.replace(",", ".").replace("\u00a0%", "%")


def format_percent_text(value: object, places: int = PERCENT_PLACES) -> str:
    """A key's percentage in the locale's format, "≈" kept when rounded: ≈ 33,333 % /
    ≈ 33.333%."""
    text = format_percent(Fraction(value), places)  # type: ignore[arg-type]
    return text if _german() else text.replace(",", ".").replace("\u00a0%", "%")


def quote(text: object) -> str:
    """Quotation marks of the locale around a text a user wrote: „…“ / “…”."""
    return f"„{text}“" if _german() else f"“{text}”"


def person(value: object) -> object:
    """A stored person label with "ehemalige Person (anonymisiert)" in the reader's language
    (the history, role lists and event texts store it in German, like every stored value)."""
    if isinstance(value, str) and ANONYMISED_NAME in value and not _german():
        return value.replace(ANONYMISED_NAME, _translations().ugettext(ANONYMISED_NAME))
    return value


def _value(value: object) -> object:
    """A parameter of a ``Msg`` in the locale's format."""
    if isinstance(value, messages.Msg):
        return str(value)
    if isinstance(value, Amount):
        return format_money(value.value)
    if isinstance(value, Share):
        return format_percent_text(value.value, value.places)
    if isinstance(value, messages.Count):
        return format_number(value.value)
    if isinstance(value, messages.Number):
        return messages.german_value(value) if _german() else f"{value.value:f}"
    if isinstance(value, date):
        return format_day(value)
    return value


def say(message: messages.Msg) -> str | None:
    """A domain or service sentence in the reader's language (None outside a request:
    workers and the CLI keep the German)."""
    if not has_request_context():
        return None
    text = _translations().ugettext(message.text)
    if not message.params:
        return text
    return text % {key: _value(value) for key, value in message.params.items()}


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
    """flask-babel's translations of the current locale, looked up once per request and
    locale (its own lookup resolves context, domain and locale anew for every string)."""
    state = _state()
    return get_translations() if state is None else state[2]


def init_app(app: Flask) -> None:
    messages.install(say)
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

    app.add_template_filter(format_number, "zahl")

    @app.context_processor
    def inject_locale() -> dict:
        return {"current_locale": str(formats().locale)}
