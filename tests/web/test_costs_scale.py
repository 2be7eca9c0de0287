"""The cost list with balances costs the same SQL with 20 costs as with 2,000 (20 partners)."""

from __future__ import annotations

import time

from koopboard.costs.books.bulk import YEAR, build_books
from koopboard.domain.money import format_eur
from koopboard.extensions import db
from koopboard.models import Municipality
from tests.web.test_authorization import sign_in
from tests.web.test_queries import counting


def test_cost_list_queries_do_not_grow_with_the_books(app) -> None:  # noqa: ANN001
    counts = []
    for books in (build_books(20, "81"), build_books(2000, "82")):
        client = sign_in(app.test_client(), books.treasurer_id)
        url = f"/kooperationen/{books.cooperation_id}/kosten/?jahr={YEAR}"
        client.get(url)  # warm up
        with counting() as statements:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
        assert response.status_code == 200
        counts.append(len(statements))
        body = response.get_data(as_text=True)
        # The lead's municipality advanced every cost and received the one payment; the
        # second partner made it: balances from SQL aggregates, exact to the cent.
        for municipality_id in books.municipality_ids[:3]:
            town = db.session.get(Municipality, municipality_id)
            expected = format_eur(books.expected_open(municipality_id))
            assert f'data-saldo="{town.ags}">{expected}' in body
        print(f"cost list with balances, {len(books.owed)} partners: {elapsed * 1000:.1f} ms")
    assert counts[0] == counts[1], counts
