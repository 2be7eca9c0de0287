"""Journey 1 up to "mark one done inline": a lead adds a milestone and finishes one in place."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from koopboard.domain.catalog import Role
from koopboard.domain.milestones import MilestoneStatus, berlin_today
from koopboard.extensions import db
from koopboard.milestones import services
from koopboard.models import Milestone, NotificationEvent
from koopboard.models.types import utcnow
from tests.e2e.conftest import AuditedPage, log_in

pytestmark = pytest.mark.e2e

MERCHWEILER, ILLINGEN, EPPELBORN, SCHIFFWEILER = "10043113", "10043112", "10043111", "10043116"


@pytest.fixture()
def standesamt(register_sample: dict[str, Any], make_user, make_cooperation) -> dict[str, Any]:
    """The shared registry office of four Saarland municipalities, with one milestone."""
    lead = make_user(register_sample[MERCHWEILER], email="lead@merchweiler.de", name="Lea Leitung")
    member = make_user(register_sample[ILLINGEN], email="mitglied@illingen.de")
    cooperation = make_cooperation(
        lead,
        partners=[register_sample[code] for code in (ILLINGEN, EPPELBORN, SCHIFFWEILER)],
        roles={member: Role.MEMBER},
        start=date(2025, 1, 1),
    )
    first = services.create_milestone(
        cooperation,
        services.MilestoneData(
            title="Zweckvereinbarung unterzeichnen",
            description="",
            phase="initiierung",
            due_date=berlin_today(utcnow()) + timedelta(days=7),
            status="in_arbeit",
            responsible_municipality_id=register_sample[ILLINGEN].id,
            progress_note="",
        ),
        by=lead,
        now=utcnow(),
    )
    db.session.commit()
    return {
        "lead": lead,
        "cooperation": cooperation,
        "first_id": first.id,
        "illingen_id": register_sample[ILLINGEN].id,
    }


def test_lead_adds_a_milestone_and_marks_one_done_inline(
    audited_page: AuditedPage, standesamt: dict[str, Any]
) -> None:
    page = audited_page.page
    cid = standesamt["cooperation"].id
    log_in(audited_page, standesamt["lead"].email)

    # Add a milestone through the form (a full page load, audited).
    audited_page.goto(f"/kooperationen/{cid}/meilensteine/neu")
    page.get_by_label("Titel").fill("Gemeinsames Standesamt eröffnen")
    page.get_by_label("Phase").select_option("umsetzung")
    page.get_by_label("Fällig am").fill((date.today() + timedelta(days=60)).isoformat())
    page.get_by_label("Verantwortliche Kommune").select_option(str(standesamt["illingen_id"]))
    page.get_by_role("button", name="Meilenstein anlegen").click()
    page.wait_for_url(f"**/kooperationen/{cid}/meilensteine/#meilenstein-*")
    expect(page.locator(".flash-success")).to_contain_text("ist angelegt")
    audited_page.axe()

    # The list opens as a table; the cards (with the inline forms of each) are one link away.
    expect(page.locator(".ms-table tbody tr")).to_have_count(2)
    audited_page.goto(f"/kooperationen/{cid}/meilensteine/?ansicht=karten")
    summary = page.locator("#meilenstein-uebersicht")
    expect(summary).to_contain_text("0 von 2 erledigt")

    # Mark the first one done inline: same document, summary refreshed by the HX-Trigger event.
    mid = standesamt["first_id"]
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    url_before = page.url
    page.evaluate("window.__marker = 1")
    page.locator(f"#status-{mid}").select_option("erledigt")
    page.locator(f"#status-speichern-{mid}").click()

    expect(summary).to_contain_text("1 von 2 erledigt")
    row = page.locator(f"#meilenstein-{mid}")
    expect(row).to_contain_text("Erledigt am")
    expect(row.locator(".ms-status")).to_have_text("✓ erledigt")
    assert page.evaluate("window.__marker") == 1, "the page navigated"
    assert page.url == url_before and loads == []
    # Keyboard users stay where they were: focus is back on the (new) save button.
    assert page.evaluate("document.activeElement && document.activeElement.id") == (
        f"status-speichern-{mid}"
    )
    audited_page.axe()

    db.session.expire_all()
    done = db.session.get(Milestone, mid)
    assert done.status is MilestoneStatus.ERLEDIGT
    assert done.completed_on == berlin_today(utcnow())
    milestone_events = (
        db.session.query(NotificationEvent)
        .filter(NotificationEvent.event_type.startswith("milestone."))
        .order_by(NotificationEvent.id)
    )
    assert [e.event_type for e in milestone_events] == [
        "milestone.created",
        "milestone.created",
        "milestone.status_changed",
    ]


def test_without_javascript_the_inline_form_is_a_plain_form(
    open_page: Any, standesamt: dict[str, Any]
) -> None:
    audited = open_page(java_script_enabled=False)
    page = audited.page
    cid, mid = standesamt["cooperation"].id, standesamt["first_id"]
    log_in(audited, standesamt["lead"].email)
    audited.goto(f"/kooperationen/{cid}/meilensteine/")
    page.locator(f"#status-{mid}").select_option("gefaehrdet")
    page.locator(f"#status-speichern-{mid}").click()
    page.wait_for_url(f"**/kooperationen/{cid}/meilensteine/#meilenstein-{mid}")
    audited.axe()
    # Back in the table (the default view), the row shows the saved status.
    expect(page.locator(f"#status-{mid}")).to_have_value("gefaehrdet")
    expect(page.locator(".flash-success")).to_contain_text("gespeichert")

    # The cards' plain form brings the person back to the cards.
    audited.goto(f"/kooperationen/{cid}/meilensteine/?ansicht=karten")
    page.locator(f"#status-{mid}").select_option("in_arbeit")
    page.locator(f"#status-speichern-{mid}").click()
    page.wait_for_url(re.compile(rf"/meilensteine/\?ansicht=karten#meilenstein-{mid}$"))
    audited.axe()
    expect(page.locator(f"#meilenstein-{mid} .ms-status")).to_have_text("◐ in Arbeit")

    # The timeline and the dashboard pass axe too.
    audited.goto(f"/kooperationen/{cid}/meilensteine/zeitleiste")
    expect(page.locator(".ms-today")).to_contain_text("Heute")
    audited.goto("/meilensteine/")
    expect(page.get_by_role("heading", name="Meine nächsten Meilensteine")).to_be_visible()
