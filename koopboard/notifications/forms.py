"""Forms for the notification settings and the in-app list."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from koopboard.domain.notifications import DeliveryMode, EventType
from koopboard.forms import CHOOSE, PLEASE_CHOOSE, ChoiceField, enum_choices
from koopboard.inputs import BaseForm

WEEKDAYS = [
    SelectChoice(1, _l("Montag")),
    SelectChoice(2, _l("Dienstag")),
    SelectChoice(3, _l("Mittwoch")),
    SelectChoice(4, _l("Donnerstag")),
    SelectChoice(5, _l("Freitag")),
    SelectChoice(6, _l("Samstag")),
    SelectChoice(7, _l("Sonntag")),
]


class CheckboxListField(SelectMultipleField):
    """Several checkboxes (one per choice) with a German "not in the list" message."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: FlaskForm) -> None:
        try:
            super().pre_validate(form)
        except ValidationError as exc:
            raise ValidationError(str(CHOOSE)) from exc


class SettingsForm(BaseForm):
    """Digest schedule and pause switch; the modes per event type are read by the view."""

    digest_days = CheckboxListField(
        _l("Tage der Sammel-E-Mail"), choices=WEEKDAYS, coerce=int, default=[1, 2, 3, 4, 5]
    )
    digest_hour = ChoiceField(
        _l("Uhrzeit der Sammel-E-Mail"),
        choices=[SelectChoice(h, f"{h:02d}:00") for h in range(24)],
        coerce=int,
        default=7,
        validators=[InputRequired(CHOOSE)],
        description=_l("Zeitzone Europe/Berlin"),
    )
    paused = BooleanField(
        _l("Alle Benachrichtigungen pausieren"),
        description=_l(
            "Solange die Pause gilt, erhalten Sie keine E-Mails; "
            "die Liste in KoopBoard zeigt weiterhin alles."
        ),
    )


class OverrideForm(BaseForm):
    """One exception for one of the user's cooperations."""

    cooperation_id = ChoiceField(_l("Kooperation"), validators=[DataRequired(CHOOSE)], choices=[])
    event_type = ChoiceField(
        _l("Art der Benachrichtigung"),
        choices=[PLEASE_CHOOSE, *enum_choices(EventType)],
        validators=[DataRequired(CHOOSE)],
    )
    mode = ChoiceField(
        _l("Zustellung"),
        choices=[PLEASE_CHOOSE, *enum_choices(DeliveryMode)],
        validators=[DataRequired(CHOOSE)],
    )

    def set_cooperations(self, cooperations: list[tuple[int, str]]) -> None:
        self.cooperation_id.choices = [
            PLEASE_CHOOSE,
            *(SelectChoice(str(cid), title) for cid, title in cooperations),
        ]


class ActionForm(BaseForm):
    """Only the CSRF token: mark read, remove an exception."""


class FeedFilterForm(BaseForm):
    """The feed's filter: a plain GET form, so a filtered feed has its own address."""

    class Meta:
        csrf = False  # a filter changes nothing

    kooperation = ChoiceField(_l("Kooperation"), choices=[], validators=[Optional()])

    def set_cooperations(self, cooperations: list[tuple[int, str]]) -> None:
        self.kooperation.choices = [
            SelectChoice("", _l("Alle Kooperationen")),
            *(SelectChoice(str(cid), title) for cid, title in cooperations),
        ]

    def cooperation_id(self) -> int | None:
        """The chosen cooperation, once validated (None: all)."""
        value = self.kooperation.data
        return int(value) if value and not self.kooperation.errors else None
