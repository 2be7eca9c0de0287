"""The invitation and password-reset e-mails."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy import select

from koopboard.extensions import db
from koopboard.mail import build_message, send_message
from koopboard.models import AccountToken, User


def send_token_mail(token_id: int, link: str) -> None:
    """Compose and send the mail for one account token (called by the Celery task).

    An invitation to an address that has an account carries no link: it tells the account
    holder who wanted to invite them and how to sign in. The inviter got the same answer
    either way, so the form never tells whether an address is registered."""
    row = db.session.get(AccountToken, token_id)
    if row is None or row.used_at is not None:
        return
    context: dict[str, object] = {"token": row, "link": link}
    if row.purpose == "invite" and _has_account(row.email):
        base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
        inviter = db.session.get(User, row.created_by_id) if row.created_by_id else None
        subject = _("KoopBoard: Sie haben bereits ein Konto")
        template = "auth/mail/already_registered"
        context.update(
            inviter=inviter,
            login_link=f"{base}/anmelden",
            reset_link=f"{base}/passwort-vergessen",
        )
    elif row.purpose == "invite":
        subject = _("Einladung zu KoopBoard (%(m)s)", m=row.municipality.name)
        template = "auth/mail/invitation"
    else:
        subject = _("KoopBoard: Passwort zurücksetzen")
        template = "auth/mail/reset"
    msg = build_message(
        row.email,
        subject,
        render_template(f"{template}.txt", **context),
        render_template(f"{template}.html", **context),
        message_id=f"<account-token-{row.id}@koopboard.localhost>",
    )
    send_message(msg)


def _has_account(email: str) -> bool:
    return db.session.scalar(select(User.id).where(User.email == email)) is not None
