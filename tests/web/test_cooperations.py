"""Cooperations through the web: create, edit with optimistic locking, partners, roles.

Every form is used as a browser without JavaScript uses it (plain POST, 302 on success,
400 with the messages) and as htmx uses it (``HX-Request``: the fragment, 422).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select

from koopboard.cooperations.services import CooperationData, add_partner, create_cooperation
from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.models import (
    Cooperation,
    CooperationPartner,
    HistoryEntry,
    Membership,
    Municipality,
    User,
)
from tests.conftest import KoopClient
from tests.web.test_authorization import sign_in

HX = {"HX-Request": "true"}

VALID = {
    "title": "Gemeinsames Standesamt Illtal",
    "goals": "Ein Standesamt für drei Gemeinden.",
    "handlungsfeld": "verwaltung",
    "rechtsform": "zweckvereinbarung",
    "status": "planung",
    "start_date": "2025-01-01",
    "end_date": "",
}


@pytest.fixture()
def login_as(client) -> Callable[[User], KoopClient]:  # noqa: ANN001
    """Quick sign-in (a server-side login session, without the slow password hash)."""
    return lambda user: sign_in(client, user.id)


@dataclass
class Town:
    """The fixtures' municipalities, users and one cooperation led by Merchweiler."""

    merchweiler: Municipality
    illingen: Municipality
    eppelborn: Municipality
    dillingen: Municipality
    lead: User
    illingen_user: User
    eppelborn_user: User
    dillingen_user: User
    coop: Cooperation


def municipality(name: str, ags: str, postcode: str, kreis: str = "Neunkirchen") -> Municipality:
    return Municipality(
        ags=ags,
        name=name,
        kind="Gemeinde",
        land="Saarland",
        kreis=kreis,
        population=10_000,
        postcode=postcode,
    )


def person(name: str, town: Municipality | None, **kwargs: object) -> User:
    email = name.lower().replace(" ", ".") + "@example.org"
    return User(email=email, name=name, password_hash="x", municipality=town, **kwargs)


def cooperation(lead: User, title: str, partners: tuple[Municipality, ...] = ()) -> Cooperation:
    """Through the services, as the web creates it (history included)."""
    coop = create_cooperation(
        CooperationData(
            title=title,
            goals="Ziele",
            handlungsfeld="verwaltung",
            rechtsform="zweckvereinbarung",
            status="aktiv",
            start_date=date(2025, 1, 1),
            end_date=None,
        ),
        by=lead,
    )
    for partner in partners:
        add_partner(coop, ags=partner.ags, joined_on=date(2025, 1, 1), council_resolution_on=None)
    return coop


@pytest.fixture()
def town(app) -> Town:  # noqa: ANN001
    """Built with one commit: the factories commit per row, which adds up over 60 tests."""
    merchweiler = municipality("Merchweiler", "10043113", "66589")
    illingen = municipality("Illingen", "10043112", "66557")
    eppelborn = municipality("Eppelborn", "10043111", "66571")
    dillingen = municipality("Dillingen/Saar", "10044111", "66763", kreis="Saarlouis")
    lead = person("Lea Leitung", merchweiler)
    illingen_user = person("Ilse Illinger", illingen)
    eppelborn_user = person("Emil Eppel", eppelborn)
    dillingen_user = person("Dora Dilling", dillingen)
    db.session.add_all(
        [
            merchweiler,
            illingen,
            eppelborn,
            dillingen,
            lead,
            illingen_user,
            eppelborn_user,
            dillingen_user,
        ]
    )
    db.session.flush()
    coop = cooperation(lead, "Gemeinsamer Bauhof", (illingen,))
    db.session.commit()
    return Town(
        merchweiler,
        illingen,
        eppelborn,
        dillingen,
        lead,
        illingen_user,
        eppelborn_user,
        dillingen_user,
        coop,
    )


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def state() -> tuple:
    """Counts and master data: what a refused or invalid request must leave alone."""
    db.session.expire_all()
    coops = db.session.execute(
        select(
            Cooperation.id,
            Cooperation.title,
            Cooperation.goals,
            Cooperation.end_date,
            Cooperation.version,
        ).order_by(Cooperation.id)
    ).all()
    partners = db.session.execute(
        select(
            CooperationPartner.id,
            CooperationPartner.joined_on,
            CooperationPartner.left_on,
            CooperationPartner.council_resolution_on,
        ).order_by(CooperationPartner.id)
    ).all()
    memberships = db.session.execute(
        select(Membership.id, Membership.user_id, Membership.role).order_by(Membership.id)
    ).all()
    history = db.session.scalar(
        select(func.count(HistoryEntry.id)).where(HistoryEntry.cooperation_id.is_not(None))
    )
    return tuple(coops), tuple(partners), tuple(memberships), history


def text_of(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


def field_error(body: str, field_id: str) -> str:
    """The error text shown next to a field (tied to it by aria-describedby)."""
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-fehler">(.*?)</p>', body, re.S)
    assert match, f"no error next to {field_id!r} in:\n{body[:3000]}"
    assert re.search(rf'aria-describedby="[^"]*\b{re.escape(field_id)}-fehler\b', body), (
        f"the field {field_id!r} does not point to its error"
    )
    return re.sub(r"<[^>]+>", "", match.group(1))


def form_version(body: str) -> str:
    """The version the edit form carries in its hidden field."""
    match = re.search(r'<input[^>]*name="version"[^>]*value="(\d*)"', body)
    assert match, "no version field"
    return match.group(1)


def edit_data(coop: Cooperation, **changes: str) -> dict:
    return {**VALID, "title": coop.title, "version": str(coop.version), **changes}


# --- create ---------------------------------------------------------------------------


def test_create_makes_the_users_municipality_lead_and_first_partner(town, client, login_as):  # noqa: ANN001
    login_as(town.eppelborn_user)
    assert client.get("/kooperationen/neu").status_code == 200

    response = client.post("/kooperationen/neu", data=VALID)

    assert response.status_code == 302
    coop = db.session.scalar(select(Cooperation).where(Cooperation.title == VALID["title"]))
    assert response.headers["Location"] == f"/kooperationen/{coop.id}"
    assert coop.lead_municipality_id == town.eppelborn.id
    partners = db.session.scalars(
        select(CooperationPartner).where(CooperationPartner.cooperation_id == coop.id)
    ).all()
    assert [(p.municipality_id, p.joined_on) for p in partners] == [
        (town.eppelborn.id, date(2025, 1, 1))
    ]
    memberships = db.session.scalars(
        select(Membership).where(Membership.cooperation_id == coop.id)
    ).all()
    assert [(m.user_id, m.role) for m in memberships] == [(town.eppelborn_user.id, Role.LEAD)]
    page = text_of(client.get(response.headers["Location"]))
    assert VALID["title"] in page and "Eppelborn" in page and "federführend" in page
    assert "Projektleitung" in page


def test_create_via_htmx_loads_the_new_page_whole(town, client, login_as):  # noqa: ANN001
    """A followed 302 would land inside the form's region; htmx gets HX-Redirect instead."""
    login_as(town.eppelborn_user)
    response = client.post("/kooperationen/neu", data=VALID, headers=HX)
    coop_id = db.session.scalar(select(Cooperation.id).where(Cooperation.title == VALID["title"]))
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/kooperationen/{coop_id}"


def test_admin_without_municipality_cannot_create(town, client, login_as) -> None:  # noqa: ANN001
    admin = person("Ada Admin", None, is_admin=True)
    db.session.add(admin)
    db.session.commit()
    login_as(admin)
    before = state()
    response = client.post("/kooperationen/neu", data=VALID)
    assert response.status_code == 400
    assert "Nur Beschäftigte einer Kommune" in text_of(response)
    assert state() == before


# --- edit with optimistic locking -----------------------------------------------------


def test_edit_saves_and_counts_the_version(town, client, login_as):  # noqa: ANN001
    login_as(town.lead)
    form = text_of(client.get(f"/kooperationen/{town.coop.id}/bearbeiten"))
    assert form_version(form) == "1"
    assert 'value="Gemeinsamer Bauhof"' in form

    response = client.post(
        f"/kooperationen/{town.coop.id}/bearbeiten",
        data=edit_data(town.coop, title="Bauhof Illtal", end_date="31.12.2030"),
    )

    assert response.status_code == 302
    db.session.expire_all()
    coop = db.session.get(Cooperation, town.coop.id)
    assert (coop.title, coop.end_date, coop.version) == ("Bauhof Illtal", date(2030, 12, 31), 2)


def test_stale_version_answers_409_with_current_values_and_who(town, app, client, login_as):  # noqa: ANN001
    """Two leads edit at once: the second save is refused and sees the first one's values."""
    co_lead = person("Carl Kollege", town.merchweiler)
    db.session.add(Membership(cooperation_id=town.coop.id, user=co_lead, role=Role.LEAD))
    db.session.commit()
    login_as(town.lead)
    client.get(f"/kooperationen/{town.coop.id}/bearbeiten")  # loads version 1
    other = sign_in(app.test_client(), co_lead.id)
    saved = other.post(
        f"/kooperationen/{town.coop.id}/bearbeiten",
        data=edit_data(town.coop, title="Titel von Carl"),
    )
    assert saved.status_code == 302
    before = state()

    for headers in ({}, HX):
        response = client.post(
            f"/kooperationen/{town.coop.id}/bearbeiten",
            headers=headers,
            data=edit_data(town.coop, title="Titel von Lea", version="1"),
        )
        body = text_of(response)
        assert response.status_code == 409
        assert "Jemand hat diese Kooperation inzwischen geändert." in body
        assert "Carl Kollege" in body
        assert 'value="Titel von Carl"' in body and "Titel von Lea" not in body
        assert form_version(body) == "2"
        assert ("<html" in body) is not bool(headers)  # htmx gets the fragment only
        assert state() == before


@pytest.mark.parametrize("version", ["", "abc", "-1"])
def test_missing_or_garbled_version_never_overwrites(town, client, login_as, version) -> None:  # noqa: ANN001
    login_as(town.lead)
    before = state()
    data = edit_data(town.coop, title="Blind überschrieben", version=version)
    response = client.post(f"/kooperationen/{town.coop.id}/bearbeiten", data=data)
    assert response.status_code == 409
    assert state() == before


# --- partners -------------------------------------------------------------------------


def partner_url(town: Town) -> str:
    return f"/kooperationen/{town.coop.id}/partner/neu"


def test_plain_form_search_shows_results_with_choose_links_and_writes_nothing(
    town,
    client,
    login_as,  # noqa: ANN001
) -> None:
    login_as(town.lead)
    before = state()
    response = client.post(
        partner_url(town), data={"action": "search", "query": "Eppel", "joined_on": ""}
    )
    body = text_of(response)
    assert response.status_code == 200
    assert "Eppelborn" in body
    assert f'href="{partner_url(town)}?ags=10043111"' in body  # "Auswählen" only chooses
    assert "<html" in body  # the whole page: this is the path without JavaScript
    assert state() == before


def test_plain_form_search_says_when_nothing_is_found(town, client, login_as) -> None:  # noqa: ANN001
    login_as(town.lead)
    body = text_of(client.post(partner_url(town), data={"action": "search", "query": "Xyzabc"}))
    assert "Keine Kommune gefunden." in body


def test_pick_from_an_old_page_chooses_but_does_not_add(town, client, login_as) -> None:  # noqa: ANN001
    login_as(town.lead)
    before = state()
    response = client.post(
        partner_url(town), data={"pick": "10043111", "query": "Eppel", "joined_on": "01.02.2025"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == partner_url(town) + "?ags=10043111"
    assert state() == before
    assert "Ausgewählt: Eppelborn" in text_of(client.get(response.headers["Location"]))


def test_typed_ags_adds_the_partner(town, client, login_as) -> None:  # noqa: ANN001
    login_as(town.lead)
    response = client.post(
        partner_url(town),
        data={
            "action": "add",
            "ags": "10043111",
            "joined_on": "2025-03-01",
            "council_resolution_on": "15.02.2025",
        },
    )
    assert response.status_code == 302
    partner = db.session.scalar(
        select(CooperationPartner).where(CooperationPartner.municipality_id == town.eppelborn.id)
    )
    assert (partner.joined_on, partner.council_resolution_on) == (
        date(2025, 3, 1),
        date(2025, 2, 15),
    )


def test_adding_without_a_municipality_asks_for_one(town, client, login_as) -> None:  # noqa: ANN001
    login_as(town.lead)
    before = state()
    response = client.post(partner_url(town), data={"action": "add", "joined_on": "2025-03-01"})
    assert response.status_code == 400
    assert "Bitte wählen Sie eine Kommune aus der Suche" in field_error(text_of(response), "ags")
    assert state() == before


def test_htmx_search_returns_only_the_fragment(town, client, login_as) -> None:  # noqa: ANN001
    login_as(town.lead)
    url = f"/kooperationen/{town.coop.id}/partner/suche?query=Eppel"

    fragment = client.get(url, headers=HX)
    body = text_of(fragment)
    assert fragment.status_code == 200
    assert "<html" not in body and "<form" not in body
    assert "Eppelborn" in body and f'href="{partner_url(town)}?ags=10043111"' in body
    assert "HX-Request" in fragment.headers.get("Vary", "")

    for headers in ({}, {**HX, "HX-History-Restore-Request": "true"}):
        page = client.get(url, headers=headers)
        assert page.status_code == 200
        assert "<html" in text_of(page) and "Eppelborn" in text_of(page)
        assert "HX-Request" in page.headers.get("Vary", "")
        assert 'name="joined_on"' in text_of(page)  # the partner form around the results
    # The register's own page has no partner form around it: nothing to choose.
    assert "Auswählen" not in text_of(client.get("/kommunen/suche?query=Eppel"))


@pytest.mark.parametrize(
    ("query", "found", "not_found"),
    [
        ("Eppelborn", ["Eppelborn"], ["Merchweiler", "Illingen"]),
        ("weiler", ["Merchweiler"], ["Eppelborn"]),
        ("66557", ["Illingen"], ["Eppelborn", "Merchweiler"]),
        ("6655", ["Illingen"], ["Merchweiler"]),
        ("10043111", ["Eppelborn"], ["Illingen", "Merchweiler"]),
        ("10043", ["Eppelborn", "Illingen", "Merchweiler"], ["Dillingen"]),
    ],
    ids=["name", "part-of-name", "postcode", "postcode-prefix", "ags", "ags-prefix"],
)
def test_search_by_name_postcode_or_ags(town, client, login_as, query, found, not_found):  # noqa: ANN001
    login_as(town.lead)
    body = text_of(client.get(f"/kommunen/suche?query={query}", headers=HX))
    for name in found:
        assert name in body
    for name in not_found:
        assert name not in body


def test_search_puts_prefix_matches_first(town, client, login_as) -> None:  # noqa: ANN001
    login_as(town.lead)
    body = text_of(client.get("/kommunen/suche?query=illingen", headers=HX))
    assert body.index("Illingen") < body.index("Dillingen/Saar")


def test_edit_partner_dates(town, client, login_as) -> None:  # noqa: ANN001
    login_as(town.lead)
    partner = db.session.scalar(
        select(CooperationPartner).where(CooperationPartner.municipality_id == town.illingen.id)
    )
    url = f"/kooperationen/{town.coop.id}/partner/{partner.id}"
    assert 'value="2025-01-01"' in text_of(client.get(url))
    response = client.post(
        url,
        data={
            "joined_on": "2025-01-01",
            "left_on": "30.06.2026",
            "council_resolution_on": "2024-11-20",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    partner = db.session.get(CooperationPartner, partner.id)
    assert (partner.left_on, partner.council_resolution_on) == (
        date(2026, 6, 30),
        date(2024, 11, 20),
    )


def test_left_on_before_joined_on_is_refused(town, client, login_as) -> None:  # noqa: ANN001
    login_as(town.lead)
    partner_id = db.session.scalar(
        select(CooperationPartner.id).where(CooperationPartner.municipality_id == town.illingen.id)
    )
    before = state()
    for headers, status in (({}, 400), (HX, 422)):
        response = client.post(
            f"/kooperationen/{town.coop.id}/partner/{partner_id}",
            headers=headers,
            data={"joined_on": "2025-01-01", "left_on": "2024-12-31"},
        )
        assert response.status_code == status
        assert "Der Austritt darf nicht vor dem Beitritt liegen." in field_error(
            text_of(response), "left_on"
        )
    assert state() == before


def test_lead_municipality_cannot_leave(town, client, login_as) -> None:  # noqa: ANN001
    login_as(town.lead)
    partner_id = db.session.scalar(
        select(CooperationPartner.id).where(
            CooperationPartner.municipality_id == town.merchweiler.id
        )
    )
    before = state()
    response = client.post(
        f"/kooperationen/{town.coop.id}/partner/{partner_id}",
        data={"joined_on": "2025-01-01", "left_on": "2026-01-01"},
    )
    assert response.status_code == 400
    assert "federführende Kommune kann nicht austreten" in field_error(text_of(response), "left_on")
    assert state() == before


def test_removing_a_partner_removes_its_users_roles(town, client, login_as) -> None:  # noqa: ANN001
    db.session.add(
        Membership(cooperation_id=town.coop.id, user_id=town.illingen_user.id, role=Role.TREASURER)
    )
    db.session.commit()
    login_as(town.lead)
    partner_id = db.session.scalar(
        select(CooperationPartner.id).where(CooperationPartner.municipality_id == town.illingen.id)
    )
    response = client.post(f"/kooperationen/{town.coop.id}/partner/{partner_id}/entfernen")
    assert response.status_code == 302
    assert db.session.get(CooperationPartner, partner_id) is None
    remaining = db.session.scalars(
        select(Membership.user_id).where(Membership.cooperation_id == town.coop.id)
    ).all()
    assert remaining == [town.lead.id]
    assert "Illingen wurde als Partner entfernt." in text_of(
        client.get(f"/kooperationen/{town.coop.id}")
    )


def test_lead_municipality_cannot_be_removed(town, client, login_as) -> None:  # noqa: ANN001
    login_as(town.lead)
    partner_id = db.session.scalar(
        select(CooperationPartner.id).where(
            CooperationPartner.municipality_id == town.merchweiler.id
        )
    )
    before = state()
    response = client.post(f"/kooperationen/{town.coop.id}/partner/{partner_id}/entfernen")
    assert response.status_code == 302
    assert state() == before
    assert "federführende Kommune kann nicht entfernt werden" in text_of(
        client.get(response.headers["Location"])
    )


def test_removing_the_partner_of_the_last_lead_is_refused(town, client, login_as) -> None:  # noqa: ANN001
    """The only Projektleitung works for a partner: removing it would orphan the cooperation."""
    db.session.add(
        Membership(cooperation_id=town.coop.id, user_id=town.illingen_user.id, role=Role.LEAD)
    )
    db.session.commit()
    login_as(town.illingen_user)
    lead_membership = db.session.scalar(
        select(Membership).where(Membership.user_id == town.lead.id)
    )
    assert (
        client.post(
            f"/kooperationen/{town.coop.id}/rollen/{lead_membership.id}/entfernen"
        ).status_code
        == 302
    )
    partner_id = db.session.scalar(
        select(CooperationPartner.id).where(CooperationPartner.municipality_id == town.illingen.id)
    )
    before = state()
    response = client.post(f"/kooperationen/{town.coop.id}/partner/{partner_id}/entfernen")
    assert response.status_code == 302
    assert state() == before
    assert "letzte Projektleitung" in text_of(client.get(response.headers["Location"]))


# --- roles ----------------------------------------------------------------------------


def roles_url(town: Town) -> str:
    return f"/kooperationen/{town.coop.id}/rollen"


def test_grant_role_to_user_of_a_partner_municipality(town, client, login_as) -> None:  # noqa: ANN001
    login_as(town.lead)
    page = text_of(client.get(roles_url(town)))
    assert "Ilse Illinger (Illingen)" in page
    assert "Emil Eppel" not in page and "Dora Dilling" not in page

    response = client.post(
        roles_url(town), data={"user_id": str(town.illingen_user.id), "role": "treasurer"}
    )

    assert response.status_code == 302
    assert (
        db.session.scalar(
            select(Membership.role).where(Membership.user_id == town.illingen_user.id)
        )
        is Role.TREASURER
    )
    assert "Ilse Illinger hat jetzt die Rolle Kämmerei." in text_of(client.get(roles_url(town)))


@pytest.mark.parametrize(("headers", "status"), [({}, 400), (HX, 422)], ids=["plain", "htmx"])
def test_user_of_a_non_partner_municipality_gets_no_role(
    town, client, login_as, headers, status
) -> None:  # noqa: ANN001
    login_as(town.lead)
    before = state()
    response = client.post(
        roles_url(town),
        headers=headers,
        data={"user_id": str(town.dillingen_user.id), "role": "member"},
    )
    assert response.status_code == status
    assert "Bitte wählen Sie eine Person aus der Liste." in field_error(
        text_of(response), "user_id"
    )
    assert state() == before


@pytest.mark.parametrize(("headers", "status"), [({}, 400), (HX, 422)], ids=["plain", "htmx"])
def test_the_role_form_starts_without_a_role_and_needs_one(
    town, client, login_as, headers, status
) -> None:  # noqa: ANN001
    login_as(town.lead)
    page = text_of(client.get(roles_url(town)))
    select = re.search(r'<select[^>]*id="role".*?</select>', page, re.S).group(0)
    # The first option is shown (and sent) unless the person picks a role.
    first = re.search(r"^<select[^>]*><option (?:selected )?value=\"\">([^<]*)</option>", select)
    assert first and first.group(1) == "– bitte wählen –"
    assert "selected" not in select.replace('<option selected value="">', "")
    before = state()
    response = client.post(
        roles_url(town), headers=headers, data={"user_id": str(town.illingen_user.id), "role": ""}
    )
    assert response.status_code == status
    assert "Bitte wählen Sie die Rolle aus." in field_error(text_of(response), "role")
    assert state() == before


def test_the_last_lead_cannot_be_removed(town, client, login_as) -> None:  # noqa: ANN001
    login_as(town.lead)
    membership_id = db.session.scalar(
        select(Membership.id).where(Membership.user_id == town.lead.id)
    )
    before = state()
    response = client.post(f"{roles_url(town)}/{membership_id}/entfernen")
    assert response.status_code == 302
    assert state() == before
    assert "mindestens eine Projektleitung" in text_of(client.get(roles_url(town)))


def test_a_role_can_be_revoked(town, client, login_as) -> None:  # noqa: ANN001
    membership = Membership(
        cooperation_id=town.coop.id, user_id=town.illingen_user.id, role=Role.OBSERVER
    )
    db.session.add(membership)
    db.session.commit()
    login_as(town.lead)
    response = client.post(f"{roles_url(town)}/{membership.id}/entfernen")
    assert response.status_code == 302
    assert db.session.get(Membership, membership.id, populate_existing=True) is None


# --- Meine Kooperationen --------------------------------------------------------------


def test_my_cooperations_lists_only_mine(town, client, login_as) -> None:  # noqa: ANN001
    cooperation(town.lead, "Zweite Kooperation von Lea")
    cooperation(town.eppelborn_user, "Fremde Kooperation")
    cooperation(town.dillingen_user, "Partner ohne eigene Rolle", (town.merchweiler,))
    watched = cooperation(town.eppelborn_user, "Beobachtete Kooperation", (town.merchweiler,))
    db.session.add(Membership(cooperation_id=watched.id, user_id=town.lead.id, role=Role.OBSERVER))
    db.session.commit()
    login_as(town.lead)

    body = text_of(client.get("/kooperationen/"))

    for title in ("Gemeinsamer Bauhof", "Zweite Kooperation von Lea", "Beobachtete Kooperation"):
        assert title in body
    assert "Fremde Kooperation" not in body and "Partner ohne eigene Rolle" not in body
    assert "Beobachtung" in body and "Projektleitung" in body


def test_my_cooperations_empty(town, client, login_as) -> None:  # noqa: ANN001
    login_as(town.dillingen_user)
    assert "Sie haben noch keine Rolle in einer Kooperation." in text_of(
        client.get("/kooperationen/")
    )


# --- bad input ------------------------------------------------------------------------

CHOOSE = "Bitte wählen Sie einen Eintrag aus der Liste."
DATE = "Bitte geben Sie ein gültiges Datum an (TT.MM.JJJJ)."

BAD_INPUT = [
    # (id, form, changes to valid data, field, German message)
    ("unknown-ags", "partner", {"ags": "99999999"}, "ags", "keine Kommune im Gemeindeverzeichnis"),
    ("ags-not-8-digits", "partner", {"ags": "1004311"}, "ags", "genau acht Ziffern"),
    ("partner-twice", "partner", {"ags": "10043112"}, "ags", "Illingen ist bereits Partner"),
    ("lead-as-partner-again", "partner", {"ags": "10043113"}, "ags", "bereits Partner"),
    (
        "join-before-start",
        "partner",
        {"joined_on": "2024-12-31"},
        "joined_on",
        "nicht vor dem Beginn der Kooperation",
    ),
    ("invalid-join-date", "partner", {"joined_on": "32.13.2025"}, "joined_on", DATE),
    (
        "end-before-start",
        "create",
        {"end_date": "2024-12-31"},
        "end_date",
        "Das Ende darf nicht vor dem Beginn liegen.",
    ),
    (
        "end-before-start-edit",
        "edit",
        {"end_date": "31.12.2024"},
        "end_date",
        "Das Ende darf nicht vor dem Beginn liegen.",
    ),
    ("missing-title", "create", {"title": "  "}, "title", "Bitte füllen Sie dieses Feld aus."),
    ("title-too-long", "create", {"title": "T" * 201}, "title", "Höchstens 200 Zeichen."),
    ("title-too-long-edit", "edit", {"title": "T" * 201}, "title", "Höchstens 200 Zeichen."),
    ("goals-too-long", "create", {"goals": "Z" * 5001}, "goals", "Höchstens 5000 Zeichen."),
    ("missing-handlungsfeld", "create", {"handlungsfeld": ""}, "handlungsfeld", CHOOSE),
    (
        "unknown-handlungsfeld",
        "create",
        {"handlungsfeld": "landwirtschaft"},
        "handlungsfeld",
        CHOOSE,
    ),
    ("missing-rechtsform", "create", {"rechtsform": ""}, "rechtsform", CHOOSE),
    ("unknown-rechtsform", "edit", {"rechtsform": "verein"}, "rechtsform", CHOOSE),
    ("unknown-status", "create", {"status": "geheim"}, "status", CHOOSE),
    ("missing-start-date", "create", {"start_date": ""}, "start_date", DATE),
    ("invalid-start-date", "create", {"start_date": "31.02.2025"}, "start_date", DATE),
    ("date-as-words", "edit", {"end_date": "nächstes Jahr"}, "end_date", DATE),
    ("unknown-role", "roles", {"role": "koenig"}, "role", CHOOSE),
    (
        "partner-left-before-joined",
        "partner_edit",
        {"left_on": "2024-06-30"},
        "left_on",
        "Der Austritt darf nicht vor dem Beitritt liegen.",
    ),
    (
        "invalid-council-date",
        "partner_edit",
        {"council_resolution_on": "gestern"},
        "council_resolution_on",
        DATE,
    ),
]


def _request_for(form: str, town: Town, changes: dict) -> tuple[str, dict]:
    coop = town.coop
    if form == "create":
        return "/kooperationen/neu", {**VALID, **changes}
    if form == "edit":
        return f"/kooperationen/{coop.id}/bearbeiten", {**edit_data(coop), **changes}
    if form == "partner":
        return partner_url(town), {
            "action": "add",
            "ags": "10043111",
            "joined_on": "2025-01-01",
            **changes,
        }
    if form == "roles":
        return roles_url(town), {"user_id": str(town.illingen_user.id), "role": "member", **changes}
    partner_id = db.session.scalar(
        select(CooperationPartner.id).where(CooperationPartner.municipality_id == town.illingen.id)
    )
    return f"/kooperationen/{coop.id}/partner/{partner_id}", {
        "joined_on": "2025-01-01",
        "left_on": "",
        "council_resolution_on": "",
        **changes,
    }


@pytest.mark.parametrize(
    ("form", "changes", "field", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_INPUT],
)
def test_bad_input_is_refused_next_to_the_field(
    town, client, login_as, form, changes, field, message
) -> None:  # noqa: ANN001
    """German message at the field, 400 to a plain post, 422 to htmx; nothing written."""
    login_as(town.lead)
    url, data = _request_for(form, town, changes)
    before = state()

    for headers, status in (({}, 400), (HX, 422)):
        response = client.post(url, data=data, headers=headers)

        body = text_of(response)
        assert response.status_code == status, body[:2000]
        assert message in field_error(body, field)
        assert 'aria-invalid="true"' in body
        assert "Bitte korrigieren Sie die markierten Angaben." in body  # summary links to it
        assert state() == before


@pytest.mark.parametrize("form", ["create", "edit", "partner", "roles", "partner_edit"])
def test_missing_or_wrong_csrf_token_changes_nothing(town, client, login_as, form) -> None:  # noqa: ANN001
    login_as(town.lead)
    url, data = _request_for(form, town, {"title": "Ohne Token"} if form == "edit" else {})
    before = state()

    for token in (None, "gefälscht", ""):
        if token is not None:
            data["csrf_token"] = token
        for headers in ({}, HX):
            response = client.post(url, data=data, headers=headers, csrf=False)

            assert response.status_code == 400, (token, headers)
            assert "Sicherheitsprüfung fehlgeschlagen" in text_of(response)
            assert state() == before
