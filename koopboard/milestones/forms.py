"""Forms for milestones: the lead's full form and the three inline forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from koopboard.domain.catalog import LabelledEnum
from koopboard.domain.milestones import MilestoneStatus, Phase
from koopboard.forms import CHOOSE, DATE, REQUIRED, ChoiceField, GermanDateField
from koopboard.inputs import BaseForm
from koopboard.models import Municipality

TITLE_MAX = 200
DESCRIPTION_MAX = 5000
NOTE_MAX = 1000


def enum_choices(enum_cls: type[LabelledEnum]) -> list[SelectChoice]:
    """Choices whose labels are translated when the form is rendered."""
    return [SelectChoice(value, _l(label)) for value, label in enum_cls.choices()]


def _max(n: int) -> Length:
    return Length(max=n, message=_l("Höchstens %(max)d Zeichen.", max=n))


def _optional_id(value: object) -> int | None:
    """The empty choice means nobody yet; garbage becomes -1, which no municipality has."""
    if value in (None, "", "None"):
        return None
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return -1


class MilestoneForm(BaseForm):
    """Create or edit a milestone (Projektleitung); ``version`` guards against lost updates."""

    title = StringField(_l("Titel"), validators=[DataRequired(REQUIRED), _max(TITLE_MAX)])
    phase = ChoiceField(_l("Phase"), choices=enum_choices(Phase), validators=[DataRequired(CHOOSE)])
    due_date = GermanDateField(
        _l("Fällig am"),
        validators=[InputRequired(DATE)],
        description=_l("Nicht vor dem Beginn der Kooperation."),
    )
    status = ChoiceField(
        _l("Status"), choices=enum_choices(MilestoneStatus), validators=[DataRequired(CHOOSE)]
    )
    # Not checked against the choices here: the service says why (not a partner).
    responsible_municipality_id = ChoiceField(
        _l("Verantwortliche Kommune"),
        coerce=_optional_id,
        validate_choice=False,
        validators=[Optional()],
        description=_l("Eine Partnerkommune; ihre Mitglieder können den Stand pflegen."),
    )
    description = TextAreaField(
        _l("Beschreibung"),
        validators=[Optional(), _max(DESCRIPTION_MAX)],
        description=_l("Höchstens 5.000 Zeichen."),
    )
    progress_note = TextAreaField(
        _l("Fortschrittsnotiz"),
        validators=[Optional(), _max(NOTE_MAX)],
        description=_l("Kurz: was ist erreicht, was fehlt? Höchstens 1.000 Zeichen."),
    )
    version = HiddenField()

    def set_partners(self, partners: list[Municipality]) -> None:
        """Offer the cooperation's partner municipalities (and "noch offen")."""
        self.responsible_municipality_id.choices = [
            SelectChoice("", _l("– noch offen –")),
            *(SelectChoice(m.id, m.name) for m in partners),
        ]


class StatusForm(BaseForm):
    """Inline: the status of one milestone."""

    status = ChoiceField(
        _l("Status"), choices=enum_choices(MilestoneStatus), validators=[DataRequired(CHOOSE)]
    )
    version = HiddenField()


class DueDateForm(BaseForm):
    """Inline: the due date of one milestone (Projektleitung)."""

    due_date = GermanDateField(_l("Fällig am"), validators=[InputRequired(DATE)])
    version = HiddenField()


class NoteForm(BaseForm):
    """Inline: the progress note of one milestone."""

    progress_note = TextAreaField(_l("Fortschrittsnotiz"), validators=[Optional(), _max(NOTE_MAX)])
    version = HiddenField()


class FeedForm(BaseForm):
    """CSRF-only form: set up or rotate the secret calendar address."""
