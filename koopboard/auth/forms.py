"""Forms translate between HTTP and the account services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from koopboard.inputs import BaseForm

REQUIRED = _l("Bitte füllen Sie dieses Feld aus.")
EMAIL = _l("Bitte geben Sie eine gültige E-Mail-Adresse an.")
PASSWORD_LENGTH = _l("Das Passwort muss mindestens 12 Zeichen lang sein.")


class LoginForm(BaseForm):
    email = EmailField(_l("E-Mail-Adresse"), validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("Passwort"), validators=[DataRequired(REQUIRED), Length(max=1000)])


class InviteForm(BaseForm):
    email = EmailField(
        _l("E-Mail-Adresse"),
        validators=[
            DataRequired(REQUIRED),
            Email(EMAIL, check_deliverability=False),
            Length(max=254),
        ],
    )


class NewPasswordMixin:
    password = PasswordField(
        _l("Neues Passwort"),
        validators=[DataRequired(REQUIRED), Length(min=12, max=1000, message=PASSWORD_LENGTH)],
        description=_l("Mindestens 12 Zeichen. Ein Satz aus mehreren Wörtern ist gut zu merken."),
    )
    password_confirm = PasswordField(
        _l("Passwort wiederholen"),
        validators=[
            DataRequired(REQUIRED),
            EqualTo("password", message=_l("Die Passwörter stimmen nicht überein.")),
        ],
    )


class AcceptInvitationForm(NewPasswordMixin, BaseForm):
    name = StringField(
        _l("Ihr Name"),
        validators=[
            DataRequired(REQUIRED),
            Length(max=200, message=_l("Höchstens %(max)d Zeichen.")),
        ],
    )


class ForgotPasswordForm(BaseForm):
    email = EmailField(_l("E-Mail-Adresse"), validators=[DataRequired(REQUIRED), Length(max=254)])


class ResetPasswordForm(NewPasswordMixin, BaseForm):
    pass
