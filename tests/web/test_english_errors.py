"""Why something was refused reads English in the English UI (issue 17.10).

The domain and the services say their reasons as ``Msg`` sentences (German source text and
parameters); the pages say them in the reader's language, with the locale's dates, amounts,
percentages and quotation marks. Each case below drives one refusal through the pages with
the English locale: the English sentence is shown, and nothing of the UI's own German (the
catalogue's msgids), no German date, amount or quotation marks. The German UI keeps its
German sentences (the other tests assert them).
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask_login import login_user

from koopboard.costs.books.services import close_year
from koopboard.extensions import db
from tests.web import test_costs
from tests.web.test_costs import YEAR, _cost
from tests.web.test_english_complete import RULES, _german_strings, _Text

HX = {"HX-Request": "true"}
books = test_costs.books  # the same fixture: Merchweiler leads Illingen and Eppelborn


def english(client) -> None:  # noqa: ANN001
    with client.session_transaction() as session:
        session["locale"] = "en"


def visible(response) -> str:  # noqa: ANN001
    parser = _Text()
    parser.feed(response.get_data(as_text=True))
    return " ".join(" ".join(parser.parts).split())


@pytest.fixture(scope="module")
def german() -> list[tuple[str, re.Pattern[str]]]:
    return [
        (g, re.compile(r"(?<![\wäöüß])" + re.escape(g) + r"(?![\wäöüß])"))
        for g in _german_strings()
    ]


def assert_english(text: str, german: list, data: tuple[str, ...]) -> None:
    """No German of the UI in ``text`` (after taking out the test's own German data)."""
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    found = [g for g, pattern in german if pattern.search(text)]
    found += [m.group() for rule in RULES for m in rule.finditer(text)]
    assert not found, f"German in the English page: {found}\n{text[:3000]}"


def _key_form(b: dict, percents: tuple[str, str, str]) -> dict:
    data = {"kind": "prozent", "version": ""}
    for m, pct in zip(b["m"].values(), percents, strict=True):
        data[f"percent_{m.id}"] = pct
    return data


# (name, who, how to get there, the English sentence)
CASES = [
    (
        "vat",
        "t1",
        lambda c, b: c.post(
            f"{b['base']}/neu",
            headers=HX,
            data=_cost(amount="1.000,00", net_amount="800,00", vat_amount="190,00"),
        ),
        "Net (€800.00) and VAT (€190.00) do not add up to the amount €1,000.00.",
    ),
    (
        "decimals",
        "t1",
        lambda c, b: c.post(f"{b['base']}/neu", headers=HX, data=_cost(amount="12,345")),
        "“12,345” has 3 decimal places; a euro amount has at most two (cents).",
    ),
    (
        "no partner on the day",
        "t1",
        lambda c, b: c.post(
            f"{b['base']}/neu",
            headers=HX,
            data=_cost(booking_date="10.12.2024", budget_year="2024"),
        ),
        "No partner takes part in the cooperation on Dec 10, 2024.",
    ),
    (
        "key not 100",
        "lead",
        lambda c, b: c.post(
            f"{b['base']}/schluessel/{YEAR}",
            headers=HX,
            data=_key_form(b, ("33,333", "33,333", "33,333")),
        ),
        "The percentages add up to 99.999% instead of exactly 100%.",
    ),
    (
        "key over 100",
        "lead",
        lambda c, b: c.post(
            f"{b['base']}/schluessel/{YEAR}", headers=HX, data=_key_form(b, ("130", "0", "0"))
        ),
        "must not exceed 100%.",
    ),
    (
        "population not a number",
        "lead",
        lambda c, b: c.post(
            f"{b['base']}/schluessel/{YEAR}",
            headers=HX,
            data={
                "kind": "einwohner",
                "version": "",
                **{
                    f"{field}_{m.id}": value
                    for m in b["m"].values()
                    for field, value in (("population", "viele"), ("stichtag", "31.12.2024"))
                },
            },
        ),
        "Please enter the population as a whole number.",
    ),
    (
        "year closed",
        "t1",
        lambda c, b: c.post(f"{b['base']}/neu", headers=HX, data=_cost(budget_year="2025")),
        "The budget year 2025 is closed and can no longer be changed.",
    ),
    (
        "milestone before the start",
        "lead",
        lambda c, b: c.post(
            f"/kooperationen/{b['coop'].id}/meilensteine/neu",
            headers=HX,
            data={
                "title": "Satzung",
                "phase": "planung",
                "due_date": "2024-12-10",
                "status": "geplant",
                "responsible_municipality_id": str(b["m"]["illingen"].id),
                "description": "",
                "progress_note": "",
            },
        ),
        "(Jan 1, 2025)",
    ),
    (
        "invite oneself",
        "lead",
        lambda c, b: c.post(
            f"/kooperationen/{b['coop'].id}/einladungen/neu",
            data={
                "municipality_id": str(b["m"]["merchweiler"].id),
                "email": b["lead"].email,
                "role": "member",
            },
        ),
        "You cannot invite yourself.",
    ),
    (
        "partner twice",
        "lead",
        lambda c, b: c.post(
            f"/kooperationen/{b['coop'].id}/partner/neu",
            headers=HX,
            data={"action": "add", "ags": "10043112", "joined_on": "2025-02-01"},
        ),
        "Illingen is already a partner",
    ),
    (
        "partner before the start",
        "lead",
        lambda c, b: c.post(
            f"/kooperationen/{b['coop'].id}/partner/neu",
            headers=HX,
            data={"action": "add", "ags": "10043199", "joined_on": "2024-12-10"},
        ),
        "must not be before the start of the cooperation",
    ),
]


@pytest.mark.parametrize(("name", "who", "step", "sentence"), CASES, ids=[c[0] for c in CASES])
def test_refusals_read_english(  # noqa: PLR0913
    app, books, login_as, make_municipality, german, name: str, who: str, step, sentence: str
) -> None:  # noqa: ANN001
    make_municipality("Schiffweiler", "10043199", population=15409)
    with app.test_request_context():
        login_user(books["t1"])
        close_year(books["coop"], 2025, by=books["t1"])
        db.session.commit()
    client = login_as(books[who])
    english(client)
    response = step(client, books)
    assert response.status_code in (200, 400, 422), response.status_code
    text = visible(response)
    if response.status_code == 200 and not text:  # a redirect answered with a flash
        text = visible(client.get(response.headers.get("Location", "/")))
    assert sentence in text, text[:3000]
    assert_english(text, german, ("Software-Lizenz", "IT", "Satzung", "Merchweiler"))


def test_the_german_ui_keeps_the_german_sentences(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["t1"])
    response = client.post(
        f"{books['base']}/neu",
        headers=HX,
        data=_cost(amount="1.000,00", net_amount="800,00", vat_amount="190,00"),
    )
    assert (
        "Netto (800,00\u00a0€) und Umsatzsteuer (190,00\u00a0€) ergeben nicht den Betrag "
        "1.000,00\u00a0€." in response.get_data(as_text=True)
    )
    late = client.post(
        f"{books['base']}/neu",
        headers=HX,
        data=_cost(booking_date="10.12.2024", budget_year="2024"),
    )
    assert "Am 10.12.2024 ist kein Partner an der Kooperation beteiligt." in late.get_data(
        as_text=True
    )
    assert date(2024, 12, 10) < books["coop"].start_date


def test_key_percentages_read_the_english_way(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["lead"])
    saved = client.post(
        f"{books['base']}/schluessel/{YEAR}", data=_key_form(books, ("33,333", "33,333", "33,334"))
    )
    assert saved.status_code == 302
    english(client)
    text = visible(client.get(f"{books['base']}/schluessel/{YEAR}"))
    assert "33.333%" in text and "33.334%" in text
    assert "33,333\u00a0%" not in text and "33,334" not in text
