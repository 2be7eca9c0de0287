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
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import undefer
from werkzeug.datastructures import FileStorage

from koopboard.costs import services
from koopboard.domain.catalog import Role
from koopboard.domain.messages import Msg
from koopboard.extensions import db
from koopboard.models import Cooperation, User
from koopboard.models.cost import Cost, CostReceipt, CostState
from koopboard.models.types import utcnow

MAX_BYTES = 10 * 1024 * 1024  # as the cost_receipt.size_range check constraint
ACCEPT = ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"

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
        raise ReceiptError(
            Msg("Die Datei „%(name)s“ ist leer. Bitte den Beleg erneut auswählen.", name=name)
        )
    if len(data) > MAX_BYTES:
        raise ReceiptError(
            Msg(
                "Die Datei „%(name)s“ ist größer als 10 MB. Belege dürfen höchstens 10 MB groß "
                "sein; bitte eine kleinere Datei wählen (z. B. den Scan mit geringerer "
                "Auflösung).",
                name=name,
            )
        )
    media_type = detect_media_type(data)
    if media_type is None:
        if data.startswith(EXECUTABLES):
            raise ReceiptError(
                Msg(
                    "Die Datei „%(name)s“ ist ein Programm, kein Beleg (erkannt am Inhalt, nicht "
                    "an der Endung). Sie wurde nicht gespeichert. Bitte den Beleg als PDF, PNG "
                    "oder JPEG hochladen.",
                    name=name,
                )
            )
        raise ReceiptError(
            Msg(
                "Die Datei „%(name)s“ ist kein PDF, PNG oder JPEG. Geprüft wird der Inhalt der "
                "Datei, nicht ihre Endung. Bitte den Beleg als PDF, PNG oder JPEG hochladen.",
                name=name,
            )
        )
    return Upload(clean_filename(storage.filename, media_type), media_type, data)


# --- storing ----------------------------------------------------------------------------------


def receipt_of(cost_id: int) -> CostReceipt | None:
    """The cost's receipt (without its bytes)."""
    return db.session.scalar(select(CostReceipt).where(CostReceipt.cost_id == cost_id))


def may_attach(cost: Cost, role: Role | None, closed: bool) -> bool:
    """Whether ``role`` may upload or replace the cost's receipt now."""
    return role in services.BOOKERS and cost.state in ATTACHABLE and not closed


def check_attachable(cost: Cost) -> None:
    """Refuse a receipt for an approved cost or one in a closed budget year."""
    if cost.state not in ATTACHABLE:
        raise services.CostError(
            Msg(
                "Der Beleg freigegebener Kosten lässt sich nicht mehr ändern. Für eine Korrektur "
                "bitte stornieren und neu buchen."
            ),
            None,
        )
    services.check_open(cost.cooperation_id, cost.budget_year, None)


def attach(cooperation: Cooperation, cost: Cost, upload: Upload, *, by: User) -> bool:
    """Store ``upload`` as the cost's receipt, replacing one there is; flushes, never commits.

    Returns whether an existing receipt was replaced."""
    if cost.cooperation_id != cooperation.id:
        raise services.CostError(Msg("Die Kosten gehören nicht zu dieser Kooperation."), None)
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


def uploader_of(receipt: CostReceipt | None) -> User | None:
    """Who uploaded the receipt."""
    return db.session.get(User, receipt.uploaded_by_id) if receipt else None


def receipt_with_data(cooperation_id: int, cost_id: int) -> CostReceipt | None:
    """The cost's receipt with its bytes (for the download)."""
    return db.session.scalar(
        select(CostReceipt)
        .where(CostReceipt.cost_id == cost_id, CostReceipt.cooperation_id == cooperation_id)
        .options(undefer(CostReceipt.data))
    )


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name per RFC 5987/6266."""
    ascii_name = unicodedata.normalize("NFKD", filename.translate(_GERMAN_ASCII))
    ascii_name = ascii_name.encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name).strip("._") or "beleg"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
