"""Forms for cooperations, partners and roles."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from koopboard.domain.catalog import (
    CooperationStatus,
    Handlungsfeld,
    LabelledEnum,
    Rechtsform,
    Role,
)
from koopboard.inputs import BaseForm

REQUIRED = _l("Bitte füllen Sie dieses Feld aus.")
CHOOSE = _l("Bitte wählen Sie einen Eintrag aus der Liste.")
DATE = _l("Bitte geben Sie ein gültiges Datum an (TT.MM.JJJJ).")


PLEASE_CHOOSE = SelectChoice("", _l("– bitte wählen –"))


def _choices(enum_cls: type[LabelledEnum]) -> list[SelectChoice]:
    """Choices whose labels are translated when the form is rendered."""
    return [SelectChoice(value, _l(label)) for value, label in enum_cls.choices()]


def _max(n: int) -> Length:
    return Length(max=n, message=_l("Höchstens %(max)d Zeichen.", max=n))


class GermanDateField(DateField):
    """Accepts the browser's ISO date and the German ``TT.MM.JJJJ`` typed by hand."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        kwargs.setdefault("format", ["%Y-%m-%d", "%d.%m.%Y"])
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(DATE)) from exc


class ChoiceField(SelectField):
    """A select whose "not in the list" message is ours (German, like the others)."""

    def pre_validate(self, form: FlaskForm) -> None:
        try:
            super().pre_validate(form)
        except ValidationError as exc:
            raise ValidationError(str(CHOOSE)) from exc


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
        choices=[PLEASE_CHOOSE, *_choices(Handlungsfeld)],
        validators=[DataRequired(CHOOSE)],
    )
    rechtsform = ChoiceField(
        _l("Rechtsform"),
        choices=[PLEASE_CHOOSE, *_choices(Rechtsform)],
        validators=[DataRequired(CHOOSE)],
        description=_l("Von der losesten bis zur verbindlichsten Form."),
    )
    status = ChoiceField(
        _l("Status"), choices=_choices(CooperationStatus), validators=[DataRequired(CHOOSE)]
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
    role = ChoiceField(_l("Rolle"), choices=_choices(Role), validators=[DataRequired(CHOOSE)])


class DeleteForm(BaseForm):
    """CSRF-only form for delete buttons."""
