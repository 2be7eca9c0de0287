"""Thin task wrappers around the mail service: they take ids, not objects."""

from __future__ import annotations

from celery import shared_task

# A mail server that is down or refuses for a while: retry with growing pauses, up to ~1 h.
RETRY_ON_MAIL_SERVER = {
    "autoretry_for": (OSError,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(**RETRY_ON_MAIL_SERVER)
def send_account_mail(token_id: int, link: str) -> None:
    """Send the invitation or password-reset e-mail for one account token."""
    from koopboard.auth.mails import send_token_mail

    send_token_mail(token_id, link)


@shared_task(**RETRY_ON_MAIL_SERVER)
def send_invitation_mail(invitation_id: int, link: str) -> None:
    """Send the account link of an invitation into a cooperation (a new address)."""
    from koopboard.cooperations.invitations.mails import send_invitation_mail as send

    send(invitation_id, link)


@shared_task(**RETRY_ON_MAIL_SERVER)
def send_withdrawal_mail(invitation_id: int) -> None:
    """Tell an address without an account that its invitation was withdrawn."""
    from koopboard.cooperations.invitations.mails import send_withdrawal_mail as send

    send(invitation_id)
