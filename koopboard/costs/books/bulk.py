"""Large books in seconds: for benchmarks, scale tests and demos — never for real data.

``build_books(costs, prefix)`` creates 20 municipalities (AGS ``<prefix>000000`` …, the
first is the lead's and advances every cost), a cooperation of them with a lead and a
treasurer, the population key of the year, ``costs`` approved costs with their shares
split by that key, and one Abschlag of 100,00 € from the second partner to the first.
Costs and shares go in with multi-row INSERTs (no history, no notifications), so 50,000
costs take seconds instead of the minutes the booking service would need.

Used by ``bench/bench_costs.py`` and ``tests/web/test_costs_scale.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import insert

from koopboard.cooperations.services import CooperationData, add_partner, create_cooperation
from koopboard.costs.books import services as books
from koopboard.costs.keys import services as keys
from koopboard.domain.allocation import allocate, prepare
from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.models import Membership, Municipality, User
from koopboard.models.cost import Cost, CostKind, CostShare, CostState, Payment, PaymentKind

PARTNERS = 20
YEAR = 2026
PAYMENT = Decimal("100.00")
_BATCH = 5000  # costs per INSERT round trip


@dataclass(frozen=True)
class Books:
    """What ``build_books`` created (ids only: the session is committed)."""

    cooperation_id: int
    lead_id: int
    treasurer_id: int
    municipality_ids: list[int]  # AGS order; [0] advanced all costs, [1] paid ``PAYMENT`` to [0]
    owed: dict[int, Decimal]  # each municipality's sum of shares of the approved costs

    def expected_open(self, municipality_id: int) -> Decimal:
        """The balance "Noch offen" the cost list must show for the municipality."""
        first, second = self.municipality_ids[:2]
        advanced = sum(self.owed.values(), Decimal("0.00")) if municipality_id == first else 0
        paid = PAYMENT if municipality_id == second else 0
        received = PAYMENT if municipality_id == first else 0
        return self.owed[municipality_id] - advanced - paid + received


def amount_of(n: int) -> Decimal:
    """The amount of the n-th bulk cost: 1.000,37 €, 1.001,37 €, …"""
    return Decimal(1000 + n) + Decimal("0.37")


def build_books(
    costs: int, prefix: str, *, year: int = YEAR, towns: list[Municipality] | None = None
) -> Books:
    """A cooperation of 20 partners with ``costs`` approved costs; ``prefix``: 2 AGS digits
    of the 20 new municipalities, or ``towns``: 20 existing ones (the register's)."""
    new_towns = towns is None
    towns = towns or [
        Municipality(
            ags=f"{prefix}{i:06d}",
            name=f"Ort {prefix}-{i:02d}",
            kind="Gemeinde",
            land="Saarland",
            kreis="Neunkirchen",
            population=1000 + 37 * i,
            population_date=date(year - 2, 12, 31),
            population_source="Testdaten",
        )
        for i in range(PARTNERS)
    ]
    if len(towns) != PARTNERS:
        raise ValueError(f"build_books needs {PARTNERS} municipalities, got {len(towns)}")
    # "x" is no valid hash: nobody can sign in as these bench users.
    lead = User(email=f"lead{prefix}@example.org", name="Lead", password_hash="x")  # nosec B106
    treasurer = User(email=f"kasse{prefix}@example.org", name="Kasse", password_hash="x")  # nosec B106
    lead.municipality = treasurer.municipality = towns[0]
    db.session.add_all([*(towns if new_towns else []), lead, treasurer])
    db.session.flush()
    start = date(year - 1, 1, 1)
    coop = create_cooperation(
        CooperationData("Bücher", "", "verwaltung", "arbeitsgemeinschaft", "aktiv", start, None),
        by=lead,
    )
    for town in towns[1:]:
        add_partner(coop, ags=town.ags, joined_on=start, council_resolution_on=None)
    db.session.add(Membership(cooperation=coop, user=treasurer, role=Role.TREASURER))
    keys.save_key(
        coop,
        year,
        keys.KeyData(kind="einwohner", entries=keys.default_entries(coop.id, year)),
        version=None,
    )
    owed = add_costs(coop.id, towns[0].id, {t.id: t.population for t in towns}, 0, costs, year)
    db.session.add(
        Payment(
            cooperation_id=coop.id,
            budget_year=year,
            paid_on=date(year, 2, 1),
            municipality_id=towns[1].id,
            recipient_id=towns[0].id,
            kind=PaymentKind.ABSCHLAG,
            amount=PAYMENT,
        )
    )
    db.session.flush()
    # The rows went in around the booking service: bring the maintained balances in step.
    books.rebuild_balances(coop.id, year)
    db.session.commit()
    return Books(coop.id, lead.id, treasurer.id, [t.id for t in towns], owed)


def add_costs(
    cooperation_id: int,
    paid_by_id: int,
    populations: dict[int, int],
    first: int,
    count: int,
    year: int = YEAR,
) -> dict[int, Decimal]:
    """Costs number ``first`` … ``first + count - 1`` (approved, split by population), in
    multi-row INSERTs; returns each municipality's sum of their shares. The maintained
    balances are not touched: call ``books.rebuild_balances`` afterwards."""
    key = prepare(populations)
    owed = dict.fromkeys(populations, Decimal("0.00"))
    for start in range(first, first + count, _BATCH):
        rows = [
            {
                "cooperation_id": cooperation_id,
                "budget_year": year,
                "booking_date": date(year, 1 + n % 12, 1 + n % 28),
                "text": f"Kosten {n}",
                "category": "IT",
                "kind": CostKind.KOSTEN,
                "amount": amount_of(n),
                "paid_by_id": paid_by_id,
                "key_description": "nach Einwohnerzahl",
                "state": CostState.FREIGEGEBEN,
                "version": 1,
            }
            for n in range(start, min(first + count, start + _BATCH))
        ]
        ids = db.session.scalars(insert(Cost).returning(Cost.id), rows).all()
        shares = []
        for cost_id, row in zip(ids, rows, strict=True):
            for municipality_id, share in allocate(row["amount"], key).items():
                owed[municipality_id] += share
                shares.append(
                    {
                        "cost_id": cost_id,
                        "municipality_id": municipality_id,
                        "amount": share,
                        "weight": Decimal(1),
                        "explanation": "",
                    }
                )
        db.session.execute(insert(CostShare), shares)
    return owed
