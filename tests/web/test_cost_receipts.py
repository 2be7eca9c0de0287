"""Receipts (Belege) of costs through the web: type by content, 10 MB, members only, attachment."""

from __future__ import annotations

import hashlib
import io
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from koopboard.costs.receipts.services import MAX_BYTES, clean_filename, content_disposition
from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.models import Cost, CostReceipt, HistoryEntry, YearClosing
from koopboard.models.cost import CostState
from tests.conftest import login

YEAR = 2026
BASE = "/kooperationen/{id}/kosten"
HX = {"HX-Request": "true"}

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56


@pytest.fixture()
def books(make_municipality, make_user, make_cooperation):  # noqa: ANN001, ANN201
    """Merchweiler leads with Illingen; two treasurers, a member, an observer; and outsiders."""
    merchweiler = make_municipality("Merchweiler", "10043113")
    illingen = make_municipality("Illingen", "10043112")
    bexbach = make_municipality("Bexbach", "10045111")
    lead = make_user(merchweiler)
    t1 = make_user(merchweiler)
    t2 = make_user(illingen)
    member = make_user(illingen)
    observer = make_user(illingen)
    no_role = make_user(illingen)  # a partner municipality's user without a role
    other = make_user(bexbach)  # leads a cooperation of another municipality
    coop = make_cooperation(
        lead,
        [illingen],
        roles={
            t1: Role.TREASURER,
            t2: Role.TREASURER,
            member: Role.MEMBER,
            observer: Role.OBSERVER,
        },
    )
    other_coop = make_cooperation(other, [], title="Bexbacher Bücherei")
    return {
        "coop": coop,
        "other_coop": other_coop,
        "base": BASE.format(id=coop.id),
        "lead": lead,
        "t1": t1,
        "t2": t2,
        "member": member,
        "observer": observer,
        "no_role": no_role,
        "other": other,
    }


def _as(app, user):  # noqa: ANN001, ANN202
    client = app.test_client()
    response = login(client, user)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def _cost_form(**overrides: object) -> dict:
    return {
        "booking_date": f"15.03.{YEAR}",
        "budget_year": str(YEAR),
        "text": "Rechnung Fachverfahren",
        "kind": "kosten",
        "amount": "1.190,00",
        **overrides,
    }


def _book(client, books) -> Cost:  # noqa: ANN001
    response = client.post(f"{books['base']}/neu", data=_cost_form())
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return db.session.scalar(select(Cost).order_by(Cost.id.desc()))


def _file(data: bytes, name: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


def _upload(client, books, cost_id: int, data: bytes, name: str, **kwargs):  # noqa: ANN001, ANN202
    return client.post(
        f"{books['base']}/{cost_id}/beleg", data={"receipt": _file(data, name)}, **kwargs
    )


def _receipts() -> list[CostReceipt]:
    db.session.expire_all()
    return list(db.session.scalars(select(CostReceipt).order_by(CostReceipt.id)))


def _history(record_type: str) -> list[HistoryEntry]:
    return list(
        db.session.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.record_type == record_type)
            .order_by(HistoryEntry.id)
        )
    )


# --- storing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "media_type", "stored_name"),
    [
        (PDF, "Rechnung März 2026.pdf", "application/pdf", "Rechnung_März_2026.pdf"),
        (PNG, "scan.png", "image/png", "scan.png"),
        (JPEG, "Foto Quittung.JPEG", "image/jpeg", "Foto_Quittung.jpeg"),
        (PNG, "falsch benannt.pdf", "image/png", "falsch_benannt.png"),  # content decides
    ],
    ids=["pdf", "png", "jpeg", "png-named-pdf"],
)
def test_upload_stores_type_size_and_checksum(
    app, books, content: bytes, name: str, media_type: str, stored_name: str
) -> None:  # noqa: ANN001
    t1 = _as(app, books["t1"])
    cost = _book(t1, books)
    response = _upload(t1, books, cost.id, content, name)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"].endswith(f"/kosten/{cost.id}")
    [receipt] = _receipts()
    assert receipt.cost_id == cost.id and receipt.cooperation_id == books["coop"].id
    assert receipt.media_type == media_type
    assert receipt.size_bytes == len(content)
    assert receipt.sha256 == hashlib.sha256(content).hexdigest()
    assert receipt.filename == stored_name
    assert receipt.data == content
    assert receipt.uploaded_by_id == books["t1"].id
    fields = {h.field for h in _history("CostReceipt") if h.action == "create"}
    assert {"filename", "media_type", "size_bytes", "sha256"} <= fields
    assert "data" not in fields  # the bytes never go into the history
    page = t1.get(f"{books['base']}/{cost.id}").get_data(as_text=True)
    assert stored_name in page and f"/kosten/{cost.id}/beleg" in page


def test_book_with_receipt_in_one_go_over_htmx(app, books) -> None:  # noqa: ANN001
    t1 = _as(app, books["t1"])
    response = t1.post(
        f"{books['base']}/neu",
        data=_cost_form(receipt=_file(PDF, "Rechnung.pdf")),
        headers=HX,
    )
    assert response.status_code == 204, response.get_data(as_text=True)[:2000]
    cost = db.session.scalar(select(Cost))
    assert response.headers["HX-Redirect"].endswith(f"/kosten/{cost.id}")
    [receipt] = _receipts()
    assert receipt.cost_id == cost.id and receipt.filename == "Rechnung.pdf"


def test_booking_without_receipt_still_works(app, books) -> None:  # noqa: ANN001
    t1 = _as(app, books["t1"])
    response = t1.post(f"{books['base']}/neu", data=_cost_form(receipt=_file(b"", "")), headers=HX)
    assert response.status_code == 204, response.get_data(as_text=True)[:2000]
    assert db.session.scalar(select(func.count(Cost.id))) == 1
    assert _receipts() == []
    cost = db.session.scalar(select(Cost))
    page = t1.get(f"{books['base']}/{cost.id}").get_data(as_text=True)
    assert "noch kein Beleg" in page and "Beleg hochladen" in page


def test_create_form_with_an_executable_writes_nothing(app, books) -> None:  # noqa: ANN001
    t1 = _as(app, books["t1"])
    history_before = db.session.scalar(select(func.count(HistoryEntry.id)))
    response = t1.post(
        f"{books['base']}/neu",
        data=_cost_form(receipt=_file(EXE, "Rechnung.pdf")),
        headers=HX,
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "„Rechnung.pdf“ ist ein Programm, kein Beleg" in body
    assert (
        'id="receipt-fehler"' in body
        and 'aria-describedby="receipt-hinweis receipt-fehler"' in body
    )
    assert 'enctype="multipart/form-data"' in body
    assert db.session.scalar(select(func.count(Cost.id))) == 0
    assert _receipts() == []
    assert db.session.scalar(select(func.count(HistoryEntry.id))) == history_before
    plain = t1.post(f"{books['base']}/neu", data=_cost_form(receipt=_file(ELF, "beleg.pdf")))
    assert plain.status_code == 400 and "ist ein Programm" in plain.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Cost.id))) == 0


def test_create_form_keeps_the_other_errors_and_asks_for_the_file_again(app, books) -> None:  # noqa: ANN001
    t1 = _as(app, books["t1"])
    response = t1.post(
        f"{books['base']}/neu",
        data=_cost_form(amount="", receipt=_file(PDF, "Rechnung.pdf")),
        headers=HX,
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Bitte einen Betrag eingeben." in body
    assert "Bitte den Beleg noch einmal auswählen" in body
    assert db.session.scalar(select(func.count(Cost.id))) == 0 and _receipts() == []


@pytest.mark.parametrize(
    ("content", "name", "needle"),
    [
        (EXE, "Rechnung.pdf", "„Rechnung.pdf“ ist ein Programm, kein Beleg"),
        (ELF, "beleg.pdf", "„beleg.pdf“ ist ein Programm, kein Beleg"),
        (b"<html><script>alert(1)</script>", "beleg.pdf", "ist kein PDF, PNG oder JPEG"),
        (b"GIF89a\x01\x00\x01\x00", "bild.gif", "Geprüft wird der Inhalt der Datei"),
        (b"", "leer.pdf", "Die Datei „leer.pdf“ ist leer."),
        (b"%PDF-" + b"0" * (MAX_BYTES - 4), "gross.pdf", "ist größer als 10 MB"),
    ],
    ids=["exe-as-pdf", "elf-as-pdf", "html", "gif", "empty", "10-MB-plus-1-byte"],
)
def test_bad_files_are_refused_and_nothing_is_written(
    app, books, content: bytes, name: str, needle: str
) -> None:  # noqa: ANN001
    t1 = _as(app, books["t1"])
    cost = _book(t1, books)
    history_before = db.session.scalar(select(func.count(HistoryEntry.id)))
    response = _upload(t1, books, cost.id, content, name)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert needle in body
    assert 'id="receipt-fehler"' in body
    assert _receipts() == []
    assert db.session.scalar(select(func.count(HistoryEntry.id))) == history_before
    htmx = _upload(t1, books, cost.id, content, name, headers=HX)
    assert htmx.status_code == 422 and needle in htmx.get_data(as_text=True)
    assert _receipts() == []


def test_exactly_10_mb_is_accepted(app, books) -> None:  # noqa: ANN001
    t1 = _as(app, books["t1"])
    cost = _book(t1, books)
    content = b"%PDF-" + b"0" * (MAX_BYTES - 5)
    assert len(content) == 10 * 1024 * 1024
    assert _upload(t1, books, cost.id, content, "gross.pdf").status_code == 302
    [receipt] = _receipts()
    assert receipt.size_bytes == MAX_BYTES
    page = t1.get(f"{books['base']}/{cost.id}").get_data(as_text=True)
    assert "10\u00a0MB" in page


def test_no_file_chosen(app, books) -> None:  # noqa: ANN001
    t1 = _as(app, books["t1"])
    cost = _book(t1, books)
    response = t1.post(f"{books['base']}/{cost.id}/beleg", data={})
    assert response.status_code == 400
    assert "Bitte eine Datei auswählen" in response.get_data(as_text=True)
    assert _receipts() == []


def test_a_request_over_the_limit_gets_a_german_413(app, books) -> None:  # noqa: ANN001
    t1 = _as(app, books["t1"])
    cost = _book(t1, books)
    huge = b"%PDF-" + b"0" * (13 * 1024 * 1024)
    response = _upload(t1, books, cost.id, huge, "riesig.pdf")
    assert response.status_code == 413
    assert "Belege dürfen höchstens 10 MB groß sein" in response.get_data(as_text=True)
    htmx = _upload(
        t1,
        books,
        cost.id,
        huge,
        "riesig.pdf",
        headers={**HX, "HX-Current-URL": f"http://localhost{books['base']}/{cost.id}"},
    )
    assert htmx.status_code == 204
    assert htmx.headers["HX-Redirect"] == f"{books['base']}/{cost.id}"
    page = t1.get(f"{books['base']}/{cost.id}").get_data(as_text=True)
    assert "höchstens 10 MB" in page  # the flashed message
    assert _receipts() == []


def test_replacing_keeps_one_receipt_and_the_history_records_it(app, books) -> None:  # noqa: ANN001
    t1 = _as(app, books["t1"])
    cost = _book(t1, books)
    assert _upload(t1, books, cost.id, PDF, "erste.pdf").status_code == 302
    [first] = _receipts()
    page = t1.get(f"{books['base']}/{cost.id}").get_data(as_text=True)
    assert "Beleg ersetzen" in page
    assert _upload(t1, books, cost.id, PNG, "zweite.png").status_code == 302
    [second] = _receipts()
    assert second.id == first.id and second.cost_id == cost.id
    assert second.filename == "zweite.png" and second.media_type == "image/png"
    assert second.data == PNG
    updates = {h.field: h for h in _history("CostReceipt") if h.action == "update"}
    assert updates["filename"].old_value == "erste.pdf"
    assert updates["filename"].new_value == "zweite.png"
    assert updates["sha256"].old_value == hashlib.sha256(PDF).hexdigest()
    assert updates["sha256"].new_value == hashlib.sha256(PNG).hexdigest()
    assert updates["media_type"].new_value == "image/png"
    assert all(h.actor_id == books["t1"].id for h in updates.values())


def test_edit_form_replaces_the_receipt_with_the_changes(app, books) -> None:  # noqa: ANN001
    t1 = _as(app, books["t1"])
    cost = _book(t1, books)
    assert _upload(t1, books, cost.id, PDF, "alt.pdf").status_code == 302
    response = t1.post(
        f"{books['base']}/{cost.id}/bearbeiten",
        data=_cost_form(text="Korrigiert", version="1", receipt=_file(JPEG, "neu.jpg")),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert db.session.get(Cost, cost.id).text == "Korrigiert"
    [receipt] = _receipts()
    assert receipt.filename == "neu.jpg" and receipt.media_type == "image/jpeg"
    refused = t1.post(
        f"{books['base']}/{cost.id}/bearbeiten",
        data=_cost_form(text="Nochmal", version="2", receipt=_file(EXE, "x.pdf")),
    )
    assert refused.status_code == 400
    db.session.expire_all()
    assert db.session.get(Cost, cost.id).text == "Korrigiert"
    assert _receipts()[0].filename == "neu.jpg"


def test_approved_costs_and_closed_years_keep_their_receipt(app, books) -> None:  # noqa: ANN001
    t1 = _as(app, books["t1"])
    cost = _book(t1, books)
    assert _upload(t1, books, cost.id, PDF, "beleg.pdf").status_code == 302
    assert (
        t1.post(f"{books['base']}/{cost.id}/einreichen", data={"version": "1"}).status_code == 302
    )
    # While submitted, the Kämmerei may still attach (the approver sees who uploaded when).
    assert _upload(t1, books, cost.id, PDF + b"% v2\n", "beleg.pdf").status_code == 302
    t2 = _as(app, books["t2"])
    assert t2.post(f"{books['base']}/{cost.id}/freigeben", data={"version": "2"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Cost, cost.id).state is CostState.FREIGEGEBEN
    before = _receipts()[0].sha256
    history_before = db.session.scalar(select(func.count(HistoryEntry.id)))
    page = t2.get(f"{books['base']}/{cost.id}").get_data(as_text=True)
    assert "Beleg herunterladen" in page and "Beleg ersetzen" not in page
    refused = _upload(t2, books, cost.id, PNG, "anders.png")
    assert refused.status_code == 400
    assert "Der Beleg freigegebener Kosten lässt sich nicht mehr ändern" in refused.get_data(
        as_text=True
    )
    assert _receipts()[0].sha256 == before
    assert db.session.scalar(select(func.count(HistoryEntry.id))) == history_before

    draft = _book(t1, books)
    db.session.add(YearClosing(cooperation_id=books["coop"].id, budget_year=YEAR))
    db.session.commit()
    closed = _upload(t1, books, draft.id, PDF, "spaet.pdf")
    assert closed.status_code == 400
    assert "abgeschlossen" in closed.get_data(as_text=True)
    assert [r.cost_id for r in _receipts()] == [cost.id]


# --- reading and access -----------------------------------------------------------------------


def test_every_role_downloads_as_attachment(app, books) -> None:  # noqa: ANN001
    t1 = _as(app, books["t1"])
    cost = _book(t1, books)
    assert _upload(t1, books, cost.id, PDF, "Rechnung März.pdf").status_code == 302
    url = f"{books['base']}/{cost.id}/beleg"
    for key in ("member", "observer", "lead", "t2"):
        response = _as(app, books[key]).get(url)
        assert response.status_code == 200, key
        assert response.data == PDF
        assert response.mimetype == "application/pdf"
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert 'filename="Rechnung_Maerz.pdf"' in disposition
        assert f"filename*=UTF-8''{quote('Rechnung_März.pdf')}" in disposition
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "private, no-store"
        assert "sandbox" in response.headers["Content-Security-Policy"]
    member_page = _as(app, books["member"]).get(f"{books['base']}/{cost.id}")
    body = member_page.get_data(as_text=True)
    assert "Rechnung_März.pdf" in body and "Beleg herunterladen" in body
    assert "Beleg ersetzen" not in body  # reading roles get no upload form


def test_a_cost_without_receipt_has_no_download(app, books) -> None:  # noqa: ANN001
    t1 = _as(app, books["t1"])
    cost = _book(t1, books)
    assert t1.get(f"{books['base']}/{cost.id}/beleg").status_code == 404


@pytest.mark.parametrize("key", ["no_role", "other"])
def test_outsiders_get_404(app, books, key: str) -> None:  # noqa: ANN001
    t1 = _as(app, books["t1"])
    cost = _book(t1, books)
    assert _upload(t1, books, cost.id, PDF, "beleg.pdf").status_code == 302
    outsider = _as(app, books[key])
    download = outsider.get(f"{books['base']}/{cost.id}/beleg")
    assert download.status_code == 404
    assert PDF not in download.data
    upload = _upload(outsider, books, cost.id, PNG, "fremd.png")
    assert upload.status_code == 404
    assert _receipts()[0].media_type == "application/pdf"


def test_the_cost_of_another_cooperation_is_not_found_through_ones_own(app, books) -> None:  # noqa: ANN001
    t1 = _as(app, books["t1"])
    cost = _book(t1, books)
    assert _upload(t1, books, cost.id, PDF, "beleg.pdf").status_code == 302
    other = _as(app, books["other"])
    own_base = BASE.format(id=books["other_coop"].id)
    assert other.get(f"{own_base}/{cost.id}/beleg").status_code == 404


@pytest.mark.parametrize("key", ["member", "observer", "lead"])
def test_only_the_treasury_uploads(app, books, key: str) -> None:  # noqa: ANN001
    t1 = _as(app, books["t1"])
    cost = _book(t1, books)
    response = _upload(_as(app, books[key]), books, cost.id, PDF, "beleg.pdf")
    assert response.status_code == 403
    assert _receipts() == []


def test_cost_page_shows_name_type_and_german_size(app, books) -> None:  # noqa: ANN001
    t1 = _as(app, books["t1"])
    cost = _book(t1, books)
    content = b"%PDF-" + b"0" * (1_258_291 - 5)  # 1,2 MB
    assert _upload(t1, books, cost.id, content, "Gutachten.pdf").status_code == 302
    body = t1.get(f"{books['base']}/{cost.id}").get_data(as_text=True)
    assert 'id="beleg-datei">Gutachten.pdf<' in body
    assert 'id="beleg-typ">PDF<' in body
    assert 'id="beleg-groesse">1,2\u00a0MB<' in body
    assert f'href="{books["base"]}/{cost.id}/beleg"' in body
    assert books["t1"].name in body  # who uploaded it, for the second pair of eyes


# --- helpers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "media_type", "expected"),
    [
        ("../../etc/Rechnung März 2026.pdf", "application/pdf", "Rechnung_März_2026.pdf"),
        ("C:\\Users\\kasse\\Beleg.PDF", "application/pdf", "Beleg.pdf"),
        ("", "application/pdf", "beleg.pdf"),
        ("...", "image/png", "beleg.png"),
        ("CON.pdf", "application/pdf", "beleg.pdf"),
        ("rechnung.pdf.exe", "application/pdf", "rechnung_pdf_exe.pdf"),
        ("scan.jpg", "image/png", "scan.png"),
        ("Foto.jpeg", "image/jpeg", "Foto.jpeg"),
        ("\u202egpj.exe", "image/jpeg", "gpj_exe.jpg"),
        ('Beleg "Nr. 5";<b>.pdf', "application/pdf", "Beleg_Nr_5_b.pdf"),
        ("Straße_Öl.pdf", "application/pdf", "Straße_Öl.pdf"),
    ],
)
def test_clean_filename(raw: str, media_type: str, expected: str) -> None:
    assert clean_filename(raw, media_type) == expected


def test_content_disposition_has_an_ascii_fallback() -> None:
    value = content_disposition("Grüße_Straße.pdf")
    assert value == (
        'attachment; filename="Gruesse_Strasse.pdf"; '
        "filename*=UTF-8''Gr%C3%BC%C3%9Fe_Stra%C3%9Fe.pdf"
    )
