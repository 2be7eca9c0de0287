"""Kooperationsbörse: publishing, the directory's filters and visibility, entries, queries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from koopboard.boerse.publishing import ListingData, save_listing
from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.models import CooperationListing, HistoryEntry, RegisterAssociation

HX = {"HX-Request": "true"}
# Register centres (Stand 31.12.2019).
MERCHWEILER = (Decimal("49.358969"), Decimal("7.058254"))
ILLINGEN = (Decimal("49.377607"), Decimal("7.051397"))
OTTWEILER = (Decimal("49.402493"), Decimal("7.162070"))
MUENCHEN = (Decimal("48.137683"), Decimal("11.575997"))


@pytest.fixture()
def towns(make_municipality):  # noqa: ANN001, ANN201
    def town(name: str, ags: str, where: tuple[Decimal, Decimal], **kw):  # noqa: ANN003, ANN202
        return make_municipality(name, ags, breitengrad=where[0], laengengrad=where[1], **kw)

    return {
        "merchweiler": town("Merchweiler", "10043113", MERCHWEILER),
        "illingen": town("Illingen", "10043112", ILLINGEN),
        "ottweiler": town("Ottweiler", "10043115", OTTWEILER),
        "muenchen": town(
            "München", "09162000", MUENCHEN, land="Bayern", kreis="München, Landeshauptstadt"
        ),
    }


def publish(cooperation, visibility: str, summary: str = "Wir teilen ein Standesamt.", **kw):  # noqa: ANN001, ANN003, ANN201
    listing = save_listing(
        cooperation,
        ListingData(
            visibility=visibility,
            summary=summary,
            seeking_partners=kw.get("seeking", False),
            seeking_kreis=kw.get("kreis"),
            seeking_radius_km=kw.get("radius"),
        ),
    )
    db.session.commit()
    return listing


@pytest.fixture()
def world(towns, make_user, make_cooperation):  # noqa: ANN001, ANN201
    lead = make_user(towns["merchweiler"], email="lead@merchweiler.example")
    outsider = make_user(towns["ottweiler"], email="hauptamt@ottweiler.example")
    bavarian = make_user(towns["muenchen"], email="ikz@muenchen.example")
    coops = {
        "public": make_cooperation(lead, [towns["illingen"]], title="Gemeinsames Standesamt"),
        "platform": make_cooperation(lead, title="Klärwerk Westrich"),
        "intern": make_cooperation(lead, title="Geheimes Projekt Nordwind"),
        "bayern": make_cooperation(bavarian, title="Münchner IT-Verbund"),
    }
    publish(coops["public"], "oeffentlich", seeking=True, kreis="Neunkirchen", radius=20)
    publish(coops["platform"], "plattform", summary="Abwasser gemeinsam reinigen.")
    publish(coops["intern"], "intern", summary="Streng vertraulich 4711.")
    publish(coops["bayern"], "plattform", summary="Rechenzentrum für Kommunen.")
    db.session.add(
        RegisterAssociation(
            ars="100435555",
            name="Illtal",
            textkennzeichen="54",
            kind="Verwaltungsgemeinschaft",
            land="Saarland",
            kreis="Neunkirchen",
            member_count=2,
            member_names="Illingen, Merchweiler",
            population=20000,
            population_date=date(2019, 12, 31),
            breitengrad=ILLINGEN[0],
            laengengrad=ILLINGEN[1],
            register_date=date(2019, 12, 31),
        )
    )
    db.session.commit()
    return {"lead": lead, "outsider": outsider, "coops": coops}


def titles(body: str) -> set[str]:
    """The entries linked from the result list (not the search field's own value)."""
    names = (
        "Gemeinsames Standesamt",
        "Standesamt Illtal-Nord",
        "Klärwerk Westrich",
        "Nordwind",
        "Münchner IT-Verbund",
    )
    found = {name for name in names if f"{name}</a>" in body}
    if "Verwaltungsgemeinschaft Illtal</a>" in body:
        found.add("Illtal")
    return found


# --- publishing ---------------------------------------------------------------------------


def test_only_the_projektleitung_publishes_and_the_change_is_in_the_history(
    client, login_as, world, make_user, towns
) -> None:  # noqa: ANN001
    coop = world["coops"]["platform"]
    member = make_user(towns["merchweiler"])
    db.session.add(
        __import__("koopboard.models", fromlist=["Membership"]).Membership(
            cooperation_id=coop.id, user_id=member.id, role=Role.MEMBER
        )
    )
    db.session.commit()
    login_as(member)
    assert client.get(f"/kooperationen/{coop.id}/boerse").status_code == 403
    client.post("/abmelden")

    login_as(world["lead"])
    page = client.get(f"/kooperationen/{coop.id}/boerse")
    assert page.status_code == 200
    response = client.post(
        f"/kooperationen/{coop.id}/boerse",
        data={"visibility": "oeffentlich", "summary": "Neu für alle.", "seeking_partners": "y"},
    )
    assert response.status_code == 302
    listing = db.session.scalar(
        select(CooperationListing).where(CooperationListing.cooperation_id == coop.id)
    )
    assert listing.visibility.value == "oeffentlich"
    changes = db.session.scalars(
        select(HistoryEntry).where(
            HistoryEntry.cooperation_id == coop.id,
            HistoryEntry.record_type == "CooperationListing",
            HistoryEntry.field == "visibility",
        )
    ).all()
    assert [(c.old_value, c.new_value) for c in changes][-1] == ("plattform", "oeffentlich")
    history = client.get(f"/kooperationen/{coop.id}/verlauf").get_data(as_text=True)
    assert "Sichtbarkeit in der Kooperationsbörse" in history


def test_publishing_needs_a_summary_and_a_known_kreis(client, login_as, world) -> None:  # noqa: ANN001
    coop = world["coops"]["intern"]
    login_as(world["lead"])
    response = client.post(
        f"/kooperationen/{coop.id}/boerse", data={"visibility": "plattform", "summary": ""}
    )
    assert response.status_code == 400
    assert "braucht es eine Kurzbeschreibung" in response.get_data(as_text=True)
    response = client.post(
        f"/kooperationen/{coop.id}/boerse",
        data={
            "visibility": "plattform",
            "summary": "x" * 2001,
        },
    )
    assert "Höchstens 2000 Zeichen." in response.get_data(as_text=True)
    response = client.post(
        f"/kooperationen/{coop.id}/boerse",
        data={
            "visibility": "plattform",
            "summary": "Gut",
            "seeking_partners": "y",
            "seeking_kreis": "Atlantis",
        },
    )
    assert "„Atlantis“ ist kein Kreis" in response.get_data(as_text=True)


# --- visibility -----------------------------------------------------------------------------


def test_anonymous_visitors_see_public_entries_and_the_register_only(client, world) -> None:  # noqa: ANN001
    for headers in ({}, HX):
        body = client.get("/kooperationsboerse", headers=headers).get_data(as_text=True)
        assert titles(body) == {"Gemeinsames Standesamt", "Illtal"}
        assert "2 Einträge" in body
        assert "4711" not in body


def test_signed_in_users_also_see_platform_entries_never_intern_ones(
    client, login_as, world
) -> None:  # noqa: ANN001
    login_as(world["outsider"])
    body = client.get("/kooperationsboerse").get_data(as_text=True)
    assert titles(body) == {
        "Gemeinsames Standesamt",
        "Klärwerk Westrich",
        "Münchner IT-Verbund",
        "Illtal",
    }
    assert "Streng vertraulich" not in body
    intern = world["coops"]["intern"].id
    assert client.get(f"/kooperationsboerse/{intern}").status_code == 404


def test_an_entry_shows_public_facts_never_internals(client, login_as, world) -> None:  # noqa: ANN001
    coop = world["coops"]["public"]
    body = client.get(f"/kooperationsboerse/{coop.id}").get_data(as_text=True)
    assert "Gemeinsames Standesamt" in body
    assert "Merchweiler, Illingen" in body or "Illingen, Merchweiler" in body
    assert "aus dem Kreis Neunkirchen" in body
    assert "lead@merchweiler.example" not in body
    assert "Ziele" not in body  # the internal goals stay internal
    platform = world["coops"]["platform"].id
    assert client.get(f"/kooperationsboerse/{platform}").status_code == 302  # sign in first


def test_the_register_entry_lists_its_members(client, world, towns) -> None:  # noqa: ANN001
    towns["illingen"].verband = "100435555"
    towns["merchweiler"].verband = "100435555"
    db.session.commit()
    body = client.get("/kooperationsboerse/verband/100435555").get_data(as_text=True)
    assert "Verwaltungsgemeinschaft Illtal" in body
    assert "aus dem Gemeindeverzeichnis (Stand 31.12.2019)" in body
    assert "Beitritt anfragen" not in body
    assert client.get("/kooperationsboerse/verband/999999999").status_code == 404


# --- filters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("land=Bayern", {"Münchner IT-Verbund"}),
        ("kreis=Neunkirchen&art=kooperation", {"Gemeinsames Standesamt", "Klärwerk Westrich"}),
        ("sucht=y", {"Gemeinsames Standesamt"}),
        ("rechtsform=verwaltungsgemeinschaft", {"Illtal"}),
        ("art=verband", {"Illtal"}),
        ("handlungsfeld=it", set()),
        ("umkreis=25&von=10043115", {"Gemeinsames Standesamt", "Klärwerk Westrich", "Illtal"}),
        ("umkreis=25&von=Ottweiler&art=verband", {"Illtal"}),
        ("umkreis=100&von=München", {"Münchner IT-Verbund"}),
    ],
)
def test_filters_combine(client, login_as, world, query: str, expected: set[str]) -> None:  # noqa: ANN001
    login_as(world["outsider"])
    body = client.get(f"/kooperationsboerse?{query}").get_data(as_text=True)
    assert titles(body) == expected


def test_the_umkreis_shows_distances_nearest_first(client, login_as, world) -> None:  # noqa: ANN001
    login_as(world["outsider"])  # Ottweiler: the default origin
    body = client.get("/kooperationsboerse?umkreis=30").get_data(as_text=True)
    assert "Entfernungen von Ottweiler" in body
    # Illtal's centre (Illingen) is 8.5 km from Ottweiler, Merchweiler (the lead of both
    # cooperations) 8.9 km.
    assert body.count(">8 km<") == 1 and body.count(">9 km<") == 2
    assert body.index("Illtal</a>") < body.index("Gemeinsames Standesamt</a>")
    assert "Münchner" not in body


def test_an_unknown_origin_is_said_next_to_the_field(client, world) -> None:  # noqa: ANN001
    body = client.get("/kooperationsboerse?umkreis=10&von=Atlantis").get_data(as_text=True)
    assert "Keine Kommune „Atlantis“ im Gemeindeverzeichnis." in body


def test_free_text_searches_title_summary_and_partner_names(client, login_as, world) -> None:  # noqa: ANN001
    login_as(world["outsider"])
    assert titles(client.get("/kooperationsboerse?q=Abwasser").get_data(as_text=True)) == {
        "Klärwerk Westrich"
    }
    by_partner = client.get("/kooperationsboerse?q=Illingen").get_data(as_text=True)
    assert titles(by_partner) == {"Gemeinsames Standesamt", "Illtal"}
    assert titles(client.get("/kooperationsboerse?q=Nordwind").get_data(as_text=True)) == set()


def test_the_text_search_follows_renames_partners_and_summaries(
    client, login_as, world, towns
) -> None:  # noqa: ANN001
    """PostgreSQL keeps a stored tsvector per entry (migration 0018's triggers): every change
    that the search reads is found at once, on SQLite the per-row fallback reads it anyway."""
    from koopboard.cooperations.services import add_partner, update_partner
    from koopboard.models import CooperationPartner

    login_as(world["outsider"])
    standesamt = world["coops"]["public"]
    assert titles(client.get("/kooperationsboerse?q=Ottweiler").get_data(as_text=True)) == set()
    add_partner(standesamt, ags="10043115", joined_on=date(2025, 6, 1), council_resolution_on=None)
    db.session.commit()
    assert titles(client.get("/kooperationsboerse?q=Ottweiler").get_data(as_text=True)) == {
        "Gemeinsames Standesamt"
    }
    partner = db.session.scalar(
        select(CooperationPartner).where(
            CooperationPartner.cooperation_id == standesamt.id,
            CooperationPartner.municipality_id == towns["ottweiler"].id,
        )
    )
    update_partner(
        partner, joined_on=date(2025, 6, 1), left_on=date(2025, 12, 31), council_resolution_on=None
    )
    db.session.commit()
    assert titles(client.get("/kooperationsboerse?q=Ottweiler").get_data(as_text=True)) == set()

    standesamt.title = "Standesamt Illtal-Nord"
    db.session.commit()
    assert titles(client.get("/kooperationsboerse?q=Nord").get_data(as_text=True)) == {
        "Standesamt Illtal-Nord"
    }
    renamed = titles(client.get("/kooperationsboerse?q=Standesamt").get_data(as_text=True))
    assert renamed == {"Standesamt Illtal-Nord"}  # not under its old title any more

    publish(standesamt, "oeffentlich", summary="Trauungen im Schloss.")
    assert titles(client.get("/kooperationsboerse?q=Trauungen").get_data(as_text=True)) == {
        "Standesamt Illtal-Nord"
    }

    towns["illingen"].name = "Illingen (Saar)"
    db.session.commit()
    assert "Standesamt Illtal-Nord" in titles(
        client.get("/kooperationsboerse?q=Saar").get_data(as_text=True)
    )


def test_a_partner_whose_leaving_date_passed_no_longer_finds_the_entry_after_the_night(
    app, client, login_as, world, towns
) -> None:  # noqa: ANN001
    """No write happens on the day a partner leaves, so no trigger sees it: the nightly beat
    task refreshes the stored search text of the cooperations whose partners left."""
    from celery.schedules import crontab
    from sqlalchemy import text

    from koopboard.boerse.services import refresh_after_departures
    from koopboard.cooperations.services import add_partner
    from koopboard.domain.milestones import berlin_today
    from koopboard.models import CooperationPartner
    from koopboard.models.types import utcnow

    entry = app.extensions["celery"].conf.beat_schedule["boerse-departures"]
    assert entry["task"] == "tasks.boerse.refresh_search_after_departures"
    assert entry["schedule"] == crontab(hour="3", minute="27")
    app.extensions["celery"].loader.import_default_modules()
    assert entry["task"] in app.extensions["celery"].tasks
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the stored search text is PostgreSQL's; SQLite reads active partners per row")

    login_as(world["outsider"])
    standesamt = world["coops"]["public"]
    add_partner(standesamt, ags="10043115", joined_on=date(2025, 6, 1), council_resolution_on=None)
    db.session.commit()
    assert titles(client.get("/kooperationsboerse?q=Ottweiler").get_data(as_text=True)) == {
        "Gemeinsames Standesamt"
    }
    # Time passes: the leaving date (set while it was still ahead) is now yesterday. Written
    # here without the triggers, as the calendar does it.
    yesterday = berlin_today(utcnow()).toordinal() - 1
    db.session.execute(text("SET LOCAL session_replication_role = replica"))
    db.session.execute(
        CooperationPartner.__table__.update()
        .where(
            CooperationPartner.cooperation_id == standesamt.id,
            CooperationPartner.municipality_id == towns["ottweiler"].id,
        )
        .values(left_on=date.fromordinal(yesterday))
    )
    db.session.commit()
    assert titles(client.get("/kooperationsboerse?q=Ottweiler").get_data(as_text=True)) == {
        "Gemeinsames Standesamt"
    }  # the stored text still holds the former partner's name

    assert refresh_after_departures(berlin_today(utcnow())) == 1
    db.session.commit()
    assert titles(client.get("/kooperationsboerse?q=Ottweiler").get_data(as_text=True)) == set()
    assert "Gemeinsames Standesamt" in titles(
        client.get("/kooperationsboerse?q=Standesamt").get_data(as_text=True)
    )  # the rest of its text still finds it
    # A week later the departure is out of the window: nothing is refreshed again.
    later = date.fromordinal(yesterday + 1 + 7)
    assert refresh_after_departures(later) == 0


def test_german_stemming_on_postgresql(client, login_as, world) -> None:  # noqa: ANN001
    if db.engine.dialect.name != "postgresql":
        pytest.skip("German full-text search is PostgreSQL's")
    login_as(world["outsider"])
    # "Kommunen" in the summary is found by "Kommune" (German stemming).
    body = client.get("/kooperationsboerse?q=Kommune").get_data(as_text=True)
    assert titles(body) == {"Münchner IT-Verbund"}


def test_the_result_list_is_a_fragment_for_htmx(client, world) -> None:  # noqa: ANN001
    response = client.get("/kooperationsboerse?sucht=y", headers=HX)
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="ergebnisse"')
    assert "HX-Request" in response.headers["Vary"]
    assert "<svg" in body and "<circle" in body


def test_pagination_keeps_the_filters(client, make_user, make_cooperation, towns) -> None:  # noqa: ANN001
    lead = make_user(towns["merchweiler"])
    for i in range(23):
        publish(make_cooperation(lead, title=f"Kooperation {i:02d}"), "oeffentlich")
    first = client.get("/kooperationsboerse?art=kooperation").get_data(as_text=True)
    assert "23 Einträge" in first and "Seite 1 von 2" in first
    assert "art=kooperation" in first.split("Nächste Seite")[0].rsplit("href=", 1)[1]
    second = client.get("/kooperationsboerse?art=kooperation&seite=2").get_data(as_text=True)
    assert "Kooperation 22" in second and "Kooperation 00" not in second


# --- queries ---------------------------------------------------------------------------------


def _count_queries(client, path: str) -> int:  # noqa: ANN001
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # noqa: ANN001, ANN002
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


@pytest.mark.parametrize(
    "path", ["/kooperationsboerse", "/kooperationsboerse?umkreis=50&q=Kooperation&sucht=y"]
)
def test_the_directory_costs_the_same_queries_for_3_or_30_entries(
    client, login_as, world, make_cooperation, towns, path: str
) -> None:  # noqa: ANN001
    login_as(world["outsider"])
    for i in range(3):
        coop = make_cooperation(world["lead"], [towns["illingen"]], title=f"Kooperation {i}")
        publish(coop, "plattform", seeking=True)
    few = _count_queries(client, path)
    for i in range(3, 30):
        coop = make_cooperation(world["lead"], [towns["illingen"]], title=f"Kooperation {i}")
        publish(coop, "plattform", seeking=True)
    assert _count_queries(client, path) == few
