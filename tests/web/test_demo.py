"""The demo data `make run` loads: a cooperation whose books a Kämmerei can walk through."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from koopboard.costs.books import services as cost_books
from koopboard.demo import AGS, TITLE, load_demo
from koopboard.extensions import db
from koopboard.models import Cooperation, Cost, CostBudget, CostKey, Payment
from koopboard.models.cost import CostState

POPULATION = {"Merchweiler": 9872, "Illingen": 16122, "Eppelborn": 16615, "Schiffweiler": 15409}


def test_demo_books_are_exact_and_loading_twice_changes_nothing(app, make_municipality) -> None:  # noqa: ANN001
    for name, ags in AGS.items():
        make_municipality(name, ags, population=POPULATION[name])
    lines = list(load_demo())
    assert lines[0] == "Demodaten angelegt."
    coop = db.session.scalar(select(Cooperation).where(Cooperation.title == TITLE))
    year = db.session.scalar(select(CostKey.budget_year).where(CostKey.cooperation_id == coop.id))
    assert db.session.scalar(select(func.count(CostBudget.id))) == 3
    states = dict(
        db.session.execute(select(Cost.state, func.count(Cost.id)).group_by(Cost.state)).all()
    )
    assert states == {CostState.FREIGEGEBEN: 2, CostState.EINGEREICHT: 1}
    for cost in db.session.scalars(select(Cost).where(Cost.state == CostState.FREIGEGEBEN)):
        assert cost.approved_by_id not in (cost.created_by_id, cost.submitted_by_id)
        assert sum(s.amount for s in cost_books.shares_of(cost.id)) == cost.amount
    balances = cost_books.balances_of(coop.id, year)
    assert sum(b.shares for b in balances) == Decimal("42617.33") - Decimal("10000.00")
    assert sum(b.paid for b in balances) == Decimal("8000.00")
    assert [b[1:] for b in _rows(balances)] == [
        b[1:] for b in _rows(cost_books.balances_from_books(coop.id, year))
    ]

    assert list(load_demo())[0] == "Demodaten sind bereits vorhanden."
    assert db.session.scalar(select(func.count(Cost.id))) == 3
    assert db.session.scalar(select(func.count(Payment.id))) == 1


def _rows(balances) -> list[tuple]:  # noqa: ANN001
    return [(b.municipality.name, b.shares, b.outlays, b.paid, b.received) for b in balances]


def test_loading_the_demo_mails_nobody_but_fills_the_lists(
    app, make_municipality, mailbox, login_as
) -> None:  # noqa: ANN001
    """~30 events (milestones, partners, costs) are in the feed, none in the outbox."""
    from koopboard.demo import USERS
    from koopboard.models import NotificationDelivery, User
    from koopboard.notifications import delivery
    from tests.web.test_authorization import sign_in

    for name, ags in AGS.items():
        make_municipality(name, ags, population=POPULATION[name])
    list(load_demo())
    statuses = dict(
        db.session.execute(
            select(NotificationDelivery.status, func.count()).group_by(NotificationDelivery.status)
        ).all()
    )
    assert statuses.get("pending", 0) == 0
    assert statuses.get("skipped", 0) >= 20  # recorded for the lists
    assert delivery.relay() == 0
    assert delivery.pending_count() == 0
    assert mailbox.messages == []
    member = db.session.scalar(select(User).where(User.email == USERS[3][0]))
    feed = sign_in(app.test_client(), member.id).get("/benachrichtigungen/")
    assert "Fachverfahren Personenstand, Jahreslizenz" in feed.get_data(as_text=True)


def test_demo_milestones_name_a_responsible_person_of_their_municipality(
    app, make_municipality, mailbox
) -> None:  # noqa: ANN001
    from koopboard.demo import USERS
    from koopboard.models import Milestone, NotificationDelivery, User
    from tests.web.test_authorization import sign_in

    for name, ags in AGS.items():
        make_municipality(name, ags, population=POPULATION[name])
    list(load_demo())
    named = db.session.scalars(
        select(Milestone).where(Milestone.responsible_person_id.is_not(None))
    ).all()
    assert len(named) >= 3
    for milestone in named:
        assert milestone.responsible_person.municipality_id == milestone.responsible_municipality_id
    pending = select(func.count()).where(NotificationDelivery.status == "pending")
    assert db.session.scalar(pending) == 0 and mailbox.messages == []

    # Emil Becker (Mitglied, Eppelborn) sees the milestone he is responsible for first.
    member = db.session.scalar(select(User).where(User.email == USERS[3][0]))
    page = sign_in(app.test_client(), member.id).get("/meilensteine/").get_data(as_text=True)
    assert "Eppelborn, Emil Becker" in page
    assert page.index("Fachverfahren für alle vier Gemeinden migriert") < page.index(
        "Trauzimmer in Schiffweiler eingerichtet"
    )
