"""Split an amount among partners to the cent: largest remainder (Hamilton), exact.

How every cent falls (``allocate``, ``explain``):

1. Each partner's exact share is ``total × weight / Σ weights`` (a rational number).
2. It is cut to the cent toward zero ("floored share").
3. The cents still missing to the total — fewer than the number of partners — go one
   each to the partners with the largest remainders (exact share − floored share).
4. **Tie-break** — deterministic and independent of the order the partners are given in:
   larger remainder first; on equal remainders the larger weight; on equal weights the
   partner whose key sorts first (ascending, e.g. the smaller AGS "10043111" before
   "10043112"). Keys must therefore be mutually sortable.

Negative totals (grants, cancellations) are split symmetrically:
``allocate(-x, w) == {k: -v for k, v in allocate(x, w).items()}``. The shares always sum
exactly to the total, a zero weight always gives a zero share, and every share differs
from the exact share by less than one cent. The result lists the partners in key order.

Known property of the method (not a bug): largest remainder is not monotone in the total —
raising the total by a cent can lower one partner's share by a cent while others rise
(Alabama paradox; see the test with weights 8 : 1 : 3). It is monotone in the weights: a
larger weight never carries less than a smaller one within the same split.

The arithmetic runs on integers (cents and integer-scaled weights); Decimal appears only
at the edges, so allocating is exact regardless of the caller's Decimal context. To split
many costs by the same key, validate the weights once with ``prepare`` and pass the
result to ``allocate`` (``bench/bench_allocation.py`` times both ways).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, getcontext, localcontext
from fractions import Fraction
from math import lcm
from typing import Any, Generic, Protocol, TypeVar, cast

from koopboard.domain.catalog import N_
from koopboard.domain.messages import Msg
from koopboard.domain.money import CENT, EXACT, from_cents


class PartnerKey(Protocol):
    """What a partner key must be: hashable and sortable (e.g. an AGS string)."""

    def __hash__(self) -> int: ...

    def __lt__(self, other: Any, /) -> bool: ...


K = TypeVar("K", bound=PartnerKey)
Weight = Decimal | int | Fraction

_INT_ONLY = {int}
_FAST_LIMIT = 10**18  # totals below this many cents take the fast Decimal path

# Marked for the catalogue: the pages show it through Babel (``_(tie_break)``).
TIE_BREAK_RULE = N_(
    "Übrige Cent gehen einzeln an die Partner mit dem größten Rest; bei gleichem Rest "
    "entscheidet das größere Gewicht, bei gleichem Gewicht die Reihenfolge der Schlüssel "
    "(z. B. der kleinere Gemeindeschlüssel zuerst)."
)


class AllocationError(ValueError):
    """Input that cannot be split; the message is German and user-facing."""

    def __init__(self, message: Msg, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def allocate(total: Decimal, weights: Mapping[K, Weight] | Prepared[K]) -> dict[K, Decimal]:
    """Split ``total`` by ``weights`` to the cent (largest remainder, tie-break in module doc)."""
    total_cents = _total_cents(total)
    prepared = weights if type(weights) is Prepared else prepare(weights)
    magnitude = -total_cents if total_cents < 0 else total_cents
    floors, remainders, cut = _split_parts(magnitude, prepared)
    keys = prepared.keys
    if magnitude < _FAST_LIMIT and getcontext().prec >= 28:
        # Hot path: no share exceeds the total, so at most 18 digits — exact in any
        # precision >= 28. ``remainder >= cut`` adds the leftover cent (True == 1).
        # ``int * Decimal`` converts the int exactly inside the C multiplication, a little
        # cheaper than building a Decimal first.
        cent = CENT
        if total_cents >= 0:
            return {
                key: (floor + (rest >= cut)) * cent
                for key, floor, rest in zip(keys, floors, remainders, strict=True)
            }
        return {
            key: (-floor - (rest >= cut)) * cent
            for key, floor, rest in zip(keys, floors, remainders, strict=True)
        }
    shares = _join(floors, remainders, cut, negative=total_cents < 0)
    with localcontext(EXACT):
        return {key: Decimal(share) * CENT for key, share in zip(keys, shares, strict=True)}


def allocate_cents(total_cents: int, weights: Mapping[K, Weight] | Prepared[K]) -> dict[K, int]:
    """Like ``allocate`` but on an int number of cents, for callers that sum many shares."""
    if type(total_cents) is not int:
        raise AllocationError(Msg("Der Betrag in Cent muss eine ganze Zahl (int) sein."), "type")
    prepared = prepare(weights)
    return dict(zip(prepared.keys, _split(total_cents, prepared), strict=True))


class Prepared(Generic[K]):
    """Validated, integer-scaled weights: prepare once, allocate many costs under one key."""

    __slots__ = ("keys", "weights", "scaled", "weight_sum", "indices", "_by_weight")

    def __init__(
        self,
        keys: tuple[K, ...],
        weights: tuple[Weight, ...],
        scaled: tuple[int, ...],
        weight_sum: int,
    ) -> None:
        """Hold already validated weights; build instances with ``prepare``."""
        self.keys = keys  # ascending
        self.weights = weights  # as given, aligned with keys
        self.scaled = scaled  # non-negative integers with the same proportions
        self.weight_sum = weight_sum  # > 0
        self.indices = range(len(keys))
        self._by_weight: list[int] | None = None

    def by_weight(self) -> list[int]:
        """Indices by larger weight first, then smaller key: the tie-break after the remainder."""
        if self._by_weight is None:
            # Keys are ascending and the sort is stable, so equal weights keep key order.
            self._by_weight = sorted(self.indices, key=self.scaled.__getitem__, reverse=True)
        return self._by_weight

    def as_dict(self) -> dict[K, Weight]:
        """The weights as given, in key order."""
        return dict(zip(self.keys, self.weights, strict=True))


def prepare(weights: Mapping[K, Weight] | Prepared[K]) -> Prepared[K]:
    """Validate ``weights`` once for many ``allocate`` calls (raises ``AllocationError``)."""
    if type(weights) is Prepared:
        return weights
    if type(weights) is not dict and not isinstance(weights, Mapping):
        raise AllocationError(Msg("Die Gewichte müssen je Partner angegeben sein."), "type")
    if not weights:
        raise AllocationError(Msg("Es gibt keine Partner, auf die verteilt werden kann."), "empty")
    try:
        keys = sorted(weights)
    except TypeError as exc:
        raise AllocationError(
            Msg(
                "Die Partner lassen sich nicht eindeutig ordnen; die Schlüssel müssen "
                "vergleichbar sein (z. B. alle Gemeindeschlüssel als Text)."
            ),
            "unsortable",
        ) from exc
    values = tuple(map(weights.__getitem__, keys))
    # Plain ints (not bool, not float) need no scaling: the common case, kept fast.
    if {*map(type, values)} == _INT_ONLY:
        scaled = cast("tuple[int, ...]", values)
    else:
        scaled = _scale(keys, values)
    if min(scaled) < 0:
        bad = ", ".join(str(k) for k, v in zip(keys, scaled, strict=True) if v < 0)
        raise AllocationError(
            Msg("Gewichte dürfen nicht negativ sein (betrifft: %(bad)s).", bad=bad),
            "negative_weight",
        )
    weight_sum = sum(scaled)
    if not weight_sum:
        raise AllocationError(
            Msg("Alle Gewichte sind 0; der Betrag lässt sich so auf niemanden verteilen."),
            "all_zero",
        )
    return Prepared(tuple(keys), values, scaled, weight_sum)


@dataclass(frozen=True)
class Why:
    """Why a partner did or did not get a leftover cent, as data: the pages and mails say it
    in the reader's language (``reason`` below is the German sentence).

    ``kind``: "zero" (weight 0), "exact" (no remainder), "extra" (got a leftover cent),
    "none" (no leftover cent). ``rest`` is the remainder in cents, ``position`` the place in
    line by remainder, ``leftover`` the cents handed out; ``rival`` names the partner an
    equal remainder was decided against, ``tie`` says by what ("weight" or "order")."""

    kind: str
    rest: Fraction | None = None
    position: int = 0
    leftover: int = 0
    rival: str | None = None
    tie: str | None = None

    def to_data(self) -> dict[str, Any]:
        """A JSON-safe dict (the remainder as an exact "numerator/denominator")."""
        data: dict[str, Any] = {"kind": self.kind}
        if self.rest is not None:
            data |= {"rest": f"{self.rest.numerator}/{self.rest.denominator}"}
            data |= {"position": self.position, "leftover": self.leftover}
        if self.rival is not None:
            data |= {"rival": self.rival, "tie": self.tie}
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Why:
        rest = data.get("rest")
        return cls(
            kind=str(data["kind"]),
            rest=Fraction(rest) if rest is not None else None,
            position=int(data.get("position", 0)),
            leftover=int(data.get("leftover", 0)),
            rival=data.get("rival"),
            tie=data.get("tie"),
        )


@dataclass(frozen=True)
class ShareLine(Generic[K]):
    """How one partner's share came about: what the key page shows for each partner."""

    partner: K
    weight: Weight  # as given
    fraction: Fraction  # weight / Σ weights, exact
    exact_share: Fraction  # total × fraction in euros, unrounded
    floored: Decimal  # exact share cut to the cent toward zero
    remainder: Fraction  # exact_share − floored in euros, |remainder| < 0,01 €
    rank: int  # 1 = first in line for a leftover cent (tie-break in the module doc)
    extra_cent: bool  # received one of the leftover cents
    share: Decimal  # final share: floored, plus/minus one cent if extra_cent
    why: Why  # the reason as data, for the reader's language

    @property
    def reason(self) -> str:
        """The reason as a German sentence."""
        return german_reason(self.why)

    @property
    def percentage(self) -> Fraction:
        """The exact percentage of the total this partner carries."""
        return self.fraction * 100

    def percent(self, places: int = 3) -> Decimal:
        """The percentage rounded half-up for display (exact value: ``percentage``)."""
        return round_half_up(self.percentage, places)

    @property
    def remainder_cents(self) -> Fraction:
        """The remainder in cents (0 ≤ |value| < 1)."""
        return self.remainder * 100


def explain(
    total: Decimal,
    weights: Mapping[K, Weight] | Prepared[K],
    labels: Mapping[K, str] | None = None,
) -> list[ShareLine[K]]:
    """Show per partner how ``allocate`` arrives at its share, in the same key order.

    A reason that names another partner (the one a tie was decided against) uses its
    ``labels`` entry, e.g. "Illingen (AGS 10043112)" for the key "10043112"; without one,
    the key itself."""
    total_cents = _total_cents(total)
    prepared = prepare(weights)
    keys, scaled, weight_sum = prepared.keys, prepared.scaled, prepared.weight_sum
    shares = _split(total_cents, prepared)
    sign = -1 if total_cents < 0 else 1
    magnitude = abs(total_cents)
    floors_and_rests = [divmod(magnitude * weight, weight_sum) for weight in scaled]
    remainders = [rest for _, rest in floors_and_rests]
    order = _order(remainders, prepared)
    leftover = magnitude - sum(floor for floor, _ in floors_and_rests)
    rank_of = {index: position + 1 for position, index in enumerate(order)}
    lines: list[ShareLine[K]] = []
    for index, key in enumerate(keys):
        fraction = Fraction(scaled[index], weight_sum)
        floored_cents, rest = floors_and_rests[index]
        rank = rank_of[index]
        lines.append(
            ShareLine(
                partner=key,
                weight=prepared.weights[index],
                fraction=fraction,
                exact_share=Fraction(total_cents, 100) * fraction,
                floored=from_cents(sign * floored_cents),
                remainder=Fraction(sign * rest, weight_sum * 100),
                rank=rank,
                extra_cent=rank <= leftover,
                share=from_cents(shares[index]),
                why=_why(index, keys, scaled, remainders, order, leftover, labels or {}),
            )
        )
    return lines


def _total_cents(total: Decimal) -> int:
    """Validate the amount to split and return it in cents."""
    if type(total) is not Decimal:
        if isinstance(total, float):
            raise AllocationError(
                Msg("Beträge dürfen keine Gleitkommazahlen (float) sein; bitte Decimal verwenden."),
                "float",
            )
        if not isinstance(total, Decimal):
            raise AllocationError(
                Msg("Der Betrag muss ein Decimal sein, nicht %(type)s.", type=type(total).__name__),
                "type",
            )
    if not total.is_finite():
        raise AllocationError(Msg("„%(raw)s“ ist kein Betrag.", raw=total), "not_a_number")
    numerator, denominator = total.as_integer_ratio()
    value, rest = divmod(numerator * 100, denominator)
    if rest:
        raise AllocationError(
            Msg(
                "Der Betrag %(raw)s hat mehr als zwei Nachkommastellen; nur ganze Cent lassen "
                "sich verteilen.",
                raw=total,
            ),
            "too_many_decimals",
        )
    return value


def _scale(keys: Sequence[K], values: Sequence[object]) -> tuple[int, ...]:
    """Turn int, Decimal and Fraction weights into integers with the same proportions."""
    ratios: list[tuple[int, int]] = []
    for key, value in zip(keys, values, strict=True):
        if type(value) is int:
            ratios.append((value, 1))
        elif isinstance(value, Decimal):
            if not value.is_finite():
                raise AllocationError(
                    Msg(
                        "Das Gewicht von %(key)s ist keine Zahl (%(value)s).", key=key, value=value
                    ),
                    "not_a_number",
                )
            ratios.append(value.as_integer_ratio())
        elif isinstance(value, Fraction):
            ratios.append((value.numerator, value.denominator))
        elif isinstance(value, float):
            raise AllocationError(
                Msg(
                    "Das Gewicht von %(key)s ist eine Gleitkommazahl (float); bitte Decimal, "
                    "int oder Fraction verwenden.",
                    key=key,
                ),
                "float",
            )
        elif isinstance(value, int) and not isinstance(value, bool):
            ratios.append((int(value), 1))
        else:
            raise AllocationError(
                Msg(
                    "Das Gewicht von %(key)s muss eine Zahl sein, nicht %(type)s.",
                    key=key,
                    type=type(value).__name__,
                ),
                "type",
            )
    common = lcm(*(denominator for _, denominator in ratios))
    return tuple(numerator * (common // denominator) for numerator, denominator in ratios)


def _split(total_cents: int, prepared: Prepared[K]) -> list[int]:
    """Largest remainder on integers: each partner's share in cents, in key order."""
    magnitude = -total_cents if total_cents < 0 else total_cents
    floors, remainders, cut = _split_parts(magnitude, prepared)
    return _join(floors, remainders, cut, negative=total_cents < 0)


def _split_parts(magnitude: int, prepared: Prepared[K]) -> tuple[list[int], list[int], int]:
    """Floors, remainders and the cut: partner i gets ``floors[i] + (remainders[i] >= cut)``."""
    scaled = prepared.scaled
    weight_sum = prepared.weight_sum
    floors = [magnitude * weight // weight_sum for weight in scaled]
    remainders = [magnitude * weight % weight_sum for weight in scaled]
    leftover = magnitude - sum(floors)  # 0 <= leftover < number of partners
    if not leftover:
        return floors, remainders, weight_sum  # no remainder reaches weight_sum
    ranked = sorted(remainders)
    cut = ranked[-leftover]  # the smallest remainder that still gets a cent
    if ranked[-leftover - 1] != cut:
        return floors, remainders, cut  # exactly ``leftover`` remainders are >= cut
    # Equal remainders across the cut: the full tie-break decides who gets the cents.
    for index in _order(remainders, prepared)[:leftover]:
        floors[index] += 1
    return floors, remainders, weight_sum


def _join(floors: list[int], remainders: list[int], cut: int, *, negative: bool) -> list[int]:
    """Shares in cents from ``_split_parts``, negated for negative totals."""
    if negative:
        return [-(floor + (rest >= cut)) for floor, rest in zip(floors, remainders, strict=True)]
    return [floor + (rest >= cut) for floor, rest in zip(floors, remainders, strict=True)]


def _order(remainders: list[int], prepared: Prepared[K]) -> list[int]:
    """All indices by larger remainder, then larger weight, then smaller key."""
    return sorted(prepared.by_weight(), key=remainders.__getitem__, reverse=True)


def _why(
    index: int,
    keys: Sequence[K],
    scaled: Sequence[int],
    remainders: Sequence[int],
    order: Sequence[int],
    leftover: int,
    labels: Mapping[K, str],
) -> Why:
    """Why this partner did or did not receive a leftover cent."""
    if scaled[index] == 0:
        return Why("zero")
    rest = remainders[index]
    if rest == 0:
        return Why("exact")
    position = order.index(index) + 1
    rest_cents = Fraction(rest, sum(scaled))
    if position <= leftover:
        kind = "extra"
        # The first partner left without a cent is the one it might have tied with.
        rival = order[leftover] if leftover < len(order) else None
    else:
        kind = "none"
        rival = order[leftover - 1]  # the last partner that still got a cent
    if rival is None or remainders[rival] != rest:
        return Why(kind, rest_cents, position, leftover)
    other = labels.get(keys[rival], str(keys[rival]))
    tie = "weight" if scaled[index] != scaled[rival] else "order"
    return Why(kind, rest_cents, position, leftover, other, tie)


def german_reason(why: Why) -> str:
    """Say in German why a partner did or did not receive a leftover cent."""
    if why.kind == "zero":
        return "Gewicht 0: kein Anteil."
    if why.kind == "exact" or why.rest is None:
        return "Der Anteil geht auf den Cent genau auf: kein Rest, kein zusätzlicher Cent."
    rest_text = f"Rest {_german(why.rest, 4)} Cent, Platz {why.position} nach Rest"
    if why.kind == "extra":
        if why.leftover == 1:
            text = f"{rest_text}: erhält den einen übrigen Cent."
        else:
            text = f"{rest_text}: erhält 1 der {why.leftover} übrigen Cent."
    else:
        text = f"{rest_text}: kein zusätzlicher Cent ({_leftover_text(why.leftover)})."
    if why.rival is None:
        return text
    if why.tie == "weight":
        return f"{text} Gleicher Rest wie {why.rival}: das größere Gewicht entscheidet."
    return (
        f"{text} Gleicher Rest und gleiches Gewicht wie {why.rival}: "
        "die Reihenfolge der Schlüssel entscheidet."
    )


def _leftover_text(leftover: int) -> str:
    """German for how many cents were left to hand out."""
    if leftover == 1:
        return "nur 1 Cent übrig"
    return f"nur {leftover} Cent übrig"


def round_half_up(value: Fraction, places: int) -> Decimal:
    """Round a Fraction half away from zero to ``places`` decimals, exactly."""
    magnitude, rest = divmod(abs(value.numerator) * 10**places, value.denominator)
    if 2 * rest >= value.denominator:
        magnitude += 1
    sign = "-" if value < 0 and magnitude else ""
    return Decimal(f"{sign}{magnitude}e-{places}")


def _german(value: Fraction, places: int) -> str:
    """Format a Fraction with a decimal comma, rounded half-up; "≈" when not exact."""
    rounded = round_half_up(value, places)
    if Fraction(rounded) != value:
        return "≈ " + f"{rounded:f}".replace(".", ",")
    text = f"{rounded:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")
