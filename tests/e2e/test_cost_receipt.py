"""A treasurer books a cost with its PDF receipt in one htmx form, replaces it, downloads it.

Every page and every swapped state is audited by axe-core.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from koopboard.domain.catalog import Role
from tests.e2e.conftest import AuditedPage, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

MERCHWEILER, ILLINGEN = "10043113", "10043112"
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


@pytest.fixture()
def treasury(
    register_sample: dict[str, Any],
    make_user: Callable[..., Any],
    make_cooperation: Callable[..., Any],
) -> dict[str, Any]:
    lead = make_user(register_sample[MERCHWEILER], email="lead@merchweiler.de")
    kasse = make_user(register_sample[MERCHWEILER], email="kasse@merchweiler.de", name="Kim Kasse")
    coop = make_cooperation(
        lead,
        [register_sample[ILLINGEN]],
        roles={kasse: Role.TREASURER},
        start=date(2025, 1, 1),
    )
    return {"coop": coop.id, "kasse": kasse}


def test_treasurer_books_a_cost_with_its_receipt(
    audited_page: AuditedPage, treasury: dict[str, Any]
) -> None:
    from koopboard.extensions import db
    from koopboard.models import CostReceipt

    page = audited_page.page
    base = f"/kooperationen/{treasury['coop']}/kosten"
    log_in(audited_page, treasury["kasse"].email)

    audited_page.goto(f"{base}/neu")
    page.get_by_label("Buchungsdatum").fill("2026-03-15")
    page.get_by_label("Haushaltsjahr").fill("2026")
    page.get_by_label("Buchungstext").fill("Gutachten Standesamt")
    page.get_by_label("Betrag in Euro").fill("1.190,00")
    expect(page.get_by_text("PDF, PNG oder JPEG, höchstens 10 MB.")).to_be_visible()
    page.get_by_label("Beleg (optional)").set_input_files(
        {"name": "Rechnung März.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/neu")) as sent:
        page.get_by_role("button", name="Als Entwurf buchen").click()
    # htmx sent the form, with the file, as multipart (the answer is its HX-Redirect).
    assert sent.value.headers.get("hx-request") == "true"
    assert sent.value.headers["content-type"].startswith("multipart/form-data")
    page.wait_for_url(re.compile(r"/kosten/\d+$"))
    audited_page.axe()
    receipt_area = page.locator("#beleg-bereich")
    expect(page.locator("#beleg-datei")).to_have_text("Rechnung_März.pdf")
    expect(page.locator("#beleg-typ")).to_have_text("PDF")
    expect(page.locator("#beleg-groesse")).to_have_text(f"{len(PDF)}\u00a0Byte")
    cost_id = int(page.url.rsplit("/", 1)[1])
    [stored] = db.session.scalars(db.select(CostReceipt)).all()
    assert stored.cost_id == cost_id and stored.data == PDF

    # An executable renamed to .pdf: the message appears next to the field, nothing changes.
    page.get_by_label("Belegdatei").set_input_files(
        {"name": "Rechnung.pdf", "mimeType": "application/pdf", "buffer": EXE}
    )
    page.get_by_role("button", name="Beleg ersetzen").click()
    expect(receipt_area.locator("#receipt-fehler")).to_contain_text("ist ein Programm, kein Beleg")
    expect(page.locator("#beleg-datei")).to_have_text("Rechnung_März.pdf")
    audited_page.axe()
    db.session.expire_all()
    assert db.session.scalars(db.select(CostReceipt.filename)).all() == ["Rechnung_März.pdf"]

    page.get_by_label("Belegdatei").set_input_files(
        {"name": "scan.png", "mimeType": "image/png", "buffer": PNG}
    )
    page.get_by_role("button", name="Beleg ersetzen").click()
    expect(page.locator(".flash-success")).to_contain_text("Der Beleg „scan.png“ ist ersetzt.")
    audited_page.axe()
    expect(page.locator("#beleg-typ")).to_have_text("PNG")

    link = page.locator("#beleg-herunterladen")
    expect(link).to_have_attribute("href", f"{base}/{cost_id}/beleg")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "scan.png"
    assert Path(download.value.path()).read_bytes() == PNG
