"""Balances and the fewest transfers to settle them between partners."""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koopboard.domain import settlement
from koopboard.domain.allocation import allocate
from koopboard.domain.money import from_cents
from koopboard.domain.settlement import (
    Balance,
    SettlementError,
    Transfer,
    apply_transfers,
    balances,
    minimal_transfers,
)

EPPELBORN, ILLINGEN, MERCHWEILER = "10043111", "10043112", "10043113"
POPULATION = {MERCHWEILER: 9872, ILLINGEN: 16122, EPPELBORN: 16615}
D = Decimal


def test_journey_two_balances_and_transfers() -> None:
    """Illingen pays a 12.345,67 € invoice, Eppelborn pays an advance of 3.000 € to it."""
    shares = allocate(D("12345.67"), POPULATION)
    advance = Transfer(EPPELBORN, ILLINGEN, D("3000.00"))
    result = balances([shares], outlays=[(ILLINGEN, D("12345.67"))], transfers=[advance])
    assert list(result) == [EPPELBORN, ILLINGEN, MERCHWEILER]
    assert result[ILLINGEN] == Balance(ILLINGEN, owed=D("4671.24"), paid=D("9345.67"))
    assert result[ILLINGEN].net == D("4674.43")
    assert result[EPPELBORN].open == D("1814.08")  # 4.814,08 share − 3.000,00 paid
    assert result[MERCHWEILER].net == D("-2860.35")
    assert sum(b.net for b in result.values()) == 0
    transfers = minimal_transfers(result.values())
    assert transfers == [
        Transfer(EPPELBORN, ILLINGEN, D("1814.08")),
        Transfer(MERCHWEILER, ILLINGEN, D("2860.35")),
    ]
    assert str(transfers[0]) == "10043111 → 10043112: 1.814,08\u00a0€"


def test_a_grant_received_lowers_what_everyone_owes() -> None:
    grant = allocate(D("-1000.00"), {"a": 1, "b": 1})
    cost = allocate(D("3000.00"), {"a": 1, "b": 1})
    result = balances([cost, grant], outlays=[("a", D("3000.00")), ("b", D("-1000.00"))])
    assert {k: b.net for k, b in result.items()} == {"a": D("2000.00"), "b": D("-2000.00")}
    assert minimal_transfers(result.values()) == [Transfer("b", "a", D("2000.00"))]


def test_partners_without_bookings_appear_with_zero() -> None:
    result = balances([], partners=["z", "a"])
    assert list(result) == ["a", "z"]
    assert result["a"] == Balance("a", D("0.00"), D("0.00"))


@pytest.mark.parametrize(
    ("nets", "expected"),
    [
        ({}, []),
        ({"a": D("0")}, []),
        ({"a": D("10"), "b": D("-10")}, [("b", "a", "10.00")]),
        ({"a": D("-30"), "b": D("10"), "c": D("20")}, [("a", "b", "10.00"), ("a", "c", "20.00")]),
        # Equal and opposite balances are paired first.
        (
            {"a": D("-7"), "b": D("-5"), "c": D("5"), "d": D("7")},
            [("a", "d", "7.00"), ("b", "c", "5.00")],
        ),
        # Largest debtor to largest creditor needs 5 transfers here; the exact search finds
        # the groups {a, b, c} and {d, e, f} and needs 4.
        (
            {"a": D("-6"), "b": D("3"), "c": D("3"), "d": D("5"), "e": D("-1"), "f": D("-4")},
            [("a", "b", "3.00"), ("a", "c", "3.00"), ("e", "d", "1.00"), ("f", "d", "4.00")],
        ),
    ],
)
def test_minimal_transfers_examples(nets: dict, expected: list) -> None:
    transfers = minimal_transfers(nets)
    assert [(t.payer, t.payee, str(t.amount)) for t in transfers] == expected


def test_unbalanced_or_inexact_input_is_refused() -> None:
    with pytest.raises(SettlementError, match="Salden gehen nicht auf: Ihre Summe ist 0,01"):
        minimal_transfers({"a": D("10.00"), "b": D("-9.99")})
    with pytest.raises(SettlementError, match="doppelt"):
        minimal_transfers([Balance("a", D(1), D(1)), Balance("a", D(1), D(1))])
    with pytest.raises(SettlementError, match="ordnen"):
        minimal_transfers({"a": D(1), 2: D(-1)})
    with pytest.raises(ValueError, match="Nachkommastellen"):
        minimal_transfers({"a": D("0.001"), "b": D("-0.001")})


# --- properties ---------------------------------------------------------------------------
def _nets(raw: list[int]) -> dict[str, Decimal]:
    """Balances summing to zero: the last partner takes the difference."""
    values = [*raw, -sum(raw)]
    return {f"{(i * 7919) % 9973:05d}": from_cents(v) for i, v in enumerate(values)}


def _partitions(items: list[int]) -> Iterator[list[list[int]]]:
    """Every set partition (fine for up to eight items)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for partition in _partitions(rest):
        yield [[first], *partition]
        for i in range(len(partition)):
            yield [*partition[:i], [first, *partition[i]], *partition[i + 1 :]]


def _fewest_possible(nets: dict[str, Decimal]) -> int:
    """Brute force: non-zero partners minus the most zero-sum groups they split into."""
    values = [v for v in nets.values() if v]
    groups = max(len(p) for p in _partitions(values) if all(sum(group) == 0 for group in p))
    return len(values) - groups if values else 0


def _check_settles(nets: dict[str, Decimal], transfers: list[Transfer[str]]) -> None:
    """Transfers are positive, settle everything, and nobody both pays and receives."""
    assert all(t.amount > 0 and t.amount.as_tuple().exponent == -2 for t in transfers)
    assert set(apply_transfers(nets, transfers).values()) <= {D("0.00")}
    payers = {t.payer for t in transfers}
    payees = {t.payee for t in transfers}
    assert not payers & payees
    assert all(nets[p] < 0 for p in payers) and all(nets[p] > 0 for p in payees)
    assert len({(t.payer, t.payee) for t in transfers}) == len(transfers)
    non_zero = sum(1 for v in nets.values() if v)
    assert len(transfers) <= max(non_zero - 1, 0)
    assert transfers == sorted(transfers, key=lambda t: (t.payer, t.payee))


small_amounts = st.lists(st.integers(min_value=-9, max_value=9), max_size=6)
# Few partners with small balances (many exact matches) or up to 26 with large ones; drawn
# with a fixed shape (no one_of), which keeps Hypothesis from wasting cases.
any_amounts = st.builds(
    lambda small, large, use_small: small if use_small else large,
    small_amounts,
    st.lists(st.integers(min_value=-(10**9), max_value=10**9), max_size=25),
    st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(small_amounts)
def test_exact_search_finds_the_fewest_transfers(raw: list) -> None:
    nets = _nets(raw)
    transfers = minimal_transfers(nets)
    _check_settles(nets, transfers)
    assert len(transfers) == _fewest_possible(nets)


@settings(max_examples=200, deadline=None)
@given(any_amounts, st.integers(min_value=0, max_value=2**32))
def test_transfers_settle_and_ignore_partner_order(raw: list, seed: int) -> None:
    nets = _nets(raw)
    transfers = minimal_transfers(nets)
    _check_settles(nets, transfers)
    items = list(nets.items())
    random.Random(seed).shuffle(items)
    assert minimal_transfers(dict(items)) == transfers


@settings(max_examples=200, deadline=None)
@given(any_amounts)
def test_heuristic_needs_at_most_n_minus_one(raw: list) -> None:
    nets = _nets(raw)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settlement, "EXACT_LIMIT", 0)  # force the heuristic even for few
        transfers = minimal_transfers(nets)
    _check_settles(nets, transfers)


def test_many_partners_use_the_heuristic_quickly() -> None:
    rng = random.Random(7)
    nets = _nets([rng.randint(-(10**7), 10**7) for _ in range(199)])
    transfers = minimal_transfers(nets)
    _check_settles(nets, transfers)


def test_exact_search_at_its_limit_is_fast_enough() -> None:
    rng = random.Random(3)
    nets = _nets([rng.randint(-50, 50) for _ in range(settlement.EXACT_LIMIT - 1)])
    transfers = minimal_transfers(nets)
    _check_settles(nets, transfers)


# --- through the paying office (Zweckvereinbarung, Zweckverband) ---------------------------


def test_via_paying_office_each_partner_settles_with_the_office_only() -> None:
    nets = {EPPELBORN: D("-4814.08"), ILLINGEN: D("1046.99"), MERCHWEILER: D("3767.09")}
    transfers = settlement.via_paying_office(nets, MERCHWEILER)
    assert transfers == [
        Transfer(EPPELBORN, MERCHWEILER, D("4814.08")),
        Transfer(MERCHWEILER, ILLINGEN, D("1046.99")),
    ]


def test_via_paying_office_refuses_balances_that_do_not_add_up() -> None:
    with pytest.raises(SettlementError) as info:
        settlement.via_paying_office({EPPELBORN: D("-1.00"), MERCHWEILER: D("0.99")}, MERCHWEILER)
    assert info.value.code == "unbalanced"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=12), st.data())
def test_via_paying_office_brings_every_balance_to_zero(cents_list: list[int], data) -> None:  # noqa: ANN001
    keys = [f"{i:08d}" for i in range(len(cents_list) + 1)]
    nets = {k: from_cents(c) for k, c in zip(keys, cents_list, strict=False)}
    nets[keys[-1]] = from_cents(-sum(cents_list))  # zero-sum, as real books are
    office = data.draw(st.sampled_from(keys))
    transfers = settlement.via_paying_office(nets, office)
    assert all(office in (t.payer, t.payee) and t.payer != t.payee for t in transfers)
    assert all(t.amount > 0 for t in transfers)
    assert len(transfers) == sum(1 for k in keys if k != office and nets[k])
    assert all(v == 0 for v in apply_transfers(nets, transfers).values())
