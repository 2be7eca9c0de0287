"""The admin page of failed notification e-mails: list, paginate, queue again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from koopboard.extensions import db
from koopboard.models import (
    NotificationDelivery,
    NotificationDigest,
    NotificationEvent,
    User,
)
from koopboard.models.types import utcnow
from koopboard.notifications import delivery

URL = "/verwaltung/zustellungen"


@pytest.fixture()
def world(make_municipality, make_user, make_cooperation) -> dict:  # noqa: ANN001
    town = make_municipality("Merchweiler")
    admin = make_user(None, name="Ada Admin", is_admin=True)
    lead = make_user(town, name="Lea Leitung", email="lea@merchweiler.de")
    coop = make_cooperation(lead, title="Gemeinsamer Bauhof")
    db.session.execute(NotificationDelivery.__table__.delete())
    db.session.execute(NotificationEvent.__table__.delete())
    db.session.commit()
    return {"admin": admin, "lead": lead, "coop": coop}


def _failed(user: User, coop_id: int, n: int = 1, status: str = "failed") -> list[int]:
    ids = []
    start = utcnow() - timedelta(hours=1)
    for i in range(n):
        ev = NotificationEvent(
            cooperation_id=coop_id,
            event_type="milestone.status_changed",
            record_type="Milestone",
            record_id=i + 1,
            payload={"title": f"Meilenstein {i}"},
            created_at=start + timedelta(seconds=i),
        )
        db.session.add(ev)
        db.session.flush()
        row = NotificationDelivery(
            event_id=ev.id,
            user_id=user.id,
            mode="immediate",
            status=status,
            attempts=1,
            last_error=f"SMTPRecipientsRefused: 550 Postfach {i} unbekannt",
            next_attempt_at=utcnow() + timedelta(minutes=5),
            created_at=start + timedelta(seconds=i),
        )
        db.session.add(row)
        db.session.flush()
        ids.append(row.id)
    db.session.commit()
    return ids


def _failed_digest(user: User) -> int:
    digest = NotificationDigest(
        user_id=user.id,
        scheduled_for=utcnow(),
        status="failed",
        attempts=6,
        last_error="ConnectionRefusedError: [Errno 111] Connection refused",
    )
    db.session.add(digest)
    db.session.commit()
    return digest.id


@contextmanager
def counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_only_admins_see_the_page(world, login_as, client) -> None:  # noqa: ANN001
    assert client.get(URL).status_code == 302  # anonymous: to the login
    login_as(world["lead"])
    assert client.get(URL).status_code == 404
    assert client.post(f"{URL}/delivery/1/erneut").status_code == 404


def test_lists_failed_deliveries_and_digests_newest_first(world, login_as) -> None:  # noqa: ANN001
    lead = world["lead"]
    ids = _failed(lead, world["coop"].id, 2)
    _failed(lead, world["coop"].id, 1, status="sent")  # not failed: not listed
    digest_id = _failed_digest(lead)
    body = login_as(world["admin"]).get(URL).get_data(as_text=True)
    rows = [
        body.index(f'id="zustellung-{kind}-{row_id}"')
        for kind, row_id in (("digest", digest_id), ("delivery", ids[1]), ("delivery", ids[0]))
    ]
    assert rows == sorted(rows)  # the digest is newest, then the deliveries by time
    assert body.count('id="zustellung-') == 3
    assert "lea@merchweiler.de" in body and "Gemeinsamer Bauhof" in body
    assert "Status eines Meilensteins geändert" in body and "Sammel-E-Mail" in body
    assert "550 Postfach 1 unbekannt" in body and "Connection refused" in body
    assert "Erneut versuchen" in body


def test_retry_puts_the_row_back_in_the_queue(world, login_as, mailbox) -> None:  # noqa: ANN001
    (row_id,) = _failed(world["lead"], world["coop"].id)
    digest_id = _failed_digest(world["lead"])
    client = login_as(world["admin"])
    response = client.post(f"{URL}/delivery/{row_id}/erneut", data={"seite": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(URL + "?seite=1")
    row = db.session.get(NotificationDelivery, row_id, populate_existing=True)
    assert (row.status, row.attempts, row.next_attempt_at, row.last_error) == (
        "pending",
        0,
        None,
        None,
    )
    assert "wird erneut zugestellt" in client.get(URL).get_data(as_text=True)
    client.post(f"{URL}/digest/{digest_id}/erneut")
    digest = db.session.get(NotificationDigest, digest_id, populate_existing=True)
    assert (digest.status, digest.attempts) == ("pending", 0)
    assert delivery.relay() == 2  # the relay hands both out again
    assert len(mailbox.to("lea@merchweiler.de")) == 2
    # Sent now: a second click changes nothing.
    response = client.post(f"{URL}/delivery/{row_id}/erneut")
    assert response.status_code == 302
    assert "nicht (mehr) fehlgeschlagen" in client.get(URL).get_data(as_text=True)
    assert db.session.get(NotificationDelivery, row_id, populate_existing=True).status == "sent"


def test_retry_needs_the_csrf_token(world, login_as) -> None:  # noqa: ANN001
    (row_id,) = _failed(world["lead"], world["coop"].id)
    client = login_as(world["admin"])
    response = client.post(f"{URL}/delivery/{row_id}/erneut", csrf=False)
    assert response.status_code == 400
    assert db.session.get(NotificationDelivery, row_id, populate_existing=True).status == "failed"


def test_pages_of_fifty_with_constant_queries(world, app) -> None:  # noqa: ANN001
    from tests.web.test_authorization import sign_in

    lead = world["lead"]
    _failed(lead, world["coop"].id, 3)
    counts = []
    for extra in (0, 60):
        _failed(lead, world["coop"].id, extra)
        client = app.test_client()
        sign_in(client, world["admin"].id)
        client.get(URL)  # warm up
        with counting() as statements:
            response = client.get(URL)
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 5, counts
    first = client.get(URL).get_data(as_text=True)
    second = client.get(URL + "?seite=2").get_data(as_text=True)
    assert first.count('id="zustellung-') == 50 and 'rel="next"' in first
    assert second.count('id="zustellung-') == 13 and 'rel="prev"' in second
    newest = db.session.scalars(
        select(NotificationDelivery.id).order_by(NotificationDelivery.created_at.desc()).limit(1)
    ).one()
    assert f'id="zustellung-delivery-{newest}"' in first
    assert "keine fehlgeschlagenen" in client.get(URL + "?seite=9").get_data(as_text=True)
