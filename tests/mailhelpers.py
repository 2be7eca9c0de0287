"""Reading notification e-mails the way a person does: the plain-text part, its links.

Shared by the browser journeys and the integration tests; they all receive real mail
through the aiosmtpd ``Mailbox`` of tests/conftest.py.
"""

from __future__ import annotations

import re
from email.message import EmailMessage

from tests.conftest import Mailbox

URL = r"(https?://\S+)"


def text(msg: EmailMessage) -> str:
    """The plain-text part with plain newlines (SMTP delivers CRLF)."""
    return Mailbox.text(msg).replace("\r\n", "\n")


def _after(msg: EmailMessage, label: str) -> str:
    """The URL that follows ``label`` on one line of the plain-text part."""
    body = text(msg)
    found = re.search(re.escape(label) + r"\s*" + URL, body)
    assert found, f"no link after {label!r} in:\n{body}"
    return found.group(1)


def page_link(msg: EmailMessage) -> str:
    """The "Zur Seite:" link of a single-event mail."""
    return _after(msg, "Zur Seite:")


def unsubscribe_link(msg: EmailMessage) -> str:
    """The one-click unsubscribe link of a single-event mail (text part and header agree)."""
    link = _after(msg, "abbestellen:")
    assert str(msg["List-Unsubscribe"]) == f"<{link}>"
    return link


def digest_groups(msg: EmailMessage) -> dict[str, list[tuple[str, str]]]:
    """A digest's sections: cooperation title → [(sentence, link), ...] in mail order."""
    main = text(msg).split("\n-- \n", 1)[0]
    groups: dict[str, list[tuple[str, str]]] = {}
    for title, body in re.findall(r"^== (.+?) ==\n(.*?)(?=^== |\Z)", main, re.M | re.S):
        groups[title] = re.findall(r"^- (.+)\n\s+" + URL, body, re.M)
    return groups


def digest_unsubscribes(msg: EmailMessage) -> dict[str, str]:
    """A digest's unsubscribe links per event type label."""
    footer = text(msg).split("Abbestellen je Ereignisart:", 1)[1]
    return dict(re.findall(r"^- (.+?): " + URL, footer, re.M))
