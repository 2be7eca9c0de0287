"""DSGVO pages in a real browser, each checked with axe-core: the account page, the copy of
one's own data (page and JSON download)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from koopboard.domain.catalog import Role
from tests.e2e.conftest import AuditedPage, log_in
from tests.web.test_notification_inbox import deliver

pytestmark = pytest.mark.e2e


@pytest.fixture()
def people(make_municipality, make_user, make_cooperation) -> dict[str, Any]:  # noqa: ANN001
    town = make_municipality(name="Merchweiler")
    lea = make_user(town, email="lea@merchweiler.de", name="Lea Leitung")
    coop = make_cooperation(lea, title="Gemeinsames Standesamt")
    other = make_user(town, email="otto@merchweiler.de", name="Otto Ordnung")
    make_cooperation(other, title="Gemeinsamer Bauhof", roles={lea: Role.OBSERVER})
    deliver(lea, coop.id, payload={"title": "Satzung", "old": "geplant", "new": "erledigt"})
    return {"lea": lea, "coop": coop}


def test_account_page_and_the_copy_of_my_data(audited_page: AuditedPage, people) -> None:  # noqa: ANN001
    page = audited_page.page
    log_in(audited_page, "lea@merchweiler.de")
    page.get_by_role("link", name="Mein Konto").click()
    page.wait_for_url("**/konto/")
    audited_page.axe()
    expect(page.get_by_role("heading", name="Mein Konto")).to_be_visible()
    expect(page.get_by_text("Gemeinsamer Bauhof")).to_be_visible()

    page.get_by_role("link", name="Meine Daten ansehen und drucken").click()
    page.wait_for_url("**/konto/meine-daten")
    audited_page.axe()
    expect(page.get_by_role("heading", name="Benachrichtigungen", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="„Satzung“ – Status: geplant → erledigt")).to_be_visible()
    # Printed, only the data remains: no header, footer or links.
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("link", name="Dieselben Daten als JSON herunterladen")).to_be_hidden()
    page.emulate_media(media="screen")

    with page.expect_download() as info:
        page.get_by_role("link", name="Dieselben Daten als JSON herunterladen").click()
    download = info.value
    assert download.suggested_filename.startswith("koopboard-meine-daten-")
    data = json.loads(open(download.path(), encoding="utf-8").read())  # noqa: PTH123, SIM115
    assert data["profile"]["email"] == "lea@merchweiler.de"
    assert {r["cooperation"] for r in data["roles"]} == {
        "Gemeinsames Standesamt",
        "Gemeinsamer Bauhof",
    }
