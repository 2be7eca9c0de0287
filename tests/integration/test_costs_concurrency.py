"""No lost update on PostgreSQL: two treasurers save the same cost at the same moment.

Both requests pass the version check of the form (they loaded the same version), then
meet at a barrier, then write: the database's row lock and the version column let exactly
one UPDATE through; the other answers 409 with the current values, and the winner's shares
are the only ones stored.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from koopboard.costs.books import services as cost_books
from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.models import Cost, CostShare
from tests.conftest import service_missing
from tests.web.test_authorization import sign_in

pytestmark = pytest.mark.integration


def test_two_treasurers_save_the_same_cost_at_once(
    app,
    pg_available,
    make_municipality,
    make_user,
    make_cooperation,
    monkeypatch,  # noqa: ANN001
) -> None:
    if not pg_available or db.engine.dialect.name != "postgresql":
        service_missing("PostgreSQL", "the concurrency test needs real row locks")
    lead_town = make_municipality("Merchweiler", "10043113", population=9872)
    partner = make_municipality("Illingen", "10043112", population=16122)
    lead = make_user(lead_town)
    first, second = make_user(lead_town), make_user(partner)
    coop = make_cooperation(lead, [partner], roles={first: Role.TREASURER, second: Role.TREASURER})
    base = f"/kooperationen/{coop.id}/kosten"
    booker = sign_in(app.test_client(), first.id)
    form = {
        "booking_date": "15.03.2026",
        "budget_year": "2026",
        "kind": "kosten",
        "amount": "1.000,00",
        "text": "Original",
    }
    assert booker.post(f"{base}/neu", data=form).status_code == 302
    cost_id = db.session.scalar(select(Cost.id))

    barrier = threading.Barrier(2, timeout=10)
    real_split = cost_books.split_shares

    def split_together(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        barrier.wait()  # both requests have passed the form's version check
        return real_split(*args, **kwargs)

    monkeypatch.setattr(cost_books, "split_shares", split_together)
    results: dict[str, int] = {}

    def save(user_id: int, text: str, amount: str) -> None:
        client = sign_in(app.test_client(), user_id)
        data = {**form, "text": text, "amount": amount, "version": "1"}
        results[text] = client.post(f"{base}/{cost_id}/bearbeiten", data=data).status_code

    threads = [
        threading.Thread(target=save, args=(first.id, "Von Kim", "2.000,00")),
        threading.Thread(target=save, args=(second.id, "Von Ilse", "3.000,00")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results.values()) == [302, 409], results
    winner = next(text for text, status in results.items() if status == 302)
    db.session.expire_all()
    cost = db.session.get(Cost, cost_id)
    assert cost.text == winner
    assert cost.version == 2
    shares = db.session.scalars(select(CostShare.amount).where(CostShare.cost_id == cost_id))
    assert sum(shares) == cost.amount
    assert cost.amount == (Decimal("2000.00") if winner == "Von Kim" else Decimal("3000.00"))
    count = db.session.scalar(select(func.count(CostShare.id)).where(CostShare.cost_id == cost_id))
    assert count == 2
