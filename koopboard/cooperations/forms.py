"""Forms for cooperations, partners and roles."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from koopboard.domain.catalog import CooperationStatus, Handlungsfeld, Rechtsform, Role
from koopboard.forms import (
    CHOOSE,
    DATE,
    PLEASE_CHOOSE,
    REQUIRED,
    ChoiceField,
    GermanDateField,
    enum_choices,
)
from koopboard.inputs import BaseForm


def _max(n: int) -> Length:
    return Length(max=n, message=_l("Höchstens %(max)d Zeichen.", max=n))


class CooperationForm(BaseForm):
    """Master data of a cooperation; ``version`` guards against lost updates."""

    title = StringField(_l("Titel"), validators=[DataRequired(REQUIRED), _max(200)])
    goals = TextAreaField(
        _l("Ziele"),
        validators=[Optional(), _max(5000)],
        description=_l("Was soll die Kooperation erreichen? Höchstens 5.000 Zeichen."),
    )
    handlungsfeld = ChoiceField(
        _l("Handlungsfeld"),
        choices=[PLEASE_CHOOSE, *enum_choices(Handlungsfeld)],
        validators=[DataRequired(CHOOSE)],
    )
    rechtsform = ChoiceField(
        _l("Rechtsform"),
        choices=[PLEASE_CHOOSE, *enum_choices(Rechtsform)],
        validators=[DataRequired(CHOOSE)],
        description=_l("Von der losesten bis zur verbindlichsten Form."),
    )
    status = ChoiceField(
        _l("Status"), choices=enum_choices(CooperationStatus), validators=[DataRequired(CHOOSE)]
    )
    start_date = GermanDateField(_l("Beginn"), validators=[InputRequired(DATE)])
    end_date = GermanDateField(_l("Ende"), validators=[Optional()])
    lead_may_approve = BooleanField(
        _l("Projektleitung darf Kosten freigeben, solange es nur eine Person in der Kämmerei gibt"),
        description=_l(
            "Vier-Augen-Prinzip mit nur einer Kämmerei: Die Projektleitung ist dann das zweite "
            "Augenpaar. Eigene Buchungen kann niemand selbst freigeben."
        ),
    )
    version = HiddenField()

    def validate_end_date(self, field: GermanDateField) -> None:
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_l("Das Ende darf nicht vor dem Beginn liegen."))


class PartnerForm(BaseForm):
    """Add a partner: search by name, postcode or AGS, then pick one."""

    query = StringField(
        _l("Kommune suchen"),
        validators=[Optional(), _max(100)],
        description=_l("Name, Postleitzahl oder achtstelliger Gemeindeschlüssel (AGS)."),
    )
    ags = StringField(
        _l("Amtlicher Gemeindeschlüssel (AGS)"),
        description=_l("Acht Ziffern. Wenn Sie ihn kennen, statt der Suche direkt eintragen."),
        validators=[
            Optional(),
            Regexp(r"^\d{8}$", message=_l("Der AGS hat genau acht Ziffern.")),
        ],
    )
    joined_on = GermanDateField(_l("Beitritt am"), validators=[InputRequired(DATE)])
    council_resolution_on = GermanDateField(
        _l("Gremienbeschluss vom"),
        validators=[Optional()],
        description=_l("Datum des Rats- oder Gemeinderatsbeschlusses der Partnerkommune."),
    )


class PartnerEditForm(BaseForm):
    """A partner's join and leave dates and its council resolution."""

    joined_on = GermanDateField(_l("Beitritt am"), validators=[InputRequired(DATE)])
    left_on = GermanDateField(_l("Austritt am"), validators=[Optional()])
    council_resolution_on = GermanDateField(_l("Gremienbeschluss vom"), validators=[Optional()])

    def validate_left_on(self, field: GermanDateField) -> None:
        if field.data and self.joined_on.data and field.data < self.joined_on.data:
            raise ValidationError(_l("Der Austritt darf nicht vor dem Beitritt liegen."))


class RoleForm(BaseForm):
    """Give a person of a partner municipality a role."""

    user_id = ChoiceField(_l("Person"), coerce=int, validators=[InputRequired(CHOOSE)])
    # No preselection: a role is given on purpose, not by leaving the first entry in place.
    role = ChoiceField(
        _l("Rolle"),
        choices=[PLEASE_CHOOSE, *enum_choices(Role)],
        validators=[DataRequired(_l("Bitte wählen Sie die Rolle aus."))],
    )


class DeleteForm(BaseForm):
    """CSRF-only form for delete buttons."""


class HistoryFilterForm(BaseForm):
    """The history's filter: a plain GET form, so a filtered history has its own address."""

    class Meta:
        csrf = False  # a filter changes nothing

    art = ChoiceField(_l("Art des Datensatzes"), choices=[], validators=[Optional()])
    person = ChoiceField(_l("Person"), choices=[], validators=[Optional()])
    von = GermanDateField(_l("Von (Datum)"), validators=[Optional()])
    bis = GermanDateField(_l("Bis (Datum)"), validators=[Optional()])

    def set_choices(self, record_types: dict[str, object], people: list[tuple[int, str]]) -> None:
        self.art.choices = [
            SelectChoice("", _l("Alle Arten")),
            *(SelectChoice(key, label) for key, label in record_types.items()),
        ]
        self.person.choices = [
            SelectChoice("", _l("Alle Personen")),
            *(SelectChoice(str(uid), name) for uid, name in people),
        ]

    def validate_bis(self, field: GermanDateField) -> None:
        if field.data and self.von.data and field.data < self.von.data:
            raise ValidationError(_l("Das Ende des Zeitraums darf nicht vor dem Beginn liegen."))
