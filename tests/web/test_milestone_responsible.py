"""Issue 17 for milestones: a responsible person, a real completion date, "gespeichert".

The person is someone with a role in the cooperation (not Beobachtung) from the milestone's
responsible municipality; the server checks it and says why not next to the field.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from koopboard.domain.milestones import MilestoneStatus
from koopboard.extensions import db
from koopboard.milestones import services
from koopboard.models import HistoryEntry, Milestone, NotificationDelivery, NotificationEvent
from koopboard.models.types import utcnow
from tests.web import test_milestones
from tests.web.test_milestones import (
    HX,
    World,
    add,
    base,
    count,
    counted_queries,
    form_data,
    fresh,
    today,
)

world = test_milestones.world  # the same fixture: a cooperation with a person per role


def text(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


def field_error(body: str, field_id: str) -> str:
    """The message next to the field, which points to it by aria-describedby."""
    match = re.search(rf'<p class="error" id="{field_id}-fehler">(.*?)</p>', body, re.S)
    assert match, f"no error next to {field_id}:\n{body[:3000]}"
    assert re.search(rf'aria-describedby="[^"]*\b{field_id}-fehler\b', body)
    return re.sub(r"<[^>]+>", "", match.group(1))


def select_html(body: str, name: str) -> str:
    match = re.search(rf'<select[^>]*name="{name}".*?</select>', body, re.S)
    assert match, f"no select {name}"
    return match.group(0)


def milestone_history(field: str) -> list[HistoryEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.record_type == "Milestone", HistoryEntry.field == field)
            .order_by(HistoryEntry.id)
        )
    )


# --- the responsible person ------------------------------------------------------------------


def test_the_form_offers_people_with_a_role_grouped_by_municipality(world: World, login_as) -> None:
    page = text(login_as(world.lead).get(base(world) + "/neu"))
    people = select_html(page, "responsible_person_id")
    assert '<option selected value="">– niemand –</option>' in people
    for town, person in (
        (world.town_b, world.member_b),
        (world.town_c, world.member_c),
        (world.town_a, world.treasurer),
        (world.town_a, world.lead),
    ):
        group = re.search(rf'<optgroup label="{town.name}">(.*?)</optgroup>', people, re.S)
        assert group and f'value="{person.id}">{person.name}</option>' in group.group(1)
    assert world.observer.name not in people  # Beobachtung only reads
    assert world.outsider.name not in people
    assert "Verantwortliche Person" in page


def test_lead_names_a_person_shown_by_name_and_in_the_history(world: World, login_as) -> None:
    client = login_as(world.lead)
    response = client.post(
        base(world) + "/neu", data=form_data(world, responsible_person_id=str(world.member_b.id))
    )
    assert response.status_code == 302
    m = db.session.scalar(select(Milestone))
    assert m.responsible_person_id == world.member_b.id

    card = text(client.get(f"{base(world)}/{m.id}"))
    assert "Illingen, Bernd Illingen" in card
    (entry,) = milestone_history("responsible_person_id")
    assert (entry.action, entry.new_value) == ("create", str(world.member_b.id))
    history = text(client.get(f"/kooperationen/{world.cid}/verlauf"))
    row = re.search(r"<tr>(?:(?!</tr>).)*Verantwortliche Person(?:(?!</tr>).)*</tr>", history, re.S)
    assert row and "Bernd Illingen" in row.group(0)
    assert f"<td>{world.member_b.id}</td>" not in row.group(0)  # a name, not a number


PERSON_ERRORS = [
    # (municipality, person, message)
    ("town_b", "member_c", "Carla Eppelborn gehört nicht zur verantwortlichen Kommune Illingen."),
    ("town_b", "observer", "nur eine Person mit einer Rolle in dieser Kooperation"),
    ("town_b", "outsider", "nur eine Person mit einer Rolle in dieser Kooperation"),
    ("town_b", "garbage", "nur eine Person mit einer Rolle in dieser Kooperation"),
    (None, "member_b", "Bitte wählen Sie zuerst die verantwortliche Kommune"),
]


@pytest.mark.parametrize(("town", "who", "message"), PERSON_ERRORS)
@pytest.mark.parametrize("hx", [True, False], ids=["htmx", "plain"])
def test_a_person_who_does_not_fit_is_refused_at_the_field(
    world: World, login_as, town: str | None, who: str, message: str, hx: bool
) -> None:
    person = "abc" if who == "garbage" else str(getattr(world, who).id)
    municipality = str(getattr(world, town).id) if town else ""
    response = login_as(world.lead).post(
        base(world) + "/neu",
        headers=HX if hx else {},
        data=form_data(
            world, responsible_municipality_id=municipality, responsible_person_id=person
        ),
    )
    assert response.status_code == (422 if hx else 400)
    assert message in field_error(text(response), "responsible_person_id")
    assert count(Milestone) == 0
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(NotificationEvent)
            .where(NotificationEvent.event_type.startswith("milestone."))
        )
        == 0
    )


def test_changing_the_municipality_needs_a_person_of_the_new_one(world: World, login_as) -> None:
    m = add(world)
    client = login_as(world.lead)
    client.post(
        f"{base(world)}/{m.id}/bearbeiten",
        data=form_data(
            world,
            title=m.title,
            responsible_person_id=str(world.member_b.id),
            version=str(fresh(m.id).version),
        ),
    )
    assert fresh(m.id).responsible_person_id == world.member_b.id

    # Eppelborn now, Bernd (Illingen) still chosen: refused at the field, nothing changes.
    response = client.post(
        f"{base(world)}/{m.id}/bearbeiten",
        headers=HX,
        data=form_data(
            world,
            title=m.title,
            responsible_municipality_id=str(world.town_c.id),
            responsible_person_id=str(world.member_b.id),
            version=str(fresh(m.id).version),
        ),
    )
    assert response.status_code == 422
    assert "Bernd Illingen gehört nicht zur verantwortlichen Kommune Eppelborn." in field_error(
        text(response), "responsible_person_id"
    )
    assert fresh(m.id).responsible_municipality_id == world.town_b.id

    # With the person cleared (what htmx does on the change) it saves; the history says so.
    response = client.post(
        f"{base(world)}/{m.id}/bearbeiten",
        data=form_data(
            world,
            title=m.title,
            responsible_municipality_id=str(world.town_c.id),
            responsible_person_id="",
            version=str(fresh(m.id).version),
        ),
    )
    assert response.status_code == 302
    assert fresh(m.id).responsible_person_id is None
    cleared = milestone_history("responsible_person_id")[-1]
    assert (cleared.old_value, cleared.new_value) == (str(world.member_b.id), None)
    history = text(client.get(f"/kooperationen/{world.cid}/verlauf"))
    assert "Bernd Illingen" in history and "Eppelborn" in history


def test_changing_the_municipality_swaps_in_its_people_over_htmx(world: World, login_as) -> None:
    m = add(world)
    client = login_as(world.lead)
    for url in (base(world) + "/neu", f"{base(world)}/{m.id}/bearbeiten"):
        form = text(client.get(url))
        select = re.search(r'<select[^>]*name="responsible_municipality_id"[^>]*>', form).group(0)
        assert f'data-hx-get="{url}"' in select and 'data-hx-trigger="change"' in select
        assert 'data-hx-select="#verantwortliche-person"' in select

        # What htmx asks for on the change: the form for Eppelborn, of which it swaps in
        # only the person field.
        fragment = client.get(f"{url}?responsible_municipality_id={world.town_c.id}", headers=HX)
        body = text(fragment)
        assert fragment.status_code == 200 and "<html" not in body
        person_field = re.search(
            r'<div id="verantwortliche-person">.*?</select>', body, re.S
        ).group(0)
        assert "Carla Eppelborn" in person_field and "Bernd Illingen" not in person_field
        assert '<option selected value="">– niemand –</option>' in person_field  # empty again

        nobody = text(client.get(f"{url}?responsible_municipality_id=", headers=HX))
        assert "<optgroup" not in select_html(nobody, "responsible_person_id")


def test_the_responsible_person_keeps_their_milestone_up_to_date(world: World, login_as) -> None:
    # Kim is Kämmerei of Merchweiler: no member rights, but the responsible person here.
    own = add(world, "Haushaltsmittel einstellen", responsible=world.town_a.id)
    other = add(world, "Anderer Meilenstein", responsible=world.town_a.id)
    services.update_milestone(
        own,
        world.cooperation,
        services.MilestoneData(
            title=own.title,
            description="",
            phase="planung",
            due_date=own.due_date,
            status="geplant",
            responsible_municipality_id=world.town_a.id,
            progress_note="",
            responsible_person_id=world.treasurer.id,
        ),
        version=own.version,
        by=world.lead,
        now=utcnow(),
    )
    db.session.commit()
    client = login_as(world.treasurer)
    for m, status in ((own, 200), (other, 403)):
        response = client.post(
            f"{base(world)}/{m.id}/status",
            headers=HX,
            data={"status": "in_arbeit", "version": str(fresh(m.id).version)},
        )
        assert response.status_code == status
    assert fresh(own.id).status is MilestoneStatus.IN_ARBEIT
    assert fresh(other.id).status is MilestoneStatus.GEPLANT


def test_the_person_gets_the_milestones_notifications(world: World, login_as) -> None:
    client = login_as(world.lead)
    client.post(
        base(world) + "/neu", data=form_data(world, responsible_person_id=str(world.member_b.id))
    )
    m = db.session.scalar(select(Milestone))
    client.post(f"{base(world)}/{m.id}/status", data={"status": "in_arbeit", "version": "1"})
    db.session.expire_all()
    received = db.session.scalars(
        select(NotificationEvent.event_type)
        .join(NotificationDelivery, NotificationDelivery.event_id == NotificationEvent.id)
        .where(NotificationDelivery.user_id == world.member_b.id)
        .where(NotificationEvent.record_type == "Milestone")
        .order_by(NotificationEvent.id)
    ).all()
    assert received == ["milestone.created", "milestone.status_changed"]


# --- Meine nächsten Meilensteine ---------------------------------------------------------


def _assign(m: Milestone, person_id: int, world: World) -> None:
    m = fresh(m.id)
    m.responsible_person_id = person_id
    db.session.commit()


def test_dashboard_shows_my_milestones_first(world: World, login_as) -> None:
    others_overdue = add(world, "Anderer überfällig", due_date=date(2025, 6, 1))
    mine_later = add(world, "Meiner später", due_date=today() + timedelta(days=20))
    mine_overdue = add(world, "Meiner überfällig", due_date=date(2025, 7, 1))
    add(world, "Anderer bald", due_date=today() + timedelta(days=2))
    for m in (mine_later, mine_overdue):
        _assign(m, world.member_b.id, world)
    assert others_overdue.responsible_person_id is None

    page = text(login_as(world.member_b).get("/meilensteine/"))
    page = page[page.index("<main") :]  # the bell in the header previews titles too
    order = [
        'id="verantwortlich"',
        "Meiner überfällig",
        "Meiner später",
        'id="ueberfaellig"',
        "Anderer überfällig",
        'id="naechste"',
        "Anderer bald",
    ]
    positions = [page.index(marker) for marker in order]
    assert positions == sorted(positions), dict(zip(order, positions, strict=True))
    assert "Sie sind verantwortlich (2)" in page
    mine = page[page.index('id="verantwortlich"') : page.index('id="ueberfaellig"')]
    assert mine.count('<span class="badge">Sie</span>') == 2
    assert "Illingen, Bernd Illingen" in mine

    # Someone else sees the same milestones as before, none under "Sie sind verantwortlich".
    login_as(world.member_b).post("/abmelden")
    other = text(login_as(world.member_c).get("/meilensteine/"))
    other = other[other.index("<main") :]
    assert "Sie sind verantwortlich (0)" in other
    assert other.index('id="ueberfaellig"') < other.index("Meiner überfällig")


def test_dashboard_queries_do_not_grow_with_responsible_people(world: World, login_as) -> None:
    client = login_as(world.member_b)
    people = [world.member_b.id, world.member_c.id, world.lead.id, None]
    counts = []
    for n in (6, 120):
        for i in range(n):
            db.session.add(
                Milestone(
                    cooperation_id=world.cid,
                    title=f"Meilenstein {n}-{i}",
                    description="",
                    phase="planung",
                    due_date=today() - timedelta(days=10) + timedelta(days=i % 35),
                    status=MilestoneStatus.GEPLANT,
                    responsible_municipality_id=world.town_b.id,
                    responsible_person_id=people[i % 4],
                    progress_note="",
                )
            )
        db.session.commit()
        client.get("/meilensteine/")
        with counted_queries() as statements:
            page = text(client.get("/meilensteine/"))
        counts.append(len(statements))
        assert "Carla Eppelborn" in page and "Bernd Illingen" in page
    assert counts[0] == counts[1], counts


# --- the completion date -----------------------------------------------------------------


def test_the_form_asks_for_the_completion_date_with_berlin_today(
    world: World, login_as, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 23:30 UTC on 28 March 2026 is already the 29th in Berlin.
    late = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    monkeypatch.setattr("koopboard.milestones.views._now", lambda: late)
    page = text(login_as(world.lead).get(base(world) + "/neu"))
    match = re.search(r'<input[^>]*name="completed_on"[^>]*>', page)
    assert match and 'value="2026-03-29"' in match.group(0) and 'max="2026-03-29"' in match.group(0)
    assert '<label class="label" for="completed_on">Erledigt am</label>' in page


def test_created_done_takes_the_given_completion_date(world: World, login_as) -> None:
    day = today() - timedelta(days=3)
    client = login_as(world.lead)
    response = client.post(
        base(world) + "/neu",
        data=form_data(world, status="erledigt", completed_on=day.strftime("%d.%m.%Y")),
    )
    assert response.status_code == 302
    m = db.session.scalar(select(Milestone))
    assert m.completed_on == day
    card = text(client.get(f"{base(world)}/{m.id}"))
    assert f'<dt>Erledigt am</dt><dd><time datetime="{day.isoformat()}">' in card
    assert day.strftime("%d.%m.%Y") in card
    assert milestone_history("completed_on")[0].new_value == day.isoformat()


@pytest.mark.parametrize(
    ("completed_on", "message"),
    [
        ("FUTURE", "Das Erledigungsdatum darf nicht in der Zukunft liegen"),
        ("", "Bitte geben Sie an, an welchem Tag er erledigt wurde."),
        ("31.02.2026", "Bitte geben Sie ein gültiges Datum an"),
    ],
    ids=["future", "missing", "invalid"],
)
def test_a_bad_completion_date_is_refused_at_the_field(
    world: World, login_as, completed_on: str, message: str
) -> None:
    if completed_on == "FUTURE":
        completed_on = (today() + timedelta(days=1)).isoformat()
    response = login_as(world.lead).post(
        base(world) + "/neu",
        headers=HX,
        data=form_data(world, status="erledigt", completed_on=completed_on),
    )
    assert response.status_code == 422
    assert message in field_error(text(response), "completed_on")
    assert count(Milestone) == 0


def test_the_completion_date_only_counts_for_done_milestones(world: World, login_as) -> None:
    client = login_as(world.lead)
    client.post(base(world) + "/neu", data=form_data(world, completed_on="2025-03-01"))
    m = db.session.scalar(select(Milestone))
    assert (m.status, m.completed_on) == (MilestoneStatus.GEPLANT, None)

    # Editing a done milestone keeps or corrects its date.
    done_on = today() - timedelta(days=5)
    client.post(
        f"{base(world)}/{m.id}/bearbeiten",
        data=form_data(
            world, status="erledigt", completed_on=done_on.isoformat(), version=str(m.version)
        ),
    )
    assert fresh(m.id).completed_on == done_on
    edit = text(client.get(f"{base(world)}/{m.id}/bearbeiten"))
    assert f'value="{done_on.isoformat()}"' in re.search(
        r'<input[^>]*name="completed_on"[^>]*>', edit
    ).group(0)


# --- "gespeichert" beside the inline control --------------------------------------------------


def live_region(body: str, region_id: str) -> str:
    match = re.search(
        rf'<span class="ms-saved" id="{region_id}"([^>]*)>'
        r"((?:<span[^>]*>[^<]*</span>)?[^<]*)</span>",
        body,
    )
    assert match, f"no live region {region_id}"
    attrs = match.group(1)
    assert 'role="status"' in attrs and 'aria-live="polite"' in attrs
    return re.sub(r"<[^>]+>", "", match.group(2)).strip()


def test_inline_saves_say_gespeichert_beside_the_control(world: World, login_as) -> None:
    m = add(world)
    client = login_as(world.lead)
    response = client.post(
        f"{base(world)}/{m.id}/status",
        headers=HX,
        data={"status": "in_arbeit", "version": str(fresh(m.id).version)},
    )
    body = text(response)
    assert response.status_code == 200
    assert live_region(body, f"status-{m.id}-gespeichert") == "✓ gespeichert"
    assert live_region(body, f"termin-{m.id}-gespeichert") == ""
    assert live_region(body, f"notiz-{m.id}-gespeichert") == ""

    response = client.post(
        f"{base(world)}/{m.id}/termin",
        headers=HX,
        data={
            "due_date": (today() + timedelta(days=40)).isoformat(),
            "version": str(fresh(m.id).version),
        },
    )
    body = text(response)
    assert live_region(body, f"termin-{m.id}-gespeichert") == "✓ gespeichert"
    assert live_region(body, f"status-{m.id}-gespeichert") == ""
    # The disclosure stays open, so the message (and the focused button) stay visible.
    assert re.search(r'<details class="ms-more" open>\s*<summary>Termin ändern', body)

    response = client.post(
        f"{base(world)}/{m.id}/notiz",
        headers=HX,
        data={"progress_note": "x" * 1001, "version": str(fresh(m.id).version)},
    )
    assert response.status_code == 422
    body = text(response)
    assert "Höchstens 1000 Zeichen." in body
    assert live_region(body, f"notiz-{m.id}-gespeichert") == ""  # nothing was saved

    # The full page (and a plain post's redirect target) has the regions, all empty.
    page = text(client.get(base(world) + "/"))
    assert live_region(page, f"status-{m.id}-gespeichert") == ""
