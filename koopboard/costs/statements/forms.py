"""The statements' details: the paying municipality's letterhead and bank details (once per
municipality) and the year's due date and Kassenzeichen (per cooperation)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from koopboard.forms import GermanDateField
from koopboard.inputs import BaseForm

BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")


def normalise_iban(value: str) -> str:
    """Spaces out, upper case: "de89 3704 0044 …" -> "DE893704…"."""
    return re.sub(r"\s+", "", value or "").upper()


def iban_is_valid(iban: str) -> bool:
    """ISO 13616 check digits (mod 97); German IBANs have 22 characters."""
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", iban):
        return False
    if iban.startswith("DE") and len(iban) != 22:
        return False
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


class LetterheadForm(BaseForm):
    """Letterhead and bank account of the paying municipality."""

    letter_address = TextAreaField(
        _l("Anschrift"),
        validators=[Optional(), Length(max=500)],
        description=_l("Wie im Briefkopf, z. B. Gemeindeverwaltung, Straße, PLZ Ort."),
    )
    letter_contact = StringField(
        _l("Ansprechpartner"),
        validators=[Optional(), Length(max=300)],
        description=_l("Name, Telefon und E-Mail der Kämmerei."),
    )
    iban = StringField(_l("IBAN"), validators=[Optional(), Length(max=42)])
    bic = StringField(_l("BIC"), validators=[Optional(), Length(max=11)])
    bank_name = StringField(_l("Kreditinstitut"), validators=[Optional(), Length(max=200)])

    def validate_iban(self, field: StringField) -> None:  # noqa: D102
        if field.data and not iban_is_valid(normalise_iban(field.data)):
            raise ValidationError(_l("Diese IBAN ist nicht gültig (Prüfziffer oder Länge)."))

    def validate_bic(self, field: StringField) -> None:  # noqa: D102
        if field.data and not BIC.match(field.data.strip().upper()):
            raise ValidationError(_l("Ein BIC hat 8 oder 11 Zeichen, z. B. SALADE55XXX."))


class TermsForm(BaseForm):
    """Due date and Kassenzeichen printed on the year's statements."""

    due_date = GermanDateField(_l("Fällig am"), validators=[Optional()])
    reference = StringField(
        _l("Kassenzeichen"),
        validators=[Optional(), Length(max=60)],
        description=_l("Jede Abrechnung nennt es zusammen mit dem Gemeindeschlüssel der Kommune."),
    )
    version = HiddenField()
