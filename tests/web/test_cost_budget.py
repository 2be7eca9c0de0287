"""Planansatz: plan per year and category against approved costs, as table and SVG chart."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from fractions import Fraction
from html import unescape

import pytest
from sqlalchemy import func, insert, select

from koopboard.costs.budget.chart import BAR_LEFT, VALUE_ROOM, chart_geometry, utilisation_text
from koopboard.costs.budget.services import BudgetLine, budget_lines, total_line
from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.models import HistoryEntry, YearClosing
from koopboard.models.cost import Cost, CostBudget, CostKind, CostState
from tests.web.test_queries import counting

YEAR = 2026
NBSP = "\u00a0"


# --- pure: lines, totals and the chart's geometry ----------------------------------------------


def test_lines_join_plans_and_actuals_and_sum_up() -> None:
    lines = budget_lines(
        {"Personal": Decimal("50000.00"), "IT": Decimal("10000.00"), "Miete": Decimal("0.00")},
        {"IT": Decimal("12345.67"), "": Decimal("99.01"), "Reisen": Decimal("400.00")},
    )
    assert [line.category for line in lines] == ["IT", "Miete", "Personal", "Reisen", ""]
    it, miete, personal, reisen, ohne = lines
    assert it.deviation == Decimal("2345.67")
    assert it.utilisation == Fraction(1234567, 10000)
    assert utilisation_text(it.utilisation) == f"≈ 123,5{NBSP}%"
    assert miete.utilisation is None and utilisation_text(None) == "–"  # a plan of 0
    assert personal.actual == Decimal("0.00") and personal.deviation == Decimal("-50000.00")
    assert reisen.plan is None and reisen.deviation == Decimal("400.00")
    total = total_line(lines)
    assert total.plan == Decimal("60000.00")
    assert total.actual == Decimal("12844.68")
    assert total.deviation == sum((line.deviation for line in lines), Decimal(0))


def test_chart_scales_every_bar_on_one_axis() -> None:
    lines = [
        BudgetLine("A", Decimal("1000.00"), Decimal("500.00")),
        BudgetLine("B", None, Decimal("250.00")),
    ]
    chart = chart_geometry(lines, width=1000)
    plot = 1000 - BAR_LEFT - VALUE_ROOM
    assert chart.zero_x == BAR_LEFT
    a, b = chart.rows
    assert a.plan.x == BAR_LEFT and a.plan.width == plot
    assert a.actual.width == Decimal(plot) / 2
    assert b.plan is None and b.actual.width == Decimal(plot) / 4
    assert a.actual.text_x == a.actual.x + a.actual.width + 6
    assert a.plan.y < a.actual.y < b.plan_y < b.actual.y  # plan above actual, rows apart
    assert chart.height > b.actual.y + b.actual.height


def test_chart_draws_negative_actuals_left_of_zero_and_keeps_tiny_bars_visible() -> None:
    lines = [
        BudgetLine("Förderung", Decimal("0.00"), Decimal("-300.00")),
        BudgetLine("Kosten", Decimal("900.00"), Decimal("0.01")),
    ]
    chart = chart_geometry(lines, width=1248)  # a plot of 960 units: 0.8 per euro
    grant, cost = chart.rows
    assert chart.zero_x == BAR_LEFT + 240
    assert grant.actual.x == BAR_LEFT and grant.actual.width == 240
    assert grant.actual.text_x == chart.zero_x + 6  # the label stays right of zero
    assert grant.plan.width == 0  # a plan of 0 has no length
    assert cost.actual.x == chart.zero_x and cost.actual.width == 1  # one cent, still visible
    assert cost.plan.width == 720


def test_chart_without_amounts_has_no_lengths() -> None:
    chart = chart_geometry([BudgetLine("Leer", Decimal("0.00"), Decimal("0.00"))])
    assert chart.rows[0].plan.width == chart.rows[0].actual.width == 0
    assert chart_geometry([]).rows == []


# --- the page ----------------------------------------------------------------------------------


@pytest.fixture()
def books(make_municipality, make_user, make_cooperation):  # noqa: ANN001, ANN201
    merchweiler = make_municipality("Merchweiler", "10043113")
    illingen = make_municipality("Illingen", "10043112")
    lead = make_user(merchweiler)
    kasse = make_user(merchweiler)
    member = make_user(illingen)
    coop = make_cooperation(lead, [illingen], roles={kasse: Role.TREASURER, member: Role.MEMBER})
    return {
        "coop": coop,
        "url": f"/kooperationen/{coop.id}/kosten/planansatz/{YEAR}",
        "lead": lead,
        "kasse": kasse,
        "member": member,
    }


def _cost(coop_id: int, category: str, amount: str, **kw: object) -> dict:
    kind = kw.pop("kind", CostKind.KOSTEN if Decimal(amount) > 0 else CostKind.FOERDERUNG)
    return {
        "cooperation_id": coop_id,
        "budget_year": kw.pop("year", YEAR),
        "booking_date": date(YEAR, 3, 1),
        "text": f"{category} {amount}",
        "category": category,
        "kind": kind,
        "amount": Decimal(amount),
        "state": kw.pop("state", CostState.FREIGEGEBEN),
        "version": 1,
    }


def _costs(rows: list[dict]) -> None:
    db.session.execute(insert(Cost), rows)
    db.session.commit()


def _form(*rows: tuple, more: dict | None = None) -> dict:
    """(category, amount) for new rows, (id, version, category, amount[, remove]) for stored."""
    data = {}
    for i, row in enumerate(rows):
        if len(row) == 2:
            data[f"category_{i}"], data[f"amount_{i}"] = row
        else:
            data[f"id_{i}"], data[f"version_{i}"] = str(row[0]), str(row[1])
            data[f"category_{i}"], data[f"amount_{i}"] = row[2], row[3]
            if len(row) > 4 and row[4]:
                data[f"remove_{i}"] = "1"
    return {**data, **(more or {})}


def _plans() -> dict[str, Decimal]:
    db.session.expire_all()
    return dict(db.session.execute(select(CostBudget.category, CostBudget.amount)).all())


def _cells(body: str, css: str) -> list[str]:
    pattern = rf'<td class="num {css}">(.*?)</td>'
    return [re.sub(r"<[^>]+>", "", unescape(c)).strip() for c in re.findall(pattern, body)]


def test_lead_sets_plan_and_page_shows_plan_against_actual(books, login_as) -> None:  # noqa: ANN001
    coop_id = books["coop"].id
    _costs(
        [
            _cost(coop_id, "IT", "12000.00"),
            _cost(coop_id, "IT", "345.67"),
            _cost(coop_id, "IT", "-1000.00"),  # Förderung
            _cost(coop_id, "IT", "-345.67", kind=CostKind.STORNO),
            _cost(coop_id, "IT", "999.00", state=CostState.EINGEREICHT),  # not approved yet
            _cost(coop_id, "IT", "777.00", year=YEAR - 1),  # another year
            _cost(coop_id, "Reisen", "400.00"),  # booked, not planned
        ]
    )
    client = login_as(books["lead"])
    page = client.get(books["url"])
    assert page.status_code == 200
    assert "Planansatz festlegen" in page.get_data(as_text=True)
    saved = client.post(
        books["url"], data=_form(("IT", "10.000,00"), ("Personal", "50.000"), ("", ""))
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    assert _plans() == {"IT": Decimal("10000.00"), "Personal": Decimal("50000.00")}

    body = client.get(books["url"]).get_data(as_text=True)
    assert "Der Planansatz 2026 ist gespeichert." in body
    # Table: IT 10.000 planned, 11.000 approved (12.000 + 345,67 − 1.000 − 345,67).
    assert _cells(body, "plan") == [f"10.000,00{NBSP}€", f"50.000,00{NBSP}€", "kein Planansatz"]
    assert _cells(body, "ist") == [f"11.000,00{NBSP}€", f"0,00{NBSP}€", f"400,00{NBSP}€"]
    assert _cells(body, "abweichung")[0].startswith(f"1.000,00{NBSP}€")
    assert "über Plan" in body
    assert _cells(body, "ausschoepfung") == [f"110{NBSP}%", f"0{NBSP}%", "–"]
    assert f'id="plan-summe">60.000,00{NBSP}€' in body
    assert f'id="ist-summe">11.400,00{NBSP}€' in body
    assert f'id="abweichung-summe">-48.600,00{NBSP}€' in body
    # Chart: an image with title and description, the same numbers as the table.
    svg = re.search(r'<svg class="chart".*?</svg>', body, re.S).group(0)
    assert 'role="img"' in svg
    assert 'aria-labelledby="plan-diagramm-titel plan-diagramm-beschreibung"' in svg
    assert (
        '<title id="plan-diagramm-titel">' in svg
        and '<desc id="plan-diagramm-beschreibung">' in svg
    )
    assert " style=" not in svg  # the CSP forbids inline styles
    plan_texts = re.findall(r'class="chart-value chart-plan"[^>]*>([^<]*)<', svg)
    actual_texts = re.findall(r'class="chart-amount">([^<]*)<', svg)
    assert [unescape(t) for t in plan_texts] == _cells(body, "plan")
    assert [unescape(t) for t in actual_texts] == _cells(body, "ist")
    assert f"IT: Planansatz 10.000,00{NBSP}€, Ist 11.000,00{NBSP}€, Ausschöpfung 110{NBSP}%." in (
        unescape(svg)
    )
    history = db.session.scalars(
        select(HistoryEntry.action).where(HistoryEntry.record_type == "CostBudget")
    ).all()
    assert history and set(history) == {"create"}


def test_actual_costs_are_one_aggregate_query(books, login_as) -> None:  # noqa: ANN001
    coop_id = books["coop"].id
    client = login_as(books["member"])
    _costs([_cost(coop_id, f"K{n % 3}", "10.00") for n in range(3)])
    client.get(books["url"])
    with counting() as few:
        assert client.get(books["url"]).status_code == 200
    _costs([_cost(coop_id, f"K{n % 3}", "10.00") for n in range(600)])
    with counting() as many:
        body = client.get(books["url"]).get_data(as_text=True)
    assert len(many) == len(few)
    assert f'id="ist-summe">6.030,00{NBSP}€' in body
    assert not any(re.search(r"FROM cost\b(?!_)", s) and "sum(" not in s for s in many), many


@pytest.mark.parametrize(
    ("rows", "field", "needle"),
    [
        ((("IT", "1,234"),), "amount_0", "Nachkommastellen"),
        ((("IT", "-5,00"),), "amount_0", "negativer Betrag"),
        ((("IT", "12,345.67"),), "amount_0", "englischer Schreibweise"),
        ((("IT", ""),), "amount_0", "Bitte einen Betrag eingeben"),
        ((("", "100,00"),), "category_0", "Bitte eine Kategorie angeben"),
        ((("x" * 101, "1,00"),), "category_0", "zu lang"),
        ((("IT", "1,00"), ("it", "2,00")), "category_1", "mehrfach"),
    ],
)
def test_bad_rows_are_refused_next_to_the_field(
    books,  # noqa: ANN001
    login_as,  # noqa: ANN001
    rows: tuple,
    field: str,
    needle: str,
) -> None:
    client = login_as(books["kasse"])
    response = client.post(books["url"], data=_form(*rows))
    assert response.status_code == 400
    body = unescape(response.get_data(as_text=True))
    assert needle in body
    assert f'id="{field}-fehler"' in body
    assert re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-fehler"', body)
    assert f'href="#{field}"' in body  # the error summary links to the field
    assert _plans() == {}
    assert (
        db.session.scalar(
            select(func.count(HistoryEntry.id)).where(HistoryEntry.record_type == "CostBudget")
        )
        == 0
    )


def test_stale_version_answers_409_with_current_values(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["kasse"])
    client.post(books["url"], data=_form(("IT", "100,00")))
    plan = db.session.scalar(select(CostBudget))
    assert plan.version == 1
    first = client.post(books["url"], data=_form((plan.id, 1, "IT", "200,00")))
    assert first.status_code == 302
    stale = client.post(books["url"], data=_form((plan.id, 1, "IT", "300,00"), ("Neu", "1,00")))
    assert stale.status_code == 409
    body = stale.get_data(as_text=True)
    assert "inzwischen geändert" in body
    assert 'value="200,00"' in body and 'name="version_0" value="2"' in body
    assert _plans() == {"IT": Decimal("200.00")}


def test_a_category_someone_else_added_meanwhile_is_a_conflict(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["lead"])
    db.session.add(
        CostBudget(
            cooperation_id=books["coop"].id, budget_year=YEAR, category="IT", amount=Decimal(5)
        )
    )
    db.session.commit()
    response = client.post(books["url"], data=_form(("it", "7,00")))
    assert response.status_code == 409
    assert _plans() == {"IT": Decimal("5.00")}


def test_rows_are_renamed_removed_and_the_history_says_so(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["lead"])
    client.post(books["url"], data=_form(("IT", "100,00"), ("Miete", "50,00")))
    it, miete = db.session.scalars(select(CostBudget).order_by(CostBudget.category)).all()
    response = client.post(
        books["url"],
        data=_form((it.id, 1, "IT-Dienstleistungen", "100,00"), (miete.id, 1, "Miete", "0", True)),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert _plans() == {"IT-Dienstleistungen": Decimal("100.00")}
    changes = set(
        db.session.execute(
            select(HistoryEntry.action, HistoryEntry.field, HistoryEntry.old_value).where(
                HistoryEntry.record_type == "CostBudget", HistoryEntry.action != "create"
            )
        ).all()
    )
    assert ("update", "category", "IT") in changes
    assert ("delete", "amount", "50.00") in changes


def test_more_rows_saves_nothing(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["lead"])
    response = client.post(
        books["url"], data=_form(("IT", "100,00"), ("", ""), more={"action": "more"})
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'id="category_4"' in body and 'value="100,00"' in body
    assert _plans() == {}


def test_closed_year_refuses_changes(books, login_as) -> None:  # noqa: ANN001
    db.session.add(YearClosing(cooperation_id=books["coop"].id, budget_year=YEAR))
    db.session.commit()
    client = login_as(books["kasse"])
    page = client.get(books["url"]).get_data(as_text=True)
    assert "Haushaltsjahr abgeschlossen" in page and "Planansatz festlegen" not in page
    refused = client.post(books["url"], data=_form(("IT", "100,00")))
    assert refused.status_code == 400
    assert "abgeschlossen und kann nicht mehr geändert werden" in refused.get_data(as_text=True)
    assert _plans() == {}


def test_readers_see_the_plan_but_cannot_set_it(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["member"])
    page = client.get(books["url"])
    assert page.status_code == 200
    assert "Planansatz festlegen" not in page.get_data(as_text=True)
    assert client.post(books["url"], data=_form(("IT", "1,00"))).status_code == 403
    assert (
        client.get(f"/kooperationen/{books['coop'].id}/kosten/planansatz/1800").status_code == 404
    )
    assert _plans() == {}


def _years_cells(body: str) -> dict[tuple[str, str], str]:
    """The comparison table: (category, year) → its cell's text."""
    table = re.search(r'<table id="jahresvergleich-tabelle">.*?</table>', body, re.S).group(0)
    cells = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        head = re.search(r'<th scope="row">(.*?)</th>', row)
        if head is None:
            continue
        for year, cell in re.findall(r'<td class="num" data-jahr="(\d+)">(.*?)</td>', row, re.S):
            text = re.sub(r"<br>", " ", cell)
            cells[(unescape(head.group(1)), year)] = unescape(re.sub(r"<[^>]+>", "", text))
    return cells


def _plan(coop_id: int, year: int, category: str, amount: str) -> None:
    db.session.add(
        CostBudget(
            cooperation_id=coop_id, budget_year=year, category=category, amount=Decimal(amount)
        )
    )
    db.session.commit()


def test_the_years_compared_per_category_chart_and_table_agree(books, login_as) -> None:  # noqa: ANN001
    coop_id = books["coop"].id
    _plan(coop_id, YEAR - 1, "IT", "1000.00")
    _plan(coop_id, YEAR, "IT", "2000.00")
    _plan(coop_id, YEAR, "Personal", "500.00")
    _costs(
        [
            _cost(coop_id, "IT", "800.00", year=YEAR - 1),
            _cost(coop_id, "IT", "2500.00"),
            _cost(coop_id, "IT", "99.00", state=CostState.EINGEREICHT),  # not approved
            _cost(coop_id, "Reisen", "300.00", year=YEAR - 3),  # a year without plan
            _cost(coop_id, "IT", "50.00", year=YEAR + 1),  # after the year shown
        ]
    )
    body = login_as(books["member"]).get(books["url"]).get_data(as_text=True)
    assert "Jahresvergleich: freigegebene Kosten gegen den Planansatz" in body
    cells = _years_cells(body)
    years = [str(YEAR - 3), str(YEAR - 1), str(YEAR)]  # years with plan or approved costs
    assert sorted({y for _c, y in cells}) == years
    assert cells[("IT", str(YEAR - 1))] == f"Ist 800,00{NBSP}€ Plan 1.000,00{NBSP}€ (80{NBSP}%)"
    assert cells[("IT", str(YEAR))] == f"Ist 2.500,00{NBSP}€ Plan 2.000,00{NBSP}€ (125{NBSP}%)"
    assert cells[("Reisen", str(YEAR - 3))] == f"Ist 300,00{NBSP}€ kein Plan"
    assert cells[("Personal", str(YEAR))] == f"Ist 0,00{NBSP}€ Plan 500,00{NBSP}€ (0{NBSP}%)"
    assert cells[("Summe", str(YEAR))] == f"Ist 2.500,00{NBSP}€ Plan 2.500,00{NBSP}€ (100{NBSP}%)"

    # Each category's chart says the table's numbers, year by year, on one scale.
    figures = re.findall(
        r'<figure class="bar-chart-figure">.*?<strong>(.*?)</strong>.*?(<svg.*?</svg>)', body, re.S
    )
    assert [name for name, _svg in figures] == ["IT", "Personal", "Reisen"]
    it_svg = dict(figures)["IT"]
    assert " style=" not in it_svg and 'role="img"' in it_svg
    values = [unescape(v) for v in re.findall(r'class="year-value"[^>]*>([^<]*)<', it_svg)]
    assert values == [
        f"Ist 0,00{NBSP}€ · kein Plan",
        f"Ist 800,00{NBSP}€ · Plan 1.000,00{NBSP}€",
        f"Ist 2.500,00{NBSP}€ · Plan 2.000,00{NBSP}€",
    ]
    # 2.500 € is the largest amount: its bar fills the track, the plan mark stands at 4/5.
    fills = re.findall(r'class="year-actual" x="0" y="\d+" width="([\d.]+)"', it_svg)
    assert fills == ["147.2", "460.0"]
    marks = re.findall(r'class="year-plan" x1="([\d.]+)"', it_svg)
    assert marks == ["184.0", "368.0"]
    assert set(re.findall(r'font-size="(\d+)"', it_svg)) == {"16"}
    assert 'viewBox="0 0 460 ' in it_svg


def test_the_years_compared_cost_the_same_statements_for_2_and_5_years(books, login_as) -> None:  # noqa: ANN001
    coop_id = books["coop"].id
    client = login_as(books["member"])
    for year in (YEAR - 1, YEAR):
        _plan(coop_id, year, "IT", "100.00")
    _costs([_cost(coop_id, "IT", "10.00", year=YEAR - 1)])
    client.get(books["url"])
    with counting() as two:
        body = client.get(books["url"]).get_data(as_text=True)
    assert len({y for _c, y in _years_cells(body)}) == 2
    for year in range(YEAR - 7, YEAR - 1):
        _plan(coop_id, year, "IT", "100.00")
        _plan(coop_id, year, f"K{year}", "100.00")
    _costs([_cost(coop_id, "Reisen", "10.00", year=y) for y in range(YEAR - 7, YEAR)])
    with counting() as five:
        body = client.get(books["url"]).get_data(as_text=True)
    assert sorted({int(y) for _c, y in _years_cells(body)}) == list(range(YEAR - 4, YEAR + 1))
    assert len(five) == len(two)
