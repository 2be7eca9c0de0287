"""Every answer that carries a cooperation's data tells caches not to keep it."""

from __future__ import annotations

from tests.web.test_costs import YEAR, _population_key, books  # noqa: F401 (fixture)
from tests.web.test_csv_injection import _approved


def test_statement_exports_and_history_csv_are_never_cached(books, login_as) -> None:  # noqa: ANN001, F811
    t1 = login_as(books["t1"])
    _population_key(t1, books)
    _approved(t1, books)
    base, coop = books["base"], books["coop"]
    partner = books["m"]["illingen"].id
    for path in (
        f"{base}/abrechnung/{YEAR}/{partner}.csv",
        f"{base}/abrechnung/{YEAR}/{partner}.xlsx",
        f"{base}/abrechnung/{YEAR}/{partner}.pdf",
        f"/kooperationen/{coop.id}/verlauf.csv",
    ):
        response = t1.get(path)
        assert response.status_code == 200, path
        assert response.mimetype != "text/html", path
        assert "no-store" in response.headers["Cache-Control"], path


def test_json_and_error_answers_are_not_cached_but_static_files_are(client) -> None:  # noqa: ANN001
    health = client.get("/healthz")
    assert health.mimetype == "application/json"
    assert "no-store" in health.headers["Cache-Control"]
    static = client.get("/static/css/app.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()
