"""Why each share came out as it did, in the reader's language (issue 17.10).

A cost of 0,10 € split equally among three partners leaves one cent over: the stored
share says which partner got it and why, in German for a German reader and in English
for an English one, with the tie named by municipality, not by an internal number.
A reversal names the cost it reverses by its text and date.
"""

from __future__ import annotations

from sqlalchemy import select

from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.models import Cost, CostShare, HistoryEntry, Municipality
from tests.web.test_i18n import switch_to

YEAR = 2026


def _setup(make_municipality, make_user, make_cooperation):  # noqa: ANN001, ANN202
    merchweiler = make_municipality("Merchweiler", "10043113", population=9872)
    illingen = make_municipality("Illingen", "10043112", population=16122)
    eppelborn = make_municipality("Eppelborn", "10043111", population=16615)
    lead = make_user(merchweiler)
    t1 = make_user(merchweiler)
    t2 = make_user(illingen)
    coop = make_cooperation(
        lead, [illingen, eppelborn], roles={t1: Role.TREASURER, t2: Role.TREASURER}
    )
    return coop, t1, t2


def _book(client, base: str, amount: str = "0,10", text: str = "Porto") -> Cost:  # noqa: ANN001
    response = client.post(
        f"{base}/neu",
        data={
            "booking_date": f"15.03.{YEAR}",
            "budget_year": str(YEAR),
            "text": text,
            "category": "Sachkosten",
            "kind": "kosten",
            "amount": amount,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return db.session.scalar(select(Cost).order_by(Cost.id.desc()))


def test_leftover_cent_is_explained_in_german_and_english(
    make_municipality, make_user, make_cooperation, login_as
) -> None:  # noqa: ANN001
    coop, t1, _t2 = _setup(make_municipality, make_user, make_cooperation)
    base = f"/kooperationen/{coop.id}/kosten"
    client = login_as(t1)
    cost = _book(client, base)
    german = client.get(f"{base}/{cost.id}").get_data(as_text=True)
    # Equal weights, equal remainders: the smaller AGS (Eppelborn) gets the cent.
    assert "Rest 0,3333 Cent" not in german  # a third of a cent is not exact …
    assert "Rest ≈ 0,3333 Cent, Platz 1 nach Rest: erhält den einen übrigen Cent." in german
    assert "Gleicher Rest und gleiches Gewicht wie Illingen (AGS 10043112)" in german

    switch_to(client, "en", f"{base}/{cost.id}")
    english = client.get(f"{base}/{cost.id}").get_data(as_text=True)
    assert "Remainder ≈ 0.3333 cents, place 1 by remainder: receives the one leftover cent." in (
        english
    )
    assert "no extra cent (only 1 cent left)" in english
    assert "Same remainder and same weight as Illingen (AGS 10043112)" in english
    assert "erhält" not in english and "übrig" not in english


def test_shares_booked_before_keep_their_german_sentence(
    make_municipality, make_user, make_cooperation, login_as
) -> None:  # noqa: ANN001
    coop, t1, _t2 = _setup(make_municipality, make_user, make_cooperation)
    base = f"/kooperationen/{coop.id}/kosten"
    client = login_as(t1)
    cost = _book(client, base)
    for share in db.session.scalars(select(CostShare).where(CostShare.cost_id == cost.id)):
        share.explanation_data = None  # as a share booked before migration 0014
        share.explanation = "Alter Satz."
    db.session.commit()
    switch_to(client, "en", f"{base}/{cost.id}")
    assert client.get(f"{base}/{cost.id}").get_data(as_text=True).count("Alter Satz.") == 3


def test_reversal_names_the_cost_by_text_and_date(
    make_municipality, make_user, make_cooperation, login_as, client
) -> None:  # noqa: ANN001
    coop, t1, t2 = _setup(make_municipality, make_user, make_cooperation)
    base = f"/kooperationen/{coop.id}/kosten"
    first = login_as(t1)
    cost = _book(first, base, amount="90,00", text="Fortbildung")
    first.post(f"{base}/{cost.id}/einreichen", data={"version": "1"})
    client.post("/abmelden")
    second = login_as(t2)
    assert second.post(f"{base}/{cost.id}/freigeben", data={"version": "2"}).status_code == 302
    assert second.post(f"{base}/{cost.id}/stornieren", data={"version": "3"}).status_code == 302
    counter = db.session.scalar(select(Cost).where(Cost.reverses_id == cost.id))
    page = second.get(f"{base}/{counter.id}").get_data(as_text=True)
    assert "Gegenbuchung zu „Fortbildung“ vom 15.03.2026" in page
    assert f"Nr. {cost.id}" not in page
    switch_to(second, "en", f"{base}/{counter.id}")
    english = second.get(f"{base}/{counter.id}").get_data(as_text=True)
    assert "Reversal of “Fortbildung” of Mar 15, 2026" in english


def test_key_entries_are_named_by_municipality_in_the_history(
    make_municipality, make_user, make_cooperation, login_as
) -> None:  # noqa: ANN001
    coop, t1, _t2 = _setup(make_municipality, make_user, make_cooperation)
    client = login_as(t1)
    data = {"kind": "einwohner", "version": ""}
    for m in db.session.scalars(select(Municipality)):
        data[f"population_{m.id}"] = str(m.population)
        data[f"stichtag_{m.id}"] = "31.12.2024"
        data[f"source_{m.id}"] = "Test"
    response = client.post(f"/kooperationen/{coop.id}/kosten/schluessel/{YEAR}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    labels = set(
        db.session.scalars(
            select(HistoryEntry.record_label).where(HistoryEntry.record_type == "CostKeyEntry")
        )
    )
    assert labels == {"Merchweiler", "Illingen", "Eppelborn"}


def test_key_description_reads_in_the_readers_language(
    make_municipality, make_user, make_cooperation, login_as
) -> None:  # noqa: ANN001
    coop, t1, _t2 = _setup(make_municipality, make_user, make_cooperation)
    base = f"/kooperationen/{coop.id}/kosten"
    client = login_as(t1)
    equal = _book(client, base)  # no key for 2026 yet: equal parts
    data = {"kind": "einwohner", "version": ""}
    for m in db.session.scalars(select(Municipality)):
        data[f"population_{m.id}"] = str(m.population)
        data[f"stichtag_{m.id}"] = "31.12.2024"
        data[f"source_{m.id}"] = "Test"
    assert client.post(f"{base}/schluessel/{YEAR}", data=data).status_code == 302
    by_population = _book(client, base, amount="100,00")
    assert "zu gleichen Teilen auf 3 Partner (kein Schlüssel für 2026 hinterlegt)" in (
        client.get(f"{base}/{equal.id}").get_data(as_text=True)
    )
    assert "nach Einwohnerzahl (Stichtag 31.12.2024)" in (
        client.get(f"{base}/{by_population.id}").get_data(as_text=True)
    )
    switch_to(client, "en", f"{base}/{equal.id}")
    assert "in equal parts among 3 partners (no key stored for 2026)" in (
        client.get(f"{base}/{equal.id}").get_data(as_text=True)
    )
    english = client.get(f"{base}/{by_population.id}").get_data(as_text=True)
    assert "by population (reference date Dec 31, 2024)" in english
    assert "by population (reference date Dec 31, 2024)" in (
        client.get(f"{base}/schluessel/{YEAR}").get_data(as_text=True)
    )
