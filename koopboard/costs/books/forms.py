"""Forms for costs and payments; amounts are parsed the German way by ``parse_amount``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from koopboard.costs.forms import YEAR, AmountField, optional_id
from koopboard.costs.receipts.forms import check_upload
from koopboard.forms import CHOOSE, DATE, REQUIRED, ChoiceField, GermanDateField
from koopboard.inputs import BaseForm

KINDS = [
    SelectChoice("kosten", _l("Kosten")),
    SelectChoice("foerderung", _l("Förderung (negativer Betrag)")),
]


class CostForm(BaseForm):
    """Book or edit a cost (Kämmerei); ``version`` guards against lost updates."""

    booking_date = GermanDateField(_l("Buchungsdatum"), validators=[InputRequired(DATE)])
    budget_year = IntegerField(
        _l("Haushaltsjahr"),
        validators=[InputRequired(_l("Bitte ein Haushaltsjahr angeben.")), *YEAR],
    )
    text = StringField(
        _l("Buchungstext"),
        validators=[DataRequired(REQUIRED), Length(max=300)],
    )
    category = StringField(
        _l("Kategorie"),
        validators=[Optional(), Length(max=100)],
        description=_l("z. B. Personal, Sachkosten, IT."),
    )
    kind = ChoiceField(_l("Art"), choices=KINDS, validators=[DataRequired(CHOOSE)])
    amount = AmountField(
        _l("Betrag in Euro"),
        allow_negative=True,
        validators=[DataRequired(_l("Bitte einen Betrag eingeben."))],
        description=_l("Deutsche Schreibweise, z. B. 12.345,67. Förderungen negativ."),
    )
    net_amount = AmountField(_l("Netto (optional)"), allow_negative=True, validators=[Optional()])
    vat_amount = AmountField(
        _l("Umsatzsteuer (optional)"),
        allow_negative=True,
        validators=[Optional()],
        description=_l("Nur wo § 2b UStG greift; Netto und Umsatzsteuer ergeben den Betrag."),
    )
    paid_by_id = ChoiceField(
        _l("Vorgeleistet von"),
        coerce=optional_id,
        validate_choice=False,
        validators=[Optional()],
        description=_l("Die Kommune, die die Rechnung bezahlt hat (sonst die federführende)."),
    )
    receipt = FileField(
        _l("Beleg (optional)"), description=_l("PDF, PNG oder JPEG, höchstens 10 MB.")
    )
    version = HiddenField()

    def validate_receipt(self, field: FileField) -> None:
        """The file's content must be PDF, PNG or JPEG; the checked file lands in ``upload``."""
        check_upload(field, required=False)


class PaymentForm(BaseForm):
    """Book a payment of a partner."""

    paid_on = GermanDateField(_l("Zahlungsdatum"), validators=[InputRequired(DATE)])
    budget_year = IntegerField(
        _l("Haushaltsjahr"),
        validators=[InputRequired(_l("Bitte ein Haushaltsjahr angeben.")), *YEAR],
    )
    municipality_id = ChoiceField(
        _l("Zahlende Kommune"), coerce=optional_id, validators=[DataRequired(CHOOSE)]
    )
    recipient_id = ChoiceField(
        _l("Empfangende Kommune"),
        coerce=optional_id,
        validate_choice=False,
        validators=[Optional()],
        description=_l("Die zahlende Stelle der Kooperation (sonst die federführende Kommune)."),
    )
    kind = ChoiceField(
        _l("Art"),
        choices=[
            SelectChoice("abschlag", _l("Abschlag")),
            SelectChoice("ausgleich", _l("Ausgleich")),
        ],
        validators=[DataRequired(CHOOSE)],
    )
    amount = AmountField(
        _l("Betrag in Euro"),
        validators=[DataRequired(_l("Bitte einen Betrag eingeben."))],
        description=_l("Deutsche Schreibweise, z. B. 4.671,24."),
    )
    note = StringField(_l("Vermerk"), validators=[Optional(), Length(max=300)])


class RejectForm(BaseForm):
    """Reject a submitted cost with a reason."""

    reason = TextAreaField(
        _l("Grund der Ablehnung"),
        validators=[DataRequired(_l("Bitte einen Grund angeben.")), Length(max=1000)],
    )
    version = HiddenField()
