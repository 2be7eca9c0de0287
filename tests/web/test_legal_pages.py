"""Impressum and Datenschutzerklärung: public, linked from every page's footer, filled from
the operator's configuration, and naming the mail retention period the app really uses."""

from __future__ import annotations

import re

import pytest

from tests.conftest import login

OPERATOR = {
    "KOOP_OPERATOR_NAME": "Zweckverband Digitale Verwaltung Saar",
    "KOOP_OPERATOR_ADDRESS": "Hauptstraße 1|66557 Illingen",
    "KOOP_OPERATOR_REPRESENTATIVE": "Verbandsvorsteherin Dr. Vera Vorstand",
    "KOOP_OPERATOR_EMAIL": "kontakt@zv-digital.example",
    "KOOP_OPERATOR_PHONE": "06825 123-0",
    "KOOP_OPERATOR_SUPERVISION": "Ministerium für Inneres, Bauen und Sport des Saarlandes",
    "KOOP_PRIVACY_OFFICER": "datenschutz@zv-digital.example",
    "KOOP_PRIVACY_AUTHORITY": "Unabhängiges Datenschutzzentrum Saarland",
}


def text(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/impressum", "/datenschutz"])
def test_public_accessible_pages(client, path: str) -> None:  # noqa: ANN001
    response = client.get(path)
    assert response.status_code == 200  # no login
    page = text(response)
    assert page.count("<h1>") == 1
    for landmark in ("<header", "<main", "<footer", "<nav"):
        assert landmark in page
    assert re.search(r"<h2[ >]", page)
    assert "http://" not in page.replace("http://localhost", "") and "https://" not in page


def test_every_page_links_both_from_its_footer(
    client, make_municipality, make_user, make_cooperation
) -> None:  # noqa: ANN001
    town = make_municipality()
    lead = make_user(town)
    coop = make_cooperation(lead)
    signed_out = text(client.get("/anmelden"))
    assert login(client, lead).status_code == 302
    pages = [signed_out]
    for path in ("/kooperationen/", f"/kooperationen/{coop.id}", "/konto/", "/barrierefreiheit"):
        pages.append(text(client.get(path, follow_redirects=True)))
    for page in pages:
        footer = page[page.index('<footer class="site-footer">') :]
        assert '<a href="/impressum">Impressum</a>' in footer
        assert '<a href="/datenschutz">Datenschutz</a>' in footer


def test_placeholders_tell_the_operator_what_to_set(client) -> None:  # noqa: ANN001
    imprint = text(client.get("/impressum"))
    assert "noch nicht eingetragen – der Betreiber setzt dafür KOOP_OPERATOR_NAME" in imprint
    assert "KOOP_OPERATOR_ADDRESS" in imprint and "KOOP_OPERATOR_EMAIL" in imprint
    privacy = text(client.get("/datenschutz"))
    assert "KOOP_PRIVACY_AUTHORITY" in privacy and "KOOP_PRIVACY_OFFICER" in privacy


def test_operator_details_come_from_the_configuration(variant) -> None:  # noqa: ANN001
    app = variant(**OPERATOR)
    imprint = text(app.test_client().get("/impressum"))
    assert "Zweckverband Digitale Verwaltung Saar" in imprint
    assert "Hauptstraße 1<br>" in imprint and "66557 Illingen<br>" in imprint
    assert "Verbandsvorsteherin Dr. Vera Vorstand" in imprint
    assert 'href="mailto:kontakt@zv-digital.example"' in imprint
    assert "Ministerium für Inneres" in imprint
    assert "noch nicht eingetragen" not in imprint
    privacy = text(app.test_client().get("/datenschutz"))
    assert "Unabhängiges Datenschutzzentrum Saarland" in privacy
    assert "noch nicht eingetragen" not in privacy


def test_privacy_names_what_is_stored_why_and_the_rights(client) -> None:  # noqa: ANN001
    page = text(client.get("/datenschutz"))
    for stored in (
        'id="daten-konto"',
        'id="daten-rollen"',
        'id="daten-einstellungen"',
        'id="daten-benachrichtigungen"',
        'id="daten-verlauf"',
        'id="daten-cookie"',
    ):
        assert stored in page
    assert "Der Inhalt zugestellter Benachrichtigungen wird nach 90 Tagen gelöscht" in page
    assert "spätestens nach 8 Stunden" in page  # the session lifetime of the config
    assert "Art. 6 Abs. 1 lit. e DSGVO" in page
    assert "keine externen Ressourcen, kein Content-Delivery-Network (CDN)" in page
    assert "Analyse- oder Tracking-Werkzeuge" in page
    for right in ("Art. 15 DSGVO", "Art. 16 DSGVO", "Art. 17 DSGVO", "Art. 77 DSGVO"):
        assert right in page
    assert "„Mein Konto“ → „Meine Daten ansehen und drucken“" in page
    assert "ehemalige Person (anonymisiert)" in page


def test_the_retention_period_shown_is_the_configured_one(variant) -> None:  # noqa: ANN001
    app = variant(KOOP_MAIL_RETENTION_DAYS=30)
    page = text(app.test_client().get("/datenschutz"))
    assert "Der Inhalt zugestellter Benachrichtigungen wird nach 30 Tagen gelöscht" in page
    assert "nach 90 Tagen" not in page


def test_signed_in_the_right_of_access_links_to_the_data(
    client, make_municipality, make_user
) -> None:  # noqa: ANN001
    user = make_user(make_municipality())
    assert login(client, user).status_code == 302
    page = text(client.get("/datenschutz"))
    assert '<a href="/konto/meine-daten">' in page


def test_both_pages_read_english(client) -> None:  # noqa: ANN001
    client.post("/sprache", data={"lang": "en", "next": "/"})
    imprint = text(client.get("/impressum"))
    assert "<h1>Legal notice</h1>" in imprint
    assert "not yet entered – the operator sets KOOP_OPERATOR_NAME for it" in imprint
    privacy = text(client.get("/datenschutz"))
    assert "<h1>Privacy policy</h1>" in privacy
    assert "The content of delivered notifications is deleted after 90 days" in privacy
    assert "Art. 6(1)(e) GDPR" in privacy and "former person (anonymised)" in privacy
    assert 'href="/datenschutz">Privacy</a>' in imprint


def test_accessibility_statement_has_the_parts_bitv_asks_for(client) -> None:  # noqa: ANN001
    response = client.get("/barrierefreiheit")
    assert response.status_code == 200  # no login
    page = text(response)
    for heading in (
        "Stand der Vereinbarkeit mit den Anforderungen",
        "Nicht barrierefreie Inhalte",
        "Erstellung dieser Erklärung",
        "Feedback und Kontakt",
        "Schlichtungsverfahren",
    ):
        assert f">{heading}</h2>" in page
    assert "teilweise vereinbar" in page
    assert 'href="mailto:barrierefreiheit@koopboard.localhost"' in page
    # Unconfigured: the page says what the operator still has to set, and names the
    # federal conciliation body.
    assert "der Betreiber setzt dafür KOOP_ACCESSIBILITY_REVIEWED_ON" in page
    assert "KOOP_OPERATOR_NAME" in page
    assert "Schlichtungsstelle nach § 16 BGG" in page


def test_accessibility_statement_from_the_configuration(variant) -> None:  # noqa: ANN001
    app = variant(
        **OPERATOR,
        ACCESSIBILITY_CONTACT="barrierefrei@zv-digital.example",
        KOOP_ACCESSIBILITY_REVIEWED_ON="01.12.2026",
        KOOP_ACCESSIBILITY_ENFORCEMENT="Landesbeauftragter für Menschen mit Behinderungen",
        KOOP_ACCESSIBILITY_ENFORCEMENT_URL="https://www.example.org/schlichtung",
    )
    page = text(app.test_client().get("/barrierefreiheit"))
    assert "Zweckverband Digitale Verwaltung Saar ist bemüht" in page
    assert "zuletzt überprüft am: 01.12.2026" in page
    assert 'href="mailto:barrierefrei@zv-digital.example"' in page and "06825 123-0" in page
    assert (
        '<a href="https://www.example.org/schlichtung">'
        "Landesbeauftragter für Menschen mit Behinderungen</a>" in page
    )
    assert "§ 16 BGG" not in page
    assert "noch nicht eingetragen" not in page
