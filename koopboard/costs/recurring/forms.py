"""The form of a recurring cost (Kämmerei); ``version`` guards against lost updates."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from koopboard.costs.forms import AmountField, optional_id
from koopboard.costs.recurring.services import RecurringData
from koopboard.forms import CHOOSE, DATE, REQUIRED, ChoiceField, GermanDateField
from koopboard.inputs import BaseForm
from koopboard.models.cost import RecurringInterval

INTERVALS = [SelectChoice(i.value, _l(i.label)) for i in RecurringInterval]


class RecurringForm(BaseForm):
    """Set up or change a recurring cost (Kämmerei); ``version`` guards against lost updates."""

    text = StringField(_l("Buchungstext"), validators=[DataRequired(REQUIRED), Length(max=300)])
    category = StringField(
        _l("Kategorie"),
        validators=[Optional(), Length(max=100)],
        description=_l("z. B. Miete, Lizenzen, Wartung."),
    )
    amount = AmountField(
        _l("Betrag in Euro"),
        validators=[DataRequired(_l("Bitte einen Betrag eingeben."))],
        description=_l(
            "Je Fälligkeit; deutsche Schreibweise, z. B. 1.250,00. Nur positive Beträge."
        ),
    )
    net_amount = AmountField(_l("Netto (optional)"), validators=[Optional()])
    vat_amount = AmountField(
        _l("Umsatzsteuer (optional)"),
        validators=[Optional()],
        description=_l("Nur wo § 2b UStG greift; Netto und Umsatzsteuer ergeben den Betrag."),
    )
    paid_by_id = ChoiceField(
        _l("Vorgeleistet von"),
        coerce=optional_id,
        validate_choice=False,
        validators=[Optional()],
        description=_l("Die Kommune, die die Rechnungen bezahlt (sonst die federführende)."),
    )
    interval = ChoiceField(_l("Rhythmus"), choices=INTERVALS, validators=[DataRequired(CHOOSE)])
    day_of_month = IntegerField(
        _l("Tag im Monat"),
        validators=[
            Optional(),
            NumberRange(1, 31, message=_l("Bitte einen Tag zwischen 1 und 31 angeben.")),
        ],
        description=_l(
            "An diesem Tag ist die Zahlung fällig. Bei 29, 30 oder 31 gilt in kürzeren Monaten "
            "der letzte Tag des Monats. Leer: der Tag des Beginns."
        ),
    )
    start_date = GermanDateField(
        _l("Beginn"),
        validators=[InputRequired(DATE)],
        description=_l("Die erste Fälligkeit ist der Tag im Monat ab diesem Datum."),
    )
    end_date = GermanDateField(
        _l("Ende (optional)"),
        validators=[Optional()],
        description=_l("Nach diesem Datum entstehen keine Entwürfe mehr."),
    )
    version = HiddenField()

    def data_for_service(self) -> RecurringData:
        """The parsed values for the services."""
        return RecurringData(
            text=self.text.data or "",
            category=self.category.data or "",
            amount=self.amount.amount,  # type: ignore[arg-type]
            net_amount=self.net_amount.amount,
            vat_amount=self.vat_amount.amount,
            paid_by_id=self.paid_by_id.data,
            interval=self.interval.data or "",
            start_date=self.start_date.data,  # type: ignore[arg-type]
            end_date=self.end_date.data,
            day_of_month=self.day_of_month.data,
        )
