"""The cost list with balances costs the same SQL with 20 costs as with 2,000 (20 partners)."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

from sqlalchemy import insert, select

from koopboard.cooperations.services import CooperationData, add_partner, create_cooperation
from koopboard.domain.allocation import allocate, prepare
from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.models import Membership, Municipality, User
from koopboard.models.cost import Cost, CostKind, CostShare, CostState, Payment, PaymentKind
from tests.web.test_authorization import sign_in
from tests.web.test_queries import counting

YEAR = 2026
PARTNERS = 20


def build_books(costs: int, prefix: str) -> tuple[int, int, dict[int, Decimal]]:
    """A cooperation of 20 partners with ``costs`` approved costs; returns ids and shares."""
    towns = [
        Municipality(
            ags=f"{prefix}{i:06d}",
            name=f"Ort {prefix}-{i:02d}",
            kind="Gemeinde",
            land="Saarland",
            kreis="Neunkirchen",
            population=1000 + 37 * i,
        )
        for i in range(PARTNERS)
    ]
    lead = User(email=f"lead{prefix}@example.org", name="Lead", password_hash="x")
    lead.municipality = towns[0]
    treasurer = User(email=f"kasse{prefix}@example.org", name="Kasse", password_hash="x")
    treasurer.municipality = towns[0]
    db.session.add_all([*towns, lead, treasurer])
    db.session.flush()
    coop = create_cooperation(
        CooperationData(
            "Bücher", "", "verwaltung", "arbeitsgemeinschaft", "aktiv", date(2025, 1, 1), None
        ),
        by=lead,
    )
    for town in towns[1:]:
        add_partner(coop, ags=town.ags, joined_on=date(2025, 1, 1), council_resolution_on=None)
    db.session.add(Membership(cooperation=coop, user=treasurer, role=Role.TREASURER))
    db.session.flush()
    key = prepare({t.id: t.population for t in towns})
    owed = dict.fromkeys((t.id for t in towns), Decimal("0.00"))
    cost_rows = [
        {
            "cooperation_id": coop.id,
            "budget_year": YEAR,
            "booking_date": date(YEAR, 1 + n % 12, 1 + n % 28),
            "text": f"Kosten {n}",
            "category": "IT",
            "kind": CostKind.KOSTEN,
            "amount": Decimal(1000 + n) + Decimal("0.37"),
            "paid_by_id": towns[0].id,
            "key_description": "nach Einwohnerzahl",
            "state": CostState.FREIGEGEBEN,
            "version": 1,
        }
        for n in range(costs)
    ]
    ids = db.session.scalars(insert(Cost).returning(Cost.id), cost_rows).all()
    share_rows = []
    for cost_id, row in zip(ids, cost_rows, strict=True):
        for municipality_id, share in allocate(row["amount"], key).items():
            owed[municipality_id] += share
            share_rows.append(
                {
                    "cost_id": cost_id,
                    "municipality_id": municipality_id,
                    "amount": share,
                    "weight": Decimal(1),
                    "explanation": "",
                }
            )
    db.session.execute(insert(CostShare), share_rows)
    db.session.add(
        Payment(
            cooperation_id=coop.id,
            budget_year=YEAR,
            paid_on=date(YEAR, 2, 1),
            municipality_id=towns[1].id,
            recipient_id=towns[0].id,
            kind=PaymentKind.ABSCHLAG,
            amount=Decimal("100.00"),
        )
    )
    db.session.commit()
    return coop.id, treasurer.id, owed


def test_cost_list_queries_do_not_grow_with_the_books(app) -> None:  # noqa: ANN001
    small = build_books(20, "81")
    large = build_books(2000, "82")
    counts = []
    for coop_id, user_id, owed in (small, large):
        client = sign_in(app.test_client(), user_id)
        url = f"/kooperationen/{coop_id}/kosten/?jahr={YEAR}"
        client.get(url)  # warm up
        with counting() as statements:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
        assert response.status_code == 200
        counts.append(len(statements))
        body = response.get_data(as_text=True)
        first = min(owed)
        town = db.session.get(Municipality, first)
        # The lead's balance: its shares minus all it advanced, plus the payment it received.
        advanced = sum(owed.values(), Decimal("0.00"))
        expected = owed[first] - advanced + Decimal("100.00")
        from koopboard.domain.money import format_eur

        assert f'data-saldo="{town.ags}">{format_eur(expected)}' in body
        print(f"cost list with balances, {coop_id=}: {elapsed * 1000:.1f} ms")
    assert counts[0] == counts[1], counts
    assert db.session.scalar(select(Cost.id).limit(1)) is not None
