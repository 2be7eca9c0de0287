"""Forms for milestones: the lead's full form and the three inline forms."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from koopboard.domain.catalog import LabelledEnum
from koopboard.domain.milestones import MilestoneStatus, Phase
from koopboard.forms import CHOOSE, DATE, REQUIRED, ChoiceField, GermanDateField
from koopboard.inputs import BaseForm
from koopboard.models import Municipality, User

TITLE_MAX = 200
DESCRIPTION_MAX = 5000
NOTE_MAX = 1000


def enum_choices(enum_cls: type[LabelledEnum]) -> list[SelectChoice]:
    """Choices whose labels are translated when the form is rendered."""
    return [SelectChoice(value, _l(label)) for value, label in enum_cls.choices()]


def _max(n: int) -> Length:
    return Length(max=n, message=_l("Höchstens %(max)d Zeichen.", max=n))


def optional_id(value: object) -> int | None:
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
    completed_on = GermanDateField(
        _l("Erledigt am"),
        validators=[Optional()],
        description=_l("Nur bei „erledigt“: an welchem Tag. Nicht in der Zukunft."),
    )
    # Not checked against the choices here: the service says why (not a partner).
    responsible_municipality_id = ChoiceField(
        _l("Verantwortliche Kommune"),
        coerce=optional_id,
        validate_choice=False,
        validators=[Optional()],
        description=_l("Eine Partnerkommune; ihre Mitglieder können den Stand pflegen."),
    )
    # Checked by the service too: a person with a role, of the responsible municipality.
    responsible_person_id = ChoiceField(
        _l("Verantwortliche Person"),
        coerce=optional_id,
        validate_choice=False,
        validators=[Optional()],
        description=_l(
            "Freiwillig: eine Person der verantwortlichen Kommune mit einer Rolle in dieser "
            "Kooperation. Sie kann den Stand pflegen und sieht den Meilenstein oben in "
            "„Meine nächsten Meilensteine“."
        ),
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

    def validate(self, extra_validators: dict[str, Any] | None = None) -> bool:
        """A milestone that is "erledigt" needs its completion date (``Optional`` would stop
        an inline validator of an empty field before it runs)."""
        valid = super().validate(extra_validators)
        done = self.status.data == MilestoneStatus.ERLEDIGT.value
        if done and self.completed_on.data is None and not self.completed_on.errors:
            self.completed_on.errors = [
                *self.completed_on.errors,
                str(_l("Bitte geben Sie an, an welchem Tag er erledigt wurde.")),
            ]
            return False
        return valid

    def set_partners(self, partners: list[Municipality]) -> None:
        """Offer the cooperation's partner municipalities (and "noch offen")."""
        self.responsible_municipality_id.choices = [
            SelectChoice("", _l("– noch offen –")),
            *(SelectChoice(m.id, m.name) for m in partners),
        ]

    def set_people(self, people: list[User]) -> None:
        """Offer these people (and "niemand"), grouped by their municipality."""
        groups: dict[str | None, list[SelectChoice]] = {None: [SelectChoice("", _l("– niemand –"))]}
        for person in people:
            town = person.municipality.name if person.municipality else ""
            groups.setdefault(town, []).append(SelectChoice(person.id, person.name))
        self.responsible_person_id.choices = groups


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
