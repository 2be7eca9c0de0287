"""Form pieces every area uses: the common German messages, a date field that also takes
``TT.MM.JJJJ``, a select whose "not in the list" message is ours, and translated choices."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import Select

from koopboard.domain.catalog import LabelledEnum

REQUIRED = _l("Bitte füllen Sie dieses Feld aus.")
CHOOSE = _l("Bitte wählen Sie einen Eintrag aus der Liste.")
DATE = _l("Bitte geben Sie ein gültiges Datum an (TT.MM.JJJJ).")


PLEASE_CHOOSE = SelectChoice("", _l("– bitte wählen –"))


def enum_choices(enum_cls: type[LabelledEnum]) -> list[SelectChoice]:
    """Choices whose labels are translated when the form is rendered."""
    return [SelectChoice(value, _l(label)) for value, label in enum_cls.choices()]


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


class FastSelect(Select):
    """wtforms' select with the same markup, each plain option written directly: a select
    of the register's ~400 Kreise cost milliseconds through ``html_params`` per option."""

    @classmethod
    def render_option(cls, choice, **kwargs) -> Markup:  # noqa: ANN001, ANN003
        if choice.render_kw or kwargs or isinstance(choice.value, bool):
            return super().render_option(choice, **kwargs)
        selected = "selected " if choice.selected else ""  # html_params' order
        label = escape(choice.label or choice.value)
        # Both interpolated values are escaped right here; the rest is a constant.
        return Markup(f'<option {selected}value="{escape(choice.value)}">{label}</option>')  # nosec B704


class ChoiceField(SelectField):
    """A select whose "not in the list" message is ours (German, like the others)."""

    widget = FastSelect()

    def pre_validate(self, form: FlaskForm) -> None:
        try:
            super().pre_validate(form)
        except ValidationError as exc:
            raise ValidationError(str(CHOOSE)) from exc
