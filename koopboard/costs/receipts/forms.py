"""The receipt upload: a file field whose content is checked (``services.read_upload``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms.validators import ValidationError

from koopboard.costs.receipts.services import ReceiptError, read_upload
from koopboard.inputs import BaseForm

HINT = _l("PDF, PNG oder JPEG, höchstens 10 MB.")


def check_upload(field: FileField, *, required: bool) -> None:
    """Form validator: read the file into ``field.upload`` or raise the German message."""
    field.upload = None  # type: ignore[attr-defined]
    try:
        field.upload = read_upload(field.data)  # type: ignore[attr-defined]
    except ReceiptError as exc:
        raise ValidationError(str(exc)) from exc
    if required and field.upload is None:  # type: ignore[attr-defined]
        raise ValidationError(
            str(_l("Bitte eine Datei auswählen (PDF, PNG oder JPEG, höchstens 10 MB)."))
        )


class ReceiptForm(BaseForm):
    """Upload or replace the receipt of an existing cost (Kämmerei)."""

    receipt = FileField(_l("Belegdatei"), description=HINT)

    def validate_receipt(self, field: FileField) -> None:
        check_upload(field, required=True)
