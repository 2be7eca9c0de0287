"""Cost-sharing keys (Verteilungsschlüssel) as pure weight builders for ``allocate``.

Each builder validates its input, answers bad input with a German ``SharingKeyError``
and returns a ``Weighting``: the weights ``allocate`` splits by, what each weight came
from (population with Stichtag and source, usage units, percentage) and a German
description. All weights are exact (int or Decimal); the mixed key is built from exact
rational numbers scaled to integers, so ``allocate`` still does a single largest-remainder
step and the shares sum exactly to the amount.

Who takes part: only partners active on the booking date (``active_partners``). A
membership is active from ``joined_on`` (inclusive) until ``left_on`` (exclusive):
``joined_on <= day and (left_on is None or day < left_on)``. ``left_on`` is thus the first
day the partner no longer takes part; a partner leaving "zum 31.12.2026" is stored with
``left_on = 2027-01-01`` and still carries the costs booked on 31.12.2026. Exclusive ends
let one partner's ``left_on`` equal the next period's start without overlap or gap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sized
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from math import gcd, lcm
from typing import Generic, Protocol, TypeVar

from koopboard.domain.allocation import K, Weight, round_half_up
from koopboard.domain.catalog import N_
from koopboard.domain.messages import Msg, Number

HUNDRED = Decimal(100)
PERCENT_PLACES = 3


class KeyKind(StrEnum):
    """The kinds of cost-sharing key of SPEC §2; values are stored in the database."""

    EQUAL = "gleich"
    POPULATION = "einwohner"
    PERCENTAGES = "prozent"
    USAGE = "nutzung"
    MIXED = "gemischt"

    @property
    def label(self) -> str:
        """German label of the kind."""
        return _KIND_LABELS[self]


_KIND_LABELS = {  # marked for Babel; the UI translates them where it shows them
    KeyKind.EQUAL: N_("zu gleichen Teilen"),
    KeyKind.POPULATION: N_("nach Einwohnerzahl"),
    KeyKind.PERCENTAGES: N_("feste Prozentsätze"),
    KeyKind.USAGE: N_("nach Nutzungseinheiten"),
    KeyKind.MIXED: N_("Sockelbetrag und Einwohnerzahl"),
}


class SharingKeyError(ValueError):
    """A key that cannot be used; the message is German and user-facing."""

    def __init__(self, message: Msg, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Population:
    """A partner's population at a Stichtag, with where the figure comes from."""

    count: int
    stichtag: date
    source: str  # e.g. "Destatis Gemeindeverzeichnis 31.12.2019" or an edit with its reason


@dataclass(frozen=True)
class Usage:
    """A partner's usage units in one budget year (pupils, cases, Einwohnergleichwerte)."""

    units: Decimal | int
    unit: str
    year: int


@dataclass(frozen=True)
class MixedBasis:
    """One partner's part of a mixed key: its Sockel and population percentages."""

    population: Population
    base_percent: Fraction  # the partner's part of the Sockel, in % of the total
    population_percent: Fraction  # the partner's part of the population-based rest, in %

    @property
    def percent(self) -> Fraction:
        """The partner's total percentage."""
        return self.base_percent + self.population_percent


Basis = Population | Usage | MixedBasis | Decimal | None


@dataclass(frozen=True)
class Weighting(Generic[K]):
    """Weights for ``allocate`` with the basis of each weight, as the key page shows them."""

    kind: KeyKind
    weights: Mapping[K, Weight]
    basis: Mapping[K, Basis] = field(default_factory=dict)
    description: str = ""

    def percentages(self) -> dict[K, Fraction]:
        """Each partner's exact percentage of any amount split by this key."""
        total = sum(Fraction(w) for w in self.weights.values())
        return {key: Fraction(w) * 100 / total for key, w in self.weights.items()}


def equal(partners: Iterable[K]) -> Weighting[K]:
    """Everyone carries the same share."""
    keys = list(partners)
    _require_partners(keys)
    if len(set(keys)) != len(keys):
        raise SharingKeyError(Msg("Ein Partner ist mehrfach genannt."), "duplicate")
    return Weighting(
        KeyKind.EQUAL,
        dict.fromkeys(keys, 1),
        dict.fromkeys(keys),
        f"zu gleichen Teilen auf {len(keys)} Partner",
    )


def by_population(populations: Mapping[K, Population]) -> Weighting[K]:
    """Shares in proportion to each partner's population at its Stichtag."""
    _require_partners(populations)
    for key, figure in populations.items():
        _check_population(key, figure)
    if not any(figure.count for figure in populations.values()):
        raise SharingKeyError(
            Msg("Alle Einwohnerzahlen sind 0; nach Einwohnern lässt sich nichts verteilen."),
            "all_zero",
        )
    stichtage = sorted({figure.stichtag for figure in populations.values()})
    when = ", ".join(day.strftime("%d.%m.%Y") for day in stichtage)
    return Weighting(
        KeyKind.POPULATION,
        {key: figure.count for key, figure in populations.items()},
        dict(populations),
        f"nach Einwohnerzahl (Stichtag {when})",
    )


def fixed_percentages(percentages: Mapping[K, Decimal | int]) -> Weighting[K]:
    """Agreed percentages, up to three decimals each, totalling exactly 100."""
    _require_partners(percentages)
    for key, value in percentages.items():
        _check_percent(Msg("Der Prozentsatz von %(key)s", key=key), value)
    total = sum(percentages.values(), Decimal(0))
    if total != HUNDRED:
        raise SharingKeyError(
            Msg(
                "Die Prozentsätze ergeben zusammen %(total)s statt genau 100 %%.",
                total=Share(total),
            ),
            "sum_not_100",
        )
    return Weighting(
        KeyKind.PERCENTAGES,
        {key: Decimal(value) for key, value in percentages.items()},
        {key: Decimal(value) for key, value in percentages.items()},
        "feste Prozentsätze",
    )


def by_usage(units: Mapping[K, Decimal | int], *, unit: str, year: int) -> Weighting[K]:
    """Shares in proportion to usage units of a budget year (pupils, cases, EGW)."""
    _require_partners(units)
    if not unit.strip():
        raise SharingKeyError(Msg("Bitte die Einheit angeben (z. B. Schüler, Fälle)."), "unit")
    for key, value in units.items():
        _check_number(Msg("Die Nutzungseinheiten von %(key)s", key=key), value)
    if not any(units.values()):
        raise SharingKeyError(
            Msg(
                "Alle Nutzungseinheiten (%(unit)s, %(year)s) sind 0; so lässt sich nichts "
                "verteilen.",
                unit=unit,
                year=year,
            ),
            "all_zero",
        )
    return Weighting(
        KeyKind.USAGE,
        dict(units),
        {key: Usage(value, unit, year) for key, value in units.items()},
        f"nach {unit} im Jahr {year}",
    )


def mixed(populations: Mapping[K, Population], *, base_percent: Decimal | int) -> Weighting[K]:
    """A base percentage (Sockel) split equally, the rest by population — exact weights."""
    _require_partners(populations)
    _check_percent(Msg("Der Sockelanteil"), base_percent)
    for key, figure in populations.items():
        _check_population(key, figure)
    base = Fraction(base_percent)
    rest = 100 - base
    count = len(populations)
    total_population = sum(figure.count for figure in populations.values())
    if total_population == 0 and rest:
        raise SharingKeyError(
            Msg("Alle Einwohnerzahlen sind 0; der Einwohneranteil lässt sich nicht verteilen."),
            "all_zero",
        )
    basis: dict[K, Basis] = {}
    exact: dict[K, Fraction] = {}
    for key, figure in populations.items():
        base_part = base / count
        population_part = rest * figure.count / total_population if rest else Fraction(0)
        basis[key] = MixedBasis(figure, base_part, population_part)
        exact[key] = base_part + population_part
    return Weighting(
        KeyKind.MIXED,
        integer_weights(exact),
        basis,
        f"{format_percent(Decimal(base_percent))} Sockel zu gleichen Teilen, "
        f"{format_percent(HUNDRED - Decimal(base_percent))} nach Einwohnerzahl",
    )


def integer_weights(exact: Mapping[K, Fraction]) -> dict[K, int]:
    """Scale exact rational weights to the smallest integers with the same proportions."""
    common = lcm(*(value.denominator for value in exact.values()))
    scaled = {key: int(value * common) for key, value in exact.items()}
    divisor = gcd(*scaled.values()) or 1
    return {key: value // divisor for key, value in scaled.items()}


class Membership(Protocol):
    """Anything with membership dates: a partner row, a form, a test double."""

    @property
    def joined_on(self) -> date: ...

    @property
    def left_on(self) -> date | None: ...


M = TypeVar("M", bound=Membership)


def is_active(partner: Membership, on_date: date) -> bool:
    """Tell whether the partner takes part on ``on_date`` (left_on is exclusive)."""
    return partner.joined_on <= on_date and (partner.left_on is None or on_date < partner.left_on)


def active_partners(partners: Iterable[M], on_date: date) -> list[M]:
    """The partners that take part in a cost booked on ``on_date``, in the given order."""
    active = []
    for partner in partners:
        if partner.left_on is not None and partner.left_on <= partner.joined_on:
            raise SharingKeyError(
                Msg(
                    "Austritt (%(left)s) liegt nicht nach dem Beitritt (%(joined)s).",
                    left=partner.left_on,
                    joined=partner.joined_on,
                ),
                "left_before_joined",
            )
        if is_active(partner, on_date):
            active.append(partner)
    return active


def check_participants(
    key_partners: Iterable[K],
    active: Iterable[K],
    on_date: date,
    *,
    names: Mapping[K, str] | None = None,
) -> None:
    """Refuse a key that names an inactive partner or misses an active one on ``on_date``."""
    named, present = set(key_partners), set(active)
    label = (lambda key: names.get(key, str(key))) if names else str
    inactive = sorted(named - present)
    if inactive:
        raise SharingKeyError(
            Msg(
                "Der Schlüssel nennt Partner, die am %(day)s nicht beteiligt sind: %(names)s.",
                day=on_date,
                names=", ".join(label(key) for key in inactive),
            ),
            "inactive_partner",
        )
    missing = sorted(present - named)
    if missing:
        raise SharingKeyError(
            Msg(
                "Der Schlüssel enthält nicht alle am %(day)s beteiligten Partner; es fehlen: "
                "%(names)s.",
                day=on_date,
                names=", ".join(label(key) for key in missing),
            ),
            "missing_partner",
        )


_PERCENT = re.compile(r"([0-9]{1,3})(?:,([0-9]+))?", re.ASCII)


def parse_percent(text: str) -> Decimal:
    """Parse a German percentage ("33,333", "30 %") with at most three decimals."""
    raw = text.strip(" \t\u00a0\u202f")
    body = raw.removesuffix("%").rstrip(" \t\u00a0\u202f")
    match = _PERCENT.fullmatch(body)
    if match is None:
        raise SharingKeyError(
            Msg("„%(raw)s“ ist kein gültiger Prozentsatz; bitte z. B. 33,333 eingeben.", raw=raw),
            "invalid",
        )
    decimals = match[2] or ""
    value = Decimal(f"{match[1]}.{decimals or '0'}")
    _check_percent(Msg("Der Prozentsatz"), value)
    return value


def format_percent(value: Decimal | Fraction | int, places: int = PERCENT_PLACES) -> str:
    """German percentage with up to ``places`` decimals: "33,333 %", "100 %"."""
    exact = Fraction(value)
    rounded = round_half_up(exact, places)
    text = f"{rounded:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    prefix = "" if Fraction(rounded) == exact else "≈ "
    return f"{prefix}{text.replace('.', ',')}\u00a0%"


@dataclass(frozen=True)
class Share:
    """A percentage inside a sentence (``messages.Msg``); German: ``format_percent``."""

    value: Decimal | Fraction | int
    places: int = PERCENT_PLACES

    def __str__(self) -> str:
        return format_percent(self.value, self.places)


def _require_partners(partners: Sized) -> None:
    """Refuse a key without partners."""
    if not partners:
        raise SharingKeyError(Msg("Der Schlüssel braucht mindestens einen Partner."), "empty")


def _check_number(what: Msg, value: object) -> None:
    """Refuse floats, non-numbers, non-finite and negative values."""
    if isinstance(value, float):
        raise SharingKeyError(
            Msg("%(what)s ist eine Gleitkommazahl; bitte exakt angeben.", what=what), "float"
        )
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise SharingKeyError(Msg("%(what)s muss eine Zahl sein.", what=what), "type")
    if isinstance(value, Decimal) and not value.is_finite():
        raise SharingKeyError(Msg("%(what)s ist keine Zahl.", what=what), "not_a_number")
    if value < 0:
        raise SharingKeyError(Msg("%(what)s darf nicht negativ sein.", what=what), "negative")


def _check_percent(what: str, value: object) -> None:
    """Refuse a percentage outside 0–100 or with more than three decimals."""
    _check_number(what, value)
    if not isinstance(value, int | Decimal):  # _check_number refused the rest already
        raise TypeError(f"{what}: {value!r} is no number")
    if value > HUNDRED:
        raise SharingKeyError(
            Msg("%(what)s darf höchstens 100 %% betragen.", what=what), "over_100"
        )
    if isinstance(value, Decimal) and 1000 % value.as_integer_ratio()[1]:
        raise SharingKeyError(
            Msg(
                "%(what)s hat mehr als drei Nachkommastellen (%(shown)s %%).",
                what=what,
                shown=Number(value),
            ),
            "too_many_decimals",
        )


def _check_population(key: object, figure: Population) -> None:
    """Refuse a population figure that is not a non-negative whole number."""
    if not isinstance(figure, Population):
        raise SharingKeyError(
            Msg("Für %(key)s fehlt die Einwohnerzahl mit Stichtag.", key=key), "type"
        )
    count = figure.count
    if isinstance(count, bool) or not isinstance(count, int):
        raise SharingKeyError(
            Msg("Die Einwohnerzahl von %(key)s muss eine ganze Zahl sein.", key=key), "type"
        )
    if count < 0:
        raise SharingKeyError(
            Msg("Die Einwohnerzahl von %(key)s darf nicht negativ sein.", key=key), "negative"
        )
