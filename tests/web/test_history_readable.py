"""The history a person can read: one sentence per change with names, amounts and dates;
the fields behind a disclosure; never an internal number; filters by kind, person, period."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select

from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.history import record_event
from koopboard.models import Cost, CostKey, HistoryEntry

YEAR = 2026


def text(response) -> str:  # noqa: ANN001
    body = response.get_data(as_text=True)
    if "<main" in body:
        body = body[body.index("<main") : body.index("</main>")]
    return body


@pytest.fixture()
def world(make_municipality, make_user, make_cooperation):  # noqa: ANN001, ANN201
    merchweiler = make_municipality("Merchweiler", "10043113", population=9872)
    illingen = make_municipality("Illingen", "10043112", population=16122)
    lead = make_user(merchweiler, name="Lea Leitung")
    karl = make_user(illingen, name="Karl Schneider")
    tina = make_user(merchweiler, name="Tina Kämmerer")
    observer = make_user(illingen, name="Otto Obacht")
    outsider = make_user(make_municipality("Eppelborn", "10043111"), name="Emil Außen")
    coop = make_cooperation(
        lead,
        [illingen],
        roles={karl: Role.TREASURER, tina: Role.TREASURER, observer: Role.OBSERVER},
    )
    return {
        "coop": coop,
        "base": f"/kooperationen/{coop.id}/kosten",
        "history": f"/kooperationen/{coop.id}/verlauf",
        "lead": lead,
        "karl": karl,
        "tina": tina,
        "observer": observer,
        "outsider": outsider,
        "m": {"merchweiler": merchweiler, "illingen": illingen},
    }


def _switch(client, login_as, user):  # noqa: ANN001, ANN202
    client.post("/abmelden")
    return login_as(user)


def _key(client, world) -> None:  # noqa: ANN001
    data = {"kind": "einwohner", "version": ""}
    for m in world["m"].values():
        data[f"population_{m.id}"] = str(m.population)
        data[f"stichtag_{m.id}"] = "31.12.2019"
        data[f"source_{m.id}"] = "Test"
    response = client.post(f"{world['base']}/schluessel/{YEAR}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def _version(cost_id: int) -> str:
    db.session.expire_all()
    return str(db.session.get(Cost, cost_id).version)


def _book_and_submit(client, world) -> Cost:  # noqa: ANN001
    _key(client, world)
    booked = client.post(
        f"{world['base']}/neu",
        data={
            "booking_date": f"15.03.{YEAR}",
            "budget_year": str(YEAR),
            "text": "Fachverfahren Personenstand",
            "category": "IT",
            "kind": "kosten",
            "amount": "1.234,00",
        },
    )
    assert booked.status_code == 302, booked.get_data(as_text=True)[:2000]
    cost = db.session.scalar(select(Cost).order_by(Cost.id.desc()))
    submitted = client.post(
        f"{world['base']}/{cost.id}/einreichen", data={"version": _version(cost.id)}
    )
    assert submitted.status_code == 302
    return cost


def test_a_cost_reads_as_sentences_with_name_amount_and_municipality(
    world, client, login_as
) -> None:  # noqa: ANN001
    karl = login_as(world["karl"])
    cost = _book_and_submit(karl, world)
    tina = _switch(client, login_as, world["tina"])
    approved = tina.post(
        f"{world['base']}/{cost.id}/freigeben", data={"version": _version(cost.id)}
    )
    assert approved.status_code == 302

    page = text(tina.get(world["history"]))
    who = "Karl Schneider (Illingen)"
    assert f"{who} hat die Kosten „Fachverfahren Personenstand“ (1.234,00\u00a0€) erfasst." in page
    assert (
        f"{who} hat die Kosten „Fachverfahren Personenstand“ (1.234,00\u00a0€) eingereicht." in page
    )
    assert (
        "Tina Kämmerer (Merchweiler) hat die Kosten „Fachverfahren Personenstand“ "
        "(1.234,00\u00a0€) freigegeben." in page
    )
    # One entry per change, not per field: booking, submitting, approving, plus the key.
    sentences = re.findall(r"<li class=\"change\">", page)
    assert len(sentences) == len(
        {
            (e.created_at, e.record_type, e.record_id, e.action)
            for e in db.session.scalars(
                select(HistoryEntry).where(HistoryEntry.cooperation_id == world["coop"].id)
            )
        }
    )
    # The fields behind a disclosure, in words; the state's label, the people by name.
    assert "<details>" in page and "<summary>Einzelheiten" in page
    assert "<td>eingereicht</td>" in page and "<td>freigegeben</td>" in page
    assert "<td>Karl Schneider</td>" in page and "<td>Tina Kämmerer</td>" in page


def test_no_internal_number_shows(world, client, login_as) -> None:  # noqa: ANN001
    karl = login_as(world["karl"])
    cost = _book_and_submit(karl, world)
    key = db.session.scalar(select(CostKey))

    for url in (world["history"], f"/kooperationen/{world['coop'].id}"):
        page = text(karl.get(url))
        assert "(Nr.)" not in page
        cells = set(re.findall(r"<td>([^<]*)</td>", page))
        numbers = {
            str(world["m"]["illingen"].id),
            str(world["m"]["merchweiler"].id),
            str(world["karl"].id),
            str(world["lead"].id),
            str(key.id),
            str(cost.id),
            str(world["coop"].id),
        }
        assert not cells & numbers, cells & numbers


def test_a_deleted_record_is_named_by_its_last_label(world, app) -> None:  # noqa: ANN001
    """A reference to a record that is gone shows the last name the history kept of it."""
    coop = world["coop"]
    record_event(
        db.session,
        record_type="CostKey",
        record_id=987654,
        action="delete",
        record_label="Verteilungsschlüssel 2019",
        cooperation_id=coop.id,
    )
    record_event(
        db.session,
        record_type="Cost",
        record_id=987655,
        action="update",
        record_label="Altlast",
        cooperation_id=coop.id,
        field="key_id",
        old_value="987654",
        new_value=None,
    )
    db.session.commit()
    client = app.test_client()
    from tests.web.test_authorization import sign_in

    sign_in(client, world["lead"].id)
    page = text(client.get(world["history"]))
    assert "System hat die Kosten „Altlast“ geändert: Verteilungsschlüssel." in page
    assert "<td>Verteilungsschlüssel 2019</td>" in page
    assert "987654" not in page and "987655" not in page


def test_filters_by_kind_person_and_period(world, client, login_as) -> None:  # noqa: ANN001
    karl = login_as(world["karl"])
    _book_and_submit(karl, world)
    history = world["history"]

    costs_only = text(karl.get(f"{history}?art=Cost"))
    assert "hat die Kosten" in costs_only and "Partnerkommune" not in costs_only
    assert re.search(r'<option (selected )?value="Cost"( selected)?>', costs_only)

    by_karl = text(karl.get(f"{history}?person={world['karl'].id}"))
    assert "Karl Schneider (Illingen) hat" in by_karl
    assert "System hat" not in by_karl and "Lea Leitung (Merchweiler) hat" not in by_karl

    today = datetime.now(UTC).date()
    in_period = text(karl.get(f"{history}?von={today:%d.%m.%Y}&bis={today.isoformat()}"))
    assert "hat die Kosten" in in_period
    before = text(karl.get(f"{history}?bis=01.01.2020"))
    assert "Keine Änderungen für diese Auswahl." in before and "hat die Kosten" not in before

    # htmx gets the results alone; a wrong period says why, at the field.
    fragment = karl.get(f"{history}?art=Cost", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]
    wrong = karl.get(f"{history}?von=02.02.2026&bis=01.01.2026", headers={"HX-Request": "true"})
    assert wrong.status_code == 422
    assert "Das Ende des Zeitraums darf nicht vor dem Beginn liegen." in wrong.get_data(
        as_text=True
    )
    assert karl.get(f"{history}?von=kein-datum").status_code == 400
    assert karl.get(f"{history}?person=999999").status_code == 400


def test_only_the_cooperations_roles_read_its_history(world, client, login_as) -> None:  # noqa: ANN001
    observer = login_as(world["observer"])
    assert observer.get(world["history"]).status_code == 200
    page = text(observer.get(f"/kooperationen/{world['coop'].id}"))
    assert "Lea Leitung (Merchweiler) hat" in page or "System hat" in page
    assert "Gesamten Verlauf anzeigen und filtern" in page
    outsider = _switch(client, login_as, world["outsider"])
    assert outsider.get(world["history"]).status_code == 404
    assert outsider.get(world["history"] + ".csv").status_code == 404
    client.post("/abmelden")
    assert client.get(world["history"]).status_code == 302  # to the login


def test_the_cooperation_page_shows_the_last_ten_changes(world, client, login_as) -> None:  # noqa: ANN001
    lead = login_as(world["lead"])
    coop = world["coop"]
    for n in range(1, 13):
        response = lead.post(
            f"/kooperationen/{coop.id}/bearbeiten",
            data={
                "title": f"Standesamt {n}",
                "goals": "Ziele",
                "handlungsfeld": "verwaltung",
                "rechtsform": "zweckvereinbarung",
                "status": "aktiv",
                "start_date": "2025-01-01",
                "end_date": "",
                "version": str(n),
            },
        )
        assert response.status_code == 302
    page = text(lead.get(f"/kooperationen/{coop.id}"))
    assert page.count('<li class="change">') == 10
    assert "„Standesamt 12“" in page and "„Standesamt 2“ geändert" not in page


def test_the_history_page_costs_the_same_statements_for_few_and_many_changes(
    world, client, login_as
) -> None:  # noqa: ANN001
    karl = login_as(world["karl"])
    _book_and_submit(karl, world)

    def count() -> int:
        statements: list[str] = []

        def record(conn, cursor, statement, *args) -> None:  # noqa: ANN001, ANN002
            statements.append(statement)

        karl.get(world["history"])
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert karl.get(world["history"]).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return len(statements)

    few = count()
    for n in range(20):
        karl.post(
            f"{world['base']}/neu",
            data={
                "booking_date": f"15.03.{YEAR}",
                "budget_year": str(YEAR),
                "text": f"Lizenz {n}",
                "category": "IT",
                "kind": "kosten",
                "amount": f"{n + 1},00",
            },
        )
    assert count() == few
