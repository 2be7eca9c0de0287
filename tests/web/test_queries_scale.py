"""Issue 14: the pages of the benchmark send the same SQL statements when the data grows
tenfold — 500 → 5,000 municipalities, 300 → 3,000 cooperations (with their 1,362 → 13,619
partners, their leads and 600 → 6,000 milestones), and on the measured cooperation
200 → 2,000 approved costs and 4 → 40 milestones (bench/bench_pages.py measures the same
pages at full size)."""

from __future__ import annotations

import time

from sqlalchemy import select

from koopboard import scale_data
from koopboard.costs.books.bulk import YEAR
from koopboard.extensions import db
from koopboard.models import Municipality
from tests.web.test_authorization import sign_in
from tests.web.test_queries import counting


def pages(cooperation_id: int) -> dict[str, str]:
    coop = f"/kooperationen/{cooperation_id}"
    return {
        "redirect": "/",
        "start": "/start",
        "Meine Kooperationen": "/kooperationen/",
        "cooperation page": coop,
        "milestones": f"{coop}/meilensteine/",
        "timeline": f"{coop}/meilensteine/zeitleiste",
        "Meine nächsten Meilensteine": "/meilensteine/",
        "costs": f"{coop}/kosten/?jahr={YEAR}",
        "municipality search": "/kommunen/suche?q=Ort+1",
    }


def measure(client, urls: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:  # noqa: ANN001
    counts, bodies = {}, {}
    for name, url in urls.items():
        client.get(url)  # warm up
        with counting() as statements:
            response = client.get(url)
        assert response.status_code in (200, 302), (name, response.status_code)
        counts[name], bodies[name] = len(statements), response.get_data(as_text=True)
    return counts, bodies


def test_statements_stay_flat_when_the_data_grows_tenfold(app) -> None:  # noqa: ANN001
    started = time.perf_counter()
    scale_data.add_municipalities(500)
    db.session.commit()
    towns = list(db.session.scalars(select(Municipality).order_by(Municipality.ags).limit(20)))
    measured = scale_data.build_measured(200, 4, towns)
    others = scale_data.add_cooperations(300, 1_362, 2, scale_data.municipality_ids())
    scale_data.join(measured.lead_id, others[:4])
    client = sign_in(app.test_client(), measured.lead_id)
    urls = pages(measured.cooperation_id)
    small, small_bodies = measure(client, urls)

    scale_data.add_municipalities(4_500, first=500)
    scale_data.add_cooperations(2_700, 12_257, 2, scale_data.municipality_ids(), number=300)
    scale_data.grow_measured(measured, 2_000, 40)
    large, large_bodies = measure(client, urls)
    print(f"built and measured in {time.perf_counter() - started:.1f} s: {large}")

    assert small == large, {name: (small[name], large[name]) for name in small}
    # Equal counts of equal emptiness prove nothing: the rows are on the pages.
    assert "Meilenstein 40:" in large_bodies["milestones"]
    assert "Meilenstein 40:" not in small_bodies["milestones"]
    assert large_bodies["costs"] != small_bodies["costs"]
    assert large_bodies["Meine Kooperationen"].count("Kooperation 3 Verwaltung") == 1
    assert "Ort 1" in large_bodies["municipality search"]
