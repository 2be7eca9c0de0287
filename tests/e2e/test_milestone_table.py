"""Issue 16.3 in the browser: the milestones table saves a status on change, filters and
sorts without a page load (the address follows), and 40 milestones fit on about two screens."""

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
from koopboard.models import Milestone
from koopboard.models.types import utcnow
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e

MERCHWEILER, ILLINGEN, EPPELBORN = "10043113", "10043112", "10043111"
PHASES = ["initiierung", "planung", "umsetzung", "abschluss"]
STATUSES = ["geplant", "in_arbeit", "gefaehrdet", "erledigt"]


@pytest.fixture()
def bauhof(register_sample: dict[str, Any], make_user, make_cooperation) -> dict[str, Any]:
    """A shared Bauhof with ``n`` milestones (made by ``add(n)``)."""
    lead = make_user(register_sample[MERCHWEILER], email="lead@merchweiler.de", name="Lea Leitung")
    member = make_user(register_sample[ILLINGEN], email="mitglied@illingen.de", name="Ina Illing")
    cooperation = make_cooperation(
        lead,
        partners=[register_sample[ILLINGEN], register_sample[EPPELBORN]],
        roles={member: Role.MEMBER},
        start=date(2025, 1, 1),
    )
    today = berlin_today(utcnow())
    towns = [register_sample[ILLINGEN].id, register_sample[EPPELBORN].id]

    def add(n: int) -> list[int]:
        ids = []
        for i in range(n):
            m = services.create_milestone(
                cooperation,
                services.MilestoneData(
                    title=f"Schritt {i + 1:02d}: Fahrzeuge und Geräte abstimmen",
                    description="",
                    phase=PHASES[i * 4 // n],
                    due_date=today + timedelta(days=7 * i - 30),
                    status=STATUSES[i % 4],
                    responsible_municipality_id=towns[i % 2],
                    progress_note="Abstimmung mit dem Bauhof läuft" if i % 3 else "",
                ),
                by=lead,
                now=utcnow(),
            )
            ids.append(m.id)
        db.session.commit()
        return ids

    return {"lead": lead, "member": member, "cid": cooperation.id, "add": add}


def test_status_saves_on_change_and_filters_swap_the_table(
    open_page: Any, bauhof: dict[str, Any]
) -> None:
    ids = bauhof["add"](6)
    audited = open_page(viewport={"width": 1280, "height": 800})
    page = audited.page
    cid = bauhof["cid"]
    log_in(audited, bauhof["lead"].email)
    audited.goto(f"/kooperationen/{cid}/meilensteine/")
    documents = len(audited.documents)

    # Choosing another status saves it: no button, no page load, "✓ gespeichert" announced.
    mid = ids[0]  # geplant, due in the past
    summary = page.locator("#meilenstein-uebersicht")
    expect(summary).to_contain_text("1 von 6 erledigt")
    saved = page.locator(f"#status-{mid}-gespeichert")
    expect(saved).to_have_attribute("role", "status")
    expect(saved).to_be_empty()
    expect(page.locator(f"#status-speichern-{mid}")).to_have_count(0)  # only without JS
    page.locator(f"#status-{mid}").focus()
    page.locator(f"#status-{mid}").select_option("erledigt")
    expect(saved).to_have_text("✓ gespeichert")
    expect(page.locator(f"#meilenstein-{mid} .ms-done-on")).to_contain_text(
        berlin_today(utcnow()).strftime("%d.%m.%Y")
    )
    expect(summary).to_contain_text("2 von 6 erledigt")
    assert page.evaluate("document.activeElement.id") == f"status-{mid}"  # focus stays
    assert len(audited.documents) == documents
    db.session.expire_all()
    done = db.session.get(Milestone, mid)
    assert done.status is MilestoneStatus.ERLEDIGT and done.completed_on is not None
    audited.axe()

    # A filter swaps the table and puts itself into the address.
    page.get_by_label("Status", exact=True).select_option("erledigt")
    expect(page.locator(".ms-table tbody tr")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"/meilensteine/\?status=erledigt$"))
    assert len(audited.documents) == documents
    audited.axe()

    # Sorting by title, descending: a click on the column head, twice.
    page.get_by_label("Status", exact=True).select_option("")
    expect(page.locator(".ms-table tbody tr")).to_have_count(6)
    page.get_by_role("link", name="Titel").click()
    expect(page.locator("thead th[aria-sort='ascending']")).to_contain_text("Titel")
    page.get_by_role("link", name="Titel").click()
    expect(page.locator("thead th[aria-sort='descending']")).to_contain_text("Titel")
    expect(page.locator(".ms-table tbody th").first).to_contain_text("Schritt 06")
    expect(page).to_have_url(re.compile(r"/meilensteine/\?sortierung=-titel$"))
    assert len(audited.documents) == documents
    audited.axe()

    # The address is shareable: loaded fresh, it shows the same list.
    audited.goto(page.url)
    expect(page.locator(".ms-table tbody th").first).to_contain_text("Schritt 06")


def test_without_javascript_the_row_has_a_button(open_page: Any, bauhof: dict[str, Any]) -> None:
    ids = bauhof["add"](4)
    audited = open_page(java_script_enabled=False)
    page = audited.page
    cid = bauhof["cid"]
    log_in(audited, bauhof["member"].email)
    audited.goto(f"/kooperationen/{cid}/meilensteine/?sortierung=-faellig")
    mid = ids[0]  # Illingen's
    page.locator(f"#status-{mid}").select_option("in_arbeit")
    page.locator(f"#status-speichern-{mid}").click()
    page.wait_for_url(re.compile(rf"/meilensteine/\?sortierung=-faellig#meilenstein-{mid}$"))
    audited.axe()
    expect(page.locator(f"#status-{mid}")).to_have_value("in_arbeit")
    # The filters are a plain GET form.
    page.get_by_label("nur überfällige").check()
    page.get_by_role("button", name="Filtern").click()
    page.wait_for_url(re.compile(r"/meilensteine/\?.*ueberfaellig=1"))
    audited.axe()
    expect(page.locator(".ms-table tbody tr")).to_have_count(3)  # all past due, one is done


def test_forty_milestones_fit_on_about_two_screens(open_page: Any, bauhof: dict[str, Any]) -> None:
    bauhof["add"](40)
    audited = open_page(viewport={"width": 1280, "height": 800})
    page = audited.page
    log_in(audited, bauhof["lead"].email)
    audited.goto(f"/kooperationen/{bauhof['cid']}/meilensteine/")
    expect(page.locator(".ms-table tbody tr")).to_have_count(40)
    heights = page.eval_on_selector_all(
        ".ms-table tbody tr", "rows => rows.map(r => r.getBoundingClientRect().height)"
    )
    assert max(heights) <= 40, heights  # one line per milestone
    table = page.locator(".ms-table").bounding_box()
    assert table["height"] <= 2 * 800 - 200, table  # the table takes under two screens
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # no sideways scroll
