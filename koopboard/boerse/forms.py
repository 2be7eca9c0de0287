"""Forms of the Kooperationsbörse: the listing, contact and join requests, decisions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from koopboard.domain.catalog import CooperationStatus, Handlungsfeld, Rechtsform
from koopboard.domain.directory import RADIUS_MAX_KM, SUMMARY_MAX, Visibility
from koopboard.forms import REQUIRED, ChoiceField, GermanDateField, enum_choices
from koopboard.inputs import BaseForm

CHOOSE = _l("Bitte wählen Sie einen Eintrag aus der Liste.")
DATE = _l("Bitte geben Sie ein gültiges Datum an (TT.MM.JJJJ).")


def _max(n: int) -> Length:
    return Length(max=n, message=_l("Höchstens %(max)d Zeichen.", max=n))


class ListingForm(BaseForm):
    """What the Projektleitung publishes about the cooperation, and to whom."""

    visibility = ChoiceField(
        _l("Sichtbarkeit in der Kooperationsbörse"),
        choices=enum_choices(Visibility),
        validators=[DataRequired(CHOOSE)],
        description=_l(
            "Der Eintrag zeigt nur Titel, Handlungsfeld, Rechtsform, Status, Region, "
            "Partnerkommunen, Startjahr, die Kurzbeschreibung und was Sie suchen – nie Kosten, "
            "Meilensteine, E-Mail-Adressen oder den Verlauf."
        ),
    )
    summary = TextAreaField(
        _l("Kurzbeschreibung für die Kooperationsbörse"),
        validators=[Optional(), _max(SUMMARY_MAX)],
        description=_l(
            "Für Außenstehende geschrieben, getrennt von den internen Zielen. "
            "Höchstens 2.000 Zeichen."
        ),
    )
    seeking_partners = BooleanField(_l("Neue Partnerkommunen sind willkommen"))
    seeking_kreis = StringField(
        _l("Gesucht im Kreis"),
        validators=[Optional(), _max(200)],
        description=_l("Optional: der Kreis, aus dem Sie Partner suchen, wie im Register."),
    )
    seeking_radius_km = IntegerField(
        _l("Gesucht im Umkreis (km)"),
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=RADIUS_MAX_KM,
                message=_l("Bitte eine Zahl zwischen 1 und %(n)d.", n=RADIUS_MAX_KM),
            ),
        ],
        description=_l("Optional: Entfernung von der federführenden Kommune."),
    )


class ContactForm(BaseForm):
    """A message to the cooperation's Projektleitung."""

    message = TextAreaField(
        _l("Ihre Nachricht"),
        validators=[DataRequired(REQUIRED), _max(3000)],
        description=_l(
            "Die Projektleitung erhält Ihre Nachricht mit Ihrem Namen, Ihrer Kommune und "
            "Ihrer E-Mail-Adresse, damit sie antworten kann. Höchstens 3.000 Zeichen."
        ),
    )


class JoinRequestForm(BaseForm):
    """Ask to join with a message and the intended join date."""

    message = TextAreaField(
        _l("Nachricht an die Projektleitung"),
        validators=[DataRequired(REQUIRED), _max(3000)],
        description=_l("Warum möchte Ihre Kommune beitreten? Höchstens 3.000 Zeichen."),
    )
    intended_join_on = GermanDateField(
        _l("Gewünschter Beitritt am"), validators=[InputRequired(DATE)]
    )


class AcceptForm(BaseForm):
    """Accept a join request: the join date and, optionally, the council resolution."""

    joined_on = GermanDateField(_l("Beitritt am"), validators=[InputRequired(DATE)])
    council_resolution_on = GermanDateField(
        _l("Gremienbeschluss vom"),
        validators=[Optional()],
        description=_l("Datum des Rats- oder Gemeinderatsbeschlusses der neuen Partnerkommune."),
    )


class DeclineForm(BaseForm):
    """Decline a join request with a reason the requester reads."""

    reason = TextAreaField(
        _l("Begründung"),
        validators=[DataRequired(REQUIRED), _max(2000)],
        description=_l("Die Kommune erhält diese Begründung."),
    )


class ActionForm(BaseForm):
    """CSRF-only form for buttons (withdraw)."""


class DirectoryFilterForm(BaseForm):
    """The directory's filters: a plain GET form, so every search has a shareable URL."""

    class Meta:
        csrf = False  # a search changes nothing

    q = StringField(
        _l("Suchbegriff"),
        validators=[Optional(), _max(200)],
        description=_l("Titel, Beschreibung oder Name einer Partnerkommune."),
    )
    handlungsfeld = ChoiceField(
        _l("Handlungsfeld"),
        choices=[SelectChoice("", _l("alle")), *enum_choices(Handlungsfeld)],
        validators=[Optional()],
    )
    land = ChoiceField(_l("Land"), choices=[], validators=[Optional()])
    kreis = ChoiceField(_l("Kreis"), choices=[], validators=[Optional()])
    rechtsform = ChoiceField(
        _l("Rechtsform"),
        choices=[SelectChoice("", _l("alle")), *enum_choices(Rechtsform)],
        validators=[Optional()],
    )
    status = ChoiceField(
        _l("Status"),
        choices=[SelectChoice("", _l("alle")), *enum_choices(CooperationStatus)],
        validators=[Optional()],
    )
    art = ChoiceField(
        _l("Art des Eintrags"),
        choices=[
            SelectChoice("", _l("alle")),
            SelectChoice("kooperation", _l("Kooperationen in KoopBoard")),
            SelectChoice("verband", _l("aus dem Gemeindeverzeichnis")),
        ],
        validators=[Optional()],
    )
    sucht = BooleanField(_l("nur Kooperationen, die neue Partner suchen"))
    umkreis = IntegerField(
        _l("Umkreis (km)"),
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=RADIUS_MAX_KM,
                message=_l("Bitte eine Zahl zwischen 1 und %(n)d.", n=RADIUS_MAX_KM),
            ),
        ],
    )
    von = StringField(
        _l("um die Kommune"),
        validators=[Optional(), _max(100)],
        description=_l("Name oder AGS; ohne Angabe Ihre eigene Kommune."),
    )
    seite = IntegerField(validators=[Optional()])
