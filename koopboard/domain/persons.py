"""How KoopBoard names a person whose account was anonymised (Art. 17 DSGVO).

The stored text is German (the product language); pages and mails show it in the reader's
language (``koopboard.i18n.person``)."""

from __future__ import annotations

from koopboard.domain.catalog import N_

ANONYMISED_NAME = N_("ehemalige Person (anonymisiert)")
# RFC 2606 reserves .invalid: no mail server anywhere accepts a message for it.
ANONYMISED_EMAIL_DOMAIN = "anonymisiert.invalid"


def anonymised_email(user_id: int) -> str:
    """The unique, undeliverable address an anonymised account keeps (e-mail is unique)."""
    return f"person-{user_id}@{ANONYMISED_EMAIL_DOMAIN}"
