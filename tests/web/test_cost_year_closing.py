"""Year closing: a closed year cannot change; corrections are new entries in an open year."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from koopboard.extensions import db
from koopboard.models import Cost, CostKeyEntry, HistoryEntry, Payment, YearClosing
from koopboard.models.cost import CostKind, CostState
from tests.web import test_costs
from tests.web.test_costs import YEAR, _book, _cost, _population_key, _shares

books = test_costs.books  # the fixture: three partners, two treasurers


def _approved(books, login_as, client) -> Cost:  # noqa: ANN001
    t1 = login_as(books["t1"])
    _population_key(t1, books)
    cost = _book(t1, books, amount="300,00")
    t1.post(f"{books['base']}/{cost.id}/einreichen", data={"version": "1"})
    client.post("/abmelden")
    t2 = login_as(books["t2"])
    assert t2.post(f"{books['base']}/{cost.id}/freigeben", data={"version": "2"}).status_code == 302
    db.session.expire_all()
    return db.session.get(Cost, cost.id)


def _close(client, books, year: int) -> None:  # noqa: ANN001
    response = client.post(f"{books['base']}/jahresabschluss/{year}")
    assert response.status_code == 302
    assert db.session.scalar(select(YearClosing.id).where(YearClosing.budget_year == year)), (
        "the year was not closed"
    )


def test_nothing_in_a_closed_year_changes(books, login_as, client) -> None:  # noqa: ANN001
    cost = _approved(books, login_as, client)
    t2 = login_as(books["t2"])
    draft = _book(t2, books, amount="10,00", text="Entwurf vor dem Abschluss")
    _close(t2, books, YEAR)
    history_before = db.session.scalar(select(func.count(HistoryEntry.id)))
    entries_before = [(e.id, e.population) for e in db.session.scalars(select(CostKeyEntry))]
    base = books["base"]

    edit = t2.post(f"{base}/{draft.id}/bearbeiten", data=_cost(text="Geändert", version="1"))
    submit = t2.post(f"{base}/{draft.id}/einreichen", data={"version": "1"})
    payment = t2.post(
        f"{base}/zahlungen/neu",
        data={
            "paid_on": f"01.06.{YEAR}",
            "budget_year": str(YEAR),
            "municipality_id": str(books["m"]["illingen"].id),
            "kind": "abschlag",
            "amount": "100,00",
        },
    )
    key = t2.post(f"{base}/schluessel/{YEAR}", data={"kind": "gleich", "version": "1"})
    for response in (edit, submit, payment, key):
        assert response.status_code in (400, 422), response.status_code
        assert f"Haushaltsjahr {YEAR} ist abgeschlossen" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Cost, draft.id).text == "Entwurf vor dem Abschluss"
    assert db.session.get(Cost, draft.id).state is CostState.ENTWURF
    assert db.session.scalar(select(func.count(Payment.id))) == 0
    assert [(e.id, e.population) for e in db.session.scalars(select(CostKeyEntry))] == (
        entries_before
    )
    assert db.session.scalar(select(func.count(HistoryEntry.id))) == history_before
    closing_twice = t2.post(f"{base}/jahresabschluss/{YEAR}")
    assert closing_twice.status_code == 302
    assert db.session.scalar(select(func.count(YearClosing.id))) == 1
    assert db.session.get(Cost, cost.id).state is CostState.FREIGEGEBEN


def test_storno_of_a_closed_year_goes_to_the_next_open_year(books, login_as, client) -> None:  # noqa: ANN001
    cost = _approved(books, login_as, client)
    t2 = login_as(books["t2"])
    _close(t2, books, YEAR)
    # Today's year (the test runs in 2026 or later) may be closed too: skip it as well.
    _close(t2, books, YEAR + 1)
    response = t2.post(f"{books['base']}/{cost.id}/stornieren", data={"version": "3"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    counter = db.session.scalar(select(Cost).where(Cost.reverses_id == cost.id))
    assert counter.kind is CostKind.STORNO and counter.state is CostState.ENTWURF
    assert counter.budget_year >= YEAR + 2
    assert counter.booking_date.year == counter.budget_year
    assert counter.amount == Decimal("-300.00")
    assert _shares(counter.id) == {m: -a for m, a in _shares(cost.id).items()}
    db.session.expire_all()
    original = db.session.get(Cost, cost.id)
    assert original.amount == Decimal("300.00") and original.state is CostState.FREIGEGEBEN


def test_closing_asks_first_with_the_totals_that_freeze(books, login_as) -> None:  # noqa: ANN001
    """The costs page links to a confirmation page; only its button closes the year."""
    client = login_as(books["t1"])
    base = books["base"]
    index = client.get(f"{base}/?jahr={YEAR}").get_data(as_text=True)
    assert f'href="{base}/jahresabschluss/{YEAR}"' in index
    assert f'action="{base}/jahresabschluss/{YEAR}"' not in index  # no one-click close
    page = client.get(f"{base}/jahresabschluss/{YEAR}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"Haushaltsjahr {YEAR} abschließen?" in text
    assert "lassen sich nicht mehr ändern" in text
    assert 'id="eingefroren"' in text and "Summe" in text
    assert f"Ja, Haushaltsjahr {YEAR} endgültig abschließen" in text
    assert db.session.scalar(select(func.count(YearClosing.id))) == 0  # asking wrote nothing
    assert client.post(f"{base}/jahresabschluss/{YEAR}").status_code == 302
    again = client.get(f"{base}/jahresabschluss/{YEAR}")
    assert again.status_code == 302  # already closed: back to the costs page with a message
