"""Form pieces every costs feature uses: German euro amounts, municipality choices, the
budget year's range and the version-only form of the action buttons."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import NumberRange

from koopboard.domain.money import MoneyError, parse_amount
from koopboard.inputs import BaseForm


class AmountField(StringField):
    """A euro amount typed the German way ("12.345,67"); ``data`` is a Decimal or None."""

    def __init__(self, *args, allow_negative: bool = False, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.allow_negative = allow_negative
        self.amount: Decimal | None = None

    def process_formdata(self, valuelist: list[str]) -> None:
        self.raw_data = valuelist
        self.data = valuelist[0] if valuelist else ""
        self.amount = None
        if self.data.strip():
            try:
                self.amount = parse_amount(self.data, allow_negative=self.allow_negative)
            except MoneyError as exc:
                raise ValueError(exc.message) from exc


def optional_id(value: object) -> int | None:
    """A select's municipality id: None for the blank choice, -1 for anything unreadable."""
    if value in (None, "", "None"):
        return None
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return -1


YEAR = [NumberRange(1990, 2200, message=_l("Bitte ein Haushaltsjahr wie 2026 angeben."))]


class VersionForm(BaseForm):
    """CSRF and version only: submit, approve, cancel, close a year."""

    version = HiddenField()
