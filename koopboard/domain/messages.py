"""Sentences the domain and the services say to a person (mostly why something was refused),
kept as their German source text and parameters, so that the reader's language says them.

``Msg("Der Schlüssel %(year)s ist abgeschlossen.", year=2026)`` is a ``str`` holding the German
sentence (what the tests, the logs and anything stored see), and remembers its source text (a
Babel msgid, extracted with the keyword ``Msg``) and its parameters. ``str()`` and the
templates ask the installed renderer: ``koopboard.i18n`` installs one that translates the
source text and formats the parameters in the request's locale (dates, amounts, shares,
counts); without it (the domain's own tests, workers) the German is what one gets.

Parameters are plain values or a wrapper that says what a number means, and whose ``str``
is its German form: ``money.Amount`` (euros), ``keys.Share`` (a percentage), ``Count`` (a
grouped integer), ``Number`` (a decimal as entered). A ``date`` is a day. Quotation marks
belong to the sentence: „%(x)s“ in German, “%(x)s” in its English translation.

This module imports nothing of Flask or Babel: the domain stays pure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Number:
    """A decimal number as entered, all its places: 33,3333 / 33.3333."""

    value: Decimal


@dataclass(frozen=True)
class Count:
    """A whole number with grouping: 16.122 / 16,122."""

    value: int


Renderer = Callable[["Msg"], str | None]
_renderer: list[Renderer] = []


def install(renderer: Renderer | None) -> None:
    """Say every ``Msg`` through ``renderer`` (None: German). It may answer None for German."""
    _renderer[:] = [renderer] if renderer else []


def german_value(value: object) -> str:
    """A parameter the German way (the wrappers say themselves so)."""
    if isinstance(value, Count):
        return f"{value.value:,}".replace(",", ".")
    if isinstance(value, Number):
        return f"{value.value:f}".replace(".", ",")
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value)


class Msg(str):
    """A German sentence that knows its source text and parameters (see the module doc)."""

    text: str
    params: dict[str, Any]

    def __new__(cls, text: str, **params: Any) -> Msg:  # noqa: ANN401
        german = text % {k: german_value(v) for k, v in params.items()} if params else text
        self = super().__new__(cls, german)
        self.text = text
        self.params = params
        return self

    def german(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        if _renderer:
            said = _renderer[0](self)
            if said is not None:
                return said
        return self.german()

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __html__(self) -> str:
        """Templates escape what the reader's language says, not the German."""
        text = str(self)
        return (
            text.replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace('"', "&#34;")
            .replace("'", "&#39;")
        )

    def __reduce__(self) -> tuple:
        return (_rebuild, (self.text, self.params))


def _rebuild(text: str, params: dict[str, Any]) -> Msg:
    return Msg(text, **params)
