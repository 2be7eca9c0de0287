"""Journey 4 in a real browser: a newcomer municipality fills the Kooperations-Check, finds a
cooperation in its Kreis, asks to join; the lead accepts in another browser; the newcomer's
share appears in a cost booked on the join date, not in one booked the day before.

Every page is audited by axe-core (WCAG 2.1 A/AA), the directory also without JavaScript.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from koopboard.domain.catalog import Role
from tests.e2e.conftest import AuditedPage, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]

MERCHWEILER, ILLINGEN, EPPELBORN, OTTWEILER = "10043113", "10043112", "10043111", "10043115"
JOIN = date(2026, 3, 1)


@pytest.fixture()
def standesamt(
    register_sample: dict[str, Any],
    make_user: Callable[..., Any],
    make_cooperation: Callable[..., Any],
) -> dict[str, Any]:
    """The shared registry office of Merchweiler, Illingen and Eppelborn, published, open to
    new partners; a newcomer from Ottweiler (same Kreis Neunkirchen)."""
    from koopboard.boerse.publishing import ListingData, save_listing
    from koopboard.extensions import db

    lead = make_user(register_sample[MERCHWEILER], email="projektleitung@merchweiler.de")
    treasurer = make_user(register_sample[MERCHWEILER], email="kasse@merchweiler.de")
    newcomer = make_user(
        register_sample[OTTWEILER], email="hauptamt@ottweiler.de", name="Olaf Ottweiler"
    )
    coop = make_cooperation(
        lead,
        [register_sample[ILLINGEN], register_sample[EPPELBORN]],
        roles={treasurer: Role.TREASURER},
        title="Gemeinsames Standesamt Illtal",
        start=date(2025, 1, 1),
    )
    save_listing(
        coop,
        ListingData(
            visibility="plattform",
            summary="Ein Standesamt für vier Gemeinden: Trauungen, Beurkundungen, Personenstand.",
            seeking_partners=True,
            seeking_kreis="Neunkirchen",
            seeking_radius_km=None,
        ),
    )
    db.session.commit()
    return {"coop": coop, "lead": lead, "treasurer": treasurer, "newcomer": newcomer}


def _book(coop: Any, treasurer: Any, booking: date) -> int:
    from koopboard.costs.books.services import CostData, book_cost
    from koopboard.extensions import db

    cost = book_cost(
        coop,
        CostData(
            booking_date=booking,
            budget_year=2026,
            text=f"Fachverfahren Standesamt {booking:%d.%m.}",
            category="Sachkosten",
            kind="kosten",
            amount=Decimal("12345.67"),
            net_amount=None,
            vat_amount=None,
            paid_by_id=None,
        ),
        by=treasurer,
    )
    db.session.commit()
    return cost.id


def test_newcomer_checks_finds_asks_and_shares_costs_from_the_join_date(
    open_page: Callable[..., AuditedPage], standesamt: dict[str, Any]
) -> None:
    coop_id = standesamt["coop"].id
    newcomer = open_page()
    page = newcomer.page
    log_in(newcomer, "hauptamt@ottweiler.de")

    # 1. The Kooperations-Check, from the main navigation.
    page.get_by_role("link", name="Kooperations-Check").click()
    page.wait_for_url("**/kooperations-check/")
    newcomer.axe()
    page.get_by_role("group", name=re.compile(r"^1\. In welchen Bereichen")).get_by_label(
        "allgemeine Verwaltung"
    ).check()
    page.get_by_role("group", name=re.compile(r"^2\. Glauben Sie")).get_by_label(
        "ja", exact=True
    ).check()
    page.get_by_role("group", name=re.compile(r"^3\. Arbeiten Sie")).get_by_label(
        "nein", exact=True
    ).check()
    page.get_by_role("group", name=re.compile(r"^4\. Wären Sie")).get_by_label(
        "eher ja", exact=True
    ).check()
    for number in (5, 6, 7):
        page.get_by_role("group", name=re.compile(rf"^{number}\. ")).get_by_label(
            "nein", exact=True
        ).check()
    page.get_by_role("button", name="Speichern und Ergebnis ansehen").click()
    page.wait_for_url("**/kooperations-check/ergebnis")
    newcomer.axe()
    expect(page.locator(".flash-success")).to_have_text("Gespeichert als Version 1.")
    expect(page.get_by_text("Gesetz über die kommunale Gemeinschaftsarbeit (KGG)")).to_be_visible()

    newcomer.goto("/kooperations-check/versionen/1")
    expect(page.get_by_text("Gespeichert von Olaf Ottweiler")).to_be_visible()
    newcomer.goto("/kooperations-check/ergebnis")

    # 2. The suggestion in its Kreis, with its distance (Merchweiler is 8.9 km away).
    row = page.locator("tr", has_text="Gemeinsames Standesamt Illtal")
    expect(row).to_contain_text("Neunkirchen, Saarland")
    expect(row).to_contain_text("9 km")

    # 3. Ask to join.
    row.get_by_role("link", name=re.compile("Beitritt anfragen")).click()
    page.wait_for_url(f"**/kooperationsboerse/{coop_id}/beitritt")
    newcomer.axe()
    page.get_by_label("Nachricht an die Projektleitung").fill(
        "Ottweiler möchte sein Standesamt ab März mit Ihnen gemeinsam führen."
    )
    page.get_by_label("Gewünschter Beitritt am").fill(JOIN.isoformat())
    page.get_by_role("button", name="Anfrage senden").click()
    page.wait_for_url(f"**/kooperationsboerse/{coop_id}")
    newcomer.axe()
    expect(page.locator("section[aria-labelledby=mitmachen] [role=status]")).to_contain_text(
        "Beitrittsanfrage von Ottweiler"
    )
    expect(page.locator("section[aria-labelledby=mitmachen] [role=status]")).to_contain_text(
        "offen"
    )

    # 4. The lead, in another browser, accepts.
    lead = open_page()
    log_in(lead, "projektleitung@merchweiler.de")
    lead.goto(f"/kooperationen/{coop_id}")
    requests = lead.page.locator("section", has=lead.page.locator("#beitrittsanfragen"))
    requests.get_by_role("link", name="Ottweiler").click()
    lead.page.wait_for_url(re.compile(r"/beitrittsanfragen/\d+$"))
    lead.axe()
    expect(lead.page.get_by_role("main").get_by_text("ab März mit Ihnen gemeinsam")).to_be_visible()
    lead.page.get_by_label("Beitritt am").fill(JOIN.isoformat())
    lead.page.get_by_label("Gremienbeschluss vom").fill("2026-02-12")
    lead.page.get_by_role("button", name="Beitritt annehmen").click()
    lead.page.wait_for_url(f"**/kooperationen/{coop_id}#beitrittsanfragen")
    lead.axe()
    expect(lead.page.locator(".flash-success")).to_have_text(
        "Ottweiler ist ab dem 01.03.2026 Partner."
    )
    partners = lead.page.locator("section", has=lead.page.locator("#partner"))
    expect(partners.locator("tr", has_text="Ottweiler")).to_contain_text("01.03.2026")
    # ... and gives the newcomer a role, so it sees the cooperation's costs.
    lead.goto(f"/kooperationen/{coop_id}/rollen")
    # The roles page also holds the invite form: this is the form that gives a role.
    grant = lead.page.locator("form", has=lead.page.get_by_role("button", name="Rolle vergeben"))
    grant.get_by_label("Person").select_option(label="Olaf Ottweiler (Ottweiler)")
    grant.get_by_label("Rolle").select_option(label="Mitglied")
    grant.get_by_role("button", name="Rolle vergeben").click()
    expect(lead.page.locator(".flash-success")).to_contain_text("Olaf Ottweiler")
    lead.axe()

    # 5. The treasurer confirms the key of 2026 (with Ottweiler's register population) and
    #    books 12.345,67 € the day before the join and on the join date.
    from koopboard.costs.keys.services import KeyData, default_entries, save_key
    from koopboard.extensions import db

    coop = standesamt["coop"]
    entries = default_entries(coop.id, 2026)
    save_key(coop, 2026, KeyData(kind="einwohner", entries=entries), version=None)
    db.session.commit()
    before = _book(coop, standesamt["treasurer"], date(2026, 2, 28))
    after = _book(coop, standesamt["treasurer"], JOIN)

    # 6. The newcomer sees the answer in its bell list and its share only from the join date.
    newcomer.goto("/benachrichtigungen/")
    expect(
        page.get_by_role("main").get_by_role(
            "link", name="hat die Beitrittsanfrage von Ottweiler angenommen, Beitritt am 01.03.2026"
        )
    ).to_be_visible()
    newcomer.goto(f"/kooperationen/{coop_id}/kosten/{before}")
    expect(page.locator(f'[data-anteil="{OTTWEILER}"]')).to_have_count(0)
    expect(page.locator("#anteile-summe")).to_have_text("12.345,67\u00a0€")
    newcomer.goto(f"/kooperationen/{coop_id}/kosten/{after}")
    expect(page.locator(f'[data-anteil="{OTTWEILER}"]')).to_have_count(1)
    expect(page.locator(f'[data-anteil="{OTTWEILER}"]')).not_to_have_text("0,00\u00a0€")
    expect(page.locator("#anteile-summe")).to_have_text("12.345,67\u00a0€")


def test_every_directory_page_passes_axe_also_without_javascript(
    open_page: Callable[..., AuditedPage], standesamt: dict[str, Any]
) -> None:
    """The directory, its filters, an entry, publishing, contact, versions and the overview."""
    from koopboard.extensions import db
    from koopboard.models import RegisterAssociation

    db.session.add(
        RegisterAssociation(
            ars="100435555",
            name="Illtal",
            textkennzeichen="54",
            kind="Verwaltungsgemeinschaft",
            land="Saarland",
            kreis="Neunkirchen",
            member_count=2,
            member_names="Illingen, Merchweiler",
            population=26000,
            breitengrad=Decimal("49.377607"),
            laengengrad=Decimal("7.051397"),
            register_date=date(2019, 12, 31),
        )
    )
    db.session.commit()
    coop_id = standesamt["coop"].id

    plain = open_page(java_script_enabled=False)
    log_in(plain, "hauptamt@ottweiler.de")
    plain.goto("/kooperationsboerse")
    plain.page.get_by_label("Umkreis (km)").fill("25")
    plain.page.get_by_role("button", name="Suchen").click()
    plain.page.wait_for_url(re.compile(r"/kooperationsboerse\?.*umkreis=25"))
    plain.axe()
    expect(plain.page.locator("#ergebnisse [role=status]")).to_contain_text("2 Einträge")
    plain.page.get_by_role("link", name="Verwaltungsgemeinschaft Illtal").click()
    plain.page.wait_for_url("**/kooperationsboerse/verband/100435555")
    plain.axe()
    plain.goto(f"/kooperationsboerse/{coop_id}/kontakt")
    plain.goto("/kooperations-check/versionen")

    scripted = open_page()
    log_in(scripted, "projektleitung@merchweiler.de")
    scripted.goto("/kooperationsboerse")
    scripted.page.get_by_label("Art des Eintrags").select_option(
        label="aus dem Gemeindeverzeichnis"
    )
    # htmx swaps the result list and keeps the URL shareable.
    expect(scripted.page.locator("#ergebnisse [role=status]")).to_contain_text("1 Eintrag ")
    expect(scripted.page).to_have_url(re.compile(r"art=verband"))
    scripted.axe()
    scripted.goto(f"/kooperationen/{coop_id}/boerse")
    scripted.page.get_by_label("Sichtbarkeit in der Kooperationsbörse").select_option(
        label="öffentlich (auch ohne Anmeldung)"
    )
    scripted.page.get_by_role("button", name="Speichern").click()
    expect(scripted.page.locator(".flash-success")).to_contain_text("Kooperationsbörse")
    scripted.axe()

    from tests.conftest import PASSWORD

    admin = open_page()
    _make_admin()
    log_in_admin = admin.page
    admin.goto("/anmelden")
    log_in_admin.get_by_label("E-Mail-Adresse").fill("admin@koopboard.de")
    log_in_admin.get_by_label("Passwort", exact=True).fill(PASSWORD)
    log_in_admin.get_by_role("button", name="Anmelden").click()
    log_in_admin.wait_for_url(lambda url: "/anmelden" not in url)
    admin.axe()
    admin.goto("/kooperations-check/uebersicht")
    expect(log_in_admin.get_by_role("heading", level=1)).to_contain_text("Übersicht")

    anonymous = open_page()
    anonymous.goto(f"/kooperationsboerse/{coop_id}")
    expect(anonymous.page.get_by_role("heading", level=1)).to_have_text(
        "Gemeinsames Standesamt Illtal"
    )


def _make_admin() -> None:
    from werkzeug.security import generate_password_hash

    from koopboard.extensions import db
    from koopboard.models import User
    from tests.conftest import PASSWORD

    db.session.add(
        User(
            email="admin@koopboard.de",
            name="Betrieb",
            password_hash=generate_password_hash(PASSWORD, method="scrypt:1024:8:1"),
            is_admin=True,
            is_active_account=True,
        )
    )
    db.session.commit()
