"""Issue 16.4: the charts are server-side SVG with a table beside them, and both say the same.

Progress per phase on the cooperation page (reloading itself when a milestone changes), the
partners' shares on the key page; each chart is role="img" with a title and a description,
and its bars are as long as the table's numbers say.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from tests.web import test_costs, test_milestones
from tests.web.test_costs import YEAR, _population_key
from tests.web.test_milestones import HX, World, add, base, today

world = test_milestones.world
books = test_costs.books


def text(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


def svg_of(page: str, title_id: str) -> str:
    start = page.rindex("<svg", 0, page.index(f'id="{title_id}"'))
    return page[start : page.index("</svg>", start)]


def test_progress_per_phase_chart_matches_its_table(world: World, login_as) -> None:
    add(world, "A", phase="planung", status="erledigt")
    add(world, "B", phase="planung")
    add(world, "C", phase="planung", status="abgesagt")  # does not count
    add(world, "D", phase="umsetzung", due_date=today() + timedelta(days=3))
    client = login_as(world.observer)
    page = text(client.get(f"/kooperationen/{world.cid}"))
    svg = svg_of(page, "phasen-titel")
    assert 'role="img"' in svg and 'aria-labelledby="phasen-titel phasen-beschreibung"' in svg
    assert "style=" not in svg and "<script" not in svg
    assert "Planung: 1 von 2 erledigt." in svg and "Umsetzung: 0 von 1 erledigt." in svg
    # The bar of Planung is half the track (460 units); Umsetzung has none filled.
    fills = re.findall(r'class="ms-bar-done" x="0" y="\d+" width="([\d.]+)"', svg)
    assert fills == ["230.0"]
    table = page[page.index('class="narrow ms-phase-table"') :]
    table = table[: table.index("</table>")]
    cells = re.findall(
        r'<tr><th scope="row">([^<]+)</th>((?:<td class="num">[^<]*</td>)+)</tr>', table
    )
    numbers = {phase: re.findall(r'<td class="num">([^<]*)</td>', tds) for phase, tds in cells}
    assert numbers["Planung"] == ["1", "2", "50 %", "0"]
    assert numbers["Umsetzung"] == ["0", "1", "0 %", "0"]
    assert numbers["Initiierung"] == ["0", "0", "0 %", "0"]
    # It reloads itself when a milestone changes (the fragment alone over htmx).
    assert 'data-hx-trigger="milestone-changed from:body"' in page
    response = client.get(base(world) + "/phasen", headers=HX)
    assert response.status_code == 200 and "<html" not in text(response)
    assert "Planung: 1 von 2 erledigt." in text(response)


def test_cooperation_without_milestones_shows_no_phase_chart(world: World, login_as) -> None:
    page = text(login_as(world.lead).get(f"/kooperationen/{world.cid}"))
    assert 'id="phasen-titel"' not in page


def test_key_page_chart_shows_each_partners_share(books, login_as) -> None:  # noqa: ANN001
    client = login_as(books["t1"])
    _population_key(client, books)
    page = text(client.get(f"{books['base']}/schluessel/{YEAR}?beispiel=12.345,67"))
    svg = svg_of(page, "anteile-titel")
    assert 'role="img"' in svg and "style=" not in svg
    table = page[page.index('id="beispiel-tabelle"') :]
    table = table[table.index("<tbody>") : table.index("</tbody>")]
    # Every partner's amount in the table is in the chart too, in the same order, and the
    # bars add up to the whole track.
    amounts = re.findall(r'<td class="num">([\d.]+,\d\d\xa0€)</td><td>', table)
    assert sorted(amounts) == sorted(["2.860,35\xa0€", "4.671,24\xa0€", "4.814,08\xa0€"])
    values = re.findall(r'class="share-value"[^>]*>[^<]*· ([\d.]+,\d\d\xa0€)</text>', svg)
    assert values == amounts
    fills = [
        Decimal(w) for w in re.findall(r'class="share-fill" x="0" y="\d+" width="([\d.]+)"', svg)
    ]
    assert len(fills) == 3 and abs(sum(fills) - 460) <= Decimal("0.2")
    # 4.814,08 of 12.345,67 is 38.99 %: its bar is that share of the 460-unit track.
    assert fills[amounts.index("4.814,08\xa0€")] == Decimal("179.4")


def test_timeline_draws_a_bar_per_phase_with_today_and_a_table(world: World, login_as) -> None:
    add(world, "Auftakt", phase="initiierung", due_date=today() - timedelta(days=60))
    add(
        world,
        "Bedarf",
        phase="initiierung",
        due_date=today() - timedelta(days=20),
        status="erledigt",
    )
    add(world, "Satzung", phase="planung", due_date=today() + timedelta(days=30))
    page = text(login_as(world.observer).get(base(world) + "/zeitleiste"))
    svg = svg_of(page, "zeitleiste-titel")
    assert 'role="img"' in svg and "style=" not in svg
    # One bar for each phase that has milestones; Initiierung spans its two dates.
    bars = re.findall(r'class="ms-gantt-bar" x="([\d.]+)" y="\d+" width="([\d.]+)"', svg)
    assert len(bars) == 2
    assert float(bars[0][1]) > float(bars[1][1])  # 40 days against a single date
    assert 'class="ms-gantt-today"' in svg and ">Heute</text>" in svg
    # Labels at 13 px or more, at the SVG's real size (it scrolls in its frame instead).
    sizes = {int(s) for s in re.findall(r'font-size="(\d+)"', svg)}
    assert min(sizes) >= 12
    assert 'class="ms-gantt-frame" tabindex="0"' in page
    assert "Initiierung: 2 Meilensteine" in svg and "1 erledigt, 1 überfällig" in svg
    # The table says the same per phase.
    table = page[page.index('class="ms-gantt-table"') :]
    table = table[: table.index("</table>")]
    first = (today() - timedelta(days=60)).strftime("%d.%m.%Y")
    last = (today() - timedelta(days=20)).strftime("%d.%m.%Y")
    assert re.search(
        rf"Initiierung</th>\s*<td><time[^>]*>{first}</time></td>\s*<td><time[^>]*>{last}</time></td>"
        r'\s*<td class="num">2</td>\s*<td class="num">1</td>\s*<td class="num">1</td>',
        table,
    )
    assert re.search(r'Abschluss</th>\s*<td>–</td>\s*<td>–</td>\s*<td class="num">0</td>', table)
