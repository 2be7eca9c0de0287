"""Maintained balances: after every kind of booking they equal the books' own aggregate."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from koopboard.costs.books import services as cost_books
from koopboard.extensions import db
from koopboard.models import Cost, CostBalance
from tests.conftest import service_missing
from tests.web import test_costs
from tests.web.test_authorization import sign_in
from tests.web.test_costs import YEAR, _book, _population_key

books = test_costs.books  # the fixture: three partners, two treasurers


def _rows(year: int, coop_id: int) -> list[tuple]:
    return [
        (b.municipality.name, b.shares, b.outlays, b.paid, b.received)
        for b in cost_books.balances_of(coop_id, year)
    ]


def _reference(year: int, coop_id: int) -> list[tuple]:
    return [
        (b.municipality.name, b.shares, b.outlays, b.paid, b.received)
        for b in cost_books.balances_from_books(coop_id, year)
    ]


def _approve(app, books, cost: Cost) -> None:  # noqa: ANN001
    submitter = sign_in(app.test_client(), books["t1"].id)
    base = books["base"]
    assert submitter.post(f"{base}/{cost.id}/einreichen", data={"version": "1"}).status_code == 302
    approver = sign_in(app.test_client(), books["t2"].id)
    assert approver.post(f"{base}/{cost.id}/freigeben", data={"version": "2"}).status_code == 302


def test_balances_follow_every_booking(app, books) -> None:  # noqa: ANN001
    t1 = sign_in(app.test_client(), books["t1"].id)
    _population_key(t1, books)
    m = books["m"]
    base = books["base"]
    cost = _book(t1, books, amount="12.345,67", paid_by_id=str(m["illingen"].id))
    assert all(row[1:] == (0, 0, 0, 0) for row in _rows(YEAR, books["coop"].id))
    _approve(app, books, cost)
    grant = _book(t1, books, kind="foerderung", amount="-1.000,01", text="Landeszuschuss")
    _approve(app, books, grant)
    _book(t1, books, amount="50,00", text="Entwurf zählt nicht")
    t1 = sign_in(app.test_client(), books["t1"].id)
    for payer, recipient, amount in (
        (m["eppelborn"], None, "4.000,00"),
        (m["merchweiler"], m["illingen"], "12,34"),
    ):
        response = t1.post(
            f"{base}/zahlungen/neu",
            data={
                "paid_on": f"01.04.{YEAR}",
                "budget_year": str(YEAR),
                "municipality_id": str(payer.id),
                "recipient_id": str(recipient.id) if recipient else "",
                "kind": "abschlag",
                "amount": amount,
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    before_storno = _rows(YEAR, books["coop"].id)
    t1 = sign_in(app.test_client(), books["t1"].id)
    assert t1.post(f"{base}/{cost.id}/stornieren", data={"version": "3"}).status_code == 302
    counter = db.session.scalar(select(Cost).where(Cost.reverses_id == cost.id))
    assert _rows(YEAR, books["coop"].id) == before_storno  # a draft counts for nothing
    _approve(app, books, counter)
    grant_only = _book(t1, books, kind="foerderung", amount="-0,03", text="Rundungstest")
    _approve(app, books, grant_only)
    coop_id = books["coop"].id
    assert _rows(YEAR, coop_id) == _reference(YEAR, coop_id)
    shares = {row[0]: row[1] for row in _rows(YEAR, coop_id)}
    # The cost and its Storno cancel out; the two grants remain.
    assert sum(shares.values()) == Decimal("-1000.01") + Decimal("-0.03")
    outlays = {row[0]: row[2] for row in _rows(YEAR, coop_id)}
    assert outlays["Illingen"] == Decimal("0.00")  # advanced 12.345,67, reversed by the Storno
    paid = {row[0]: (row[3], row[4]) for row in _rows(YEAR, coop_id)}
    assert paid["Eppelborn"] == (Decimal("4000.00"), Decimal("0.00"))
    assert paid["Merchweiler"] == (Decimal("4012.34") - Decimal("4000.00"), Decimal("4000.00"))
    assert paid["Illingen"] == (Decimal("0.00"), Decimal("12.34"))
    page = t1.get(f"{base}/?jahr={YEAR}").get_data(as_text=True)
    for balance in cost_books.balances_of(coop_id, YEAR):
        assert f"{balance.open:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".") in (
            page
        )


def test_rebuild_restores_the_balances(app, books) -> None:  # noqa: ANN001
    t1 = sign_in(app.test_client(), books["t1"].id)
    _population_key(t1, books)
    cost = _book(t1, books, amount="999,99")
    _approve(app, books, cost)
    coop_id = books["coop"].id
    before = _rows(YEAR, coop_id)
    db.session.execute(delete(CostBalance))
    db.session.commit()
    assert _rows(YEAR, coop_id) != before
    cost_books.rebuild_balances(coop_id, YEAR)
    db.session.commit()
    assert _rows(YEAR, coop_id) == before == _reference(YEAR, coop_id)


@pytest.mark.integration
def test_concurrent_payments_lose_no_increment(app, books, pg_available) -> None:  # noqa: ANN001
    """Eight payments at once for the same partner: the maintained total holds all eight."""
    if not pg_available or db.engine.dialect.name != "postgresql":
        service_missing("PostgreSQL", "concurrent increments need a real server")
    payer_id = books["m"]["eppelborn"].id  # read here: the threads have no session
    base = books["base"]
    barrier = threading.Barrier(8, timeout=20)
    statuses: list[int] = []

    clients = [sign_in(app.test_client(), books["t1"].id) for _ in range(8)]

    def pay(client) -> None:  # noqa: ANN001
        barrier.wait()
        response = client.post(
            f"{base}/zahlungen/neu",
            data={
                "paid_on": f"01.05.{YEAR}",
                "budget_year": str(YEAR),
                "municipality_id": str(payer_id),
                "recipient_id": "",
                "kind": "abschlag",
                "amount": "100,01",
            },
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=pay, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == [302] * 8
    db.session.expire_all()
    coop_id = books["coop"].id
    paid = {row[0]: row[3] for row in _rows(YEAR, coop_id)}
    assert paid["Eppelborn"] == Decimal("800.08")
    assert _rows(YEAR, coop_id) == _reference(YEAR, coop_id)
