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
    other = make_user(town)
    make_cooperation(other, title="Andere Kooperation", roles={user: Role.MEMBER})
    first = deliver(
        user, coop.id, payload={"title": "Satzung", "old": "geplant", "new": "erledigt"}
    )
    second = deliver(
        user, coop.id, payload={"title": "Vertrag", "old": "geplant", "new": "in_arbeit"}
    )
    return {"user": user, "coop": coop, "first": first.id, "second": second.id}


def test_mark_read_inline_updates_the_bell(audited_page: AuditedPage, inbox: dict) -> None:
    page = audited_page.page
    log_in(audited_page, inbox["user"].email)
    bell = page.get_by_role("link", name="Benachrichtigungen, 2 ungelesen")
    expect(bell).to_be_visible()
    bell.click()
    page.wait_for_url("**/benachrichtigungen/")
    audited_page.axe()
    documents = len(audited_page.documents)

    row = page.locator(f"#benachrichtigung-{inbox['second']}")
    expect(row).to_contain_text("geplant → in Arbeit")
    row.get_by_role("button", name="Als gelesen markieren").click()
    expect(row.get_by_role("button")).to_have_count(0)
    expect(page.get_by_role("link", name="Benachrichtigungen, 1 ungelesen")).to_be_visible()
    assert len(audited_page.documents) == documents  # swapped in place, no reload
    audited_page.axe()


def test_without_javascript_plain_forms_work(open_page, inbox: dict) -> None:  # noqa: ANN001
    audited = open_page(java_script_enabled=False)
    page = audited.page
    log_in(audited, inbox["user"].email)
    audited.goto("/benachrichtigungen/")
    page.get_by_role("button", name="Alle als gelesen markieren").click()
    page.wait_for_url("**/benachrichtigungen/?seite=1")
    expect(page.locator(".flash-success")).to_contain_text("2 Benachrichtigungen")
    expect(page.get_by_role("link", name="Benachrichtigungen", exact=True)).to_be_visible()
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
