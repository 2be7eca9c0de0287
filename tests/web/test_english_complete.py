"""The English UI is English everywhere a signed-in person can click.

Every page reachable by following links from the start page, as the demo's lead, a
treasurer, the observer and the platform admin, is rendered in English (each kind of page
once: the same page for another year or record adds nothing). The visible
text (and the texts screen readers read: aria-label, title, placeholder, alt, button
values) must not contain one of the UI's own German strings (the msgids of the English
catalogue whose translation differs), nor German dates (10.12.2026), German amounts
(1.046,99 €) or German quotation marks („…“). The demo's own data (titles, goals, names,
cost texts) is German on purpose and is taken out of the text first, and so is what a
page marks as German (lang="de": the language switch's "Deutsch").
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from koopboard.demo import ADMIN, AGS, USERS, load_demo
from koopboard.extensions import db
from koopboard.models import Cooperation, Cost, Milestone, Municipality, Payment, User
from tests.web.test_authorization import sign_in
from tests.web.test_i18n import PO

POPULATION = {"Merchweiler": 9872, "Illingen": 16122, "Eppelborn": 16615, "Schiffweiler": 15409}
MAX_PAGES = 250  # per person; the demo has far fewer
# Links a crawler must not follow: they end the session, switch the language, download
# files (checked elsewhere) or are the mail sink of development.
SKIP = re.compile(r"^/(abmelden|sprache|dev/)|\.(csv|xlsx|pdf|ics)$|/export|/download|/beleg")
GERMAN_DATE = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b")
GERMAN_AMOUNT = re.compile(r"\b\d{1,3}(?:\.\d{3})*,\d{2}\s?€")
GERMAN_QUOTES = re.compile(r"„[^“]*“")
RULES = (GERMAN_DATE, GERMAN_AMOUNT, GERMAN_QUOTES)


class _Text(HTMLParser):
    """Visible text plus the attributes assistive technology reads."""

    READ = ("aria-label", "title", "placeholder", "alt", "aria-description")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip = 0
        self._german: list[str] = []  # open elements marked lang="de" (e.g. "Deutsch")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "style", "template"):
            self._skip += 1
        if (values.get("lang") or "").startswith("de"):
            self._german.append(tag)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        for name in self.READ:
            if values.get(name):
                self.parts.append(values[name])
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1
        if self._german and self._german[-1] == tag:
            self._german.pop()

    def handle_data(self, data: str) -> None:
        if not self._skip and not self._german:
            self.parts.append(data)


def _german_strings() -> list[str]:
    """The UI's German strings that read differently in English, as fixed fragments."""
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    english = " ".join(
        " ".join(m.string) if isinstance(m.string, (list, tuple)) else (m.string or "")
        for m in catalog
        if m.id
    )
    fragments: set[str] = set()
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, (list, tuple)) else [message.id]
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        for msgid, msgstr in zip(ids, strings, strict=False):
            if msgid == msgstr:
                continue
            for fragment in re.split(r"%\(\w+\)[sd]|%[sd]|\{\w*\}|[\n:;()…]", msgid):
                fragment = fragment.strip(" .,!?–-»«\"'")
                # Long enough to be German words, not a symbol; not also English text.
                if len(fragment) >= 5 and re.search(r"[a-zäöüß]{4}", fragment):
                    if fragment not in english:
                        fragments.add(fragment)
    return sorted(fragments, key=len, reverse=True)


def _data_strings() -> list[str]:
    """What the demo stored: German on purpose."""
    values: list[str] = []
    for column in (
        Cooperation.title,
        Cooperation.goals,
        Cost.text,
        Cost.category,
        Cost.rejection_reason,
        Payment.note,
        Milestone.title,
        Milestone.description,
        Municipality.name,
        User.name,
    ):
        values.extend(v for v in db.session.scalars(select(column).distinct()) if v)
    return sorted(set(values), key=len, reverse=True)


@pytest.fixture()
def demo(app, make_municipality):  # noqa: ANN001, ANN201
    for name, ags in AGS.items():
        make_municipality(name, ags, population=POPULATION[name])
    list(load_demo())
    db.session.commit()
    return app


def _crawl(client, start: str = "/") -> dict[str, str]:  # noqa: ANN001
    """GET every internal page reachable from ``start``; path -> visible text."""
    seen: dict[str, str] = {}
    kinds: dict[str, int] = {}  # the same page for another year or number: once is enough
    queue = deque([start])
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        kind = re.sub(r"=[^&]*", "=", re.sub(r"\d+", "#", path))
        if path in seen or kinds.get(kind, 0) >= 1:
            continue
        kinds[kind] = kinds.get(kind, 0) + 1
        response = client.get(path)
        assert response.status_code < 500, f"{path}: {response.status_code}"
        if response.status_code in (301, 302, 303):
            seen[path] = ""
            queue.append(urlsplit(urljoin(path, response.headers["Location"])).path)
            continue
        if not response.mimetype == "text/html":
            seen[path] = ""
            continue
        parser = _Text()
        parser.feed(response.get_data(as_text=True))
        seen[path] = " ".join(" ".join(parser.parts).split())
        for href in parser.links:
            parts = urlsplit(urljoin(path, href))
            if parts.scheme or parts.netloc:
                if parts.netloc not in ("", "localhost"):
                    continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if parts.path.startswith("/") and not SKIP.search(parts.path) and target not in seen:
                queue.append(target)
    return seen


def test_every_page_reads_english_for_every_demo_person(demo) -> None:  # noqa: ANN001
    german = _german_strings()
    assert len(german) > 200, "the catalogue yields the UI's German strings"
    patterns = [(g, re.compile(r"(?<![\wäöüß])" + re.escape(g) + r"(?![\wäöüß])")) for g in german]
    data = _data_strings()
    findings: dict[str, set[str]] = {}
    context: dict[str, str] = {}
    pages = 0
    # The roles see different pages: the lead, a treasurer, an observer and the admin.
    for email in [ADMIN[0], USERS[0][0], USERS[1][0], USERS[4][0]]:
        user = db.session.scalar(select(User).where(User.email == email))
        client = sign_in(demo.test_client(), user.id)
        with client.session_transaction() as session:
            session["locale"] = "en"
        for path, text in _crawl(client).items():
            if not text:
                continue
            pages += 1
            for value in data:
                text = text.replace(value, " ")
            hits = [(f, p.search(text)) for f, p in patterns]
            hits += [(m.group(), m) for r in RULES for m in r.finditer(text)]
            for fragment, match in hits:
                if match:
                    findings.setdefault(fragment, set()).add(path)
                    start = max(match.start() - 40, 0)
                    context.setdefault(fragment, text[start : match.end() + 40])
    assert pages > 20, "the crawl reached the cooperation's pages"
    report = "\n".join(
        f"  {fragment!r} on {', '.join(sorted(paths)[:3])}: …{context[fragment]}…"
        for fragment, paths in sorted(findings.items())
    )
    assert not findings, f"German in the English UI ({len(findings)}):\n{report}"
