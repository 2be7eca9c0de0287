"""Costs through the web: keys, booking to the cent, four-eyes, payments, balances, exports."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlalchemy import func, select

from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.models import (
    Cost,
    CostShare,
    HistoryEntry,
    NotificationEvent,
    Payment,
    YearClosing,
)
from koopboard.models.cost import CostState

YEAR = 2026
BASE = "/kooperationen/{id}/kosten"


@pytest.fixture()
def books(make_municipality, make_user, make_cooperation):  # noqa: ANN001, ANN201
    """Merchweiler leads; Illingen and Eppelborn are partners; two treasurers, a member."""
    merchweiler = make_municipality("Merchweiler", "10043113", population=9872)
    illingen = make_municipality("Illingen", "10043112", population=16122)
    eppelborn = make_municipality("Eppelborn", "10043111", population=16615)
    lead = make_user(merchweiler)
    kaemmerin = make_user(merchweiler)
    kaemmerer = make_user(illingen)
    member = make_user(eppelborn)
    coop = make_cooperation(
        lead,
        [illingen, eppelborn],
        roles={kaemmerin: Role.TREASURER, kaemmerer: Role.TREASURER, member: Role.MEMBER},
    )
    return {
        "coop": coop,
        "base": BASE.format(id=coop.id),
        "lead": lead,
        "t1": kaemmerin,
        "t2": kaemmerer,
        "member": member,
        "m": {"merchweiler": merchweiler, "illingen": illingen, "eppelborn": eppelborn},
    }


def _population_key(client, books) -> None:  # noqa: ANN001
    data = {"kind": "einwohner", "version": ""}
    for m in books["m"].values():
        data[f"population_{m.id}"] = str(m.population)
        data[f"stichtag_{m.id}"] = "31.12.2019"
        data[f"source_{m.id}"] = "Test"
    response = client.post(f"{books['base']}/schluessel/{YEAR}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def _cost(**overrides: str) -> dict:
    return {
        "booking_date": f"15.03.{YEAR}",
        "budget_year": str(YEAR),
        "text": "Software-Lizenz",
        "category": "IT",
        "kind": "kosten",
        "amount": "12.345,67",
        **overrides,
    }


def _book(client, books, **overrides: str) -> Cost:  # noqa: ANN001
    response = client.post(f"{books['base']}/neu", data=_cost(**overrides))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return db.session.scalar(select(Cost).order_by(Cost.id.desc()))


def _shares(cost_id: int) -> dict[str, Decimal]:
    rows = db.session.execute(
        select(CostShare.municipality_id, CostShare.amount).where(CostShare.cost_id == cost_id)
    )
    return dict(rows.all())


def test_schema_has_no_float_column(app) -> None:  # noqa: ANN001
    """Money is NUMERIC everywhere: no FLOAT, REAL or DOUBLE column in the whole schema."""
    inspector = sa.inspect(db.engine)
    floats = [
        f"{table}.{column['name']}: {column['type']}"
        for table in inspector.get_table_names()
        for column in inspector.get_columns(table)
        if isinstance(column["type"], sa.Float)
        or any(word in str(column["type"]).upper() for word in ("FLOAT", "REAL", "DOUBLE"))
    ]
    assert floats == []
    money = {c["name"]: c["type"] for c in inspector.get_columns("cost")}
    assert isinstance(money["amount"], sa.Numeric) and money["amount"].scale == 2


def test_population_split_to_the_cent(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["t1"])
    _population_key(client, books)
    cost = _book(client, books)
    m = books["m"]
    assert _shares(cost.id) == {
        m["merchweiler"].id: Decimal("2860.35"),
        m["illingen"].id: Decimal("4671.24"),
        m["eppelborn"].id: Decimal("4814.08"),
    }
    page = client.get(f"{books['base']}/{cost.id}").get_data(as_text=True)
    assert "2.860,35\u00a0€" in page and "4.671,24\u00a0€" in page and "4.814,08\u00a0€" in page
    assert 'id="anteile-summe">12.345,67\u00a0€' in page
    assert 'data-hx-history="false"' in page
    assert cost.state is CostState.ENTWURF
    history = db.session.scalars(
        select(HistoryEntry.field).where(
            HistoryEntry.record_type == "Cost", HistoryEntry.record_id == cost.id
        )
    ).all()
    assert "amount" in history and "state" in history


def test_key_page_explains_every_cent(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["t1"])
    _population_key(client, books)
    page = client.get(f"{books['base']}/schluessel/{YEAR}?beispiel=12.345,67")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "4.814,08\u00a0€" in body and "12.345,67\u00a0€" in body
    assert "größten Rest" in body  # the tie-break rule is shown
    reader = login_as(books["member"])
    assert reader.get(f"{books['base']}/schluessel/{YEAR}").status_code == 200


def test_key_percentages_must_total_100(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["lead"])
    data = {"kind": "prozent", "version": ""}
    for m, pct in zip(books["m"].values(), ("33,333", "33,333", "33,333"), strict=True):
        data[f"percent_{m.id}"] = pct
    response = client.post(f"{books['base']}/schluessel/{YEAR}", data=data)
    assert response.status_code == 400
    assert "99,999" in response.get_data(as_text=True)
    assert client.get(f"{books['base']}/schluessel/{YEAR}").status_code == 200


def test_changed_population_needs_a_reason(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["t1"])
    data = {"kind": "einwohner", "version": ""}
    for m in books["m"].values():
        data[f"population_{m.id}"] = str(m.population + 1)
        data[f"stichtag_{m.id}"] = "30.06.2025"
    response = client.post(f"{books['base']}/schluessel/{YEAR}", data=data)
    assert response.status_code == 400
    assert "Grund" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("amount", "kind", "needle"),
    [
        ("12,345.67", "kosten", "englischer Schreibweise"),
        ("1e3", "kosten", "kein gültiger Betrag"),
        ("NaN", "kosten", "kein gültiger Betrag"),
        ("12,345", "kosten", "Nachkommastellen"),
        ("-100,00", "kosten", "Kosten sind positiv"),
        ("100,00", "foerderung", "negativer Betrag"),
    ],
)
def test_bad_amounts_are_refused(books, login_as, amount: str, kind: str, needle: str) -> None:  # noqa: ANN001
    client = login_as(books["t1"])
    response = client.post(f"{books['base']}/neu", data=_cost(amount=amount, kind=kind))
    assert response.status_code == 400
    assert needle in response.get_data(as_text=True)
    htmx = client.post(
        f"{books['base']}/neu", data=_cost(amount=amount, kind=kind), headers={"HX-Request": "true"}
    )
    assert htmx.status_code == 422
    assert db.session.scalar(select(func.count(Cost.id))) == 0


def test_grant_is_booked_negative(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["t1"])
    cost = _book(client, books, kind="foerderung", amount="-1.000,00")
    assert cost.amount == Decimal("-1000.00")
    assert sum(_shares(cost.id).values()) == Decimal("-1000.00")


def test_key_naming_a_partner_who_left_is_refused(books, login_as) -> None:  # noqa: ANN001
    from koopboard.models import CooperationPartner

    client = login_as(books["lead"])
    data = {"kind": "prozent", "version": ""}
    for m, pct in zip(books["m"].values(), ("30", "30", "40"), strict=True):
        data[f"percent_{m.id}"] = pct
    assert client.post(f"{books['base']}/schluessel/{YEAR}", data=data).status_code == 302
    partner = db.session.scalar(
        select(CooperationPartner).where(
            CooperationPartner.municipality_id == books["m"]["eppelborn"].id
        )
    )
    partner.left_on = date(YEAR, 3, 1)
    db.session.commit()
    client.post("/abmelden")
    client = login_as(books["t1"])
    response = client.post(f"{books['base']}/neu", data=_cost())
    assert response.status_code == 400
    assert "Eppelborn" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Cost.id))) == 0


def test_four_eyes_and_balances(books, login_as, client) -> None:  # noqa: ANN001
    t1 = login_as(books["t1"])
    _population_key(t1, books)
    cost = _book(t1, books)
    base = books["base"]
    assert t1.post(f"{base}/{cost.id}/einreichen", data={"version": "1"}).status_code == 302
    own = t1.post(f"{base}/{cost.id}/freigeben", data={"version": "2"})
    assert own.status_code == 403
    assert "Vier-Augen-Prinzip" in own.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Cost, cost.id).state is CostState.EINGEREICHT

    client.post("/abmelden")
    t2 = login_as(books["t2"])
    stale = t2.post(f"{base}/{cost.id}/freigeben", data={"version": "1"})
    assert stale.status_code == 409
    assert t2.post(f"{base}/{cost.id}/freigeben", data={"version": "2"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Cost, cost.id).state is CostState.FREIGEGEBEN
    events = db.session.scalars(
        select(NotificationEvent.event_type)
        .where(NotificationEvent.record_type == "Cost")
        .order_by(NotificationEvent.id)
    ).all()
    assert events == ["cost.submitted", "cost.approved"]

    m = books["m"]
    response = t2.post(
        f"{base}/zahlungen/neu",
        data={
            "paid_on": f"01.04.{YEAR}",
            "budget_year": str(YEAR),
            "municipality_id": str(m["illingen"].id),
            "recipient_id": "",
            "kind": "abschlag",
            "amount": "4.671,24",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = t2.get(f"{base}/?jahr={YEAR}").get_data(as_text=True)
    assert f'data-saldo="{m["illingen"].ags}">0,00\u00a0€' in page
    assert f'data-saldo="{m["eppelborn"].ags}">4.814,08\u00a0€' in page
    assert f'data-saldo="{m["merchweiler"].ags}">-4.814,08\u00a0€' in page

    xlsx = t2.get(f"{base}/abrechnung/{YEAR}/{m['illingen'].id}.xlsx")
    assert xlsx.status_code == 200
    assert "attachment" in xlsx.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert ("Haushaltsjahr", YEAR) == rows[2][:2]
    line = next(r for r in rows if r[2] == "Software-Lizenz")
    assert Decimal(str(line[5])) == Decimal("12345.67")
    assert Decimal(str(line[6])) == Decimal("4671.24")
    cell = next(c for c in sheet["G"] if c.value is not None and c.row > 5)
    assert cell.number_format == '#,##0.00 "€"'
    totals = {r[0]: r[1] for r in rows if r and r[0] in ("Summe Anteile", "Noch offen")}
    assert Decimal(str(totals["Summe Anteile"])) == Decimal("4671.24")
    assert Decimal(str(totals["Noch offen"])) == Decimal("0")

    exported = t2.get(f"{base}/abrechnung/{YEAR}/{m['eppelborn'].id}.csv")
    assert exported.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig")), delimiter=";"))
    assert ["Haushaltsjahr", str(YEAR)] == rows[2]
    line = next(r for r in rows if len(r) > 2 and r[2] == "Software-Lizenz")
    assert line[5:] == ["12345,67", "4814,08"]
    assert ["Noch offen", "4814,08"] in rows


def test_reject_needs_a_reason_and_storno_is_a_counter_entry(books, login_as, client) -> None:  # noqa: ANN001
    t1 = login_as(books["t1"])
    cost = _book(t1, books)
    base = books["base"]
    t1.post(f"{base}/{cost.id}/einreichen", data={"version": "1"})
    client.post("/abmelden")
    t2 = login_as(books["t2"])
    assert t2.post(f"{base}/{cost.id}/ablehnen", data={"version": "2"}).status_code == 400
    assert (
        t2.post(f"{base}/{cost.id}/ablehnen", data={"version": "2", "reason": "Beleg fehlt"})
    ).status_code == 302
    db.session.expire_all()
    rejected = db.session.get(Cost, cost.id)
    assert rejected.state is CostState.ABGELEHNT and rejected.rejection_reason == "Beleg fehlt"

    second = _book(t2, books, amount="100,00")
    t2.post(f"{base}/{second.id}/einreichen", data={"version": "1"})
    client.post("/abmelden")
    t1 = login_as(books["t1"])
    assert t1.post(f"{base}/{second.id}/freigeben", data={"version": "2"}).status_code == 302
    assert t1.post(f"{base}/{second.id}/stornieren", data={"version": "3"}).status_code == 302
    counter = db.session.scalar(select(Cost).where(Cost.reverses_id == second.id))
    assert counter.amount == Decimal("-100.00")
    assert sum(_shares(counter.id).values()) == Decimal("-100.00")
    assert db.session.get(Cost, second.id) is not None  # nothing deleted


def test_edit_with_stale_version_is_409(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["t1"])
    cost = _book(client, books)
    edit = f"{books['base']}/{cost.id}/bearbeiten"
    assert client.post(edit, data=_cost(text="Neu", version="1")).status_code == 302
    stale = client.post(edit, data=_cost(text="Verloren", version="1"))
    assert stale.status_code == 409
    assert "Neu" in stale.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Cost, cost.id).text == "Neu"


def test_closed_year_cannot_change(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["t1"])
    response = client.post(f"{books['base']}/jahresabschluss/{YEAR}")
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(YearClosing.id))) == 1
    refused = client.post(f"{books['base']}/neu", data=_cost())
    assert refused.status_code == 400
    assert "abgeschlossen" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Cost.id))) == 0
    assert db.session.scalar(select(func.count(Payment.id))) == 0


def test_readers_cannot_book(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["member"])
    assert client.get(f"{books['base']}/").status_code == 200
    assert client.get(f"{books['base']}/neu").status_code == 403
    assert client.post(f"{books['base']}/neu", data=_cost()).status_code == 403
    assert db.session.scalar(select(func.count(Cost.id))) == 0


def test_a_tie_names_the_other_partner_by_name_with_its_ags(books, login_as) -> None:  # noqa: ANN001
    """10,00 € in three equal parts leaves one cent for three equal remainders: the smaller
    AGS (Eppelborn) gets it, and the others' explanation names Eppelborn, not a number."""
    client = login_as(books["t1"])
    cost = _book(client, books, amount="10,00")
    m = books["m"]
    assert _shares(cost.id)[m["eppelborn"].id] == Decimal("3.34")
    page = client.get(f"{books['base']}/{cost.id}").get_data(as_text=True)
    assert "Gleicher Rest und gleiches Gewicht wie Eppelborn (AGS 10043111)" in page
    assert "wie 10043111" not in page
    key = {"kind": "gleich", "version": ""}
    assert client.post(f"{books['base']}/schluessel/{YEAR}", data=key).status_code == 302
    example = client.get(f"{books['base']}/schluessel/{YEAR}?beispiel=10,00").get_data(as_text=True)
    assert "gleiches Gewicht wie Eppelborn (AGS 10043111)" in example
    assert "wie 10043111" not in example
