"""Route × role × visibility: an *intern* cooperation never reaches anyone through the
Börse — not anonymous visitors, not other municipalities, not even its own members — in
pages, HTMX fragments, result counts, the map, text or Umkreis searches, the check's
suggestions or its question 7 search; *Plattform* only reaches signed-in users."""

from __future__ import annotations

import re

import pytest

from koopboard.extensions import db
from tests.web.test_boerse import HX, towns, world  # noqa: F401, F811 - fixtures

# The intern cooperation's title and summary (never the search words, which the page echoes).
SECRETS = ("Geheimes Projekt", "Streng vertraulich", "4711")
PLATFORM = ("Klärwerk Westrich", "Abwasser gemeinsam")

DIRECTORY = (
    "/kooperationsboerse",
    "/kooperationsboerse?q=Nordwind",
    "/kooperationsboerse?q=Projekt",
    "/kooperationsboerse?q=vertraulich",
    "/kooperationsboerse?umkreis=300&von=Merchweiler",
    "/kooperationsboerse?art=kooperation&land=Saarland",
    "/kooperationsboerse?handlungsfeld=verwaltung&seite=2",
)


def count_of(body: str) -> int:
    found = re.search(r"(\d+) Eintr(?:ag|äge)", body)
    assert found, body[:500]
    return int(found.group(1))


def dots_of(body: str) -> int:
    """Dots on the map (every entry here has a position): one per result row."""
    return body.count('<g class="map-dot')


@pytest.mark.parametrize("actor", ["anonymous", "outsider", "member"])
def test_intern_entries_never_leave_the_cooperation(client, login_as, world, actor) -> None:  # noqa: ANN001, F811
    if actor == "outsider":
        login_as(world["outsider"])
    elif actor == "member":  # the intern cooperation's own Projektleitung
        login_as(world["lead"])
    for path in DIRECTORY:
        for headers in ({}, HX):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, path
            body = response.get_data(as_text=True)
            for secret in SECRETS:
                assert secret not in body, (actor, path, headers)
            if actor == "anonymous":  # Plattform entries are for signed-in users only
                assert all(shown not in body for shown in PLATFORM), path
    # The count says what the visitor sees: 2 public entries, or 4 with the platform ones.
    body = client.get("/kooperationsboerse").get_data(as_text=True)
    assert ("Klärwerk Westrich" in body) == (actor != "anonymous")
    assert count_of(body) == (2 if actor == "anonymous" else 4)
    assert dots_of(body) == count_of(body)
    intern = world["coops"]["intern"].id
    expected = 302 if actor == "anonymous" else 404  # anonymous: sign in first, then 404
    assert client.get(f"/kooperationsboerse/{intern}").status_code == expected
    for action in ("kontakt", "beitritt"):
        page = client.get(f"/kooperationsboerse/{intern}/{action}")
        assert page.status_code in (302, 404), (actor, action)
        assert all(secret not in page.get_data(as_text=True) for secret in SECRETS)


def test_intern_entries_are_never_suggested_or_offered_by_the_check(
    client,  # noqa: ANN001
    login_as,  # noqa: ANN001
    world,  # noqa: ANN001, F811
) -> None:
    login_as(world["outsider"])
    answers = {
        "q1_fields": ["verwaltung", "ver_entsorgung"],
        "q2": "ja",
        "q3": "nein",
        "q4": "ja",
        "q5": "nein",
        "q6": "nein",
        "q7": "ja",
    }
    assert client.post("/kooperations-check/", data=answers).status_code == 302
    result = client.get("/kooperations-check/ergebnis").get_data(as_text=True)
    assert "Gemeinsames Standesamt" in result  # in the same Kreis: suggested
    for secret in SECRETS:
        assert secret not in result
    for query in ("Nordwind", "Projekt", "vertraulich"):
        live = client.get(f"/kooperations-check/eintraege?q7_query={query}", headers=HX)
        assert all(secret not in live.get_data(as_text=True) for secret in SECRETS)
        posted = client.post(
            "/kooperations-check/", data={**answers, "action": "search_q7", "q7_query": query}
        )
        assert all(secret not in posted.get_data(as_text=True) for secret in SECRETS)
    # Picking it by its key is refused too (it is dropped, never stored).
    intern = world["coops"]["intern"].id
    client.post("/kooperations-check/", data={**answers, "q7_entry": f"kooperation:{intern}"})
    from koopboard.check.services import latest

    assert latest(world["outsider"].municipality_id).answers["q7_entries"] == []
    db.session.rollback()
