"""Issue 16.3: the milestones table — columns, filters, sort order, status saved in the row.

The list is what its address says (view, filters, sort order as GET parameters), so a link
can be shared; htmx swaps only the list, and without JavaScript every control is a plain form.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from koopboard.domain.milestones import MilestoneStatus
from koopboard.extensions import db
from koopboard.milestones import services, views
from koopboard.models import User
from tests.web import test_milestones
from tests.web.test_milestones import HX, World, add, base, counted_queries, fresh, today

world = test_milestones.world  # the same fixture: a cooperation with a person per role


def text(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


def rows(page: str) -> list[str]:
    """The titles of the table's rows, in order (none without a table)."""
    if "<tbody>" not in page:
        return []
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    return re.findall(r'<th scope="row" class="ms-col-title"><a [^>]*>([^<]*)</a>', body)


def heads(page: str) -> list[str]:
    head = page[page.index("<thead>") : page.index("</thead>")]
    return [
        re.sub(r"<[^>]+>|[▲▼]", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", head)
    ]


def row_of(page: str, milestone_id: int) -> str:
    start = page.index(f'<tr id="meilenstein-{milestone_id}"')
    return page[start : page.index("</tr>", start)]


def test_table_is_the_default_view_with_its_columns(world: World, login_as) -> None:
    person = db.session.get(User, world.member_b.id)
    m = add(world, "Satzung beschließen", phase="umsetzung", note="Entwurf liegt vor")
    m.responsible_person_id = person.id
    db.session.commit()
    page = text(login_as(world.lead).get(base(world) + "/"))
    assert heads(page) == ["Titel", "Phase", "Fällig am", "Status", "Verantwortlich", "Notiz"]
    row = row_of(page, m.id)
    for shown in (
        "Satzung beschließen",
        "Umsetzung",
        m.due_date.strftime("%d.%m.%Y"),
        "Illingen",
        "Bernd Illingen",
        "Entwurf liegt vor",
    ):
        assert shown in row, shown
    assert f'<select id="status-{m.id}" name="status"' in row
    assert 'data-hx-trigger="change delay:800ms, submit"' in row
    # Without JavaScript the row has its own button (inside <noscript>).
    assert '<noscript><button type="submit"' in row
    assert f'id="status-speichern-{m.id}">Speichern' in row
    assert f'id="status-{m.id}-gespeichert" role="status" aria-live="polite"' in row
    # The card view is one click away and keeps the address.
    assert f'href="/kooperationen/{world.cid}/meilensteine/?ansicht=karten"' in page


def test_observer_sees_status_as_text(world: World, login_as) -> None:
    m = add(world, status="gefaehrdet")
    page = text(login_as(world.observer).get(base(world) + "/"))
    row = row_of(page, m.id)
    assert "<select" not in row and "! gefährdet" not in row  # icon and text are separate spans
    assert "ms-status-gefaehrdet" in row and "gefährdet</span>" in row
    assert "Der Status wird gespeichert" not in page


@pytest.fixture()
def several(world: World) -> dict[str, int]:
    """Five milestones across phases, statuses and partners (and one with nobody yet)."""
    ids = {
        "Auftakt": add(
            world,
            "Auftakt",
            phase="initiierung",
            due_date=date(2025, 3, 1),
            status="erledigt",
            responsible=world.town_b.id,
        ).id,
        "Bedarf": add(
            world,
            "Bedarf erheben",
            phase="initiierung",
            due_date=date(2025, 4, 1),
            status="in_arbeit",
            responsible=world.town_c.id,
        ).id,
        "Satzung": add(
            world,
            "Satzung",
            phase="planung",
            due_date=today() + timedelta(days=5),
            responsible=world.town_b.id,
        ).id,
        "Ausschreibung": add(
            world,
            "Ausschreibung",
            phase="umsetzung",
            due_date=today() + timedelta(days=50),
            responsible=None,
        ).id,
        "Zeitplan": add(
            world,
            "zeitplan",
            phase="planung",
            due_date=today() + timedelta(days=5),
            status="gefaehrdet",
            responsible=world.town_c.id,
        ).id,
    }
    return ids


def test_filters_by_phase_status_and_responsible(world: World, several, login_as) -> None:
    client = login_as(world.lead)
    get = lambda query: rows(text(client.get(base(world) + "/?" + query)))  # noqa: E731
    assert get("phase=initiierung") == ["Auftakt", "Bedarf erheben"]
    assert get("status=gefaehrdet") == ["zeitplan"]
    assert get(f"verantwortlich={world.town_c.id}") == ["Bedarf erheben", "zeitplan"]
    assert get("verantwortlich=offen") == ["Ausschreibung"]
    assert get(f"phase=planung&verantwortlich={world.town_b.id}") == ["Satzung"]
    page = text(client.get(base(world) + "/?phase=planung"))
    assert "2 von 5 Meilensteinen" in page and "Filter zurücksetzen" in page
    assert '<option value="planung" selected>' in page
    # The responsible filter offers the partners that hold milestones, and "noch offen".
    assert f'<option value="{world.town_c.id}">Eppelborn</option>' in page
    assert '<option value="offen">noch offen</option>' in page
    # Nothing matches: a sentence, not an empty table.
    assert "Kein Meilenstein passt" in text(client.get(base(world) + "/?phase=abschluss"))
    # Broken parameters fall back to the defaults instead of failing.
    response = client.get(base(world) + "/?phase=x&status=y&verantwortlich=abc&sortierung=;drop")
    assert response.status_code == 200 and len(rows(text(response))) == 5


def test_overdue_filter_follows_the_berlin_calendar_day(
    world: World, login_as, monkeypatch
) -> None:
    add(world, "Gestern fällig", due_date=date(2026, 3, 26))
    add(world, "Heute fällig", due_date=date(2026, 3, 27))
    add(world, "Erledigt und alt", due_date=date(2026, 3, 1), status="erledigt")
    client = login_as(world.lead)
    # 23:30 UTC on the 26th is 00:30 on the 27th in Berlin: the 26th is past there.
    monkeypatch.setattr(views, "_now", lambda: datetime(2026, 3, 26, 23, 30, tzinfo=UTC))
    assert rows(text(client.get(base(world) + "/?ueberfaellig=1"))) == ["Gestern fällig"]
    # 22:30 UTC is still the 26th in Berlin: nothing is overdue yet.
    monkeypatch.setattr(views, "_now", lambda: datetime(2026, 3, 26, 22, 30, tzinfo=UTC))
    assert rows(text(client.get(base(world) + "/?ueberfaellig=1"))) == []


def test_sorting_by_column_is_stable_and_shareable(world: World, several, login_as) -> None:
    client = login_as(world.lead)
    get = lambda query: text(client.get(base(world) + "/?" + query))  # noqa: E731
    default = get("")
    # By due date; the two due on the same day keep their creation order.
    assert rows(default) == ["Auftakt", "Bedarf erheben", "Satzung", "zeitplan", "Ausschreibung"]
    link = f'<a href="/kooperationen/{world.cid}/meilensteine/?sortierung=-faellig"'
    assert '<th scope="col" aria-sort="ascending">' + link in default
    assert rows(get("sortierung=titel")) == [
        "Auftakt",
        "Ausschreibung",
        "Bedarf erheben",
        "Satzung",
        "zeitplan",
    ]
    page = get("sortierung=-titel")
    assert rows(page) == ["zeitplan", "Satzung", "Bedarf erheben", "Ausschreibung", "Auftakt"]
    assert 'aria-sort="descending"' in page
    # Same phase: due date decides, so the order never flips between two loads.
    assert rows(get("sortierung=phase")) == [
        "Auftakt",
        "Bedarf erheben",
        "Satzung",
        "zeitplan",
        "Ausschreibung",
    ]
    # By responsible municipality name; nobody yet comes last.
    assert rows(get("sortierung=verantwortlich")) == [
        "Bedarf erheben",
        "zeitplan",
        "Auftakt",
        "Satzung",
        "Ausschreibung",
    ]
    assert rows(get("sortierung=status")) == [
        "Satzung",
        "Ausschreibung",
        "Bedarf erheben",
        "Auftakt",
        "zeitplan",
    ]
    # The filters stay in the sort links and the view switch.
    page = get("phase=planung&sortierung=titel")
    assert "?phase=planung&amp;sortierung=-titel" in page
    assert "?ansicht=karten&amp;phase=planung&amp;sortierung=titel" in page


def test_htmx_gets_only_the_list_and_the_address_is_pushed(world: World, several, login_as) -> None:
    client = login_as(world.lead)
    response = client.get(base(world) + "/?status=geplant", headers=HX)
    body = text(response)
    assert "<html" not in body and 'id="stand"' not in body
    assert rows(body) == ["Satzung", "Ausschreibung"]
    assert "HX-Request" in response.headers["Vary"]
    page = text(client.get(base(world) + "/"))
    assert 'id="meilenstein-liste"' in page
    assert 'data-hx-target="#meilenstein-liste"' in page and 'data-hx-push-url="true"' in page


def test_card_view_keeps_the_filters(world: World, several, login_as) -> None:
    page = text(login_as(world.lead).get(base(world) + "/?ansicht=karten&phase=initiierung"))
    assert "<tbody>" not in page
    assert 'id="phase-initiierung"' in page
    assert f'id="meilenstein-{several["Auftakt"]}"' in page
    assert f'id="meilenstein-{several["Satzung"]}"' not in page
    # A card's inline form brings the person back to this view.
    assert 'name="zurueck" value="ansicht=karten&amp;phase=initiierung"' in page


def test_status_saved_in_the_row_without_javascript(world: World, several, login_as) -> None:
    mid = several["Satzung"]
    client = login_as(world.member_b)
    response = client.post(
        f"{base(world)}/{mid}/status",
        data={
            "status": "in_arbeit",
            "version": str(fresh(mid).version),
            "ansicht": "tabelle",
            "zurueck": "status=geplant&sortierung=-titel&evil=https://example.org",
        },
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == f"{base(world)}/" and location.fragment == f"meilenstein-{mid}"
    assert parse_qs(location.query) == {"status": ["geplant"], "sortierung": ["-titel"]}
    assert fresh(mid).status is MilestoneStatus.IN_ARBEIT


def test_status_saved_in_the_row_over_htmx(world: World, several, login_as) -> None:
    mid = several["Satzung"]
    client = login_as(world.lead)
    response = client.post(
        f"{base(world)}/{mid}/status",
        headers=HX,
        data={
            "status": "erledigt",
            "version": str(fresh(mid).version),
            "ansicht": "tabelle",
            "zurueck": "phase=planung",
        },
    )
    assert response.status_code == 200
    body = text(response)
    assert body.lstrip().startswith(f'<tr id="meilenstein-{mid}"')  # the row only
    assert json.loads(response.headers["HX-Trigger"]) == {"milestone-changed": {"id": mid}}
    assert "✓</span> gespeichert" in body and "data-announce" in body
    # "erledigt" gets its completion date (today in Berlin), shown in the row.
    assert fresh(mid).completed_on == today()
    assert "erledigt am</span> <time" in body and today().strftime("%d.%m.%Y") in body
    assert 'name="zurueck" value="phase=planung"' in body
    # A stale version answers 409 with the current row and says so.
    response = client.post(
        f"{base(world)}/{mid}/status",
        headers=HX,
        data={"status": "geplant", "version": "1", "ansicht": "tabelle"},
    )
    assert response.status_code == 409
    assert "inzwischen geändert" in text(response) and text(response).lstrip().startswith("<tr")
    assert fresh(mid).status is MilestoneStatus.ERLEDIGT


def test_member_may_not_cancel_from_the_row(world: World, several, login_as) -> None:
    mid = several["Satzung"]
    response = login_as(world.member_b).post(
        f"{base(world)}/{mid}/status",
        headers=HX,
        data={"status": "abgesagt", "version": str(fresh(mid).version), "ansicht": "tabelle"},
    )
    assert response.status_code == 422
    body = text(response)
    assert body.lstrip().startswith("<tr") and f'id="status-{mid}-fehler"' in body
    assert fresh(mid).status is MilestoneStatus.GEPLANT


def _many(world: World, n: int) -> None:
    towns = [world.town_b.id, world.town_c.id, None]
    statuses = list(MilestoneStatus)
    for i in range(n):
        add(
            world,
            f"Meilenstein {i:02d}",
            phase=["initiierung", "planung", "umsetzung", "abschluss"][i % 4],
            due_date=today() + timedelta(days=i - n // 2),
            status=statuses[i % 5].value,
            responsible=towns[i % 3],
        )
    users = db.session.query(User).all()
    for i, m in enumerate(services.milestones_of(world.cid)):
        if m.responsible_municipality_id == world.town_b.id and i % 2:
            m.responsible_person_id = next(
                u.id for u in users if u.municipality_id == world.town_b.id
            )
    db.session.commit()


@pytest.mark.parametrize(
    "query", ["", "?sortierung=-verantwortlich&ueberfaellig=1", "?ansicht=karten&phase=planung"]
)
def test_statement_count_is_the_same_for_5_and_40_milestones(
    world: World, login_as, query: str
) -> None:
    client = login_as(world.lead)
    counts = []
    for n in (5, 35):  # 5, then 40 in all
        _many(world, n)
        client.get(base(world) + "/" + query)  # warm-up
        with counted_queries() as statements:
            response = client.get(base(world) + "/" + query)
        assert response.status_code == 200
        counts.append(len(statements))
    assert len(services.milestones_of(world.cid)) == 40
    assert counts[0] == counts[1], counts
