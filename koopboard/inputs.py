"""Untrusted input at the edge: URL converters, query and form values, and the base form.

PostgreSQL refuses a text containing a NUL byte and an ``INTEGER`` parameter beyond
2³¹−1 (SQLAlchemy sends ids as ``::INTEGER``); either used to surface as a 500 deep inside
a query. Such input is turned away here, before any view or query sees it:

- URL parts: ``<int:…>`` only matches 0 … 2³¹−1 and a string part never holds a NUL or more
  than 200 characters; anything else is simply not a page (404).
- Query and form values with a NUL byte: 422 with a German message (no legitimate input
  holds one; other control characters stay allowed, Word pastes vertical tabs).
- Fields of every form (:class:`BaseForm`): text longer than the field's ``Length`` (or
  :data:`TEXT_LIMIT`) and whole numbers beyond the database's range get a message next to
  the field; the form is then not valid.
- Hand-parsed numbers (``?seite=``, ``version``): :func:`bounded_int`.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.exceptions import UnprocessableEntity
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter
from wtforms import Field
from wtforms.validators import Length

INT32_MAX = 2**31 - 1  # PostgreSQL INTEGER; every id and version column is one
SEGMENT_LIMIT = 200  # characters of one string part of a URL (tokens have 43)
TEXT_LIMIT = 20_000  # characters of a form field without its own Length validator
# Pages of a list: far beyond any real one, and (page × page size) stays a valid OFFSET.
MAX_PAGE = 100_000

NUL_MESSAGE = _l(
    "Die Eingabe enthält ein unzulässiges Steuerzeichen (Nullbyte). "
    "Bitte entfernen Sie es und senden Sie das Formular noch einmal."
)
NUMBER_MESSAGE = _l("Diese Zahl ist zu groß.")
LENGTH_MESSAGE = _l("Höchstens %(max)d Zeichen.")


class NulInInput(UnprocessableEntity):
    """A query or form value holds a NUL byte."""

    description = NUL_MESSAGE


# --- URL converters -----------------------------------------------------------------------


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` that matches only what an INTEGER column can hold."""

    def __init__(
        self,
        map: Any,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, INT32_MAX if max is None else max, signed)


class SafeStringConverter(UnicodeConverter):
    """The default ``<…>``/``<string:…>``: one segment, no NUL, at most 200 characters."""

    def __init__(
        self,
        map: Any,
        minlength: int = 1,
        maxlength: int | None = None,
        length: int | None = None,
    ) -> None:
        super().__init__(map, minlength, SEGMENT_LIMIT if maxlength is None else maxlength, length)
        self.regex = self.regex.replace("[^/]", "[^/\\x00]", 1)


class SafePathConverter(PathConverter):
    """``<path:…>`` without NUL bytes."""

    regex = "[^/\\x00][^\\x00]*?"


def bounded_int(
    raw: str | None, default: int | None, *, low: int = 1, high: int = INT32_MAX
) -> int | None:
    """A whole number typed into a URL or a hand-parsed form, clamped to ``low``…``high``;
    ``default`` when it is no number at all."""
    text = (raw or "").strip()
    if not text.isascii() or not text.isdigit():  # no sign, no "1e9", no "²"
        return default
    text = text.lstrip("0") or "0"
    # Longer than the bound has digits: clamp without converting a huge string.
    value = int(text) if len(text) <= len(str(high)) else high
    return min(max(value, low), high)


def page_number(raw: str | None) -> int:
    """``?seite=``: 1 for garbage, the last possible page for an absurd number."""
    return bounded_int(raw, 1, high=MAX_PAGE) or 1


def posted_version(raw: str | None) -> int | None:
    """The version a form was loaded with (optimistic locking); None if missing or garbled."""
    return bounded_int(raw, None, low=0)


# --- query and form values ------------------------------------------------------------------


def _reject_nul_bytes() -> None:
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                raise NulInInput()


# --- the base form --------------------------------------------------------------------------


def _text_limit(field: Field) -> int:
    for validator in field.validators:
        if isinstance(validator, Length) and validator.max is not None and validator.max >= 0:
            return validator.max
    return TEXT_LIMIT


def _numbers(data: object) -> Iterable[int | Decimal]:
    items = data if isinstance(data, list | tuple | set) else (data,)
    for item in items:
        if isinstance(item, int | Decimal) and not isinstance(item, bool):
            yield item


def field_problem(field: Field) -> str | None:
    """Why the edge refuses this field's input, or None."""
    limit = _text_limit(field)
    for raw in field.raw_data or ():
        if not isinstance(raw, str):  # an uploaded file
            continue
        if "\x00" in raw:
            return str(NUL_MESSAGE)
        if len(raw) > limit:
            return str(LENGTH_MESSAGE) % {"max": limit}
    for number in _numbers(field.data):
        if isinstance(number, int) and abs(number) > INT32_MAX:
            return str(NUMBER_MESSAGE)
    return None


class BaseForm(FlaskForm):
    """Every form of the app: input the database cannot take is refused at the field.

    The other validators (some query the database) run only when every field passed."""

    def validate(self, extra_validators: dict[str, Any] | None = None) -> bool:
        problems = {field.name: problem for field in self if (problem := field_problem(field))}
        if not problems:
            return super().validate(extra_validators)
        for field in self:
            field.errors = [problems[field.name]] if field.name in problems else []
        self._errors = None
        return False


def init_app(app: Flask) -> None:
    """Register the converters (before any blueprint adds a rule) and the NUL check."""
    app.url_map.converters.update(
        default=SafeStringConverter,
        string=SafeStringConverter,
        int=BoundedIntConverter,
        path=SafePathConverter,
    )
    app.before_request(_reject_nul_bytes)
