"""Kooperations-Check: the seed's questions, versions per municipality, result, counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from koopboard.boerse.publishing import ListingData, save_listing
from koopboard.domain.check import QUESTIONS, Answers, land_law, suggested_fields
from koopboard.extensions import db
from koopboard.models import (
    Cooperation,
    CooperationPartner,
    HistoryEntry,
    KoopCheck,
    RegisterAssociation,
)

SEED = Path("/work/shared/seed/interkommunale-kooperationen.txt")
ANSWERS = {
    "q1_fields": ["verwaltung", "it"],
    "q1_text": "Standesamt",
    "q2": "ja",
    "q3": "ja",
    "q3_fields": ["ver_entsorgung"],
    "q3_partner": "10043113",  # Merchweiler, chosen with the register search
    "q4": "eher_ja",
    "q5": "nein",
    "q6": "ja",
    "q6_text": "Kommunalakademie",
    "q7": "nein",
}


SEED_CHECKLIST = (
    "In welchen Bereichen kann in Ihrer Kommune durch eine verstärkte interkommunale Zusammenarbeit den Auswirkungen des demografischen Wandels begegnet werden?",  # noqa: E501
    "Glauben Sie, dass regionale/kommunale Kooperationen zur Bewältigung des demografischen Wandels beitragen können?",  # noqa: E501
    "Arbeiten Sie bereits heute mit anderen Kommunen Ihrer Region beispielsweise in den oben genannten Handlungsfeldern zusammen?",  # noqa: E501
    "Wären Sie zur Lösung der künftigen demografischen Herausforderungen stärker als bisher bereit, kommunale Aufgaben zusammen mit anderen Kommunen effektiver und kostengünstiger zu lösen?",  # noqa: E501
    "Gibt es Gesprächskreise mit anderen Kommunen zum Erfahrungsaustausch über vergleichbare Problemstellungen?",  # noqa: E501
    "Nutzen Sie Informationsangebote zu beispielhaften Zusammenarbeitsprojekten (z. B. im Internet, bei Fortbildungseinrichtungen)?",  # noqa: E501
    "Sind Ihnen in der Region bestehende Kooperationen bekannt, denen Sie sich anschließen könnten oder die als Vorbilder für eine aufzubauende Kooperation dienen?",  # noqa: E501
)


def test_the_questions_are_the_seeds_own_words() -> None:
    """Word for word the checklist of shared/seed (copied here; compared with the file too)."""
    assert QUESTIONS == SEED_CHECKLIST
    for seed in (SEED, Path(__file__).resolve().parents[3] / "shared/seed" / SEED.name):
        if seed.exists():
            text = seed.read_text(encoding="utf-8").split("Checkliste", 1)[1]
            assert [line[2:] for line in text.splitlines() if line.startswith("- ")] == list(
                QUESTIONS
            )


def test_fields_come_from_questions_1_and_3_in_the_seeds_order() -> None:
    answers = Answers(q1_fields=("it", "verwaltung"), q3=True, q3_fields=("ver_entsorgung",))
    assert [f.value for f in suggested_fields(answers)] == ["ver_entsorgung", "verwaltung", "it"]
    assert [f.value for f in suggested_fields(Answers(q3=False, q3_fields=("it",)))] == []
    assert Answers(q4="eher_ja").ready and not Answers(q4="eher_nein").ready


def test_the_land_law_is_named_where_we_know_it() -> None:
    assert land_law("Saarland").title == "Gesetz über die kommunale Gemeinschaftsarbeit (KGG)"
    assert land_law("Nordrhein-Westfalen").title.endswith("(GkG NRW)")
    assert land_law("Niedersachsen").source.startswith("https://voris.")
    assert land_law("Rheinland-Pfalz").title.endswith("(KomZG)")
    # Every named law says where it was checked; an unchecked Land gets no abbreviation.
    from koopboard.domain.check import LAND_LAWS

    assert all(law.source.startswith("https://") and law.source_name for law in LAND_LAWS.values())
    assert land_law("Bayern") is None
    assert land_law("Bremen") is None


@pytest.fixture()
def world(make_municipality, make_user, make_cooperation):  # noqa: ANN001, ANN201
    def town(name, ags, lat, lon, **kw):  # noqa: ANN001, ANN003, ANN202
        return make_municipality(
            name, ags, breitengrad=Decimal(lat), laengengrad=Decimal(lon), **kw
        )

    merchweiler = town("Merchweiler", "10043113", "49.358969", "7.058254")
    ottweiler = town("Ottweiler", "10043115", "49.402493", "7.162070")
    far = town(
        "Flensburg",
        "01001000",
        "54.782520",
        "9.437510",
        land="Schleswig-Holstein",
        kreis="Flensburg",
    )
    lead = make_user(merchweiler)
    newcomer = make_user(ottweiler, name="Otto Neu")
    colleague = make_user(ottweiler, name="Olga Kollegin")
    stranger = make_user(merchweiler, name="Fremde Person")
    standesamt = make_cooperation(lead, title="Gemeinsames Standesamt")
    quiet = make_cooperation(lead, title="Stilles Projekt")
    distant = make_cooperation(make_user(far), title="Nordlicht Verwaltung")
    for coop, seeking in ((standesamt, True), (quiet, False), (distant, True)):
        save_listing(
            coop,
            ListingData(
                visibility="plattform",
                summary="Kurz",
                seeking_partners=seeking,
                seeking_kreis=None,
                seeking_radius_km=None,
            ),
        )
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
            breitengrad=Decimal("49.377607"),
            laengengrad=Decimal("7.051397"),
            register_date=date(2019, 12, 31),
        )
    )
    db.session.commit()
    return {
        "newcomer": newcomer,
        "colleague": colleague,
        "stranger": stranger,
        "ottweiler": ottweiler,
    }


def test_filling_the_check_saves_versions_with_author(client, login_as, world) -> None:  # noqa: ANN001
    login_as(world["newcomer"])
    page = client.get("/kooperations-check/").get_data(as_text=True)
    assert QUESTIONS[6] in page
    assert client.post("/kooperations-check/", data=ANSWERS).status_code == 302
    assert client.post("/kooperations-check/", data={**ANSWERS, "q4": "ja"}).status_code == 302
    rows = db.session.scalars(select(KoopCheck).order_by(KoopCheck.version)).all()
    assert [(r.version, r.answers["q4"], r.author.name) for r in rows] == [
        (1, "eher_ja", "Otto Neu"),
        (2, "ja", "Otto Neu"),
    ]
    assert rows[0].answers["q3_partners"] == ["10043113"]
    old = client.get("/kooperations-check/versionen/1").get_data(as_text=True)
    assert "eher ja" in old and "Otto Neu" in old
    # The form shows the latest answers again, the partner as a checked box.
    again = client.get("/kooperations-check/").get_data(as_text=True)
    assert 'name="q3_partner" value="10043113" checked' in again
    assert "Merchweiler <span" in again
    assert db.session.scalar(select(HistoryEntry.id).where(HistoryEntry.record_type == "KoopCheck"))


def test_missing_answers_are_said_next_to_the_field(client, login_as, world) -> None:  # noqa: ANN001
    login_as(world["newcomer"])
    response = client.post("/kooperations-check/", data={**ANSWERS, "q2": ""})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Bitte wählen Sie eine Antwort." in body
    assert 'name="q3_partner" value="10043113" checked' in body  # the choice survives
    # An AGS that is not in the register is dropped, never stored.
    client.post("/kooperations-check/", data={**ANSWERS, "q3_partner": ["99999999", "10043113"]})
    assert db.session.scalars(select(KoopCheck)).one().answers["q3_partners"] == ["10043113"]


def test_question_3_finds_partners_with_the_partner_search_with_and_without_js(
    client, login_as, world
) -> None:  # noqa: ANN001
    """The register search of the partner form (its ranking, its result list): without
    JavaScript "Kommune suchen" and "Hinzufügen" post the form and answer it again with
    everything typed so far, saving nothing; with htmx the results come while typing."""
    login_as(world["newcomer"])
    typed = {k: v for k, v in ANSWERS.items() if k != "q3_partner"}
    searched = client.post(
        "/kooperations-check/", data={**typed, "action": "search_q3", "q3_query": "Merch"}
    )
    assert searched.status_code == 200
    body = searched.get_data(as_text=True)
    assert 'name="q3_add" value="10043113"' in body
    assert 'Merchweiler <span class="meta">(Gemeinde' in body  # the partner form's row
    assert 'value="Kommunalakademie"' in body  # what was typed stays
    assert db.session.scalar(select(KoopCheck.id)) is None
    added = client.post("/kooperations-check/", data={**typed, "q3_add": "10043113"})
    assert added.status_code == 200
    body = added.get_data(as_text=True)
    assert 'name="q3_partner" value="10043113" checked' in body
    assert db.session.scalar(select(KoopCheck.id)) is None
    live = client.get(
        "/kooperations-check/kommunen?q3_query=Merch&q3_partner=10043113",
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert live.lstrip().startswith("<p") or "<ul" in live  # only the result list
    assert "bereits gewählt" in live and 'name="q3_add"' not in live
    assert client.get("/kooperations-check/kommunen?q3_query=Merch").status_code == 302
    # Saving keeps the chosen partner; unticking it removes it in the next version.
    assert client.post("/kooperations-check/", data=ANSWERS).status_code == 302
    assert client.post("/kooperations-check/", data=typed).status_code == 302
    rows = db.session.scalars(select(KoopCheck).order_by(KoopCheck.version)).all()
    assert [r.answers["q3_partners"] for r in rows] == [["10043113"], []]
    assert "Mit: Merchweiler" in client.get("/kooperations-check/versionen/1").get_data(
        as_text=True
    )


def test_question_7_picks_published_entries_or_takes_free_text(
    client, login_as, world, make_user, make_cooperation
) -> None:  # noqa: ANN001
    lead = make_user(world["ottweiler"], email="lead2@ottweiler.example")
    hidden = make_cooperation(lead, title="Standesamt intern")
    save_listing(
        hidden,
        ListingData(
            visibility="intern",
            summary="Standesamt",
            seeking_partners=False,
            seeking_kreis=None,
            seeking_radius_km=None,
        ),
    )
    db.session.commit()
    login_as(world["newcomer"])
    searched = client.post(
        "/kooperations-check/",
        data={**ANSWERS, "q7": "ja", "action": "search_q7", "q7_query": "Standesamt"},
    ).get_data(as_text=True)
    standesamt = db.session.scalar(
        select(Cooperation.id).where(Cooperation.title == "Gemeinsames Standesamt")
    )
    assert f'name="q7_add" value="kooperation:{standesamt}"' in searched
    assert "Standesamt intern" not in searched  # intern entries are never offered
    live = client.get(
        "/kooperations-check/eintraege?q7_query=Illtal", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert 'name="q7_add" value="verband:100435555"' in live  # register associations too
    picked = {
        **ANSWERS,
        "q7": "ja",
        "q7_entry": [f"kooperation:{standesamt}", f"kooperation:{hidden.id}"],
        "q7_text": "Bauhof-Verbund im Nachbarkreis",
    }
    assert client.post("/kooperations-check/", data=picked).status_code == 302
    saved = db.session.scalars(select(KoopCheck)).one().answers
    assert saved["q7_entries"] == [f"kooperation:{standesamt}"]  # not the intern one
    assert saved["q7_entry_titles"] == ["Gemeinsames Standesamt"]
    form = client.get("/kooperations-check/").get_data(as_text=True)
    assert f'name="q7_entry" value="kooperation:{standesamt}" checked' in form
    assert "Bauhof-Verbund im Nachbarkreis" in form
    result = client.get("/kooperations-check/ergebnis").get_data(as_text=True)
    known = result.split('id="bekannte"')[1].split("</section>")[0]
    assert "Gemeinsames Standesamt</a>" in known and "Beitritt anfragen<span" in known
    version = client.get("/kooperations-check/versionen/1").get_data(as_text=True)
    assert "Aus der Kooperationsbörse: Gemeinsames Standesamt" in version
    assert "Bauhof-Verbund im Nachbarkreis" in version


def test_existing_cooperation_of_question_3_is_offered_for_registration(
    client, login_as, world
) -> None:  # noqa: ANN001
    """The result offers Q3's cooperation for KoopBoard: the create form prefilled with its
    Handlungsfeld and partners; saving adds them from the start date."""
    login_as(world["newcomer"])
    client.post("/kooperations-check/", data=ANSWERS)
    body = client.get("/kooperations-check/ergebnis").get_data(as_text=True)
    link = "/kooperationen/neu?handlungsfeld=ver_entsorgung&amp;partner=10043113"
    assert link in body
    form = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert 'name="partner" value="10043113" checked' in form
    assert '<option selected value="ver_entsorgung">' in form
    created = client.post(
        "/kooperationen/neu",
        data={
            "title": "Abwasser Ottweiler-Merchweiler",
            "handlungsfeld": "ver_entsorgung",
            "rechtsform": "zweckvereinbarung",
            "status": "aktiv",
            "start_date": "2024-01-01",
            "partner": "10043113",
        },
    )
    assert created.status_code == 302
    coop = db.session.scalar(
        select(Cooperation).where(Cooperation.title == "Abwasser Ottweiler-Merchweiler")
    )
    partners = db.session.scalars(
        select(CooperationPartner).where(CooperationPartner.cooperation_id == coop.id)
    ).all()
    assert {(p.municipality.name, p.joined_on) for p in partners} == {
        ("Ottweiler", date(2024, 1, 1)),
        ("Merchweiler", date(2024, 1, 1)),
    }


def test_answers_belong_to_the_municipality(client, login_as, world) -> None:  # noqa: ANN001
    login_as(world["newcomer"])
    client.post("/kooperations-check/", data=ANSWERS)
    client.post("/abmelden")
    login_as(world["colleague"])  # same municipality: sees and edits them
    assert "Kommunalakademie" in client.get("/kooperations-check/").get_data(as_text=True)
    client.post("/abmelden")
    login_as(world["stranger"])  # another municipality: its own, empty check
    body = client.get("/kooperations-check/").get_data(as_text=True)
    assert "Kommunalakademie" not in body
    assert client.get("/kooperations-check/versionen/1").status_code == 404


def test_the_result_suggests_nearby_cooperations_nearest_first(client, login_as, world) -> None:  # noqa: ANN001
    login_as(world["newcomer"])
    client.post("/kooperations-check/", data=ANSWERS)
    body = client.get("/kooperations-check/ergebnis").get_data(as_text=True)
    assert "allgemeine Verwaltung" in body and "IT-Technologien" in body
    # Illtal (8 km) before the Standesamt (9 km, Merchweiler); Flensburg is far away.
    assert body.index("Illtal</a>") < body.index("Gemeinsames Standesamt</a>")
    assert "Nordlicht" not in body
    assert "Beitritt anfragen<span" in body  # the Standesamt welcomes partners
    assert "Kontakt aufnehmen<span" in body  # the quiet one does not
    assert "Gesetz über die kommunale Gemeinschaftsarbeit (KGG)" in body
    assert 'href="https://justiz-nrw.wolterskluwer-online.de/browse/document/b750baf7' in body
    assert "formlose Arbeitsgemeinschaft" in body
    assert body.index("formlose Arbeitsgemeinschaft") < body.index("Zweckverband")
    assert "Sie arbeiten bereits zusammen mit: Merchweiler" in body
    assert "/kooperationen/neu?handlungsfeld=verwaltung" in body


def test_kooperation_anlegen_is_prefilled(client, login_as, world) -> None:  # noqa: ANN001
    login_as(world["newcomer"])
    page = client.get("/kooperationen/neu?handlungsfeld=it").get_data(as_text=True)
    assert '<option selected value="it">' in page or 'value="it" selected' in page


def test_the_admin_sees_counts_only(client, login_as, world, make_user) -> None:  # noqa: ANN001
    login_as(world["newcomer"])
    client.post("/kooperations-check/", data=ANSWERS)
    client.post("/abmelden")
    login_as(world["stranger"])
    assert client.get("/kooperations-check/uebersicht").status_code == 403
    client.post("/abmelden")
    login_as(make_user(None, is_admin=True))
    body = client.get("/kooperations-check/uebersicht").get_data(as_text=True)
    assert "Neunkirchen" in body
    assert "allgemeine Verwaltung: 1" in body
    assert "Kommunalakademie" not in body and "Otto Neu" not in body
    assert client.get("/kooperations-check/").status_code == 403  # no municipality
