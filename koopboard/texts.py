"""The German sentences the domain writes (and the books store with each cost), said
again in the reader's language: why a share got its leftover cent, how a key divides.

Stored texts stay German (the record as it was booked); the pages, the history and the
exports for a reader pass them through here. Anything not recognised is shown as stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask_babel import format_decimal, gettext, ngettext

from koopboard.domain.allocation import Why, round_half_up
from koopboard.i18n import format_day, format_share, quote


def share_reason(item: Any) -> str:
    """Why a share came out as it did, in the reader's language: ``item`` is a stored
    share (its ``explanation_data``; older shares keep their German sentence) or a
    ``ShareLine`` of a preview."""
    if isinstance(item, Why):
        return reason_text(item)
    why = getattr(item, "why", None)
    if isinstance(why, Why):
        return reason_text(why)
    data = getattr(item, "explanation_data", None)
    if not data:
        return getattr(item, "explanation", "") or ""
    if data.get("kind") == "reversal":
        return gettext(
            "Gegenbuchung zu %(text)s vom %(date)s",
            text=quote(data["text"]),
            date=format_day(date.fromisoformat(data["date"])),
        )
    return reason_text(Why.from_data(data))


def reason_text(why: Why) -> str:
    """The sentence of ``domain.allocation.german_reason``, through Babel."""
    if why.kind == "zero":
        return gettext("Gewicht 0: kein Anteil.")
    if why.kind == "exact" or why.rest is None:
        return gettext("Der Anteil geht auf den Cent genau auf: kein Rest, kein zusätzlicher Cent.")
    rounded = round_half_up(why.rest, 4)
    rest = format_decimal(rounded, format="0.####")
    if Fraction(rounded) != why.rest:
        rest = f"≈ {rest}"
    if why.kind == "extra" and why.leftover == 1:
        text = gettext(
            "Rest %(rest)s Cent, Platz %(place)s nach Rest: erhält den einen übrigen Cent.",
            rest=rest,
            place=why.position,
        )
    elif why.kind == "extra":
        text = gettext(
            "Rest %(rest)s Cent, Platz %(place)s nach Rest: erhält 1 der %(n)s übrigen Cent.",
            rest=rest,
            place=why.position,
            n=why.leftover,
        )
    else:
        text = ngettext(
            "Rest %(rest)s Cent, Platz %(place)s nach Rest: kein zusätzlicher Cent "
            "(nur %(num)s Cent übrig).",
            "Rest %(rest)s Cent, Platz %(place)s nach Rest: kein zusätzlicher Cent "
            "(nur %(num)s Cent übrig).",
            why.leftover,
            rest=rest,
            place=why.position,
        )
    if why.rival is None:
        return text
    if why.tie == "weight":
        tie = gettext(
            "Gleicher Rest wie %(other)s: das größere Gewicht entscheidet.", other=why.rival
        )
    else:
        tie = gettext(
            "Gleicher Rest und gleiches Gewicht wie %(other)s: die Reihenfolge der Schlüssel "
            "entscheidet.",
            other=why.rival,
        )
    return f"{text} {tie}"


# How a key's description reads (``domain.keys``; stored with each cost in German when it
# is booked), as patterns: the pages say it again in the reader's language.
_DAY = r"\d{2}\.\d{2}\.\d{4}"
_PERCENT = r"[\d.,]+\u00a0?%"
_KEY_TEXTS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"zu gleichen Teilen auf (?P<n>\d+) Partner"),
        lambda m: gettext("zu gleichen Teilen auf %(n)s Partner", n=m["n"]),
    ),
    (
        re.compile(rf"nach Einwohnerzahl \(Stichtag (?P<days>{_DAY}(?:, {_DAY})*)\)"),
        lambda m: gettext(
            "nach Einwohnerzahl (Stichtag %(days)s)",
            days=", ".join(
                format_day(datetime.strptime(d, "%d.%m.%Y").date()) for d in m["days"].split(", ")
            ),
        ),
    ),
    (re.compile(r"feste Prozentsätze"), lambda m: gettext("feste Prozentsätze")),
    (
        re.compile(
            rf"(?P<base>{_PERCENT}) Sockel zu gleichen Teilen, (?P<rest>{_PERCENT}) nach "
            r"Einwohnerzahl"
        ),
        lambda m: gettext(
            "%(base)s Sockel zu gleichen Teilen, %(rest)s nach Einwohnerzahl",
            base=_percent_text(m["base"]),
            rest=_percent_text(m["rest"]),
        ),
    ),
    (
        re.compile(r"nach (?P<unit>.+) im Jahr (?P<year>\d{4})", re.S),
        lambda m: gettext("nach %(unit)s im Jahr %(year)s", unit=m["unit"], year=m["year"]),
    ),
]
_NO_KEY = re.compile(r"(?P<head>.*) \(kein Schlüssel für (?P<year>\d{4}) hinterlegt\)", re.S)


def _percent_text(german: str) -> str:
    """ "33,333 %" in the locale's format."""
    number = german.replace("\u00a0", "").rstrip("%").replace(".", "").replace(",", ".")
    try:
        return format_share(Decimal(number), 3)
    except ArithmeticError:
        return german


def key_text(description: str | None) -> str:
    """A key's German description ("nach Einwohnerzahl (Stichtag 31.12.2024)") in the
    reader's language; anything unknown as stored."""
    if not description:
        return ""
    suffix = ""
    if match := _NO_KEY.fullmatch(description):
        description = match["head"]
        suffix = " " + gettext("(kein Schlüssel für %(year)s hinterlegt)", year=match["year"])
    for pattern, say in _KEY_TEXTS:
        if found := pattern.fullmatch(description):
            return say(found) + suffix
    return description + suffix
