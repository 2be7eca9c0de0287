"""Cost-sharing keys as weight builders, and who takes part on a booking date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koopboard.domain.allocation import allocate
from koopboard.domain.keys import (
    KeyKind,
    MixedBasis,
    Population,
    SharingKeyError,
    Usage,
    active_partners,
    by_population,
    by_usage,
    check_participants,
    equal,
    fixed_percentages,
    format_percent,
    integer_weights,
    is_active,
    mixed,
    parse_percent,
)
from koopboard.domain.money import from_cents

EPPELBORN, ILLINGEN, MERCHWEILER = "10043111", "10043112", "10043113"
STICHTAG = date(2019, 12, 31)
SOURCE = "Destatis Gemeindeverzeichnis, Stand 31.12.2019"
POPULATIONS = {
    MERCHWEILER: Population(9872, STICHTAG, SOURCE),
    ILLINGEN: Population(16122, STICHTAG, SOURCE),
    EPPELBORN: Population(16615, STICHTAG, SOURCE),
}
TOTAL = Decimal("12345.67")


def test_equal_key() -> None:
    key = equal([MERCHWEILER, ILLINGEN, EPPELBORN])
    assert key.kind is KeyKind.EQUAL and key.kind.label == "zu gleichen Teilen"
    assert allocate(TOTAL, key.weights) == {
        EPPELBORN: Decimal("4115.23"),  # 1 234 567 ct / 3 = 411 522 rest 1: smallest AGS
        ILLINGEN: Decimal("4115.22"),
        MERCHWEILER: Decimal("4115.22"),
    }
    assert set(key.percentages().values()) == {Fraction(100, 3)}
    with pytest.raises(SharingKeyError, match="mehrfach"):
        equal([MERCHWEILER, MERCHWEILER])
    with pytest.raises(SharingKeyError, match="mindestens einen Partner"):
        equal([])


def test_population_key_carries_stichtag_and_source() -> None:
    key = by_population(POPULATIONS)
    assert key.weights == {MERCHWEILER: 9872, ILLINGEN: 16122, EPPELBORN: 16615}
    assert key.basis[ILLINGEN] == Population(16122, STICHTAG, SOURCE)
    assert key.description == "nach Einwohnerzahl (Stichtag 31.12.2019)"
    shares = allocate(TOTAL, key.weights)
    assert shares[MERCHWEILER] == Decimal("2860.35")  # worked by hand in test_allocation
    assert sum(shares.values()) == TOTAL


@pytest.mark.parametrize(
    ("populations", "german"),
    [
        ({MERCHWEILER: Population(0, STICHTAG, SOURCE)}, "Alle Einwohnerzahlen sind 0"),
        ({MERCHWEILER: Population(-5, STICHTAG, SOURCE)}, "nicht negativ"),
        ({MERCHWEILER: Population(98.5, STICHTAG, SOURCE)}, "ganze Zahl"),  # type: ignore[arg-type]
        ({MERCHWEILER: 9872}, "fehlt die Einwohnerzahl mit Stichtag"),
        ({}, "mindestens einen Partner"),
    ],
)
def test_population_key_refuses_bad_figures(populations: dict, german: str) -> None:
    with pytest.raises(SharingKeyError, match=german):
        by_population(populations)


def test_fixed_percentages_33_333_33_333_33_334() -> None:
    key = fixed_percentages(
        {EPPELBORN: Decimal("33.333"), ILLINGEN: Decimal("33.333"), MERCHWEILER: Decimal("33.334")}
    )
    assert key.percentages()[MERCHWEILER] == Fraction("33.334")
    shares = allocate(TOTAL, key.weights)
    # 1 234 567 ct × 33,333 % = 411 518,22 ct (twice), × 33,334 % = 411 530,56 ct:
    # floors 411 518 + 411 518 + 411 530 = 1 234 566, the cent goes to the ,56 remainder.
    assert shares == {
        EPPELBORN: Decimal("4115.18"),
        ILLINGEN: Decimal("4115.18"),
        MERCHWEILER: Decimal("4115.31"),
    }


@pytest.mark.parametrize(
    ("percentages", "code", "german"),
    [
        (
            {"a": Decimal("33.333"), "b": Decimal("33.333"), "c": Decimal("33.333")},
            "sum_not_100",
            "ergeben zusammen 99,999\u00a0% statt genau 100 %",
        ),
        ({"a": Decimal("50"), "b": Decimal("50.001")}, "sum_not_100", "100,001\u00a0%"),
        ({"a": 60, "b": 60}, "sum_not_100", "120\u00a0%"),
        (
            {"a": Decimal("33.3333"), "b": Decimal("66.6667")},
            "too_many_decimals",
            "mehr als drei Nachkommastellen (33,3333 %)",
        ),
        ({"a": Decimal("-10"), "b": Decimal("110")}, "negative", "nicht negativ"),
        ({"a": Decimal("150")}, "over_100", "höchstens 100 %"),
        ({"a": 50.0, "b": 50}, "float", "Gleitkommazahl"),
        ({"a": "50", "b": 50}, "type", "muss eine Zahl sein"),
        ({"a": Decimal("NaN")}, "not_a_number", "keine Zahl"),
        ({}, "empty", "mindestens einen Partner"),
    ],
)
def test_fixed_percentages_refused_in_german(percentages: dict, code: str, german: str) -> None:
    with pytest.raises(SharingKeyError) as caught:
        fixed_percentages(percentages)
    assert caught.value.code == code
    assert german in caught.value.message


def test_usage_key() -> None:
    key = by_usage({"a": 120, "b": Decimal("80.5"), "c": 0}, unit="Schüler", year=2026)
    assert key.basis["b"] == Usage(Decimal("80.5"), "Schüler", 2026)
    assert key.description == "nach Schüler im Jahr 2026"
    assert allocate(Decimal("1000.00"), key.weights) == {
        "a": Decimal("598.50"),
        "b": Decimal("401.50"),
        "c": Decimal("0.00"),
    }
    with pytest.raises(SharingKeyError, match="Alle Nutzungseinheiten"):
        by_usage({"a": 0}, unit="Fälle", year=2026)
    with pytest.raises(SharingKeyError, match="Einheit"):
        by_usage({"a": 1}, unit=" ", year=2026)
    with pytest.raises(SharingKeyError, match="nicht negativ"):
        by_usage({"a": -1, "b": 3}, unit="Fälle", year=2026)


def test_mixed_key_30_sockel_70_population_is_exact() -> None:
    key = mixed(POPULATIONS, base_percent=30)
    assert key.description == "30\u00a0% Sockel zu gleichen Teilen, 70\u00a0% nach Einwohnerzahl"
    basis = key.basis[MERCHWEILER]
    assert isinstance(basis, MixedBasis)
    assert basis.base_percent == 10
    assert basis.population_percent == Fraction(70 * 9872, 42609)
    assert key.percentages() == {k: b.percent for k, b in key.basis.items()}  # type: ignore[union-attr]
    assert all(type(w) is int for w in key.weights.values())  # exact, one rounding step
    shares = allocate(TOTAL, key.weights)
    # 1 234 567 ct × (10 % + 70 % × population / 42 609):
    #   Merchweiler 323 680,873 ct, Illingen 450 443,544 ct, Eppelborn 460 442,583 ct;
    #   floors sum to 1 234 565, the two cents go to the remainders ,873 and ,583.
    assert shares == {
        EPPELBORN: Decimal("4604.43"),
        ILLINGEN: Decimal("4504.43"),
        MERCHWEILER: Decimal("3236.81"),
    }
    assert sum(shares.values()) == TOTAL


def test_mixed_key_edges_match_the_pure_keys() -> None:
    population = allocate(TOTAL, by_population(POPULATIONS).weights)
    assert allocate(TOTAL, mixed(POPULATIONS, base_percent=0).weights) == population
    same = allocate(TOTAL, equal(list(POPULATIONS)).weights)
    assert allocate(TOTAL, mixed(POPULATIONS, base_percent=Decimal("100")).weights) == same
    nobody = {k: Population(0, STICHTAG, SOURCE) for k in POPULATIONS}
    assert allocate(TOTAL, mixed(nobody, base_percent=100).weights) == same
    with pytest.raises(SharingKeyError, match="Einwohneranteil"):
        mixed(nobody, base_percent=30)
    with pytest.raises(SharingKeyError, match="Sockelanteil hat mehr als drei"):
        mixed(POPULATIONS, base_percent=Decimal("30.0001"))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=4_000_000), min_size=1, max_size=20).map(
        lambda pops: pops if any(pops) else [1, *pops[1:]]
    ),
    st.integers(min_value=0, max_value=100_000),
    st.integers(min_value=-(10**9), max_value=10**9),
)
def test_mixed_weights_are_the_exact_percentages(pops: list, base: int, total: int) -> None:
    populations = {f"{i:08d}": Population(p, STICHTAG, SOURCE) for i, p in enumerate(pops)}
    base_percent = Decimal(base).scaleb(-3)
    key = mixed(populations, base_percent=base_percent)
    total_population = sum(pops)
    for (partner, figure), weight in zip(populations.items(), key.weights.values(), strict=True):
        exact = Fraction(base_percent) / len(pops)
        exact += (100 - Fraction(base_percent)) * figure.count / total_population
        assert key.percentages()[partner] == exact
        assert weight >= 0
    assert sum(allocate(from_cents(total), key.weights).values()) == from_cents(total)


def test_integer_weights_are_smallest() -> None:
    assert integer_weights({"a": Fraction(1, 3), "b": Fraction(1, 6)}) == {"a": 2, "b": 1}
    assert integer_weights({"a": Fraction(0), "b": Fraction(4)}) == {"a": 0, "b": 1}


@dataclass(frozen=True)
class Partner:
    key: str
    joined_on: date
    left_on: date | None = None


def test_active_partners_on_the_booking_date() -> None:
    founder = Partner("a", date(2024, 1, 1))
    leaver = Partner("b", date(2024, 1, 1), left_on=date(2027, 1, 1))  # "zum 31.12.2026"
    newcomer = Partner("c", date(2026, 7, 1))
    partners = [founder, leaver, newcomer]
    assert active_partners(partners, date(2026, 6, 30)) == [founder, leaver]
    assert active_partners(partners, date(2026, 7, 1)) == partners  # joining day counts
    assert active_partners(partners, date(2026, 12, 31)) == partners  # last day still in
    assert active_partners(partners, date(2027, 1, 1)) == [founder, newcomer]  # left_on: out
    assert active_partners(partners, date(2023, 12, 31)) == []
    assert is_active(leaver, date(2026, 12, 31)) and not is_active(leaver, date(2027, 1, 1))
    with pytest.raises(SharingKeyError, match="nicht nach dem Beitritt"):
        active_partners([Partner("x", date(2026, 1, 1), left_on=date(2026, 1, 1))], date.today())


def test_a_key_naming_a_partner_that_has_left_is_refused() -> None:
    booked = date(2027, 3, 1)
    with pytest.raises(SharingKeyError) as caught:
        check_participants(["a", "b", "c"], ["a", "c"], booked, names={"b": "Illingen"})
    assert caught.value.code == "inactive_partner"
    assert caught.value.message == (
        "Der Schlüssel nennt Partner, die am 01.03.2027 nicht beteiligt sind: Illingen."
    )
    with pytest.raises(SharingKeyError, match="es fehlen: c") as caught:
        check_participants(["a"], ["a", "c"], booked)
    assert caught.value.code == "missing_partner"
    check_participants(["c", "a"], ["a", "c"], booked)  # same partners: fine


@pytest.mark.parametrize(
    ("text", "value"),
    [("33,333", "33.333"), ("30 %", "30"), ("100", "100"), ("0,5\u00a0%", "0.5")],
)
def test_parse_percent(text: str, value: str) -> None:
    assert parse_percent(text) == Decimal(value)


@pytest.mark.parametrize(
    ("text", "german"),
    [
        ("33.333", "kein gültiger Prozentsatz"),
        ("33,3333", "mehr als drei Nachkommastellen"),
        ("101", "höchstens 100 %"),
        ("-5", "kein gültiger Prozentsatz"),
        ("", "kein gültiger Prozentsatz"),
    ],
)
def test_parse_percent_refuses_in_german(text: str, german: str) -> None:
    with pytest.raises(SharingKeyError, match=german):
        parse_percent(text)


def test_format_percent() -> None:
    assert format_percent(Decimal("33.334")) == "33,334\u00a0%"
    assert format_percent(Decimal("100.000")) == "100\u00a0%"
    assert format_percent(Fraction(100, 3)) == "≈ 33,333\u00a0%"
    assert format_percent(Fraction(70 * 9872, 42609), 2) == "≈ 16,22\u00a0%"
