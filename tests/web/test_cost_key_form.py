"""The key form fits the key (issue 17.9): only the chosen kind's inputs, in two steps
without JavaScript (the HTMX swap uses the same GET); a register population older than
two years is flagged with its Stichtag and where newer figures come from; and a sentence
per partner a council report can take over ("Illingen trägt 37,84 % …, weil …")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from koopboard.costs import services
from tests.web.test_costs import YEAR, _population_key, books  # noqa: F401

HX = {"HX-Request": "true"}


@pytest.fixture()
def today(monkeypatch):  # noqa: ANN001, ANN201
    moment = datetime(YEAR, 12, 3, 10, 0, tzinfo=UTC)
    monkeypatch.setattr(services, "now", lambda: moment)


@pytest.mark.parametrize(
    ("kind", "shown", "hidden"),
    [
        (
            "einwohner",
            ["population_", "stichtag_", "source_"],
            ["percent_", "units_", "base_percent"],
        ),
        ("prozent", ["percent_"], ["population_", "units_", "base_percent", "usage_unit"]),
        ("nutzung", ["units_", "usage_unit"], ["population_", "percent_", "base_percent"]),
        ("gemischt", ["base_percent", "population_"], ["percent_", "units_"]),
        ("gleich", [], ["population_", "percent_", "units_", "base_percent"]),
    ],
)
def test_only_the_chosen_kinds_inputs_are_shown(books, login_as, kind, shown, hidden) -> None:  # noqa: ANN001, F811
    client = login_as(books["t1"])
    page = client.get(f"{books['base']}/schluessel/{YEAR}?art={kind}").get_data(as_text=True)
    form = page[page.index('id="schluessel-formular"') :]
    assert f'name="kind" value="{kind}"' in form
    for name in shown:
        assert f'name="{name}' in form, name
    for name in hidden:
        assert f'name="{name}' not in form, name
    # Without JavaScript the choice is its own GET form with a button (step one).
    assert 'name="art"' in page and 'id="art-waehlen"' in page


def test_the_htmx_swap_is_the_same_get(books, login_as) -> None:  # noqa: ANN001, F811
    client = login_as(books["t1"])
    page = client.get(f"{books['base']}/schluessel/{YEAR}?art=prozent", headers=HX)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'id="schluessel-formular"' in body and 'name="percent_' in body


def test_an_old_register_population_is_flagged_with_its_stichtag(books, login_as, today) -> None:  # noqa: ANN001, F811
    client = login_as(books["t1"])
    _population_key(client, books)  # Stichtag 31.12.2019
    page = client.get(f"{books['base']}/schluessel/{YEAR}").get_data(as_text=True)
    assert "Stichtag 31.12.2019: älter als zwei Jahre." in page
    assert "Gemeindeverzeichnis (GV-ISys" in page


def test_council_sentences_say_why_each_partner_pays_its_share(books, login_as) -> None:  # noqa: ANN001, F811
    client = login_as(books["t1"])
    _population_key(client, books)
    page = client.get(f"{books['base']}/schluessel/{YEAR}?beispiel=12.345,67")
    body = page.get_data(as_text=True)
    assert "Für die Gremienvorlage" in body
    assert (
        "Illingen trägt 37,84\u00a0% (4.671,24\u00a0€ von 12.345,67\u00a0€), weil Illingen "
        "16.122 der 42.609 Einwohnerinnen und Einwohner aller Partner hat "
        "(Stichtag 31.12.2019)." in body
    )
    english = login_as(books["t1"])
    with english.session_transaction() as session:
        session["locale"] = "en"
    body = english.get(f"{books['base']}/schluessel/{YEAR}?beispiel=12.345,67").get_data(
        as_text=True
    )
    assert "Illingen carries 37.84% (€4,671.24 of €12,345.67)" in body
