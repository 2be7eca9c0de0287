"""Issue 17.3: adding a partner does what it shows.

"Auswählen" only chooses (a GET of the form with the municipality filled in), "Partner
hinzufügen" saves; the same two steps without JavaScript. The search runs on the shipped
register as the importer loads it: the lead's Kreis, then its Land, before same-named
towns elsewhere, existing partners marked, names that only contain the query last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select

from koopboard.config import Config
from koopboard.cooperations.services import CooperationData, add_partner, create_cooperation
from koopboard.extensions import db
from koopboard.models import (
    CooperationPartner,
    HistoryEntry,
    Municipality,
    NotificationEvent,
    User,
)
from koopboard.municipalities.importer import import_register
from tests.web.test_authorization import sign_in

HX = {"HX-Request": "true"}

MERCHWEILER = "10043113"
EPPELBORN = "10043111"
ILLINGEN_SAAR = "10043112"  # Kreis Neunkirchen, Saarland: the lead's own Kreis
ILLINGEN_ENZ = "08236028"  # Enzkreis, Baden-Württemberg
ELCHESHEIM_ILLINGEN = "08216012"  # a word of the name
NOISE = ("10044111", "09773125", "07143311", "06635022", "07235119")  # Dillingen…Schillingen
ENSDORF_SAAR, ENSDORF_BY = "10044123", "09371120"  # Saarlouis (same Land) / Amberg-Sulzbach


@dataclass
class Lead:
    user: User
    cooperation_id: int

    @property
    def form_url(self) -> str:
        return f"/kooperationen/{self.cooperation_id}/partner/neu"

    @property
    def search_url(self) -> str:
        return f"/kooperationen/{self.cooperation_id}/partner/suche"


@pytest.fixture()
def lead(app) -> Lead:  # noqa: ANN001
    """The whole register imported; Merchweiler leads a cooperation Eppelborn has joined."""
    import_register(Config.REGISTER_CSV)
    merchweiler = db.session.scalar(select(Municipality).filter_by(ags=MERCHWEILER))
    user = User(
        email="lea@merchweiler.de", name="Lea Leitung", password_hash="x", municipality=merchweiler
    )
    db.session.add(user)
    db.session.flush()
    cooperation = create_cooperation(
        CooperationData(
            title="Gemeinsamer Bauhof",
            goals="",
            handlungsfeld="verwaltung",
            rechtsform="zweckvereinbarung",
            status="aktiv",
            start_date=date(2025, 1, 1),
            end_date=None,
        ),
        by=user,
    )
    add_partner(cooperation, ags=EPPELBORN, joined_on=date(2025, 1, 1), council_resolution_on=None)
    db.session.commit()
    return Lead(user, cooperation.id)


def body(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


def positions(page: str, *codes: str) -> list[int]:
    """Where each municipality (by its AGS) is listed; -1 if it is not."""
    return [page.find(f"AGS {code})") for code in codes]


def state() -> tuple:
    db.session.expire_all()
    partners = db.session.execute(
        select(
            CooperationPartner.municipality_id,
            CooperationPartner.joined_on,
            CooperationPartner.council_resolution_on,
        ).order_by(CooperationPartner.id)
    ).all()
    history = db.session.scalar(select(func.count(HistoryEntry.id)))
    events = db.session.scalar(select(func.count(NotificationEvent.id)))
    return tuple(partners), history, events


# --- the search ------------------------------------------------------------------------------


def test_own_kreis_first_then_other_illingen_then_words_then_noise(lead: Lead, client) -> None:  # noqa: ANN001
    sign_in(client, lead.user.id)
    fragment = client.get(f"{lead.search_url}?query=Illingen", headers=HX)
    page = body(fragment)
    assert fragment.status_code == 200 and "<html" not in page

    order = positions(page, ILLINGEN_SAAR, ILLINGEN_ENZ, ELCHESHEIM_ILLINGEN, *NOISE)
    assert -1 not in order, order
    assert order[0] < order[1] < order[2] < min(order[3:]), order
    # The noise is listed apart, after a line that says why it is there.
    more = page.index("Weitere Namen, in denen „Illingen“ nur vorkommt:")
    assert order[2] < more < min(order[3:])
    # Same-named towns say where they are: the lead can tell them apart.
    assert 'Illingen <span class="meta">(Gemeinde, 66557, Neunkirchen, Saarland;' in page
    assert 'Illingen <span class="meta">(Gemeinde, 75428, Enzkreis, Baden-Württemberg;' in page


def test_the_leads_land_comes_before_the_rest(lead: Lead, client) -> None:  # noqa: ANN001
    sign_in(client, lead.user.id)
    page = body(client.get(f"{lead.search_url}?query=Ensdorf", headers=HX))
    saar, bayern = positions(page, ENSDORF_SAAR, ENSDORF_BY)
    assert -1 < saar < bayern  # by AGS alone Bayern (09…) would come first


def test_prefix_matches_come_before_names_that_only_contain_the_query(lead: Lead, client) -> None:  # noqa: ANN001
    sign_in(client, lead.user.id)
    page = body(client.get(f"{lead.search_url}?query=illing", headers=HX))
    illingen, dillingen = positions(page, ILLINGEN_SAAR, "10044111")
    assert -1 < illingen < dillingen


def test_the_register_page_ranks_by_the_users_own_municipality(lead: Lead, client) -> None:  # noqa: ANN001
    sign_in(client, lead.user.id)
    page = body(client.get("/kommunen/suche?query=Illingen"))
    saar, enz = positions(page, ILLINGEN_SAAR, ILLINGEN_ENZ)
    assert -1 < saar < enz
    assert "Auswählen" not in page  # choosing a partner happens in the partner form


def test_existing_partners_are_marked_not_offered(lead: Lead, client) -> None:  # noqa: ANN001
    sign_in(client, lead.user.id)
    for query, ags in (("Eppelborn", EPPELBORN), ("Merchweiler", MERCHWEILER)):
        page = body(client.get(f"{lead.search_url}?query={query}", headers=HX))
        row = re.search(rf"<li>(?:(?!</li>).)*AGS {ags}\)(?:(?!</li>).)*</li>", page, re.S)
        assert row, page
        assert "bereits Partner" in row.group(0)
        assert "Auswählen" not in row.group(0) and f"ags={ags}" not in row.group(0)
    page = body(client.get(f"{lead.search_url}?query=Illingen", headers=HX))
    assert f'href="{lead.form_url}?ags={ILLINGEN_SAAR}"' in page
    assert "bereits Partner" not in page


# --- choose, then save ------------------------------------------------------------------------


def test_without_javascript_search_choose_then_save(lead: Lead, client) -> None:  # noqa: ANN001
    sign_in(client, lead.user.id)
    before = state()

    # 1. Search (the plain form's "Suchen"): results with an "Auswählen" link each.
    found = client.post(lead.form_url, data={"action": "search", "query": "Illingen"})
    page = body(found)
    assert found.status_code == 200 and "<html" in page
    choose = f"{lead.form_url}?ags={ILLINGEN_SAAR}"
    assert f'<a class="button button-secondary" href="{choose}"' in page
    assert state() == before

    # 2. "Auswählen" is a GET: the form with Illingen filled in, nothing saved.
    chosen = client.get(choose)
    page = body(chosen)
    assert chosen.status_code == 200
    assert "Ausgewählt: Illingen" in page and "Neunkirchen, Saarland" in page
    assert "Noch nicht gespeichert" in page
    ags_input = re.search(r'<input[^>]*name="ags"[^>]*>', page).group(0)
    assert f'value="{ILLINGEN_SAAR}"' in ags_input
    joined = re.search(r'<input[^>]*name="joined_on"[^>]*>', page).group(0)
    assert 'value="2025-01-01"' in joined  # the cooperation's start, to be adjusted
    assert state() == before

    # 3. "Partner hinzufügen" saves, with the join date and council resolution.
    saved = client.post(
        lead.form_url,
        data={
            "action": "add",
            "query": "",
            "ags": ILLINGEN_SAAR,
            "joined_on": "01.03.2025",
            "council_resolution_on": "2025-02-15",
        },
    )
    assert saved.status_code == 302 and saved.headers["Location"] == lead.form_url
    partner = db.session.scalar(
        select(CooperationPartner)
        .join(Municipality)
        .where(
            Municipality.ags == ILLINGEN_SAAR,
            CooperationPartner.cooperation_id == lead.cooperation_id,
        )
    )
    assert (partner.joined_on, partner.council_resolution_on) == (
        date(2025, 3, 1),
        date(2025, 2, 15),
    )
    assert "Illingen ist jetzt Partner." in body(client.get(lead.form_url))


def test_htmx_auswaehlen_swaps_in_the_choice_and_saves_nothing(lead: Lead, client) -> None:  # noqa: ANN001
    sign_in(client, lead.user.id)
    before = state()
    page = body(client.get(f"{lead.search_url}?query=Illingen", headers=HX))
    link = re.search(rf'<a [^>]*href="[^"]*\?ags={ILLINGEN_SAAR}"[^>]*>', page).group(0)
    assert (
        'data-hx-target="#partner-auswahl"' in link and 'data-hx-select="#partner-auswahl"' in link
    )

    fragment = client.get(f"{lead.form_url}?ags={ILLINGEN_SAAR}", headers=HX)
    page = body(fragment)
    assert fragment.status_code == 200 and "<html" not in page
    region = page[page.index('<div id="partner-auswahl">') : page.index("2. Beitritt eintragen")]
    assert "Ausgewählt: Illingen" in region and f'value="{ILLINGEN_SAAR}"' in region
    assert "data-focus-after-swap" in region  # focus goes to the choice, not the page top
    assert state() == before


def test_a_pick_from_an_old_page_only_chooses(lead: Lead, client) -> None:  # noqa: ANN001
    sign_in(client, lead.user.id)
    before = state()
    response = client.post(
        lead.form_url, data={"pick": ILLINGEN_SAAR, "query": "Illingen", "joined_on": "01.02.2025"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{lead.form_url}?ags={ILLINGEN_SAAR}"
    assert state() == before


def test_choosing_an_existing_partner_says_so(lead: Lead, client) -> None:  # noqa: ANN001
    sign_in(client, lead.user.id)
    page = body(client.get(f"{lead.form_url}?ags={EPPELBORN}"))
    assert "Eppelborn ist bereits Partner dieser Kooperation." in page
    response = client.post(
        lead.form_url,
        headers=HX,
        data={"action": "add", "ags": EPPELBORN, "joined_on": "2025-02-01"},
    )
    assert response.status_code == 422
    assert "Eppelborn ist bereits Partner" in body(response)


def test_saving_without_a_choice_asks_for_one_at_the_field(lead: Lead, client) -> None:  # noqa: ANN001
    sign_in(client, lead.user.id)
    before = state()
    response = client.post(
        lead.form_url, headers=HX, data={"action": "add", "ags": "", "joined_on": "2025-02-01"}
    )
    assert response.status_code == 422
    assert re.search(
        r'<p class="error" id="ags-fehler">.*Bitte wählen Sie eine Kommune', body(response)
    )
    assert state() == before
