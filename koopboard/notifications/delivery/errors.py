"""How a failed attempt is judged: worth another try later, or never."""

from __future__ import annotations

import smtplib


class TemporaryDeliveryError(Exception):
    """Worth another try later (4xx, connection refused or dropped)."""


class PermanentDeliveryError(Exception):
    """No retry can help (5xx, no address)."""


def classify(exc: BaseException) -> type[TemporaryDeliveryError] | type[PermanentDeliveryError]:
    """Temporary for 4xx and network trouble, permanent for 5xx."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        temporary = codes and all(400 <= code < 500 for code in codes)
        return TemporaryDeliveryError if temporary else PermanentDeliveryError
    if isinstance(exc, smtplib.SMTPResponseException):
        return TemporaryDeliveryError if 400 <= exc.smtp_code < 500 else PermanentDeliveryError
    return TemporaryDeliveryError  # disconnects, refused connections, timeouts (all OSError)
