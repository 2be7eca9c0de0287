"""Issue 17 in the browser: a milestone with a responsible person and a completion date,
and "gespeichert" beside the inline control (a live region), axe on every page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from koopboard.domain.catalog import Role
from koopboard.domain.milestones import berlin_today
from koopboard.extensions import db
from koopboard.milestones import services
from koopboard.models import Milestone
from koopboard.models.types import utcnow
from tests.e2e.conftest import AuditedPage, log_in

pytestmark = pytest.mark.e2e

MERCHWEILER, ILLINGEN, EPPELBORN = "10043113", "10043112", "10043111"


@pytest.fixture()
def bauhof(register_sample: dict[str, Any], make_user, make_cooperation) -> dict[str, Any]:
    """Merchweiler leads; Illingen and Eppelborn each have a member; one open milestone."""
    lead = make_user(register_sample[MERCHWEILER], email="lead@merchweiler.de", name="Lea Leitung")
    ilse = make_user(register_sample[ILLINGEN], email="ilse@illingen.de", name="Ilse Illinger")
    emil = make_user(register_sample[EPPELBORN], email="emil@eppelborn.de", name="Emil Eppel")
    cooperation = make_cooperation(
        lead,
        partners=[register_sample[ILLINGEN], register_sample[EPPELBORN]],
        roles={ilse: Role.MEMBER, emil: Role.MEMBER},
        start=date(2025, 1, 1),
    )
    first = services.create_milestone(
        cooperation,
        services.MilestoneData(
            title="Fahrzeugliste abstimmen",
            description="",
            phase="planung",
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
        "ilse": ilse,
        "cid": cooperation.id,
        "first_id": first.id,
        "illingen_id": register_sample[ILLINGEN].id,
        "eppelborn_id": register_sample[EPPELBORN].id,
    }


def test_inline_changes_say_gespeichert_in_a_live_region(
    audited_page: AuditedPage, bauhof: dict[str, Any]
) -> None:
    page = audited_page.page
    cid, mid = bauhof["cid"], bauhof["first_id"]
    log_in(audited_page, bauhof["lead"].email)
    audited_page.goto(f"/kooperationen/{cid}/meilensteine/?ansicht=karten")
    page.evaluate("window.__marker = 1")

    status_saved = page.locator(f"#status-{mid}-gespeichert")
    expect(status_saved).to_have_attribute("role", "status")
    expect(status_saved).to_have_attribute("aria-live", "polite")
    expect(status_saved).to_be_empty()

    page.locator(f"#status-{mid}").select_option("gefaehrdet")
    page.locator(f"#status-speichern-{mid}").click()
    expect(status_saved).to_have_text("✓ gespeichert")
    expect(page.locator(f"#meilenstein-{mid} .ms-status")).to_have_text("! gefährdet")
    # Beside the control it was saved with: in the same inline form as the button.
    expect(page.locator(f"#meilenstein-{mid} form").first.locator(".ms-saved")).to_have_text(
        "✓ gespeichert"
    )
    assert page.evaluate("document.activeElement.id") == f"status-speichern-{mid}"
    audited_page.axe()

    # The due date: its disclosure stays open with the message beside its button.
    card = page.locator(f"#meilenstein-{mid}")
    card.get_by_text("Termin ändern").click()
    new_due = berlin_today(utcnow()) + timedelta(days=45)
    page.locator(f"#termin-{mid}").fill(new_due.isoformat())
    page.locator(f"#termin-speichern-{mid}").click()
    expect(page.locator(f"#termin-{mid}-gespeichert")).to_have_text("✓ gespeichert")
    expect(page.locator(f"#termin-{mid}-gespeichert")).to_be_visible()
    expect(status_saved).to_be_empty()
    expect(card).to_contain_text(new_due.strftime("%d.%m.%Y"))
    assert page.evaluate("window.__marker") == 1, "the page navigated"
    audited_page.axe()


def test_lead_names_a_person_and_a_completion_date(open_page: Any, bauhof: dict[str, Any]) -> None:
    lead_page = open_page()
    page = lead_page.page
    cid = bauhof["cid"]
    log_in(lead_page, bauhof["lead"].email)
    lead_page.goto(f"/kooperationen/{cid}/meilensteine/neu")

    # The completion date only shows for "erledigt", prefilled with today (Berlin).
    completed = page.get_by_label("Erledigt am")
    expect(completed).to_be_hidden()
    page.get_by_label("Status", exact=True).select_option("erledigt")
    expect(completed).to_be_visible()
    expect(completed).to_have_value(berlin_today(utcnow()).isoformat())
    done_on = berlin_today(utcnow()) - timedelta(days=2)
    completed.fill(done_on.isoformat())

    # Choosing the municipality swaps in its people; the person starts empty.
    person = page.get_by_label("Verantwortliche Person")
    expect(person.locator("option")).to_have_count(4)  # niemand, Lea, Ilse, Emil
    page.get_by_label("Verantwortliche Kommune").select_option(str(bauhof["illingen_id"]))
    expect(person.locator("option")).to_have_count(2)
    expect(person).to_have_value("")
    person.select_option(label="Ilse Illinger")
    lead_page.axe()

    page.get_by_label("Titel").fill("Bauhof-Satzung beschlossen")
    page.get_by_label("Fällig am").fill(done_on.isoformat())
    page.get_by_role("button", name="Meilenstein anlegen").click()
    page.wait_for_url(f"**/kooperationen/{cid}/meilensteine/#meilenstein-*")
    lead_page.axe()
    milestone = db.session.query(Milestone).filter_by(title="Bauhof-Satzung beschlossen").one()
    row = page.locator(f"#meilenstein-{milestone.id}")  # a row of the table
    expect(row).to_contain_text("Illingen, Ilse Illinger")
    expect(row).to_contain_text("erledigt am " + done_on.strftime("%d.%m.%Y"))
    assert milestone.completed_on == done_on

    # Ilse sees the open one she is responsible for at the top of her dashboard.
    open_one = db.session.get(Milestone, bauhof["first_id"])
    open_one.responsible_person_id = bauhof["ilse"].id
    db.session.commit()
    ilse_page = open_page()
    log_in(ilse_page, bauhof["ilse"].email)
    ilse_page.goto("/meilensteine/")
    mine = ilse_page.page.locator("section", has=ilse_page.page.locator("#verantwortlich"))
    expect(mine).to_contain_text("Fahrzeugliste abstimmen")
    expect(mine.get_by_text("Sie", exact=True)).to_be_visible()
