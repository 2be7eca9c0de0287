"""The invitation and password-reset e-mails."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _

from koopboard.extensions import db
from koopboard.mail import build_message, send_message
from koopboard.models import AccountToken


def send_token_mail(token_id: int, link: str) -> None:
    """Compose and send the mail for one account token (called by the Celery task)."""
    row = db.session.get(AccountToken, token_id)
    if row is None or row.used_at is not None:
        return
    if row.purpose == "invite":
        subject = _("Einladung zu KoopBoard (%(m)s)", m=row.municipality.name)
        template = "auth/mail/invitation"
    else:
        subject = _("KoopBoard: Passwort zurücksetzen")
        template = "auth/mail/reset"
    context = {"token": row, "link": link}
    msg = build_message(
        row.email,
        subject,
        render_template(f"{template}.txt", **context),
        render_template(f"{template}.html", **context),
        message_id=f"<account-token-{row.id}@koopboard.localhost>",
    )
    send_message(msg)
