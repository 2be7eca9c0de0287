"""The bell, the list and the settings in a real browser, with and without JavaScript."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from koopboard.domain.catalog import Role
from koopboard.notifications.preferences import mode_for
from koopboard.notifications.unsubscribe import unsubscribe_url
from tests.e2e.conftest import AuditedPage, log_in
from tests.web.test_notification_inbox import deliver

pytestmark = pytest.mark.e2e


@pytest.fixture()
def inbox(make_municipality, make_user, make_cooperation) -> dict[str, Any]:  # noqa: ANN001
    town = make_municipality(name="Merchweiler")
    user = make_user(town, email="lea@merchweiler.de", name="Lea Leitung")
    coop = make_cooperation(user, title="Gemeinsames Standesamt", roles={})
    other = make_user(town, name="Karl Schneider")
    andere = make_cooperation(other, title="Andere Kooperation", roles={user: Role.MEMBER})
    first = deliver(
        user,
        coop.id,
        payload={"title": "Satzung", "old": "geplant", "new": "erledigt"},
        actor=other,
    )
    second = deliver(
        user,
        coop.id,
        payload={"title": "Vertrag", "old": "geplant", "new": "in_arbeit"},
        actor=other,
    )
    return {
        "user": user,
        "coop": coop,
        "andere": andere,
        "other": other,
        "first": first.id,
        "second": second.id,
    }


def test_bell_preview_filter_and_mark_read_in_place(audited_page: AuditedPage, inbox: dict) -> None:
    page = audited_page.page
    for i in range(5):  # seven in all: the bell shows the newest five
        deliver(
            inbox["user"],
            inbox["andere"].id,
            payload={"title": f"Etappe {i}", "old": "geplant", "new": "erledigt"},
            actor=inbox["other"],
        )
    log_in(audited_page, inbox["user"].email)

    # The bell: a disclosure button with the unread count; open, it lists the newest five.
    bell = page.locator("#glocke")
    button = bell.locator("summary")
    expect(button).to_contain_text("Benachrichtigungen")
    expect(button.locator(".badge")).to_have_text("7")
    panel = bell.locator(".bell-panel")
    expect(panel).to_be_hidden()
    button.click()
    expect(panel).to_be_visible()
    entries = panel.locator(".bell-list li")
    expect(entries).to_have_count(5)
    expect(entries.first).to_contain_text(
        "Karl Schneider (Merchweiler) hat den Status des Meilensteins „Etappe 4“"
    )
    expect(panel).not_to_contain_text("„Satzung“")  # the oldest is not among the five
    audited_page.axe()  # with the panel open
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(button).to_be_focused()
    page.keyboard.press("Enter")  # the keyboard opens it as well
    expect(panel).to_be_visible()
    panel.get_by_role("link", name="Alle Benachrichtigungen").click()
    page.wait_for_url("**/benachrichtigungen/")
    expect(page.locator(".feed-item")).to_have_count(7)
    audited_page.axe()
    documents = len(audited_page.documents)

    # The filter: one cooperation, swapped in place (the address says which).
    page.get_by_label("Kooperation").select_option(label="Gemeinsames Standesamt")
    page.get_by_role("button", name="Anzeigen").click()
    expect(page.locator(".feed-item")).to_have_count(2)
    page.wait_for_url(f"**/benachrichtigungen/?kooperation={inbox['coop'].id}")
    expect(page.locator("#feed-summary")).to_contain_text("2 ungelesen")
    audited_page.axe()

    # Mark one read: the entry, the count, the status line and the bell change in place.
    row = page.locator(f"#benachrichtigung-{inbox['second']}")
    expect(row).to_contain_text("von „geplant“ auf „in Arbeit“ geändert")
    expect(row.locator(".feed-marker")).to_have_text("ungelesen")
    row.get_by_role("button", name="Als gelesen markieren").click()
    expect(row.get_by_role("button")).to_have_count(0)
    expect(row.locator(".feed-marker")).to_have_count(0)
    expect(row.get_by_role("link")).to_be_focused()
    expect(page.get_by_role("status")).to_contain_text("Als gelesen markiert: Karl Schneider")
    expect(page.locator("#feed-summary")).to_contain_text("1 ungelesen")
    expect(page.locator("#glocke summary .badge")).to_have_text("6")
    audited_page.axe()

    # And the rest of this cooperation at once.
    page.get_by_role("button", name="Alle als gelesen markieren").click()
    expect(page.locator(".flash-success")).to_contain_text(
        "1 Benachrichtigung als gelesen markiert."
    )
    expect(page.locator("#benachrichtigungen .feed-unread")).to_have_count(0)
    expect(page.locator("#glocke summary .badge")).to_have_text("5")  # the other cooperation's
    assert len(audited_page.documents) == documents  # all of it without a page load
    audited_page.axe()


def test_without_javascript_plain_forms_work(open_page, inbox: dict) -> None:  # noqa: ANN001
    audited = open_page(java_script_enabled=False)
    page = audited.page
    log_in(audited, inbox["user"].email)
    page.locator("#glocke summary").click()  # <details> opens without JavaScript
    page.locator("#glocke").get_by_role("link", name="Alle Benachrichtigungen").click()
    page.wait_for_url("**/benachrichtigungen/")
    audited.axe()
    page.get_by_label("Kooperation").select_option(label="Gemeinsames Standesamt")
    page.get_by_role("button", name="Anzeigen").click()
    page.wait_for_url(f"**/benachrichtigungen/?kooperation={inbox['coop'].id}")
    audited.axe()
    row = page.locator(f"#benachrichtigung-{inbox['first']}")
    row.get_by_role("button", name="Als gelesen markieren").click()
    page.wait_for_url(f"**/benachrichtigungen/?seite=1&kooperation={inbox['coop'].id}")
    expect(page.locator(f"#benachrichtigung-{inbox['first']} .feed-marker")).to_have_count(0)
    audited.axe()
    page.get_by_role("button", name="Alle als gelesen markieren").click()
    page.wait_for_url("**/benachrichtigungen/?seite=1&kooperation=*")
    expect(page.locator(".flash-success")).to_contain_text("1 Benachrichtigung als gelesen")
    expect(page.locator("#glocke summary .badge")).to_have_count(0)
    audited.axe()

    audited.goto("/benachrichtigungen/einstellungen")
    status = page.get_by_role("group", name="Status eines Meilensteins geändert")
    status.get_by_label("aus", exact=True).check()
    page.get_by_label("Samstag").check()
    page.get_by_role("button", name="Einstellungen speichern").click()
    page.wait_for_url("**/benachrichtigungen/einstellungen")
    expect(page.locator(".flash-success")).to_contain_text("gespeichert")
    audited.axe()
    assert mode_for(inbox["user"].id, "milestone.status_changed", inbox["coop"].id) == "off"

    page.get_by_label("Kooperation", exact=True).select_option(label="Gemeinsames Standesamt")
    page.get_by_label("Art der Benachrichtigung").select_option("milestone.status_changed")
    page.get_by_label("Zustellung").select_option("digest")
    page.get_by_role("button", name="Ausnahme speichern").click()
    page.wait_for_url("**/benachrichtigungen/einstellungen#ausnahmen")
    audited.axe()
    assert mode_for(inbox["user"].id, "milestone.status_changed", inbox["coop"].id) == "digest"


def test_unsubscribe_page_without_login(audited_page: AuditedPage, inbox: dict) -> None:
    page = audited_page.page
    url = unsubscribe_url(inbox["user"].id, "cost.approved")
    audited_page.goto(url.removeprefix("http://localhost"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Benachrichtigung abbestellen")
    page.get_by_role("button", name="Ja, abbestellen").click()
    expect(page.get_by_role("status")).to_contain_text("Kosten freigegeben")
    audited_page.axe()
    assert mode_for(inbox["user"].id, "cost.approved", inbox["coop"].id) == "off"


@pytest.mark.parametrize("java_script", [True, False], ids=["js", "no-js"])
def test_following_an_entry_of_the_bell_marks_it_read(
    open_page, inbox: dict, java_script: bool
) -> None:  # noqa: ANN001
    from datetime import date

    from koopboard.domain.milestones import MilestoneStatus, Phase
    from koopboard.extensions import db
    from koopboard.models import Milestone, NotificationEvent

    vertrag = Milestone(
        cooperation_id=inbox["coop"].id,
        title="Vertrag",
        phase=Phase.PLANUNG,
        due_date=date(2026, 12, 10),
        status=MilestoneStatus.IN_ARBEIT,
    )
    db.session.add(vertrag)
    db.session.flush()
    for event in db.session.scalars(db.select(NotificationEvent)):
        event.record_id = vertrag.id
    db.session.commit()
    audited = open_page(java_script_enabled=java_script)
    page = audited.page
    log_in(audited, inbox["user"].email)
    audited.goto(f"/kooperationen/{inbox['coop'].id}")
    expect(page.locator("#glocke summary .badge")).to_have_text("2")
    page.locator("#glocke summary").click()
    entry = page.locator("#glocke .bell-list li").first
    expect(entry).to_contain_text("„Vertrag“")
    audited.axe()  # the entry is a button that reads as a link, in the open panel
    entry.get_by_role("button").click()
    page.wait_for_url(f"**/kooperationen/{inbox['coop'].id}/meilensteine/{vertrag.id}")
    expect(page.locator("h1")).to_contain_text("Vertrag")
    expect(page.locator("#glocke summary .badge")).to_have_text("1")
    audited.axe()
    audited.goto("/benachrichtigungen/")
    expect(page.locator(f"#benachrichtigung-{inbox['second']} .feed-marker")).to_have_count(0)
    expect(page.locator(f"#benachrichtigung-{inbox['first']} .feed-marker")).to_have_text(
        "ungelesen"
    )
