"""The Kooperations-Check form: the seven questions with answers that fit each."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from koopboard.domain.catalog import Handlungsfeld
from koopboard.domain.check import QUESTIONS, Scale
from koopboard.forms import enum_choices
from koopboard.inputs import BaseForm

CHOOSE = _l("Bitte wählen Sie eine Antwort.")
YES_NO = [SelectChoice("ja", _l("ja")), SelectChoice("nein", _l("nein"))]


def _max(n: int) -> Length:
    return Length(max=n, message=_l("Höchstens %(max)d Zeichen.", max=n))


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes (a fieldset with one label per box)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CheckForm(BaseForm):
    """The seed's checklist, question by question (labels are the questions themselves)."""

    q1_fields = CheckboxesField(
        _l(QUESTIONS[0]), choices=enum_choices(Handlungsfeld), validators=[Optional()]
    )
    q1_text = TextAreaField(
        _l("Weitere Bereiche oder Erläuterung"), validators=[Optional(), _max(2000)]
    )
    q2 = RadioField(
        _l(QUESTIONS[1]), choices=enum_choices(Scale), validators=[InputRequired(CHOOSE)]
    )
    q3 = RadioField(_l(QUESTIONS[2]), choices=YES_NO, validators=[InputRequired(CHOOSE)])
    q3_fields = CheckboxesField(
        _l("In welchen Handlungsfeldern?"),
        choices=enum_choices(Handlungsfeld),
        validators=[Optional()],
    )
    # Question 3's partners: found with the partner form's register search, chosen ones
    # posted as ``q3_partner`` (AGS) checkboxes (read by the view, not a WTForms field).
    q3_query = StringField(
        _l("Partnerkommune suchen"),
        validators=[Optional(), _max(100)],
        description=_l("Name, Postleitzahl oder AGS, wie im Gemeindeverzeichnis."),
    )
    q4 = RadioField(
        _l(QUESTIONS[3]), choices=enum_choices(Scale), validators=[InputRequired(CHOOSE)]
    )
    q5 = RadioField(_l(QUESTIONS[4]), choices=YES_NO, validators=[InputRequired(CHOOSE)])
    q5_text = StringField(_l("Welche Gesprächskreise?"), validators=[Optional(), _max(1000)])
    q6 = RadioField(_l(QUESTIONS[5]), choices=YES_NO, validators=[InputRequired(CHOOSE)])
    q6_text = StringField(_l("Welche Informationsangebote?"), validators=[Optional(), _max(1000)])
    q7 = RadioField(_l(QUESTIONS[6]), choices=YES_NO, validators=[InputRequired(CHOOSE)])
    # Question 7: entries of the Kooperationsbörse picked (``q7_entry`` checkboxes) and/or
    # free text for what is not in it.
    q7_query = StringField(
        _l("In der Kooperationsbörse suchen"),
        validators=[Optional(), _max(200)],
        description=_l("Titel, Beschreibung oder Name einer Partnerkommune."),
    )
    q7_text = TextAreaField(
        _l("Weitere Kooperationen, die nicht in der Kooperationsbörse stehen"),
        validators=[Optional(), _max(2000)],
    )
