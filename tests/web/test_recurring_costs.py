"""Recurring costs: the pages by role, the form's rules, 409, and the drafts ``book_due`` books."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from koopboard.costs import services
from koopboard.costs.keys import services as cost_keys
from koopboard.costs.recurring import services as rec
from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.models import Cost, CostShare, HistoryEntry, Membership, YearClosing
from koopboard.models.cost import CostKind, CostState, RecurringCost, RecurringInterval

BASE = "/kooperationen/{id}/kosten"
HX = {"HX-Request": "true"}


@pytest.fixture()
def books(make_municipality, make_user, make_cooperation):  # noqa: ANN001, ANN201
    """Merchweiler leads; Illingen and Eppelborn are partners; two treasurers, a member."""
    merchweiler = make_municipality("Merchweiler", "10043113", population=9872)
    illingen = make_municipality("Illingen", "10043112", population=16122)
    eppelborn = make_municipality("Eppelborn", "10043111", population=16615)
    outsider = make_municipality("Ottweiler", "10043115")
    lead = make_user(merchweiler)
    t1 = make_user(merchweiler, name="Kim Kasse")
    t2 = make_user(illingen, name="Ilse Illinger")
    member = make_user(eppelborn)
    coop = make_cooperation(
        lead,
        [illingen, eppelborn],
        roles={t1: Role.TREASURER, t2: Role.TREASURER, member: Role.MEMBER},
    )
    return {
        "coop": coop,
        "base": BASE.format(id=coop.id),
        "list": BASE.format(id=coop.id) + "/wiederkehrend",
        "lead": lead,
        "t1": t1,
        "t2": t2,
        "member": member,
        "m": {"merchweiler": merchweiler, "illingen": illingen, "eppelborn": eppelborn},
        "outsider": outsider,
    }


def _key(books, year: int) -> None:  # noqa: ANN001
    """A population key for ``year`` (12.345,67 € → 2.860,35 / 4.671,24 / 4.814,08)."""
    coop = books["coop"]
    data = cost_keys.KeyData(kind="einwohner", entries=cost_keys.default_entries(coop.id, year))
    cost_keys.save_key(coop, year, data, version=None)
    db.session.commit()


def _recurring(books, **overrides) -> RecurringCost:  # noqa: ANN001, ANN003
    values = {
        "text": "Miete Bauhof",
        "category": "Miete",
        "amount": Decimal("12345.67"),
        "net_amount": None,
        "vat_amount": None,
        "paid_by_id": None,
        "interval": "monatlich",
        "start_date": date(2026, 1, 31),
        "end_date": None,
        "day_of_month": None,
        **overrides,
    }
    rc = rec.create_recurring(books["coop"], rec.RecurringData(**values), by=books["t1"])
    db.session.commit()
    return rc


def _drafts(rc_id: int) -> list[Cost]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Cost).where(Cost.recurring_id == rc_id).order_by(Cost.booking_date)
        )
    )


def _form(**overrides: str) -> dict:
    return {
        "text": "Lizenz Fachverfahren",
        "category": "IT",
        "amount": "1.250,00",
        "interval": "monatlich",
        "day_of_month": "31",
        "start_date": "31.01.2026",
        "end_date": "",
        "paid_by_id": "",
        **overrides,
    }


def _count() -> int:
    return db.session.scalar(select(func.count(RecurringCost.id)))


@pytest.fixture()
def frozen(monkeypatch):  # noqa: ANN001, ANN201
    """Set the app's "now" (``services.now``) for the pages' "today" in Europe/Berlin."""

    def freeze(day: date) -> None:
        moment = datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)
        monkeypatch.setattr(services, "now", lambda: moment)

    return freeze


# --- pages and roles --------------------------------------------------------------------------


def test_every_role_reads_only_the_treasurer_sets_up(books, client, login_as) -> None:  # noqa: ANN001
    _recurring(books)
    for who in ("lead", "member", "t1"):
        client.post("/abmelden")
        login_as(books[who])
        page = client.get(books["list"])
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "Wiederkehrende Kosten" in text and "Miete Bauhof" in text
        assert "Nächste Fälligkeit" in text and "31.01.2026" in text
        assert "monatlich" in text
        creates = f"{books['list']}/neu" in text
        assert creates is (who == "t1")
        expected = 200 if who == "t1" else 403
        assert client.get(f"{books['list']}/neu").status_code == expected
        rc_id = db.session.scalar(select(RecurringCost.id))
        assert client.get(f"{books['list']}/{rc_id}/bearbeiten").status_code == expected
        response = client.post(f"{books['list']}/{rc_id}/beenden", data={"version": "1"})
        assert response.status_code == (302 if who == "t1" else 403)


def test_the_cost_pages_link_to_the_recurring_page(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["member"])
    page = client.get(f"{books['base']}/?jahr=2026").get_data(as_text=True)
    assert f'href="{books["list"]}"' in page
    assert "Wiederkehrende Kosten" in page
    own = client.get(books["list"]).get_data(as_text=True)
    assert f'href="{books["list"]}" aria-current="page"' in own


def test_treasurer_creates_a_monthly_cost_with_a_german_amount(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["t1"])
    form = client.get(f"{books['list']}/neu").get_data(as_text=True)
    for label in ("Rhythmus", "monatlich", "vierteljährlich", "jährlich", "Tag im Monat"):
        assert label in form
    response = client.post(
        f"{books['list']}/neu",
        data=_form(paid_by_id=str(books["m"]["illingen"].id), amount="12.345,67"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"] == books["list"]
    rc = db.session.scalar(select(RecurringCost))
    assert rc.amount == Decimal("12345.67")
    assert (rc.interval, rc.day_of_month) == (RecurringInterval.MONATLICH, 31)
    assert (rc.start_date, rc.next_date, rc.end_date) == (
        date(2026, 1, 31),
        date(2026, 1, 31),
        None,
    )
    assert rc.paid_by_id == books["m"]["illingen"].id
    assert rc.created_by_id == books["t1"].id and rc.active
    entry = db.session.scalar(
        select(HistoryEntry).where(
            HistoryEntry.record_type == "RecurringCost", HistoryEntry.field == "amount"
        )
    )
    assert entry.action == "create" and entry.actor_id == books["t1"].id
    page = client.get(books["list"]).get_data(as_text=True)
    assert "12.345,67\u00a0€" in page and "Lizenz Fachverfahren" in page
    assert "„Lizenz Fachverfahren“ sind angelegt" in page


def test_htmx_create_answers_with_hx_redirect(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["t1"])
    response = client.post(f"{books['list']}/neu", data=_form(), headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == books["list"]


def test_the_day_defaults_to_the_start_day_and_quarterly_is_stored(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["t1"])
    data = _form(interval="quartalsweise", day_of_month="", start_date="2026-02-15")
    assert client.post(f"{books['list']}/neu", data=data).status_code == 302
    rc = db.session.scalar(select(RecurringCost))
    assert (rc.interval, rc.day_of_month, rc.next_date) == (
        RecurringInterval.QUARTALSWEISE,
        15,
        date(2026, 2, 15),
    )
    assert "vierteljährlich" in client.get(books["list"]).get_data(as_text=True)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"amount": "-5,00"}, "amount", "Ein negativer Betrag ist hier nicht erlaubt."),
        ({"amount": "0,00"}, "amount", "Bitte einen Betrag größer als 0 angeben."),
        ({"amount": "12,345.67"}, "amount", "12,345.67"),
        ({"amount": ""}, "amount", "Bitte einen Betrag eingeben."),
        (
            {"start_date": "01.03.2026", "end_date": "28.02.2026"},
            "end_date",
            "Das Ende darf nicht vor dem Beginn liegen.",
        ),
        ({"start_date": "31.02.2026"}, "start_date", "gültiges Datum"),
        ({"day_of_month": "32"}, "day_of_month", "Bitte einen Tag zwischen 1 und 31 angeben."),
        ({"interval": "woechentlich"}, "interval", "Bitte wählen Sie einen Eintrag"),
        ({"text": ""}, "text", "Bitte füllen Sie dieses Feld aus."),
        (
            {"net_amount": "1.000,00", "vat_amount": "200,00"},
            "vat_amount",
            "ergeben nicht den Betrag",
        ),
        ({"paid_by_id": "OUTSIDER"}, "paid_by_id", "Vorgeleistet haben kann nur eine Partner"),
    ],
)
def test_bad_input_gets_a_german_message_at_the_field(
    books,
    login_as,
    overrides: dict,
    field: str,
    message: str,  # noqa: ANN001
) -> None:
    client = login_as(books["t1"])
    if overrides.get("paid_by_id") == "OUTSIDER":
        overrides = {"paid_by_id": str(books["outsider"].id)}
    before = db.session.scalar(select(func.count(HistoryEntry.id)))
    response = client.post(f"{books['list']}/neu", data=_form(**overrides))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert f'aria-describedby="{field}-hinweis {field}-fehler"' in page or (
        f'aria-describedby="{field}-fehler"' in page
    )
    assert 'aria-invalid="true"' in page
    assert _count() == 0
    assert db.session.scalar(select(func.count(HistoryEntry.id))) == before
    htmx = client.post(f"{books['list']}/neu", data=_form(**overrides), headers=HX)
    assert htmx.status_code == 422
    assert message in htmx.get_data(as_text=True)
    assert "<html" not in htmx.get_data(as_text=True)


def test_a_first_due_date_in_a_closed_year_is_refused(books, login_as) -> None:  # noqa: ANN001
    db.session.add(YearClosing(cooperation_id=books["coop"].id, budget_year=2025))
    db.session.commit()
    client = login_as(books["t1"])
    response = client.post(f"{books['list']}/neu", data=_form(start_date="01.06.2025"))
    assert response.status_code == 400
    assert "abgeschlossenen Haushaltsjahr 2025" in response.get_data(as_text=True)
    assert _count() == 0


# --- edit, 409, end --------------------------------------------------------------------------


def test_edit_changes_from_the_next_due_date_on(books, login_as) -> None:  # noqa: ANN001
    _key(books, 2026)
    rc = _recurring(books)
    rec.book_due(date(2026, 2, 28))  # 31.01. and 28.02. booked
    rc = db.session.get(RecurringCost, rc.id)
    assert rc.next_date == date(2026, 3, 31)
    client = login_as(books["t1"])
    form = client.get(f"{books['list']}/{rc.id}/bearbeiten").get_data(as_text=True)
    assert 'value="12.345,67"' in form and 'name="version"' in form
    data = _form(amount="1.000,00", day_of_month="15", version=str(rc.version))
    response = client.post(f"{books['list']}/{rc.id}/bearbeiten", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    rc = db.session.get(RecurringCost, rc.id)
    assert (rc.amount, rc.day_of_month, rc.text) == (Decimal("1000.00"), 15, "Lizenz Fachverfahren")
    assert rc.next_date == date(2026, 3, 15)  # after the last draft (28.02.), on the new day
    assert [c.amount for c in _drafts(rc.id)] == [Decimal("12345.67")] * 2  # drafts untouched


def test_stale_version_answers_409_with_the_current_values(books, login_as) -> None:  # noqa: ANN001
    rc = _recurring(books)
    client = login_as(books["t1"])
    stale = str(rc.version)
    fresh = _form(amount="500,00", version=stale)
    assert client.post(f"{books['list']}/{rc.id}/bearbeiten", data=fresh).status_code == 302
    response = client.post(
        f"{books['list']}/{rc.id}/bearbeiten",
        data=_form(amount="999,99", text="Überschrieben", version=stale),
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Jemand hat diese wiederkehrenden Kosten inzwischen geändert." in page
    assert 'value="500,00"' in page and "Überschrieben" not in page
    assert "Zuletzt geändert von Kim Kasse" in page
    db.session.expire_all()
    assert db.session.get(RecurringCost, rc.id).amount == Decimal("500.00")
    missing = client.post(f"{books['list']}/{rc.id}/bearbeiten", data=_form(version=""))
    assert missing.status_code == 409


def test_end_stops_the_drafts_and_keeps_the_booked_ones(books, login_as) -> None:  # noqa: ANN001
    _key(books, 2026)
    rc = _recurring(books)
    rec.book_due(date(2026, 1, 31))
    client = login_as(books["t1"])
    version = str(db.session.get(RecurringCost, rc.id).version)
    stale = client.post(f"{books['list']}/{rc.id}/beenden", data={"version": "1"})
    assert stale.status_code == 409
    assert "inzwischen geändert" in stale.get_data(as_text=True)
    response = client.post(f"{books['list']}/{rc.id}/beenden", data={"version": version})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(RecurringCost, rc.id).active is False
    assert rec.book_due(date(2026, 6, 30)).booked == 0
    assert len(_drafts(rc.id)) == 1
    page = client.get(books["list"]).get_data(as_text=True)
    assert "beendet" in page
    again = client.post(f"{books['list']}/{rc.id}/beenden", data={"version": str(int(version) + 1)})
    assert again.status_code == 302
    assert "bereits beendet" in client.get(books["list"]).get_data(as_text=True)
    edit = client.post(
        f"{books['list']}/{rc.id}/bearbeiten", data=_form(version=str(int(version) + 1))
    )
    assert edit.status_code == 400
    assert "nicht mehr bearbeiten" in edit.get_data(as_text=True)


def test_another_cooperations_recurring_cost_is_not_found(
    books,
    login_as,
    make_user,
    make_cooperation,  # noqa: ANN001
) -> None:
    rc = _recurring(books)
    other_treasurer = make_user(books["m"]["illingen"])
    other = make_cooperation(other_treasurer, [], roles={}, title="Andere Kooperation")
    db.session.execute(
        update(Membership).where(Membership.cooperation_id == other.id).values(role=Role.TREASURER)
    )
    db.session.commit()
    client = login_as(other_treasurer)
    url = f"/kooperationen/{other.id}/kosten/wiederkehrend/{rc.id}"
    assert client.get(url + "/bearbeiten").status_code == 404
    assert client.post(url + "/beenden", data={"version": "1"}).status_code == 404


# --- book_due: the drafts ---------------------------------------------------------------------


def test_monthly_from_the_31st_books_each_month_end_with_the_keys_shares(books) -> None:  # noqa: ANN001
    _key(books, 2026)
    rc = _recurring(books)
    run = rec.book_due(date(2026, 3, 31))
    assert (run.booked, run.skipped, run.failed) == (3, [], 0)
    drafts = _drafts(rc.id)
    assert [c.booking_date for c in drafts] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]
    key = cost_keys.key_for(books["coop"].id, 2026)
    m = books["m"]
    for cost in drafts:
        assert (cost.state, cost.kind, cost.budget_year) == (
            CostState.ENTWURF,
            CostKind.KOSTEN,
            2026,
        )
        assert (cost.text, cost.category, cost.amount) == ("Miete Bauhof", "Miete", rc.amount)
        assert cost.key_id == key.id and cost.created_by_id is None
        assert cost.paid_by_id == books["coop"].lead_municipality_id
        shares = dict(
            db.session.execute(
                select(CostShare.municipality_id, CostShare.amount).where(
                    CostShare.cost_id == cost.id
                )
            ).all()
        )
        assert shares == {
            m["merchweiler"].id: Decimal("2860.35"),
            m["illingen"].id: Decimal("4671.24"),
            m["eppelborn"].id: Decimal("4814.08"),
        }
        assert sum(shares.values()) == cost.amount
    assert db.session.get(RecurringCost, rc.id).next_date == date(2026, 4, 30)


def test_leap_year_february_gets_the_29th(books) -> None:  # noqa: ANN001
    _key(books, 2028)
    rc = _recurring(books, start_date=date(2028, 1, 31))
    rec.book_due(date(2028, 3, 31))
    assert [c.booking_date for c in _drafts(rc.id)] == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
    ]


def test_quarterly_and_yearly_with_catch_up_across_years(books) -> None:  # noqa: ANN001
    for year in (2026, 2027, 2028):
        _key(books, year)
    quarterly = _recurring(books, interval="quartalsweise", start_date=date(2026, 1, 15))
    yearly = _recurring(
        books,
        interval="jaehrlich",
        start_date=date(2026, 2, 1),
        day_of_month=29,
        amount=Decimal("100.01"),
    )
    run = rec.book_due(date(2028, 2, 28))
    assert [c.booking_date for c in _drafts(quarterly.id)] == [
        date(2026, 1, 15),
        date(2026, 4, 15),
        date(2026, 7, 15),
        date(2026, 10, 15),
        date(2027, 1, 15),
        date(2027, 4, 15),
        date(2027, 7, 15),
        date(2027, 10, 15),
        date(2028, 1, 15),
    ]
    yearly_drafts = _drafts(yearly.id)
    assert [c.booking_date for c in yearly_drafts] == [date(2026, 2, 28), date(2027, 2, 28)]
    assert [c.budget_year for c in yearly_drafts] == [2026, 2027]
    assert run.booked == 11
    assert db.session.get(RecurringCost, yearly.id).next_date == date(2028, 2, 29)
    for cost in yearly_drafts:
        total = db.session.scalar(
            select(func.sum(CostShare.amount)).where(CostShare.cost_id == cost.id)
        )
        assert total == Decimal("100.01")


def test_nothing_before_the_first_due_date(books) -> None:  # noqa: ANN001
    _key(books, 2026)
    rc = _recurring(books, start_date=date(2026, 5, 2), day_of_month=1)
    assert rc.next_date == date(2026, 6, 1)
    assert rec.book_due(date(2026, 5, 31)).booked == 0
    assert rec.book_due(date(2026, 6, 1)).booked == 1


def test_no_drafts_after_the_end_date(books) -> None:  # noqa: ANN001
    _key(books, 2026)
    rc = _recurring(books, end_date=date(2026, 3, 15))
    rec.book_due(date(2026, 12, 31))
    assert [c.booking_date for c in _drafts(rc.id)] == [date(2026, 1, 31), date(2026, 2, 28)]
    assert db.session.get(RecurringCost, rc.id).next_date is None
    assert rec.book_due(date(2027, 12, 31)).booked == 0


def test_running_twice_books_each_due_date_once(books) -> None:  # noqa: ANN001
    _key(books, 2026)
    rc = _recurring(books)
    assert rec.book_due(date(2026, 2, 28)).booked == 2
    assert rec.book_due(date(2026, 2, 28)).booked == 0
    # Even a next_date pushed back (by hand, a restore) never books a date twice.
    db.session.get(RecurringCost, rc.id).next_date = date(2026, 1, 31)
    db.session.commit()
    assert rec.book_due(date(2026, 3, 31)).booked == 1
    assert [c.booking_date for c in _drafts(rc.id)] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]


def test_the_unique_constraint_is_the_last_guard(books) -> None:  # noqa: ANN001
    from sqlalchemy.exc import IntegrityError

    _key(books, 2026)
    rc = _recurring(books)
    rec.book_due(date(2026, 1, 31))
    db.session.add(
        Cost(
            cooperation_id=books["coop"].id,
            budget_year=2026,
            booking_date=date(2026, 1, 31),
            text="Doppelt",
            kind=CostKind.KOSTEN,
            amount=Decimal("1.00"),
            state=CostState.ENTWURF,
            recurring_id=rc.id,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_closed_year_is_skipped_and_shown(books, login_as, frozen, caplog) -> None:  # noqa: ANN001
    _key(books, 2026)
    rc = _recurring(books, start_date=date(2026, 3, 1))
    db.session.add(YearClosing(cooperation_id=books["coop"].id, budget_year=2026))
    db.session.commit()
    with caplog.at_level(logging.WARNING, logger="koopboard.costs.recurring"):
        run = rec.book_due(date(2026, 4, 1))
    assert run.booked == 0 and len(run.skipped) == 1
    assert "Haushaltsjahr 2026 ist abgeschlossen" in caplog.text
    assert _drafts(rc.id) == []
    assert db.session.get(RecurringCost, rc.id).next_date == date(2026, 3, 1)  # left as it was
    frozen(date(2026, 4, 1))
    page = login_as(books["member"]).get(books["list"]).get_data(as_text=True)
    assert "Entwurf für 01.03.2026 nicht angelegt: Haushaltsjahr 2026 ist abgeschlossen" in page


def test_no_key_is_skipped_with_a_visible_note_and_caught_up_later(
    books,
    login_as,
    frozen,
    caplog,  # noqa: ANN001
) -> None:
    _key(books, 2026)
    rc = _recurring(books, start_date=date(2026, 12, 1), day_of_month=1)
    with caplog.at_level(logging.WARNING, logger="koopboard.costs.recurring"):
        run = rec.book_due(date(2027, 3, 1))
    assert run.booked == 1  # 01.12.2026; 2027 has no key
    assert "kein Verteilungsschlüssel 2027" in caplog.text
    assert db.session.get(RecurringCost, rc.id).next_date == date(2027, 1, 1)
    frozen(date(2027, 3, 1))
    client = login_as(books["t1"])
    page = client.get(books["list"]).get_data(as_text=True)
    assert "Entwurf für 01.01.2027 nicht angelegt: kein Verteilungsschlüssel 2027" in page
    _key(books, 2027)
    page = client.get(books["list"]).get_data(as_text=True)
    assert "nicht angelegt" not in page
    assert "wird beim nächsten stündlichen Lauf angelegt" in page
    assert rec.book_due(date(2027, 3, 1)).booked == 3
    assert [c.booking_date for c in _drafts(rc.id)][1:] == [
        date(2027, 1, 1),
        date(2027, 2, 1),
        date(2027, 3, 1),
    ]


def test_a_key_missing_a_partner_is_skipped_with_its_reason(books, make_municipality) -> None:  # noqa: ANN001
    from koopboard.cooperations.services import add_partner

    _key(books, 2026)
    _recurring(books, start_date=date(2026, 1, 1), day_of_month=1)
    newcomer = make_municipality("Schiffweiler", "10043116")
    add_partner(
        books["coop"], ags=newcomer.ags, joined_on=date(2026, 2, 1), council_resolution_on=None
    )
    db.session.commit()
    run = rec.book_due(date(2026, 3, 1))
    assert run.booked == 1
    assert (
        "Entwurf für 01.02.2026 nicht angelegt: Der Schlüssel 2026 enthält nicht alle"
        in run.skipped[0]
    )


def test_one_failing_recurring_cost_does_not_block_the_others(books, monkeypatch) -> None:  # noqa: ANN001
    _key(books, 2026)
    broken = _recurring(books, text="Kaputt")
    fine = _recurring(books, text="Heil")
    original = rec._draft

    def draft(rc, due, split):  # noqa: ANN001, ANN202
        if rc.id == broken.id:
            raise RuntimeError("Datenbank weg")
        return original(rc, due, split)

    monkeypatch.setattr(rec, "_draft", draft)
    run = rec.book_due(date(2026, 2, 28))
    assert (run.booked, run.failed) == (2, 1)
    assert _drafts(broken.id) == [] and len(_drafts(fine.id)) == 2
    assert db.session.get(RecurringCost, broken.id).next_date == date(2026, 1, 31)


def test_drafts_are_in_the_cost_list_by_the_system_and_go_through_four_eyes(
    books,
    login_as,
    client,  # noqa: ANN001
) -> None:
    _key(books, 2026)
    rc = _recurring(books)
    rec.book_due(date(2026, 1, 31))
    draft = _drafts(rc.id)[0]
    entries = list(
        db.session.scalars(
            select(HistoryEntry).where(
                HistoryEntry.record_type == "Cost", HistoryEntry.record_id == draft.id
            )
        )
    )
    assert entries and {(e.action, e.actor_id, e.actor_label) for e in entries} == {
        ("create", None, rec.SYSTEM_ACTOR)
    }
    advanced = db.session.scalar(
        select(HistoryEntry)
        .where(HistoryEntry.record_type == "RecurringCost", HistoryEntry.field == "next_date")
        .order_by(HistoryEntry.id.desc())
    )
    assert (advanced.actor_label, advanced.new_value) == (rec.SYSTEM_ACTOR, "2026-02-28")
    login_as(books["t1"])
    listing = client.get(f"{books['base']}/?jahr=2026").get_data(as_text=True)
    assert "Miete Bauhof" in listing and "31.01.2026" in listing
    assert (
        client.post(f"{books['base']}/{draft.id}/einreichen", data={"version": "1"}).status_code
        == 302
    )
    client.post("/abmelden")
    login_as(books["t2"])
    assert (
        client.post(f"{books['base']}/{draft.id}/freigeben", data={"version": "2"}).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(Cost, draft.id).state is CostState.FREIGEGEBEN


def test_ending_asks_first_and_says_what_stops_and_what_stays(books, login_as) -> None:  # noqa: ANN001
    _key(books, 2026)
    rc = _recurring(books)
    rec.book_due(date(2026, 1, 31))
    client = login_as(books["t1"])
    listing = client.get(books["list"]).get_data(as_text=True)
    assert f'href="{books["list"]}/{rc.id}/beenden"' in listing
    assert f'action="{books["list"]}/{rc.id}/beenden"' not in listing  # no one-click end
    page = client.get(f"{books['list']}/{rc.id}/beenden")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Wiederkehrende Kosten „Miete Bauhof“ beenden?" in text
    assert "Ab der nächsten Fälligkeit am 28.02.2026 werden keine Entwürfe mehr angelegt." in text
    assert "Die 1 bereits angelegten Entwürfe" in text
    db.session.expire_all()
    assert db.session.get(RecurringCost, rc.id).active is True  # asking changed nothing
    version = str(db.session.get(RecurringCost, rc.id).version)
    assert f'name="version" value="{version}"' in text
    assert (
        client.post(f"{books['list']}/{rc.id}/beenden", data={"version": version}).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(RecurringCost, rc.id).active is False
