"""Balances per partner and the fewest transfers to settle them directly between partners.

A partner's balance: what it **owes** (the sum of its shares of approved costs, grants
negative) against what it **paid** (its outlays for the cooperation — Vorleistungen — plus
payments it made to other partners, minus payments it received). ``net = paid − owed``:
positive means the others owe it money (creditor), negative means it still owes (debtor).
When every approved cost is both paid by a partner and split among the partners, the nets
sum to zero.

Fewest transfers (``minimal_transfers``): settling with the fewest transfers means
splitting the partners into as many groups as possible whose balances sum to zero — a
group of g partners needs g − 1 transfers. Finding that partition is NP-hard (it contains
subset sum), so:

- up to ``EXACT_LIMIT`` partners with a non-zero balance (every real IKZ) the proposal is
  exactly minimal: a dynamic programme over the 2^n subsets finds the most zero-sum groups;
- above that, a heuristic: first equal and opposite balances are paired, then the
  largest debtor pays the largest creditor until all balances are zero. It is not always
  minimal, but it never needs more than n − 1 transfers for n non-zero balances.

Either way every partner only pays or only receives, no transfer exceeds what is owed,
each pair of partners appears at most once, amounts are whole cents, applying the
transfers brings every balance to exactly zero, and the result does not depend on the
order the partners are given in: partners are taken in key order (ties in amount go to
the smaller key) and the list is sorted by payer, then payee.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic

from koopboard.domain.allocation import K
from koopboard.domain.messages import Msg
from koopboard.domain.money import Amount, cents, format_eur, from_cents

EXACT_LIMIT = 12  # 2^12 subsets: a few milliseconds


class SettlementError(ValueError):
    """Balances that cannot be settled; the message is German and user-facing."""

    def __init__(self, message: Msg, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Balance(Generic[K]):
    """One partner's account: shares owed against amounts paid (all exact Decimal)."""

    partner: K
    owed: Decimal
    paid: Decimal

    @property
    def net(self) -> Decimal:
        """Paid minus owed: positive = the others owe this partner, negative = it owes."""
        return self.paid - self.owed

    @property
    def open(self) -> Decimal:
        """What the partner still has to pay (negative: what it gets back), "noch offen"."""
        return self.owed - self.paid


@dataclass(frozen=True)
class Transfer(Generic[K]):
    """A proposed payment from one partner to another."""

    payer: K
    payee: K
    amount: Decimal

    def __str__(self) -> str:
        return f"{self.payer} → {self.payee}: {format_eur(self.amount)}"


def balances(
    shares: Iterable[Mapping[K, Decimal]],
    outlays: Iterable[tuple[K, Decimal]] = (),
    transfers: Iterable[Transfer[K]] = (),
    partners: Iterable[K] = (),
) -> dict[K, Balance[K]]:
    """Sum shares (one mapping per approved cost), outlays and transfers into balances."""
    owed: dict[K, int] = defaultdict(int)
    paid: dict[K, int] = defaultdict(int)
    seen: set[K] = set(partners)
    for cost_shares in shares:
        for partner, share in cost_shares.items():
            owed[partner] += cents(share)
            seen.add(partner)
    for partner, amount in outlays:
        paid[partner] += cents(amount)
        seen.add(partner)
    for transfer in transfers:
        moved = cents(transfer.amount)
        paid[transfer.payer] += moved
        paid[transfer.payee] -= moved
        seen.update((transfer.payer, transfer.payee))
    return {
        partner: Balance(partner, from_cents(owed[partner]), from_cents(paid[partner]))
        for partner in _sorted(seen)
    }


def minimal_transfers(balances: Mapping[K, Decimal] | Iterable[Balance[K]]) -> list[Transfer[K]]:
    """Propose the fewest partner-to-partner transfers that bring every net balance to zero."""
    nets = _net_cents(balances)
    if sum(nets.values()) != 0:
        raise SettlementError(
            Msg(
                "Die Salden gehen nicht auf: Ihre Summe ist %(sum)s statt %(zero)s.",
                sum=Amount(from_cents(sum(nets.values()))),
                zero=Amount(from_cents(0)),
            ),
            "unbalanced",
        )
    open_keys = [key for key in _sorted(nets) if nets[key]]
    if len(open_keys) <= EXACT_LIMIT:
        groups = _zero_sum_groups(open_keys, nets)
    else:
        groups = [open_keys]
    result: list[tuple[K, K, int]] = []
    for group in groups:
        result.extend(_settle_group(group, nets))
    result.sort(key=lambda item: (item[0], item[1]))
    return [Transfer(payer, payee, from_cents(amount)) for payer, payee, amount in result]


def via_paying_office(
    balances: Mapping[K, Decimal] | Iterable[Balance[K]], office: K
) -> list[Transfer[K]]:
    """Settle through the paying office (Zweckvereinbarung, Zweckverband, …): every partner
    that still owes pays the office, every partner owed money gets it from the office.
    The office's own balance is what the others' transfers leave; it never pays itself."""
    nets = _net_cents(balances)
    if sum(nets.values()) != 0:
        raise SettlementError(
            Msg(
                "Die Salden gehen nicht auf: Ihre Summe ist %(sum)s statt %(zero)s.",
                sum=Amount(from_cents(sum(nets.values()))),
                zero=Amount(from_cents(0)),
            ),
            "unbalanced",
        )
    result: list[Transfer[K]] = []
    for key in _sorted(nets):
        if key == office or not nets[key]:
            continue
        if nets[key] < 0:  # paid less than owed: owes the office
            result.append(Transfer(key, office, from_cents(-nets[key])))
        else:
            result.append(Transfer(office, key, from_cents(nets[key])))
    return result


def apply_transfers(
    nets: Mapping[K, Decimal], transfers: Iterable[Transfer[K]]
) -> dict[K, Decimal]:
    """Net balances after the transfers are paid (all zero after ``minimal_transfers``)."""
    after = {key: cents(value) for key, value in nets.items()}
    for transfer in transfers:
        amount = cents(transfer.amount)
        after[transfer.payer] = after.get(transfer.payer, 0) + amount
        after[transfer.payee] = after.get(transfer.payee, 0) - amount
    return {key: from_cents(value) for key, value in after.items()}


def _net_cents(balances: Mapping[K, Decimal] | Iterable[Balance[K]]) -> dict[K, int]:
    """Net balances in cents from a mapping or from ``Balance`` records."""
    if isinstance(balances, Mapping):
        return {key: cents(value) for key, value in balances.items()}
    nets: dict[K, int] = {}
    for balance in balances:
        if balance.partner in nets:
            raise SettlementError(
                Msg("%(partner)s ist doppelt aufgeführt.", partner=balance.partner), "duplicate"
            )
        nets[balance.partner] = cents(balance.net)
    return nets


def _zero_sum_groups(keys: list[K], nets: Mapping[K, int]) -> list[list[K]]:
    """Partition the keys into the most groups with zero sum (exact, 2^n subsets)."""
    count = len(keys)
    if count == 0:
        return []
    values = [nets[key] for key in keys]
    size = 1 << count
    sums = [0] * size
    best = [0] * size
    for mask in range(1, size):
        low = mask & -mask
        sums[mask] = sums[mask ^ low] + values[low.bit_length() - 1]
        candidate = max(best[mask ^ (1 << i)] for i in range(count) if mask >> i & 1)
        best[mask] = candidate + (sums[mask] == 0)
    # Walk back, removing the lowest index that keeps the optimum: the removal order read
    # backwards has its zero-sum prefixes exactly at the group boundaries.
    removed: list[int] = []
    mask = size - 1
    while mask:
        target = best[mask] - (sums[mask] == 0)
        index = next(i for i in range(count) if mask >> i & 1 and best[mask ^ (1 << i)] == target)
        removed.append(index)
        mask ^= 1 << index
    groups: list[list[K]] = []
    current: list[K] = []
    running = 0
    for index in reversed(removed):
        current.append(keys[index])
        running += values[index]
        if running == 0:
            groups.append(sorted(current))
            current = []
    return groups


def _settle_group(keys: list[K], nets: Mapping[K, int]) -> list[tuple[K, K, int]]:
    """Settle one zero-sum group: equal opposite pairs first, then largest to largest."""
    debts = {key: -nets[key] for key in keys if nets[key] < 0}
    credits = {key: nets[key] for key in keys if nets[key] > 0}
    transfers: list[tuple[K, K, int]] = []
    for debtor in _sorted(debts):
        match = next((c for c in _sorted(credits) if credits[c] == debts[debtor]), None)
        if match is not None:
            transfers.append((debtor, match, debts.pop(debtor)))
            del credits[match]
    while debts:
        debtor = _largest(debts)
        creditor = _largest(credits)
        amount = min(debts[debtor], credits[creditor])
        transfers.append((debtor, creditor, amount))
        for book, key in ((debts, debtor), (credits, creditor)):
            book[key] -= amount
            if not book[key]:
                del book[key]
    return transfers


def _largest(book: Mapping[K, int]) -> K:
    """The key with the largest amount; on equal amounts the smaller key."""
    return min(book, key=lambda key: (-book[key], key))


def _sorted(keys: Iterable[K]) -> list[K]:
    """Keys in ascending order; refuses keys that cannot be ordered."""
    try:
        return sorted(keys)
    except TypeError as exc:
        raise SettlementError(
            Msg("Die Partner lassen sich nicht eindeutig ordnen."), "unsortable"
        ) from exc
