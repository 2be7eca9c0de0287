"""Mein Konto and the copy of one's own data (Art. 15 DSGVO) as page and JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from flask_login import login_user

from koopboard.auth import services as accounts
from koopboard.cooperations.services import grant_role
from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.milestones.services import MilestoneData, create_milestone
from koopboard.models.types import utcnow
from koopboard.notifications import preferences
from tests.web.test_authorization import sign_in
from tests.web.test_notification_inbox import deliver
from tests.web.test_queries import counting


@pytest.fixture()
def lea(app, make_municipality, make_user, make_cooperation):  # noqa: ANN001, ANN201
    """Lea leads the Standesamt, is a member of the Bauhof, made changes, got notifications,
    invited a colleague and gave another person a role."""
    town = make_municipality(name="Merchweiler", ags="10043113")
    other_town = make_municipality(name="Illingen", ags="10043112")
    lea = make_user(town, email="lea@merchweiler.de", name="Lea Leitung")
    bert = make_user(other_town, email="bert@illingen.de", name="Bert Bauhof")
    standesamt = make_cooperation(lea, [other_town], title="Gemeinsames Standesamt")
    make_cooperation(bert, [town], title="Gemeinsamer Bauhof", roles={lea: Role.MEMBER})
    colleague = make_user(other_town, email="carla@illingen.de", name="Carla Kollegin")
    with acting(app, lea):
        create_milestone(
            standesamt,
            MilestoneData(
                title="Satzung beschließen",
                description="",
                phase="umsetzung",
                due_date=date(2026, 3, 31),
                responsible_municipality_id=town.id,
                responsible_person_id=lea.id,
                status="geplant",
                progress_note="",
            ),
            by=lea,
            now=utcnow(),
        )
        grant_role(standesamt, user_id=colleague.id, role="member", by=lea)
        accounts.invite(email="neu@merchweiler.de", municipality=town, invited_by=lea)
        preferences.set_general_mode(lea.id, "cost.submitted", "digest")
        db.session.commit()
    deliver(lea, standesamt.id, payload={"title": "Vertrag", "old": "geplant", "new": "erledigt"})
    return {"lea": lea, "bert": bert, "colleague": colleague, "coop": standesamt}


@contextmanager
def acting(app, user) -> Iterator[None]:  # noqa: ANN001
    """Run the block as a request signed in as ``user`` (the history names them)."""
    with app.test_request_context():
        login_user(user)
        yield


def test_account_page_shows_profile_roles_and_the_links_to_the_data(client, lea) -> None:  # noqa: ANN001
    sign_in(client, lea["lea"].id)
    page = client.get("/konto/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ("Lea Leitung", "lea@merchweiler.de", "Merchweiler", "Gemeinsames Standesamt"):
        assert text in html
    assert "Gemeinsamer Bauhof</a>: Mitglied" in html
    assert 'href="/konto/meine-daten"' in html and 'href="/konto/meine-daten.json"' in html
    # Every page's header leads to the account page.
    start = client.get("/kooperationen/").get_data(as_text=True)
    assert 'href="/konto/"' in start


def test_anonymous_is_sent_to_the_login(client) -> None:  # noqa: ANN001
    for path in ("/konto/", "/konto/meine-daten", "/konto/meine-daten.json"):
        response = client.get(path)
        assert response.status_code == 302 and "/anmelden" in response.headers["Location"]


def test_json_download_holds_everything_about_the_person(client, lea) -> None:  # noqa: ANN001
    sign_in(client, lea["lea"].id)
    response = client.get("/konto/meine-daten.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["profile"]["name"] == "Lea Leitung"
    assert data["profile"]["email"] == "lea@merchweiler.de"
    assert data["profile"]["municipality"] == "Merchweiler"
    roles = {(r["cooperation"], r["role"]) for r in data["roles"]}
    assert roles == {
        ("Gemeinsames Standesamt", "Projektleitung"),
        ("Gemeinsamer Bauhof", "Mitglied"),
    }
    assert {
        "event_type": "Kosten zur Freigabe eingereicht",
        "mode": "in der Sammel-E-Mail",
        "cooperation": None,
    } in data["preferences"]
    [notification] = [n for n in data["notifications"] if n["event_type"].startswith("Status")]
    assert notification["cooperation"] == "Gemeinsames Standesamt"
    assert "Vertrag" in notification["content"]
    assert len(data["sessions"]) == 1 and data["sessions"][0]["ended_at"] is None
    records = [row["record"] for row in data["history"]]
    assert any("Satzung beschließen" in r for r in records)
    assert any(row["cooperation"] == "Gemeinsames Standesamt" for row in data["history"])


def test_the_copy_names_the_responsible_municipality_and_person(client, lea) -> None:  # noqa: ANN001
    sign_in(client, lea["lea"].id)
    data = json.loads(client.get("/konto/meine-daten.json").get_data(as_text=True))
    values = {row["field"]: row["new_value"] for row in data["history"] if row["field"]}
    assert values["Verantwortliche Person"] == "Lea Leitung"
    assert values["Verantwortliche Kommune"] == "Merchweiler"
    page = client.get("/konto/meine-daten").get_data(as_text=True)
    row = page[page.index("Verantwortliche Person") :].split("</tr>")[0]
    assert "Lea Leitung" in row and f"<td>{lea['lea'].id}</td>" not in row


def test_the_copy_leaves_out_other_people_and_secrets(client, lea) -> None:  # noqa: ANN001
    sign_in(client, lea["lea"].id)
    body = client.get("/konto/meine-daten.json").get_data(as_text=True)
    page = client.get("/konto/meine-daten").get_data(as_text=True)
    for text in (body, page):
        # Lea invited neu@ and gave Carla a role: her entries say so, without their data.
        assert "neu@merchweiler.de" not in text
        assert "Carla Kollegin" not in text and "carla@illingen.de" not in text
        assert "Bert Bauhof" not in text and "bert@illingen.de" not in text
        assert "scrypt" not in text  # no password hash
    assert "ausgelassen" in body
    user = lea["lea"]
    assert user.password_hash not in body


def test_page_is_readable_german_and_printable(client, lea) -> None:  # noqa: ANN001
    sign_in(client, lea["lea"].id)
    response = client.get("/konto/meine-daten")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    for text in (
        "Meine Daten",
        "Lea Leitung",
        "Projektleitung",
        "Kosten zur Freigabe eingereicht",
        "in der Sammel-E-Mail",
        "Satzung beschließen",
        "31.03.2026",  # the milestone's due date in its history, the German way
    ):
        assert text in html, text
    assert 'class="no-print"' in html  # the links do not print


def test_the_copy_costs_the_same_queries_for_much_more_data(client, lea) -> None:  # noqa: ANN001
    sign_in(client, lea["lea"].id)
    client.get("/konto/meine-daten")
    with counting() as few:
        client.get("/konto/meine-daten")
    for _ in range(15):
        deliver(lea["lea"], lea["coop"].id)
    with counting() as many:
        assert client.get("/konto/meine-daten").status_code == 200
    assert len(many) == len(few)
