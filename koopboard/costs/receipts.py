"""Receipts (Belege) of costs: PDF, PNG or JPEG up to 10 MB, stored in the database.

The type is taken from the file's first bytes, never from its name or the browser's claim:
an executable renamed to ``.pdf`` is refused. A receipt is written in the same transaction
as the cost it belongs to (one per cost; a new upload replaces it, the history records
both). Every role of the cooperation downloads it, always as an attachment.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import quote, urlsplit

from flask import Response, abort, flash, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from sqlalchemy.orm import undefer
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.validators import ValidationError

from koopboard.costs import services
from koopboard.costs.views import BOOKERS, COOP, _cost_url, _done, _load_cost, _show, bp
from koopboard.domain.catalog import Role
from koopboard.extensions import db, htmx
from koopboard.models import Cooperation, User
from koopboard.models.cost import Cost, CostReceipt, CostState
from koopboard.models.types import utcnow
from koopboard.security import is_local_path
from koopboard.web import form_status

MAX_BYTES = 10 * 1024 * 1024  # as the cost_receipt.size_range check constraint
ACCEPT = ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"
HINT = _l("PDF, PNG oder JPEG, höchstens 10 MB.")

# Magic bytes at the very start of the file, and the extensions that fit each type.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
EXTENSIONS = {
    "application/pdf": ("pdf",),
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg"),
}
TYPE_LABELS = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG"}
# Programs and scripts: Windows (MZ), Linux (ELF), macOS (Mach-O), Java classes, shebangs.
EXECUTABLES = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
)
# Costs whose receipt may still change: before approval. Approved money records stay as they are.
ATTACHABLE = frozenset({CostState.ENTWURF, CostState.EINGEREICHT, CostState.ABGELEHNT})
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)
_GERMAN_ASCII = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)
TOO_LARGE = (
    "Die Datei ist zu groß: Belege dürfen höchstens 10 MB groß sein. Es wurde nichts "
    "gespeichert. Bitte eine kleinere Datei wählen (z. B. den Scan mit geringerer Auflösung)."
)


class ReceiptError(services.CostError):
    """A file that cannot be a receipt; the German message belongs next to the file field."""

    def __init__(self, message: str, field: str | None = "receipt") -> None:
        super().__init__(message, field)


@dataclass(frozen=True)
class Upload:
    """A checked receipt file, ready to store."""

    filename: str
    media_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


# --- checking a file ------------------------------------------------------------------------


def detect_media_type(data: bytes) -> str | None:
    """The media type by the file's magic bytes; None for anything but PDF, PNG and JPEG."""
    for signature, media_type in SIGNATURES:
        if data.startswith(signature):
            return media_type
    return None


def clean_filename(raw: str | None, media_type: str) -> str:
    """A safe, readable file name with the extension of the detected type.

    Like werkzeug's ``secure_filename`` (no directories, control characters, leading dots,
    Windows device names) but umlauts and other letters stay: "Rechnung März.pdf" becomes
    "Rechnung_März.pdf". Without a usable name: "beleg.pdf"."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    allowed = EXTENSIONS[media_type]
    stem, dot, ext = name.rpartition(".")
    known = {e for exts in EXTENSIONS.values() for e in exts}
    if not dot or ext.lower() not in known:
        stem, ext = name, ""
    stem = re.sub(r"[^\w-]+", "_", stem)
    stem = re.sub(r"_{2,}", "_", stem).strip("._-")[:100].strip("._-")
    if not stem or stem.upper() in _WINDOWS_RESERVED:
        stem = "beleg"
    ext = ext.lower() if ext.lower() in allowed else allowed[0]
    return f"{stem}.{ext}"


def _shown_name(raw: str) -> str:
    name = "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C")
    name = re.split(r"[/\\]", name)[-1].strip()
    return name if len(name) <= 80 else name[:77] + "…"


def read_upload(storage: FileStorage | None) -> Upload | None:
    """Read and check an uploaded file; None when no file was chosen.

    Raises ``ReceiptError`` (German, for the file field) for an empty file, one over 10 MB
    or one whose content is not PDF, PNG or JPEG, whatever its name says."""
    if storage is None or not storage.filename:
        return None
    name = _shown_name(storage.filename)
    data = storage.stream.read(MAX_BYTES + 1)
    if not data:
        raise ReceiptError(f"Die Datei „{name}“ ist leer. Bitte den Beleg erneut auswählen.")
    if len(data) > MAX_BYTES:
        raise ReceiptError(
            f"Die Datei „{name}“ ist größer als 10 MB. Belege dürfen höchstens 10 MB groß sein; "
            "bitte eine kleinere Datei wählen (z. B. den Scan mit geringerer Auflösung)."
        )
    media_type = detect_media_type(data)
    if media_type is None:
        if data.startswith(EXECUTABLES):
            raise ReceiptError(
                f"Die Datei „{name}“ ist ein Programm, kein Beleg (erkannt am Inhalt, nicht "
                "an der Endung). Sie wurde nicht gespeichert. Bitte den Beleg als PDF, PNG oder "
                "JPEG hochladen."
            )
        raise ReceiptError(
            f"Die Datei „{name}“ ist kein PDF, PNG oder JPEG. Geprüft wird der Inhalt der "
            "Datei, nicht ihre Endung. Bitte den Beleg als PDF, PNG oder JPEG hochladen."
        )
    return Upload(clean_filename(storage.filename, media_type), media_type, data)


def check_upload(field: FileField, *, required: bool) -> None:
    """Form validator: read the file into ``field.upload`` or raise the German message."""
    field.upload = None  # type: ignore[attr-defined]
    try:
        field.upload = read_upload(field.data)  # type: ignore[attr-defined]
    except ReceiptError as exc:
        raise ValidationError(str(exc)) from exc
    if required and field.upload is None:  # type: ignore[attr-defined]
        raise ValidationError("Bitte eine Datei auswählen (PDF, PNG oder JPEG, höchstens 10 MB).")


class ReceiptForm(FlaskForm):
    """Upload or replace the receipt of an existing cost (Kämmerei)."""

    receipt = FileField(_l("Belegdatei"), description=HINT)

    def validate_receipt(self, field: FileField) -> None:
        check_upload(field, required=True)


# --- storing ----------------------------------------------------------------------------------


def receipt_of(cost_id: int) -> CostReceipt | None:
    """The cost's receipt (without its bytes)."""
    return db.session.scalar(select(CostReceipt).where(CostReceipt.cost_id == cost_id))


def may_attach(cost: Cost, role: Role | None, closed: bool) -> bool:
    """Whether ``role`` may upload or replace the cost's receipt now."""
    return role in BOOKERS and cost.state in ATTACHABLE and not closed


def check_attachable(cost: Cost) -> None:
    """Refuse a receipt for an approved cost or one in a closed budget year."""
    if cost.state not in ATTACHABLE:
        raise services.CostError(
            "Der Beleg freigegebener Kosten lässt sich nicht mehr ändern. Für eine Korrektur "
            "bitte stornieren und neu buchen.",
            None,
        )
    services.check_open(cost.cooperation_id, cost.budget_year, None)


def attach(cooperation: Cooperation, cost: Cost, upload: Upload, *, by: User) -> bool:
    """Store ``upload`` as the cost's receipt, replacing one there is; flushes, never commits.

    Returns whether an existing receipt was replaced."""
    if cost.cooperation_id != cooperation.id:
        raise services.CostError("Die Kosten gehören nicht zu dieser Kooperation.", None)
    check_attachable(cost)
    receipt = receipt_of(cost.id)
    replaced = receipt is not None
    if receipt is None:
        receipt = CostReceipt(cost_id=cost.id, cooperation_id=cooperation.id)
        db.session.add(receipt)
    receipt.filename = upload.filename
    receipt.media_type = upload.media_type
    receipt.size_bytes = upload.size
    receipt.sha256 = upload.sha256
    receipt.data = upload.data
    receipt.uploaded_by_id = by.id
    receipt.uploaded_at = utcnow()
    db.session.flush()
    return replaced


# --- showing ----------------------------------------------------------------------------------


@bp.app_template_filter("dateigroesse")
def file_size(size: int | None) -> str:
    """1,2 MB; 820 KB; 512 Byte (German decimal comma in German)."""
    if size is None:
        return "–"
    if size < 1024:
        return f"{size}\u00a0Byte"
    unit, factor = ("MB", 1024 * 1024) if size >= 1024 * 1024 else ("KB", 1024)
    value = (Decimal(size) / factor).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{format_decimal(value, format='#,##0.#')}\u00a0{unit}"


@bp.app_template_filter("dateityp")
def type_label(media_type: str | None) -> str:
    """PDF, PNG or JPEG."""
    return TYPE_LABELS.get(media_type or "", media_type or "–")


def show_context(cost: Cost, role: Role, closed: bool, form: ReceiptForm | None) -> dict:
    """What ``costs/_receipt.html`` needs on the cost page."""
    receipt = receipt_of(cost.id)
    uploader = db.session.get(User, receipt.uploaded_by_id) if receipt else None
    return {
        "receipt": receipt,
        "receipt_uploader": uploader,
        "receipt_form": form or ReceiptForm(formdata=None),
        "may_attach_receipt": may_attach(cost, role, closed),
        "receipt_accept": ACCEPT,
    }


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name per RFC 5987/6266."""
    ascii_name = unicodedata.normalize("NFKD", filename.translate(_GERMAN_ASCII))
    ascii_name = ascii_name.encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name).strip("._") or "beleg"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


# --- routes -----------------------------------------------------------------------------------


@bp.get(COOP + "/<int:cost_id>/beleg")
def receipt_download(cooperation_id: int, cost_id: int) -> Response:
    """The receipt as an attachment (every role of the cooperation; 404 for others)."""
    cooperation, _role, cost = _load_cost(cooperation_id, cost_id)
    receipt = db.session.scalar(
        select(CostReceipt)
        .where(CostReceipt.cost_id == cost.id, CostReceipt.cooperation_id == cooperation.id)
        .options(undefer(CostReceipt.data))
    )
    if receipt is None:
        abort(404)
    response = Response(receipt.data, mimetype=receipt.media_type)
    response.headers["Content-Disposition"] = content_disposition(receipt.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    # Never rendered as a page of this site, even if a browser ignored the attachment.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post(COOP + "/<int:cost_id>/beleg")
def receipt_upload(cooperation_id: int, cost_id: int) -> Response:
    """Upload or replace the receipt of a cost before approval (Kämmerei)."""
    cooperation, role, cost = _load_cost(cooperation_id, cost_id, *BOOKERS)
    form = ReceiptForm()
    if form.validate_on_submit():
        upload: Upload = form.receipt.upload  # type: ignore[attr-defined]
        try:
            replaced = attach(cooperation, cost, upload, by=current_user)
        except services.CostError as exc:
            db.session.rollback()
            db.session.expire_all()
            form.form_errors = [*form.form_errors, str(exc)]
        else:
            db.session.commit()
            verb = "ersetzt" if replaced else "gespeichert"
            flash(f"Der Beleg „{upload.filename}“ ist {verb}.", "success")
            return _done(_cost_url(cost))
    return _show(cooperation, role, cost, status=form_status(False), receipt_form=form)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error: RequestEntityTooLarge) -> Response | tuple[str, int]:
    """A request over MAX_CONTENT_LENGTH: a clear German message, nothing written.

    htmx does not show a 413, so it is sent back to the page it came from with the message."""
    db.session.rollback()
    if htmx:
        flash(TOO_LARGE, "error")
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        target = current.path + (f"?{current.query}" if current.query else "")
        if not is_local_path(target):
            coop = (request.view_args or {}).get("cooperation_id")
            target = url_for("costs.index", cooperation_id=coop) if coop else url_for("main.index")
        return Response(status=204, headers={"HX-Redirect": target})
    return render_template("errors/error.html", code=413, message=TOO_LARGE), 413
