"""Page structure the look depends on: one primary action per form, destructive actions
marked as such (the demo cooperation's pages as its lead and a treasurer see them)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from koopboard.demo import AGS, DEMO_PASSWORD, TITLE, load_demo
from koopboard.domain.milestones import berlin_today
from koopboard.extensions import db
from koopboard.models import Cooperation, CooperationPartner, Cost, Municipality
from koopboard.models.cost import CostState
from tests.conftest import login

DESTRUCTIVE = (
    "Ablehnen",
    "ablehnen",
    "Stornieren",
    "entfernen",
    "Beenden",
    "zurückziehen",
    "Neue geheime Adressen",
)
# Row actions drawn as links (.link-button) that remove something are red (.link-danger).
DESTRUCTIVE_LINKS = ("Rolle entfernen", "Zurückziehen")


class _Forms(HTMLParser):
    """Per form: the classes and text of its buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[list[tuple[set[str], str]]] = []
        self._in_form = 0
        self._button: tuple[set[str], list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form":
            self._in_form += 1
            self.forms.append([])
        elif tag == "button" and self._in_form:
            self._button = (set((dict(attrs).get("class") or "").split()), [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form -= 1
        elif tag == "button" and self._button is not None:
            classes, text = self._button
            self.forms[-1].append((classes, " ".join("".join(text).split())))
            self._button = None

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button[1].append(data)


def _forms(html: str) -> list[list[tuple[set[str], str]]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


@pytest.fixture()
def demo(app, make_municipality) -> Cooperation:  # noqa: ANN001
    for name, ags in AGS.items():
        if db.session.scalar(select(Municipality).where(Municipality.ags == ags)) is None:
            make_municipality(name, ags)
    list(load_demo())
    return db.session.scalar(select(Cooperation).where(Cooperation.title == TITLE))


def test_every_form_has_at_most_one_primary_and_destructive_buttons_say_so(
    app,  # noqa: ANN001
    demo: Cooperation,
) -> None:
    year = berlin_today(datetime.now(UTC)).year
    pending = db.session.scalar(
        select(Cost.id).where(Cost.cooperation_id == demo.id, Cost.state == CostState.EINGEREICHT)
    )
    partner = db.session.scalar(
        select(CooperationPartner.id)
        .join(Municipality)
        .where(CooperationPartner.cooperation_id == demo.id, Municipality.ags == AGS["Eppelborn"])
    )
    base = f"/kooperationen/{demo.id}"
    pages = {
        "projektleitung@merchweiler.demo": [
            base,
            f"{base}/bearbeiten",
            f"{base}/partner/neu",
            f"{base}/partner/{partner}",
            f"{base}/rollen",
            f"{base}/meilensteine/",
            "/meilensteine/kalender",
            "/benachrichtigungen/einstellungen",
        ],
        "kaemmerei@illingen.demo": [
            f"{base}/kosten/",
            f"{base}/kosten/{pending}",
            f"{base}/kosten/neu",
            f"{base}/kosten/schluessel/{year}",
            f"{base}/kosten/planansatz/{year}",
            f"{base}/kosten/wiederkehrend",
        ],
    }
    seen_destructive = set()
    for email, urls in pages.items():
        client = app.test_client()
        assert login(client, email, DEMO_PASSWORD).status_code == 302
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            for buttons in _forms(response.get_data(as_text=True)):
                styled = [(c, t) for c, t in buttons if "button" in c]
                primary = [t for c, t in styled if not c & {"button-secondary", "button-danger"}]
                assert len(primary) <= 1, f"{url}: several primary buttons in one form {primary}"
                for classes, text in styled:
                    if any(word in text for word in DESTRUCTIVE):
                        seen_destructive.add(text.split(" (")[0])
                        assert "button-danger" in classes, f"{url}: {text!r} looks harmless"
                for classes, text in buttons:
                    if "link-button" in classes and text.startswith(DESTRUCTIVE_LINKS):
                        seen_destructive.add(text.split(" (")[0])
                        assert "link-danger" in classes, f"{url}: {text!r} looks harmless"
    assert "Ablehnen" in seen_destructive
    assert any(text.endswith("als Partner entfernen") for text in seen_destructive)
    assert "Rolle entfernen" in seen_destructive


def test_pages_load_kern_and_their_icon_from_this_site_only(client) -> None:  # noqa: ANN001
    response = client.get("/anmelden")
    html = response.get_data(as_text=True)
    links = re.findall(r'<link rel="(stylesheet|icon)" href="([^"]+)"', html)
    hrefs = [href for _, href in links]
    assert "/static/vendor/kern/kern.min.css" in hrefs
    assert "/static/vendor/kern/fonts/fira-sans.css" in hrefs
    assert hrefs.index("/static/vendor/kern/kern.min.css") < hrefs.index("/static/css/app.css")
    assert ("icon", "/static/img/favicon.svg") in links
    assert all(href.startswith("/static/") for href in hrefs), "no CDN"
    csp = response.headers["Content-Security-Policy"]
    assert "style-src 'self'" in csp and "font-src 'self'" in csp
    assert client.get("/static/img/favicon.svg").status_code == 200


def test_every_page_has_the_legal_links_in_its_footer(client) -> None:  # noqa: ANN001
    html = client.get("/anmelden").get_data(as_text=True)
    footer = html[html.index('<footer class="site-footer">') :]
    for href in ("/impressum", "/datenschutz", "/barrierefreiheit"):
        assert f'href="{href}"' in footer
