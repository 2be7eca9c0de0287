"""Four-eyes, closed: whoever created a cost, last chose its amount, key or payer, submitted
it, or authored the recurring template it came from never approves it — and sees why, and
who can, instead of a "Freigeben" button that would refuse them.

The three bypasses the audit found (issue 15.2) are replayed through the web as the two
treasurers would click them; each ended "freigegeben" before the fix.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from koopboard.costs.keys import services as cost_keys
from koopboard.costs.recurring import services as rec
from koopboard.extensions import db
from koopboard.models import Cost
from koopboard.models.cost import CostState
from tests.web.test_costs import YEAR, _book, _cost, _population_key, books  # noqa: F401


def _state(cost_id: int) -> CostState:
    db.session.expire_all()
    return db.session.get(Cost, cost_id).state


def _version(cost_id: int) -> str:
    db.session.expire_all()
    return str(db.session.get(Cost, cost_id).version)


def _switch(client, login_as, user):  # noqa: ANN001, ANN202
    client.post("/abmelden")
    return login_as(user)


def _post(client, world, cost_id: int, action: str, **data: str):  # noqa: ANN001, ANN202
    data.setdefault("version", _version(cost_id))
    return client.post(f"{world['base']}/{cost_id}/{action}", data=data)


def test_a_treasurer_who_raised_the_amount_cannot_approve_it(books, login_as, client) -> None:  # noqa: ANN001, F811
    """(a) t2 edits t1's draft to 99.999,00 €, t1 submits, t2 approves → refused."""
    t1 = login_as(books["t1"])
    _population_key(t1, books)
    cost = _book(t1, books)
    t2 = _switch(client, login_as, books["t2"])
    edited = t2.post(
        f"{books['base']}/{cost.id}/bearbeiten",
        data={**_cost(amount="99.999,00"), "version": _version(cost.id)},
    )
    assert edited.status_code == 302, edited.get_data(as_text=True)[:2000]
    t1 = _switch(client, login_as, books["t1"])
    assert _post(t1, books, cost.id, "einreichen").status_code == 302

    t2 = _switch(client, login_as, books["t2"])
    page = t2.get(f"{books['base']}/{cost.id}").get_data(as_text=True)
    assert ">Freigeben</button>" not in page
    assert (
        "Sie können diese Kosten nicht freigeben, weil Sie Betrag, Schlüssel oder zahlende "
        "Stelle zuletzt festgelegt haben." in page
    )
    refused = _post(t2, books, cost.id, "freigeben")
    assert refused.status_code == 403
    assert "Vier-Augen-Prinzip" in refused.get_data(as_text=True)
    assert _state(cost.id) is CostState.EINGEREICHT
    # t1 submitted it: nobody is left among the treasurers; the lead may not either.
    t1 = _switch(client, login_as, books["t1"])
    assert _post(t1, books, cost.id, "freigeben").status_code == 403
    assert _state(cost.id) is CostState.EINGEREICHT


def test_an_edit_after_rejecting_keeps_the_editor_from_approving(books, login_as, client) -> None:  # noqa: ANN001, F811
    """(b) t1 books and submits, t2 rejects and edits, t1 resubmits, t2 approves → refused."""
    t1 = login_as(books["t1"])
    _population_key(t1, books)
    cost = _book(t1, books)
    assert _post(t1, books, cost.id, "einreichen").status_code == 302
    t2 = _switch(client, login_as, books["t2"])
    assert _post(t2, books, cost.id, "ablehnen", reason="Betrag prüfen").status_code == 302
    edited = t2.post(
        f"{books['base']}/{cost.id}/bearbeiten",
        data={**_cost(amount="50.000,00"), "version": _version(cost.id)},
    )
    assert edited.status_code == 302, edited.get_data(as_text=True)[:2000]
    t1 = _switch(client, login_as, books["t1"])
    assert _post(t1, books, cost.id, "einreichen").status_code == 302
    t2 = _switch(client, login_as, books["t2"])
    assert _post(t2, books, cost.id, "freigeben").status_code == 403
    assert _state(cost.id) is CostState.EINGEREICHT


def test_a_text_only_edit_leaves_the_second_pair_of_eyes(books, login_as, client) -> None:  # noqa: ANN001, F811
    """Correcting a typo is not choosing the money: t2 still approves t1's amount."""
    t1 = login_as(books["t1"])
    _population_key(t1, books)
    cost = _book(t1, books)
    t2 = _switch(client, login_as, books["t2"])
    edited = t2.post(
        f"{books['base']}/{cost.id}/bearbeiten",
        data={**_cost(text="Software-Lizenz 2026"), "version": _version(cost.id)},
    )
    assert edited.status_code == 302
    t1 = _switch(client, login_as, books["t1"])
    assert _post(t1, books, cost.id, "einreichen").status_code == 302
    # t1 created, priced and submitted it: the cost page names t2 as the one who can.
    page = t1.get(f"{books['base']}/{cost.id}").get_data(as_text=True)
    assert f"Freigeben können: {books['t2'].name} (Illingen)." in page
    assert ">Freigeben</button>" not in page
    t2 = _switch(client, login_as, books["t2"])
    page = t2.get(f"{books['base']}/{cost.id}").get_data(as_text=True)
    assert ">Freigeben</button>" in page
    assert _post(t2, books, cost.id, "freigeben").status_code == 302
    assert _state(cost.id) is CostState.FREIGEGEBEN


def test_the_recurring_templates_author_cannot_approve_its_drafts(books, login_as, client) -> None:  # noqa: ANN001, F811
    """(c) t1 sets up a monthly cost, the beat books a draft, t2 submits, t1 approves → refused."""
    coop = books["coop"]
    data = cost_keys.KeyData(kind="einwohner", entries=cost_keys.default_entries(coop.id, YEAR))
    cost_keys.save_key(coop, YEAR, data, version=None)
    rc = rec.create_recurring(
        coop,
        rec.RecurringData(
            text="Miete Bauhof",
            category="Miete",
            amount=Decimal("1250.00"),
            net_amount=None,
            vat_amount=None,
            paid_by_id=None,
            interval="monatlich",
            start_date=date(YEAR, 1, 31),
            end_date=None,
            day_of_month=None,
        ),
        by=books["t1"],
    )
    db.session.commit()
    assert rec.book_due(date(YEAR, 1, 31)).booked == 1
    db.session.commit()
    draft = db.session.scalar(select(Cost).where(Cost.recurring_id == rc.id))
    assert draft.created_by_id is None

    t2 = login_as(books["t2"])
    assert _post(t2, books, draft.id, "einreichen").status_code == 302
    t1 = _switch(client, login_as, books["t1"])
    page = t1.get(f"{books['base']}/{draft.id}").get_data(as_text=True)
    assert "die wiederkehrenden Kosten angelegt haben, aus denen der Entwurf stammt" in page
    assert ">Freigeben</button>" not in page
    assert _post(t1, books, draft.id, "freigeben").status_code == 403
    assert _state(draft.id) is CostState.EINGEREICHT


def test_the_cost_names_who_is_excluded_and_why(books, login_as, client) -> None:  # noqa: ANN001, F811
    t1 = login_as(books["t1"])
    _population_key(t1, books)
    cost = _book(t1, books)
    page = t1.get(f"{books['base']}/{cost.id}").get_data(as_text=True)
    assert "Vom Freigeben ausgeschlossen" in page
    assert f"{books['t1'].name} (Merchweiler): hat die Kosten erfasst und hat Betrag" in page


def test_the_database_refuses_an_approval_by_the_one_who_priced_it(books, login_as) -> None:  # noqa: ANN001, F811
    """Defence in depth: even a direct UPDATE cannot approve a cost by its pricer."""
    t1 = login_as(books["t1"])
    _population_key(t1, books)
    cost = _book(t1, books)
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            sa.update(Cost)
            .where(Cost.id == cost.id)
            .values(state=CostState.FREIGEGEBEN, approved_by_id=books["t1"].id)
        )
        db.session.flush()
    db.session.rollback()


# --- settlement for every Rechtsform (issue 17.7) -------------------------------------------


def _approved(books, login_as, client) -> None:  # noqa: ANN001, F811
    t1 = login_as(books["t1"])
    _population_key(t1, books)
    cost = _book(t1, books)  # 12.345,67 €, paid by the lead (Merchweiler)
    assert _post(t1, books, cost.id, "einreichen").status_code == 302
    t2 = _switch(client, login_as, books["t2"])
    assert _post(t2, books, cost.id, "freigeben").status_code == 302


def test_a_zweckvereinbarung_settles_through_the_paying_office(books, login_as, client) -> None:  # noqa: ANN001, F811
    _approved(books, login_as, client)
    page = client.get(f"{books['base']}/?jahr={YEAR}").get_data(as_text=True)
    assert "Ausgleich über die zahlende Stelle (Merchweiler)" in page
    assert "Illingen überweist 4.671,24\u00a0€ an Merchweiler" in page
    assert "Eppelborn überweist 4.814,08\u00a0€ an Merchweiler" in page
    assert "Merchweiler überweist" not in page
    total = page[page.index('id="salden-summe"') :]
    assert "12.345,67\u00a0€" in total[:400] and "0,00\u00a0€" in total[:600]


def test_an_arbeitsgemeinschaft_settles_partner_to_partner(books, login_as, client) -> None:  # noqa: ANN001, F811
    from koopboard.domain.catalog import Rechtsform

    books["coop"].rechtsform = Rechtsform.ARBEITSGEMEINSCHAFT
    db.session.commit()
    _approved(books, login_as, client)
    page = client.get(f"{books['base']}/?jahr={YEAR}").get_data(as_text=True)
    assert "möglichst wenige" in page and "zahlende Stelle (" not in page
    assert "Eppelborn überweist 4.814,08\u00a0€ an Merchweiler" in page
