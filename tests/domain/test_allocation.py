"""Largest-remainder allocation: exact to the cent, order-independent, documented tie-break."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koopboard.domain.allocation import (
    TIE_BREAK_RULE,
    AllocationError,
    Weight,
    allocate,
    allocate_cents,
    explain,
    prepare,
)
from koopboard.domain.money import MAX_CENTS, from_cents

EPPELBORN, ILLINGEN, MERCHWEILER = "10043111", "10043112", "10043113"
POPULATION = {MERCHWEILER: 9872, ILLINGEN: 16122, EPPELBORN: 16615}
CENT = Fraction(1, 100)
CENT_D = Decimal("0.01")


def reference(total: Decimal, weights: Mapping[str, Weight]) -> dict[str, Decimal]:
    """The documented rule, written plainly with Fractions: the oracle for ``allocate``."""
    fractions = {key: Fraction(w) for key, w in weights.items()}
    weight_sum = sum(fractions.values())
    total_cents = int(total * 100)
    sign = -1 if total_cents < 0 else 1
    exact = {key: abs(total_cents) * w / weight_sum for key, w in fractions.items()}  # cents
    floored = {key: math.floor(value) for key, value in exact.items()}
    leftover = abs(total_cents) - sum(floored.values())
    ranked = sorted(weights, key=lambda k: (-(exact[k] - floored[k]), -fractions[k], k))
    for key in ranked[:leftover]:
        floored[key] += 1
    return {key: from_cents(sign * floored[key]) for key in sorted(weights)}


# --- strategies: few draws per case, so thousands of cases stay fast -------------------
def _ags_like(index: int) -> str:
    """Distinct 8-digit keys whose sort order differs from the insertion order."""
    return f"{10041000 + (index * 7919) % 3001:08d}"


def _weights(mode: int, raw: list[int]) -> dict[str, Weight]:
    """Turn raw integers into one kind of weight map: ties, ints, Decimals, Fractions, mixed."""
    kinds = {
        0: lambda i, v: v % 4,  # many ties and zeros
        1: lambda i, v: v,
        2: lambda i, v: Decimal(v).scaleb(-3),  # three decimals, like percentages
        3: lambda i, v: Fraction(v, 1 + i % 7),
        4: lambda i, v: (v % 4, Decimal(v % 4), Fraction(v % 4))[i % 3],  # equal across types
        5: lambda i, v: (v, Decimal(v).scaleb(-2), Fraction(v, 3))[i % 3],
    }
    make = kinds[mode]
    weights = {_ags_like(i): make(i, v) for i, v in enumerate(raw)}
    if not any(weights.values()):
        weights[_ags_like(0)] = 1  # at least one positive weight; all-zero is tested apart
    return weights


def _raw(data: bytes) -> list[int]:
    """Up to 20 integers from one byte string: a single draw keeps thousands of cases fast."""
    return [int.from_bytes(data[i : i + 3], "big") for i in range(0, len(data), 3)]


weight_maps = st.builds(
    _weights,
    st.integers(min_value=0, max_value=5),
    st.binary(min_size=1, max_size=60).map(_raw),
)
# Small totals (many leftover cents relative to the amount) and huge ones, always drawn the
# same way: a fixed shape of draws keeps Hypothesis from wasting cases.
totals = st.builds(
    lambda small, large, use_small: from_cents(small if use_small else large),
    st.integers(min_value=-300, max_value=300),
    st.integers(min_value=-MAX_CENTS, max_value=MAX_CENTS),
    st.booleans(),
)


# --- core properties (2000 examples each) ------------------------------------------------
@settings(max_examples=2000, deadline=None)
@given(totals, weight_maps)
def test_matches_the_documented_rule_and_is_exact(total: Decimal, weights: dict) -> None:
    shares = allocate(total, weights)
    assert shares == reference(total, weights)  # incl. the tie-break, to the cent
    assert sum(shares.values()) == total  # sums exactly
    assert list(shares) == sorted(weights)  # partners in key order
    weight_sum = sum(Fraction(w) for w in weights.values())
    for key, share in shares.items():
        assert share.as_tuple().exponent == -2
        exact = Fraction(total) * Fraction(weights[key]) / weight_sum
        assert abs(Fraction(share) - exact) < CENT  # within one cent of the exact share
        if weights[key] == 0:
            assert share == 0  # zero weight, zero share


@settings(max_examples=2000, deadline=None)
@given(totals, weight_maps, st.integers(min_value=0, max_value=2**32))
def test_order_independent_symmetric_and_monotone(total: Decimal, weights: dict, seed: int) -> None:
    shares = allocate(total, weights)

    # The partners' order does not matter, not even for the order of the result.
    items = list(weights.items())
    random.Random(seed).shuffle(items)
    assert list(allocate(total, dict(items)).items()) == list(shares.items())

    # Grants and cancellations: allocate(-x) == -allocate(x) for every partner.
    assert allocate(-total, weights) == {key: -share for key, share in shares.items()}

    # A larger weight never carries less; equal weights differ by at most one cent.
    ordered = sorted(weights, key=lambda k: Fraction(weights[k]))
    for smaller, larger in zip(ordered, ordered[1:], strict=False):
        low, high = abs(shares[smaller]), abs(shares[larger])
        if Fraction(weights[smaller]) < Fraction(weights[larger]):
            assert high >= low
        else:
            assert abs(high - low) <= CENT_D


# --- further properties (fewer examples) --------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(totals, weight_maps)
def test_prepared_weights_and_cents_give_the_same_shares(total: Decimal, weights: dict) -> None:
    prepared = prepare(weights)
    shares = allocate(total, weights)
    assert allocate(total, prepared) == shares
    cents = allocate_cents(int(total * 100), prepared)
    assert {key: from_cents(value) for key, value in cents.items()} == shares


@settings(max_examples=200, deadline=None)
@given(totals, weight_maps)
def test_explain_shows_how_every_cent_falls(total: Decimal, weights: dict) -> None:
    lines = explain(total, weights)
    shares = allocate(total, weights)
    assert [line.partner for line in lines] == list(shares)
    assert sum(line.fraction for line in lines) == 1
    extra = sum(line.extra_cent for line in lines)
    assert sorted(line.rank for line in lines) == list(range(1, len(lines) + 1))
    for line in lines:
        assert line.share == shares[line.partner]
        assert Fraction(line.floored) + line.remainder == line.exact_share
        assert abs(line.remainder) < CENT
        step = Decimal("0.01") if total >= 0 else Decimal("-0.01")
        assert line.share == line.floored + (step if line.extra_cent else 0)
        assert line.extra_cent == (line.rank <= extra)
        assert line.reason
    assert sum(line.share for line in lines) == total


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1, max_value=10**6),
    st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=10),
    st.integers(min_value=2, max_value=1000),
)
def test_scaling_all_weights_changes_nothing(total_cents: int, weights: list, factor: int) -> None:
    base = {f"{i:08d}": w for i, w in enumerate(weights)}
    scaled = {key: Decimal(w * factor) / 1000 for key, w in base.items()}
    assert allocate(from_cents(total_cents), base) == allocate(from_cents(total_cents), scaled)


# --- examples ----------------------------------------------------------------------------
def test_journey_two_split_by_population() -> None:
    """12.345,67 € by the population of Merchweiler, Illingen and Eppelborn, by hand.

    Σ population = 9 872 + 16 122 + 16 615 = 42 609; total = 1 234 567 cents.
    Merchweiler 1 234 567 × 9 872 / 42 609 = 286 034 + 22 718/42 609 (0,5332 ct)
    Illingen    1 234 567 × 16 122 / 42 609 = 467 124 +  2 658/42 609 (0,0624 ct)
    Eppelborn   1 234 567 × 16 615 / 42 609 = 481 408 + 17 233/42 609 (0,4044 ct)
    Floors sum to 1 234 566: one cent left, it goes to the largest remainder (Merchweiler).
    """
    shares = allocate(Decimal("12345.67"), POPULATION)
    assert shares == {
        EPPELBORN: Decimal("4814.08"),
        ILLINGEN: Decimal("4671.24"),
        MERCHWEILER: Decimal("2860.35"),
    }
    assert sum(shares.values()) == Decimal("12345.67")
    lines = {line.partner: line for line in explain(Decimal("12345.67"), POPULATION)}
    merchweiler = lines[MERCHWEILER]
    assert merchweiler.floored == Decimal("2860.34")
    assert merchweiler.remainder_cents == Fraction(22718, 42609)
    assert merchweiler.extra_cent and merchweiler.rank == 1
    assert merchweiler.percent() == Decimal("23.169")
    assert "erhält den einen übrigen Cent" in merchweiler.reason
    assert [lines[k].rank for k in (EPPELBORN, ILLINGEN)] == [2, 3]
    assert "kein zusätzlicher Cent" in lines[ILLINGEN].reason


def test_a_grant_is_split_symmetrically() -> None:
    shares = allocate(Decimal("-12345.67"), POPULATION)
    assert shares[MERCHWEILER] == Decimal("-2860.35")
    assert sum(shares.values()) == Decimal("-12345.67")
    # No negative zero ("-0.00") for partners that get nothing of a negative amount.
    tiny = allocate(Decimal("-0.01"), {"a": 1, "b": 1, "c": 0})
    assert [str(share) for share in tiny.values()] == ["-0.01", "0.00", "0.00"]


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        # 33,333 % / 33,333 % / 33,334 %: every remainder differs, the largest wins.
        ("100.00", ("33.33", "33.33", "33.34")),
        ("0.01", ("0.00", "0.00", "0.01")),
        ("0.02", ("0.01", "0.00", "0.01")),  # equal remainders 0,666 ct: smaller key first
        ("1000.00", ("333.33", "333.33", "333.34")),
    ],
)
def test_fixed_percentages(total: str, expected: tuple[str, str, str]) -> None:
    weights = {"a": Decimal("33.333"), "b": Decimal("33.333"), "c": Decimal("33.334")}
    assert allocate(Decimal(total), weights) == dict(
        zip("abc", map(Decimal, expected), strict=True)
    )


def test_one_cent_among_three_equal_partners_goes_to_the_smallest_key() -> None:
    weights = {MERCHWEILER: 1, EPPELBORN: 1, ILLINGEN: 1}
    shares = allocate(Decimal("0.01"), weights)
    assert shares == {EPPELBORN: Decimal("0.01"), ILLINGEN: Decimal("0"), MERCHWEILER: 0}
    lines = explain(Decimal("0.01"), weights)
    assert [line.rank for line in lines] == [1, 2, 3]
    assert all("Reihenfolge der Schlüssel" in line.reason for line in lines)
    assert allocate(Decimal("-0.01"), weights)[EPPELBORN] == Decimal("-0.01")


def test_on_equal_remainders_the_larger_weight_wins_and_totals_are_not_monotone() -> None:
    """Weights 8 : 1 : 3. At 0,17 € b has the largest remainder; at 0,18 € b and c tie at
    half a cent and c's larger weight wins — b's share falls from 0,02 € to 0,01 € although
    the total rose (Alabama paradox, inherent to largest remainder; documented)."""
    weights = {"a": 8, "b": 1, "c": 3}
    assert allocate(Decimal("0.17"), weights) == {
        "a": Decimal("0.11"),
        "b": 2 * CENT_D,
        "c": Decimal("0.04"),
    }
    assert allocate(Decimal("0.18"), weights) == {
        "a": Decimal("0.12"),
        "b": CENT_D,
        "c": Decimal("0.05"),
    }
    reason = {line.partner: line.reason for line in explain(Decimal("0.18"), weights)}
    assert "das größere Gewicht entscheidet" in reason["b"]


def test_zero_weight_gets_nothing_even_with_cents_left() -> None:
    assert allocate(Decimal("0.05"), {"a": 1, "b": 0, "c": 1}) == {
        "a": Decimal("0.03"),
        "b": Decimal("0.00"),
        "c": Decimal("0.02"),
    }
    assert explain(Decimal("0.05"), {"a": 1, "b": 0, "c": 1})[1].reason == "Gewicht 0: kein Anteil."


def test_exact_regardless_of_the_callers_decimal_context() -> None:
    weights = {"a": 1, "b": 2}
    big = Decimal("99999999999999999999999.99")
    with localcontext() as context:
        context.prec = 3
        shares = allocate(big, weights)
    assert shares == {
        "a": Decimal("33333333333333333333333.33"),
        "b": Decimal("66666666666666666666666.66"),
    }
    assert sum(shares.values()) == big


def test_integer_cents_api() -> None:
    assert allocate_cents(-5, {"a": 1, "b": 1}) == {"a": -3, "b": -2}
    with pytest.raises(AllocationError):
        allocate_cents(Decimal("5"), {"a": 1})  # type: ignore[arg-type]


def test_tie_break_rule_is_stated_for_users() -> None:
    assert "größten Rest" in TIE_BREAK_RULE and "Gewicht" in TIE_BREAK_RULE


# --- invalid input: each a clear German message -------------------------------------------
@pytest.mark.parametrize(
    ("total", "weights", "code", "german"),
    [
        (Decimal("10"), {"a": 1, "b": -1}, "negative_weight", "nicht negativ"),
        (Decimal("10"), {"a": Decimal("-0.5")}, "negative_weight", "betrifft: a"),
        (Decimal("10"), {"a": 0, "b": Decimal("0.000")}, "all_zero", "Alle Gewichte sind 0"),
        (Decimal("10"), {}, "empty", "keine Partner"),
        (Decimal("0.001"), {"a": 1}, "too_many_decimals", "mehr als zwei Nachkommastellen"),
        (Decimal("1.005"), {"a": 1}, "too_many_decimals", "ganze Cent"),
        (10.0, {"a": 1}, "float", "Gleitkommazahl"),
        (10, {"a": 1}, "type", "muss ein Decimal sein"),
        ("10", {"a": 1}, "type", "muss ein Decimal sein"),
        (Decimal("NaN"), {"a": 1}, "not_a_number", "kein Betrag"),
        (Decimal("Infinity"), {"a": 1}, "not_a_number", "kein Betrag"),
        (Decimal("10"), {"a": 0.5}, "float", "Gleitkommazahl"),
        (Decimal("10"), {"a": True}, "type", "muss eine Zahl sein"),
        (Decimal("10"), {"a": "1"}, "type", "muss eine Zahl sein"),
        (Decimal("10"), {"a": Decimal("NaN")}, "not_a_number", "keine Zahl"),
        (Decimal("10"), {"a": 1, 2: 1}, "unsortable", "vergleichbar"),
        (Decimal("10"), [("a", 1)], "type", "je Partner"),
    ],
)
def test_invalid_input_is_refused_in_german(
    total: object, weights: object, code: str, german: str
) -> None:
    with pytest.raises(AllocationError) as caught:
        allocate(total, weights)  # type: ignore[arg-type]
    assert caught.value.code == code
    assert german in caught.value.message
