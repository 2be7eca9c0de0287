"""Forms of the invitations: the Projektleitung's invite form, the new person's account."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length

from koopboard.auth.forms import AcceptInvitationForm
from koopboard.domain.invitations import INVITABLE_ROLES
from koopboard.forms import CHOOSE, PLEASE_CHOOSE, REQUIRED, ChoiceField
from koopboard.inputs import BaseForm
from koopboard.models import Municipality


def _id_or_none(value: object) -> int | None:
    """A chosen id; the "please choose" entry (and anything else not a number) is None."""
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isdigit() and len(text) < 10 else None


class InvitationForm(BaseForm):
    """Invite an address of a partner municipality with a role (choices set by the view)."""

    municipality_id = ChoiceField(
        _l("Kommune der Person"),
        coerce=_id_or_none,
        validators=[InputRequired(CHOOSE)],
        id="einladung-kommune",  # the form sits on the roles page beside the role form
    )
    email = EmailField(
        _l("E-Mail-Adresse"),
        validators=[
            DataRequired(REQUIRED),
            Email(
                _l("Bitte geben Sie eine gültige E-Mail-Adresse an."), check_deliverability=False
            ),
            Length(max=254),
        ],
        id="einladung-email",
        description=_l(
            "Die Adresse muss nicht zur Kommune passen: Die eingeladene Person bestätigt beim "
            "Annehmen, dass sie dort beschäftigt ist."
        ),
    )
    role = ChoiceField(
        _l("Rolle"),
        choices=[PLEASE_CHOOSE, *(SelectChoice(r.value, _l(r.label)) for r in INVITABLE_ROLES)],
        validators=[DataRequired(CHOOSE)],
        id="einladung-rolle",
        description=_l(
            "Eine weitere Projektleitung kann nur eine Person der federführenden Kommune "
            "übernehmen."
        ),
    )


def invitation_form(partners: Iterable[Municipality], *, bound: bool = True) -> InvitationForm:
    """The invite form offering ``partners`` (the cooperation's current partners); unbound
    where it only shows (on the roles page, whose own form may just have been posted)."""
    form = InvitationForm() if bound else InvitationForm(formdata=None)
    form.municipality_id.choices = [
        PLEASE_CHOOSE,
        *(SelectChoice(m.id, m.name) for m in partners),
    ]
    return form


class NewAccountForm(AcceptInvitationForm):
    """The invited person's account, and their word that they work for the municipality
    (the label names it; set by the view)."""

    confirm = BooleanField(
        _l("Ich bin bei dieser Kommune beschäftigt."),
        validators=[DataRequired(_l("Bitte bestätigen Sie Ihre Kommune."))],
    )


class AnswerForm(BaseForm):
    """CSRF-only form for the accept, decline and withdraw buttons."""
