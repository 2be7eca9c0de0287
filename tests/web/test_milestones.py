"""Milestones over HTTP: permissions per role, inline htmx updates, 409, bad input, feeds."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import event, func, select

from koopboard.domain.catalog import Role
from koopboard.domain.milestones import MilestoneStatus, Phase, berlin_today
from koopboard.extensions import db
from koopboard.milestones import services
from koopboard.models import (
    CalendarFeed,
    Cooperation,
    HistoryEntry,
    Membership,
    Milestone,
    Municipality,
    NotificationEvent,
    User,
)
from koopboard.models.types import utcnow

HX = {"HX-Request": "true"}


@dataclass
class World:
    """A cooperation of three municipalities, a person per role, and an outsider."""

    cooperation: Cooperation
    other: Cooperation
    lead: User
    member_b: User
    member_c: User
    treasurer: User
    observer: User
    outsider: User
    town_a: Municipality
    town_b: Municipality
    town_c: Municipality
    town_d: Municipality

    @property
    def cid(self) -> int:
        return self.cooperation.id


def today() -> date:
    return berlin_today(utcnow())


def add(world: World, title: str = "Satzung beschließen", **kwargs) -> Milestone:
    """A milestone created through the service (as the lead would)."""
    data = services.MilestoneData(
        title=title,
        description=kwargs.pop("description", ""),
        phase=kwargs.pop("phase", "planung"),
        due_date=kwargs.pop("due_date", today() + timedelta(days=10)),
        status=kwargs.pop("status", "geplant"),
        responsible_municipality_id=kwargs.pop("responsible", world.town_b.id),
        progress_note=kwargs.pop("note", ""),
    )
    cooperation = kwargs.pop("cooperation", world.cooperation)
    milestone = services.create_milestone(cooperation, data, by=world.lead, now=utcnow())
    db.session.commit()
    return milestone


@pytest.fixture()
def world(make_municipality, make_user, make_cooperation) -> World:
    town_a = make_municipality("Merchweiler")
    town_b = make_municipality("Illingen")
    town_c = make_municipality("Eppelborn")
    town_d = make_municipality("Ottweiler")
    lead = make_user(town_a, name="Lea Leitung")
    member_b = make_user(town_b, name="Bernd Illingen")
    member_c = make_user(town_c, name="Carla Eppelborn")
    treasurer = make_user(town_a, name="Kim Kämmerei")
    observer = make_user(town_c, name="Olaf Beobachter")
    outsider = make_user(town_d, name="Otto Außen")
    cooperation = make_cooperation(
        lead,
        partners=[town_b, town_c],
        roles={
            member_b: Role.MEMBER,
            member_c: Role.MEMBER,
            treasurer: Role.TREASURER,
            observer: Role.OBSERVER,
        },
        start=date(2025, 1, 1),
    )
    other = make_cooperation(outsider, title="Andere Kooperation", start=date(2025, 1, 1))
    return World(
        cooperation,
        other,
        lead,
        member_b,
        member_c,
        treasurer,
        observer,
        outsider,
        town_a,
        town_b,
        town_c,
        town_d,
    )


def base(world: World) -> str:
    return f"/kooperationen/{world.cid}/meilensteine"


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def milestone_events() -> int:
    """Milestone events only: adding partners and granting roles publishes events too."""
    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).where(NotificationEvent.event_type.startswith("milestone."))
    )


def fresh(milestone_id: int) -> Milestone:
    db.session.expire_all()
    return db.session.get(Milestone, milestone_id)


def form_data(world: World, **overrides) -> dict:
    data = {
        "title": "Gemeinsame Satzung",
        "phase": "planung",
        "due_date": "2026-03-01",
        "status": "geplant",
        "responsible_municipality_id": str(world.town_b.id),
        "description": "Entwurf abstimmen",
        "progress_note": "",
    }
    data.update(overrides)
    return data


# --- reading and permissions ----------------------------------------------------------------


READERS = ["lead", "member_b", "member_c", "treasurer", "observer"]


@pytest.mark.parametrize("who", READERS)
def test_every_role_reads_every_milestone_page(world: World, login_as, who: str) -> None:
    m = add(world, responsible=world.town_b.id)
    client = login_as(getattr(world, who))
    for path in ("/", f"/{m.id}", "/zeitleiste", "/uebersicht"):
        response = client.get(base(world) + path)
        assert response.status_code == 200, path
        assert "Satzung beschließen" in response.get_data(as_text=True), path
    assert client.get("/meilensteine/").status_code == 200


def test_outsider_gets_404_everywhere(world: World, login_as) -> None:
    m = add(world)
    client = login_as(world.outsider)
    for path in ("/", f"/{m.id}", "/zeitleiste", "/uebersicht", "/neu", f"/{m.id}/bearbeiten"):
        assert client.get(base(world) + path).status_code == 404, path
    for path, data in (
        ("/neu", form_data(world)),
        (f"/{m.id}/bearbeiten", form_data(world, version="1")),
        (f"/{m.id}/status", {"status": "erledigt", "version": "1"}),
        (f"/{m.id}/termin", {"due_date": "2026-05-01", "version": "1"}),
        (f"/{m.id}/notiz", {"progress_note": "x", "version": "1"}),
    ):
        assert client.post(base(world) + path, data=data).status_code == 404, path
    assert "Satzung" not in client.get("/meilensteine/").get_data(as_text=True)
    assert fresh(m.id).status is MilestoneStatus.GEPLANT


def test_milestone_of_another_cooperation_is_404(world: World, login_as) -> None:
    foreign = add(world, cooperation=world.other, responsible=None)
    client = login_as(world.lead)
    assert client.get(f"{base(world)}/{foreign.id}").status_code == 404
    response = client.post(
        f"{base(world)}/{foreign.id}/status", data={"status": "erledigt", "version": "1"}
    )
    assert response.status_code == 404
    assert fresh(foreign.id).status is MilestoneStatus.GEPLANT


def test_anonymous_is_sent_to_login(world: World, client) -> None:
    response = client.get(base(world) + "/")
    assert response.status_code == 302 and "/anmelden" in response.headers["Location"]
    response = client.post(base(world) + "/neu", data=form_data(world))
    assert response.status_code == 302 and "/anmelden" in response.headers["Location"]
    assert count(Milestone) == 0


# (role, create/edit/due date allowed, status/note of a milestone assigned to town B allowed)
PERMISSIONS = [
    ("lead", True, True),
    ("member_b", False, True),  # a member of the responsible municipality
    ("member_c", False, False),  # a member of another partner
    ("treasurer", False, False),
    ("observer", False, False),
]


@pytest.mark.parametrize(("who", "manage", "progress"), PERMISSIONS)
def test_write_permissions_per_role(
    world: World, login_as, who: str, manage: bool, progress: bool
) -> None:
    m = add(world, responsible=world.town_b.id)
    client = login_as(getattr(world, who))
    forbidden = 403

    response = client.post(base(world) + "/neu", data=form_data(world))
    assert response.status_code == (302 if manage else forbidden)
    assert client.get(base(world) + "/neu").status_code == (200 if manage else forbidden)
    assert client.get(f"{base(world)}/{m.id}/bearbeiten").status_code == (
        200 if manage else forbidden
    )

    version = fresh(m.id).version
    response = client.post(
        f"{base(world)}/{m.id}/termin",
        headers=HX,
        data={"due_date": "2026-05-01", "version": str(version)},
    )
    assert response.status_code == (200 if manage else forbidden)

    version = fresh(m.id).version
    response = client.post(
        f"{base(world)}/{m.id}/status",
        headers=HX,
        data={"status": "in_arbeit", "version": str(version)},
    )
    assert response.status_code == (200 if progress else forbidden)

    version = fresh(m.id).version
    response = client.post(
        f"{base(world)}/{m.id}/notiz",
        headers=HX,
        data={"progress_note": "Entwurf steht", "version": str(version)},
    )
    assert response.status_code == (200 if progress else forbidden)

    m = fresh(m.id)
    assert (m.status is MilestoneStatus.IN_ARBEIT) is progress
    assert (m.progress_note == "Entwurf steht") is progress
    assert (m.due_date == date(2026, 5, 1)) is manage
    assert (count(Milestone) == 2) is manage


def test_member_sees_inline_forms_only_for_own_municipality(world: World, login_as) -> None:
    mine = add(world, "Mein Meilenstein", responsible=world.town_b.id)
    theirs = add(world, "Fremder Meilenstein", responsible=world.town_c.id)
    page = login_as(world.member_b).get(base(world) + "/").get_data(as_text=True)
    assert f'id="status-{mine.id}"' in page
    assert f'id="status-{theirs.id}"' not in page
    assert f'id="termin-{mine.id}"' not in page  # due dates are the lead's
    own_select = page[page.index(f'id="status-{mine.id}"') :]
    own_select = own_select[: own_select.index("</select>")]
    assert "geplant</option>" in own_select
    assert "abgesagt</option>" not in own_select  # members cannot cancel
    assert "/meilensteine/neu" not in page and "/bearbeiten" not in page


def test_observer_page_has_no_forms(world: World, login_as) -> None:
    add(world)
    page = login_as(world.observer).get(base(world) + "/").get_data(as_text=True)
    assert "Status speichern" not in page and "Notiz speichern" not in page


# --- creating and editing ---------------------------------------------------------------------


def test_lead_creates_a_milestone_with_history_and_event(world: World, login_as) -> None:
    client = login_as(world.lead)
    response = client.post(base(world) + "/neu", data=form_data(world))
    assert response.status_code == 302
    m = db.session.scalar(select(Milestone))
    assert response.headers["Location"].endswith(f"{base(world)}/#meilenstein-{m.id}")
    assert (m.title, m.phase, m.due_date, m.responsible_municipality_id) == (
        "Gemeinsame Satzung",
        Phase.PLANUNG,
        date(2026, 3, 1),
        world.town_b.id,
    )
    history = db.session.scalars(
        select(HistoryEntry).where(HistoryEntry.record_type == "Milestone")
    ).all()
    assert {h.field for h in history} >= {"title", "status", "due_date", "phase"}
    assert all(h.action == "create" and h.actor_id == world.lead.id for h in history)
    assert all(h.cooperation_id == world.cid for h in history)
    (ev,) = db.session.scalars(
        select(NotificationEvent).where(NotificationEvent.event_type.startswith("milestone."))
    ).all()
    assert (ev.event_type, ev.record_id, ev.actor_id, ev.cooperation_id) == (
        "milestone.created",
        m.id,
        world.lead.id,
        world.cid,
    )
    assert ev.payload["title"] == "Gemeinsame Satzung"


def test_create_over_htmx_redirects_the_whole_page(world: World, login_as) -> None:
    response = login_as(world.lead).post(base(world) + "/neu", data=form_data(world), headers=HX)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith(f"{base(world)}/#meilenstein-")


def test_created_done_milestone_gets_completion_date(world: World, login_as) -> None:
    login_as(world.lead).post(
        base(world) + "/neu",
        data=form_data(world, status="erledigt", completed_on=today().isoformat()),
    )
    assert db.session.scalar(select(Milestone)).completed_on == today()


BAD_INPUT = [
    ({"title": ""}, "title", "Bitte füllen Sie dieses Feld aus."),
    ({"title": "x" * 201}, "title", "Höchstens 200 Zeichen."),
    ({"description": "x" * 5001}, "description", "Höchstens 5000 Zeichen."),
    ({"progress_note": "x" * 1001}, "progress_note", "Höchstens 1000 Zeichen."),
    ({"due_date": "31.02.2026"}, "due_date", "gültiges Datum"),
    ({"due_date": "morgen"}, "due_date", "gültiges Datum"),
    ({"due_date": ""}, "due_date", "gültiges Datum"),
    ({"due_date": "2024-12-31"}, "due_date", "nicht vor dem Beginn der Kooperation (01.01.2025)"),
    ({"status": "fertig"}, "status", "Bitte wählen Sie einen Eintrag aus der Liste."),
    ({"phase": "nachbereitung"}, "phase", "Bitte wählen Sie einen Eintrag aus der Liste."),
    (
        {"responsible_municipality_id": "OUTSIDER"},
        "responsible_municipality_id",
        "Verantwortlich kann nur eine Partnerkommune",
    ),
    (
        {"responsible_municipality_id": "abc"},
        "responsible_municipality_id",
        "Verantwortlich kann nur eine Partnerkommune",
    ),
]


@pytest.mark.parametrize(("override", "field", "message"), BAD_INPUT)
@pytest.mark.parametrize("hx", [True, False], ids=["htmx", "plain"])
def test_bad_input_is_shown_at_the_field_and_nothing_written(
    world: World, login_as, override: dict, field: str, message: str, hx: bool
) -> None:
    if override.get("responsible_municipality_id") == "OUTSIDER":
        override = {"responsible_municipality_id": str(world.town_d.id)}
    client = login_as(world.lead)
    response = client.post(
        base(world) + "/neu", data=form_data(world, **override), headers=HX if hx else {}
    )
    assert response.status_code == (422 if hx else 400)
    body = response.get_data(as_text=True)
    assert message in body
    assert f'id="{field}-fehler"' in body  # the message sits at its field
    assert (hx and "<html" not in body) or (not hx and "<html" in body)
    assert count(Milestone) == 0
    assert milestone_events() == 0
    assert (
        db.session.scalar(select(func.count()).where(HistoryEntry.record_type == "Milestone")) == 0
    )


def test_full_edit_records_events_for_status_and_due_date(world: World, login_as) -> None:
    m = add(world)
    client = login_as(world.lead)
    assert client.get(f"{base(world)}/{m.id}/bearbeiten").status_code == 200
    response = client.post(
        f"{base(world)}/{m.id}/bearbeiten",
        data=form_data(
            world,
            title="Neuer Titel",
            status="erledigt",
            completed_on=today().isoformat(),
            due_date="2026-02-01",
            version=str(m.version),
        ),
    )
    assert response.status_code == 302
    m = fresh(m.id)
    assert (m.title, m.status, m.due_date, m.completed_on) == (
        "Neuer Titel",
        MilestoneStatus.ERLEDIGT,
        date(2026, 2, 1),
        today(),
    )
    types = [
        e.event_type
        for e in db.session.scalars(
            select(NotificationEvent)
            .where(NotificationEvent.event_type.startswith("milestone."))
            .order_by(NotificationEvent.id)
        )
    ]
    assert types == ["milestone.created", "milestone.status_changed", "milestone.due_date_changed"]


def test_full_edit_with_stale_version_answers_409(world: World, login_as) -> None:
    m = add(world)
    stale = m.version
    member = login_as(world.member_b)
    member.post(
        f"{base(world)}/{m.id}/notiz", data={"progress_note": "Von Bernd", "version": str(stale)}
    )
    member.post("/abmelden")
    client = login_as(world.lead)
    for headers in (HX, {}):
        response = client.post(
            f"{base(world)}/{m.id}/bearbeiten",
            headers=headers,
            data=form_data(world, title="Überschrieben?", version=str(stale)),
        )
        assert response.status_code == 409
        body = response.get_data(as_text=True)
        assert "inzwischen geändert" in body
        assert "Bernd Illingen" in body  # who changed it
        assert "Von Bernd" in body  # the current values
        assert f'value="{fresh(m.id).version}"' in body  # the form now carries the new version
    assert fresh(m.id).title == "Satzung beschließen"


# --- inline updates -----------------------------------------------------------------------------


def test_inline_status_done_over_htmx(world: World, login_as) -> None:
    m = add(world)
    client = login_as(world.lead)
    response = client.post(
        f"{base(world)}/{m.id}/status",
        headers=HX,
        data={"status": "erledigt", "version": str(m.version)},
    )
    assert response.status_code == 200
    assert json.loads(response.headers["HX-Trigger"]) == {"milestone-changed": {"id": m.id}}
    assert "HX-Request" in response.headers["Vary"]
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith(f'<li id="meilenstein-{m.id}"')  # the fragment only
    assert "Erledigt am" in body
    m = fresh(m.id)
    assert m.status is MilestoneStatus.ERLEDIGT and m.completed_on == today()
    change = db.session.scalar(
        select(HistoryEntry).where(
            HistoryEntry.record_type == "Milestone",
            HistoryEntry.field == "status",
            HistoryEntry.action == "update",
        )
    )
    assert (change.old_value, change.new_value, change.actor_id) == (
        "geplant",
        "erledigt",
        world.lead.id,
    )
    ev = db.session.scalar(
        select(NotificationEvent).where(NotificationEvent.event_type == "milestone.status_changed")
    )
    assert ev.payload == {"title": "Satzung beschließen", "old": "geplant", "new": "erledigt"}

    # Reopening clears the completion date.
    response = client.post(
        f"{base(world)}/{m.id}/status",
        headers=HX,
        data={"status": "in_arbeit", "version": str(m.version)},
    )
    assert response.status_code == 200
    assert fresh(m.id).completed_on is None


def test_summary_fragment_listens_for_the_event(world: World, login_as) -> None:
    add(world, "Erledigt", status="erledigt")
    add(world, "Überfällig", due_date=date(2025, 2, 1))
    add(world, "Demnächst", due_date=today() + timedelta(days=3))
    add(world, "Abgesagt", status="abgesagt")
    client = login_as(world.observer)
    page = client.get(base(world) + "/").get_data(as_text=True)
    assert 'data-hx-trigger="milestone-changed from:body"' in page
    response = client.get(base(world) + "/uebersicht", headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert "1 von 3 erledigt" in body
    assert "1 Meilenstein überfällig" in body
    assert "Demnächst" in body
    # The cooperation page shows the same summary.
    page = client.get(f"/kooperationen/{world.cid}").get_data(as_text=True)
    assert "1 von 3 erledigt" in page


def test_inline_plain_form_redirects_back_to_the_list(world: World, login_as) -> None:
    m = add(world)
    response = login_as(world.member_b).post(
        f"{base(world)}/{m.id}/status", data={"status": "gefaehrdet", "version": str(m.version)}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{base(world)}/#meilenstein-{m.id}")
    assert "HX-Trigger" not in response.headers
    assert fresh(m.id).status is MilestoneStatus.GEFAEHRDET


def test_inline_due_date_change_records_event(world: World, login_as) -> None:
    m = add(world, due_date=date(2026, 4, 1))
    response = login_as(world.lead).post(
        f"{base(world)}/{m.id}/termin",
        headers=HX,
        data={"due_date": "15.04.2026", "version": str(m.version)},
    )
    assert response.status_code == 200
    assert "milestone-changed" in response.headers["HX-Trigger"]
    assert fresh(m.id).due_date == date(2026, 4, 15)
    ev = db.session.scalar(
        select(NotificationEvent).where(
            NotificationEvent.event_type == "milestone.due_date_changed"
        )
    )
    assert (ev.payload["old"], ev.payload["new"]) == ("2026-04-01", "2026-04-15")


def test_note_change_writes_history_but_no_event(world: World, login_as) -> None:
    m = add(world)
    login_as(world.member_b).post(
        f"{base(world)}/{m.id}/notiz",
        headers=HX,
        data={"progress_note": "Rat hat beraten", "version": "1"},
    )
    assert fresh(m.id).progress_note == "Rat hat beraten"
    assert (
        db.session.scalar(
            select(func.count()).where(
                HistoryEntry.field == "progress_note", HistoryEntry.action == "update"
            )
        )
        == 1
    )
    assert milestone_events() == 1  # only "created"


INLINE_BAD = [
    ("status", {"status": "fertig"}, "Bitte wählen Sie einen Eintrag aus der Liste."),
    ("termin", {"due_date": "32.13.2026"}, "gültiges Datum"),
    ("termin", {"due_date": "2024-06-30"}, "nicht vor dem Beginn der Kooperation"),
    ("notiz", {"progress_note": "x" * 1001}, "Höchstens 1000 Zeichen."),
]


@pytest.mark.parametrize(("action", "data", "message"), INLINE_BAD)
@pytest.mark.parametrize("hx", [True, False], ids=["htmx", "plain"])
def test_inline_bad_input(
    world: World, login_as, action: str, data: dict, message: str, hx: bool
) -> None:
    m = add(world)
    client = login_as(world.lead)
    before = count(HistoryEntry)
    response = client.post(
        f"{base(world)}/{m.id}/{action}",
        data={**data, "version": str(m.version)},
        headers=HX if hx else {},
    )
    assert response.status_code == (422 if hx else 400)
    body = response.get_data(as_text=True)
    assert message in body and 'aria-invalid="true"' in body
    assert "HX-Trigger" not in response.headers
    assert fresh(m.id).version == m.version
    assert count(HistoryEntry) == before and milestone_events() == 1


def test_member_cannot_cancel(world: World, login_as) -> None:
    m = add(world)
    response = login_as(world.member_b).post(
        f"{base(world)}/{m.id}/status", headers=HX, data={"status": "abgesagt", "version": "1"}
    )
    assert response.status_code == 422
    assert "Nur die Projektleitung kann Meilensteine absagen" in response.get_data(as_text=True)
    assert fresh(m.id).status is MilestoneStatus.GEPLANT


def test_inline_stale_version_answers_409_with_current_values(world: World, login_as) -> None:
    m = add(world)
    stale = m.version
    member = login_as(world.member_b)
    response = member.post(
        f"{base(world)}/{m.id}/status",
        headers=HX,
        data={"status": "gefaehrdet", "version": str(stale)},
    )
    assert response.status_code == 200
    member.post("/abmelden")
    client = login_as(world.lead)
    response = client.post(
        f"{base(world)}/{m.id}/status",
        headers=HX,
        data={"status": "erledigt", "version": str(stale)},
    )
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "inzwischen geändert" in body and "Bernd Illingen" in body
    assert 'value="gefaehrdet" selected' in body  # the current value, not the stale post
    assert f'name="version" value="{stale + 1}"' in body
    assert "milestone-changed" in response.headers["HX-Trigger"]
    assert fresh(m.id).status is MilestoneStatus.GEFAEHRDET
    # Without JavaScript the same conflict renders the milestone page.
    response = client.post(
        f"{base(world)}/{m.id}/notiz", data={"progress_note": "alt", "version": str(stale)}
    )
    assert response.status_code == 409 and "<html" in response.get_data(as_text=True)


def test_missing_version_is_a_conflict_not_an_overwrite(world: World, login_as) -> None:
    m = add(world)
    response = login_as(world.lead).post(
        f"{base(world)}/{m.id}/status", headers=HX, data={"status": "erledigt"}
    )
    assert response.status_code == 409
    assert fresh(m.id).status is MilestoneStatus.GEPLANT


def test_missing_csrf_token_is_refused(world: World, login_as) -> None:
    m = add(world)
    response = login_as(world.lead).post(
        f"{base(world)}/{m.id}/status", csrf=False, data={"status": "erledigt", "version": "1"}
    )
    assert response.status_code == 400
    assert fresh(m.id).status is MilestoneStatus.GEPLANT


# --- views ---------------------------------------------------------------------------------------


def test_card_view_groups_by_phase_with_overdue_text(world: World, login_as) -> None:
    first = add(world, "Auftakt", phase="initiierung", due_date=date(2025, 3, 1))
    later = add(world, "Umbau", phase="umsetzung")
    page = login_as(world.member_c).get(base(world) + "/?ansicht=karten").get_data(as_text=True)
    positions = [page.index(f'id="phase-{p.value}"') for p in Phase]
    assert positions == sorted(positions)
    assert positions[0] < page.index(f'id="meilenstein-{first.id}"') < positions[1]
    assert positions[2] < page.index(f'id="meilenstein-{later.id}"') < positions[3]
    assert "überfällig" in page and 'aria-hidden="true">⚠' in page


def test_timeline_has_today_marker_and_accessible_list(world: World, login_as) -> None:
    add(world, "Vergangen", due_date=date(2025, 3, 1))
    add(world, "Zukunft", due_date=today() + timedelta(days=40))
    page = login_as(world.observer).get(base(world) + "/zeitleiste").get_data(as_text=True)
    assert (
        'role="img"' in page
        and 'aria-labelledby="zeitleiste-titel zeitleiste-beschreibung"' in page
    )
    assert page.index("Vergangen") < page.index('class="ms-today"') < page.rindex("Zukunft")
    assert today().strftime("%d.%m.%Y") in page


def test_dashboard_overdue_first_then_next_30_days(world: World, login_as) -> None:
    add(world, "Längst fällig", due_date=date(2025, 6, 1))
    add(world, "Bald", due_date=today() + timedelta(days=5))
    add(world, "Heute fällig", due_date=today())
    add(world, "Zu weit weg", due_date=today() + timedelta(days=31))
    add(world, "Schon erledigt", due_date=date(2025, 6, 1), status="erledigt")
    add(world, "Fremd", cooperation=world.other, responsible=None, due_date=today())
    page = login_as(world.member_b).get("/meilensteine/").get_data(as_text=True)
    page = page[page.index("<main") :]  # the bell in the header previews titles too
    assert page.index("Längst fällig") < page.index("Heute fällig") < page.index("Bald")
    assert (
        page.index('id="ueberfaellig"') < page.index("Längst fällig") < page.index('id="naechste"')
    )
    for absent in ("Zu weit weg", "Schon erledigt", "Fremd"):
        assert absent not in page
    assert "Ihre Kommune" in page  # town B is responsible


@contextmanager
def counted_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _bulk(world: World, n: int) -> None:
    start = today() - timedelta(days=n // 2)
    statuses = list(MilestoneStatus)
    towns = [world.town_a.id, world.town_b.id, world.town_c.id, None]
    for i in range(n):
        status = statuses[i % len(statuses)]
        db.session.add(
            Milestone(
                cooperation_id=world.cid,
                title=f"Meilenstein {i}",
                description="",
                phase=list(Phase)[i % 4],
                due_date=start + timedelta(days=i),
                status=status,
                completed_on=today() if status is MilestoneStatus.ERLEDIGT else None,
                responsible_municipality_id=towns[i % 4],
                progress_note="",
            )
        )
    db.session.commit()


@pytest.mark.parametrize("path", ["/", "/zeitleiste", "/uebersicht", "DASHBOARD"])
def test_query_count_does_not_grow_with_milestones(world: World, login_as, path: str) -> None:
    client = login_as(world.lead)
    url = "/meilensteine/" if path == "DASHBOARD" else base(world) + path
    counts = []
    for n in (10, 490):  # 10, then 500 in all
        _bulk(world, n)
        client.get(url)  # warm-up: anything cached per process is loaded once
        with counted_queries() as statements:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(statements))
    assert count(Milestone) == 500
    assert counts[0] == counts[1], counts


# --- calendar feeds ------------------------------------------------------------------------------


def _feed_urls(client) -> tuple[str, str]:
    """The addresses from the page right after they were made (it shows them once)."""
    page = client.get("/meilensteine/kalender").get_data(as_text=True)
    token = re.search(r"/kalender/([^/]+)/meilensteine\.ics", page).group(1)
    assert token not in client.get("/meilensteine/kalender").get_data(as_text=True)
    return f"/kalender/{token}/meilensteine.ics", f"/kalender/{token}/kooperation-"


def _parse(response) -> Calendar:
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert "no-store" in response.headers["Cache-Control"]
    return Calendar.from_ical(response.get_data())


def test_calendar_feeds_parse_and_follow_roles(world: World, login_as, app) -> None:
    due = today() + timedelta(days=20)
    add(world, "Satzung", due_date=due, note="Entwurf steht")
    add(world, "Abgesagtes Treffen", due_date=due, status="abgesagt")
    add(world, "Fremd", cooperation=world.other, responsible=None)
    client = login_as(world.member_b)
    assert "Kalender-Abo einrichten" in client.get("/meilensteine/kalender").get_data(as_text=True)
    assert client.post("/meilensteine/kalender").status_code == 302
    user_url, coop_prefix = _feed_urls(client)
    client.post("/abmelden")

    anonymous = app.test_client()  # the token alone authenticates
    cal = _parse(anonymous.get(user_url))
    assert "Meilensteine von Bernd Illingen" in str(cal["X-WR-CALNAME"])
    events = {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {
        "Gemeinsames Standesamt: Satzung",
        "Gemeinsames Standesamt: Abgesagtes Treffen (abgesagt)",
    }
    satzung = events["Gemeinsames Standesamt: Satzung"]
    assert satzung.decoded("DTSTART") == due
    assert satzung.decoded("DTEND") == due + timedelta(days=1)
    assert str(satzung["STATUS"]) == "CONFIRMED"
    assert "Entwurf steht" in str(satzung["DESCRIPTION"])
    assert "Verantwortlich: Illingen" in str(satzung["DESCRIPTION"])
    milestone_id = str(satzung["UID"]).removeprefix("meilenstein-").split("@")[0]
    assert str(satzung["URL"]).endswith(f"{base(world)}/{milestone_id}")
    assert str(events["Gemeinsames Standesamt: Abgesagtes Treffen (abgesagt)"]["STATUS"]) == (
        "CANCELLED"
    )

    cal = _parse(anonymous.get(f"{coop_prefix}{world.cid}.ics"))
    assert sorted(str(e["SUMMARY"]) for e in cal.walk("VEVENT")) == [
        "Abgesagtes Treffen (abgesagt)",
        "Satzung",
    ]
    # Not a member of the other cooperation: 404, its existence is not revealed.
    assert anonymous.get(f"{coop_prefix}{world.other.id}.ics").status_code == 404
    assert anonymous.get("/kalender/falsch/meilensteine.ics").status_code == 404

    # Losing the role removes the cooperation from both feeds at once.
    db.session.delete(
        db.session.scalar(select(Membership).where(Membership.user_id == world.member_b.id))
    )
    db.session.commit()
    assert anonymous.get(f"{coop_prefix}{world.cid}.ics").status_code == 404
    assert list(_parse(anonymous.get(user_url)).walk("VEVENT")) == []


def test_rotating_the_feed_address_revokes_the_old_one(world: World, login_as, app) -> None:
    add(world)
    client = login_as(world.lead)
    client.post("/meilensteine/kalender")
    old_url, _prefix = _feed_urls(client)
    assert app.test_client().get(old_url).status_code == 200
    assert client.post("/meilensteine/kalender", csrf=False).status_code == 400  # CSRF
    assert app.test_client().get(old_url).status_code == 200
    assert client.post("/meilensteine/kalender").status_code == 302
    new_url, _prefix = _feed_urls(client)
    assert new_url != old_url
    assert app.test_client().get(old_url).status_code == 404
    assert app.test_client().get(new_url).status_code == 200
    assert count(CalendarFeed) == 1


def test_feed_page_needs_login(world: World, client) -> None:
    assert client.get("/meilensteine/kalender").status_code == 302
    assert client.post("/meilensteine/kalender").status_code == 302
    assert count(CalendarFeed) == 0


def test_history_page_lists_milestone_changes(world: World, login_as) -> None:
    m = add(world)
    client = login_as(world.lead)
    client.post(f"{base(world)}/{m.id}/status", data={"status": "erledigt", "version": "1"})
    page = client.get(f"/kooperationen/{world.cid}/verlauf").get_data(as_text=True)
    assert "Satzung beschließen" in page and "erledigt" in page
    assert "Lea Leitung" in page


def test_feed_tokens_are_stored_hashed_and_shown_once(world: World, login_as, app) -> None:
    add(world)
    client = login_as(world.lead)
    client.post("/meilensteine/kalender")
    first = client.get("/meilensteine/kalender").get_data(as_text=True)
    token = re.search(r"/kalender/([^/]+)/meilensteine\.ics", first).group(1)
    assert "nur jetzt angezeigt" in first

    stored = db.session.scalar(select(CalendarFeed))
    assert token not in {stored.token_hash, *map(str, vars(stored).values())}
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    again = client.get("/meilensteine/kalender").get_data(as_text=True)
    assert token not in again and "Neue geheime Adressen erzeugen" in again
    assert app.test_client().get(f"/kalender/{token}/meilensteine.ics").status_code == 200
    # The hash itself is no address.
    hashed = f"/kalender/{stored.token_hash}/meilensteine.ics"
    assert app.test_client().get(hashed).status_code == 404
