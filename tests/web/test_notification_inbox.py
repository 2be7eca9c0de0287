"""The in-app list of notifications, the bell, and marking read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from koopboard.domain.catalog import Role
from koopboard.domain.notifications import EventType
from koopboard.extensions import db
from koopboard.models import (
    Membership,
    NotificationDelivery,
    NotificationEvent,
    User,
)
from koopboard.models.types import utcnow
from tests.web.test_authorization import sign_in

LIST = "/benachrichtigungen/"
ALL_READ = "/benachrichtigungen/alle-gelesen"
HX = {"HX-Request": "true"}


@pytest.fixture()
def world(make_municipality, make_user, make_cooperation):  # noqa: ANN001, ANN201
    town = make_municipality()
    user = make_user(town)
    other = make_user(town)
    coop = make_cooperation(user, title="Gemeinsamer Bauhof", roles={other: Role.MEMBER})
    return {"town": town, "user": user, "other": other, "coop": coop}


_minutes = iter(range(1, 100_000))


def deliver(
    user: User,
    cooperation_id: int,
    *,
    event_type: str = EventType.MILESTONE_STATUS_CHANGED.value,
    payload: dict | None = None,
    status: str = "pending",
    read: bool = False,
    commit: bool = True,
) -> NotificationDelivery:
    """One event and its delivery to ``user``, each a little newer than the last."""
    ev = NotificationEvent(
        cooperation_id=cooperation_id,
        event_type=event_type,
        record_type="Milestone",
        record_id=4711,
        payload=payload
        if payload is not None
        else {"title": "Satzung beschließen", "old": "geplant", "new": "erledigt"},
        created_at=utcnow() - timedelta(days=30) + timedelta(minutes=next(_minutes)),
    )
    db.session.add(ev)
    db.session.flush()
    delivery = NotificationDelivery(
        event_id=ev.id,
        user_id=user.id,
        mode="off" if status == "skipped" else "immediate",
        status=status,
        read_at=utcnow() if read else None,
    )
    db.session.add(delivery)
    if commit:
        db.session.commit()
    return delivery


def read_at(delivery_id: int):  # noqa: ANN201
    db.session.expire_all()
    return db.session.get(NotificationDelivery, delivery_id).read_at


def test_anonymous_is_sent_to_login(client, world) -> None:  # noqa: ANN001
    d = deliver(world["user"], world["coop"].id)
    for response in (
        client.get(LIST),
        client.get("/benachrichtigungen/glocke"),
        client.post(f"/benachrichtigungen/{d.id}/gelesen"),
        client.post(ALL_READ),
    ):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/anmelden")
    assert read_at(d.id) is None


def test_list_shows_own_deliveries_newest_first(world, login_as) -> None:  # noqa: ANN001
    user, coop = world["user"], world["coop"]
    deliver(
        user,
        coop.id,
        payload={"title": "Älterer Meilenstein", "old": "geplant", "new": "in_arbeit"},
    )
    deliver(
        user,
        coop.id,
        event_type=EventType.MILESTONE_DUE_DATE_CHANGED.value,
        payload={"title": "Neuerer Meilenstein", "old": "2026-03-01", "new": "2026-04-15"},
        status="skipped",
    )
    deliver(world["other"], coop.id, payload={"title": "Fremder Meilenstein"})
    body = login_as(user).get(LIST).get_data(as_text=True)
    assert body.index("Neuerer Meilenstein") < body.index("Älterer Meilenstein")
    assert "Fremder Meilenstein" not in body
    assert "Status eines Meilensteins geändert" in body
    assert "geplant → in Arbeit" in body
    assert "01.03.2026 → 15.04.2026" in body  # a skipped delivery (mode off) is listed too
    assert "Gemeinsamer Bauhof" in body
    assert f"/kooperationen/{coop.id}/meilensteine/4711" in body
    assert body.count(">ungelesen</strong>") == 2
    assert "Alle als gelesen markieren" in body


def test_bell_counts_unread_in_words(world, login_as) -> None:  # noqa: ANN001
    user, coop = world["user"], world["coop"]
    for _ in range(3):
        deliver(user, coop.id)
    deliver(user, coop.id, read=True)
    client = login_as(user)
    page = client.get("/kooperationen/").get_data(as_text=True)
    assert 'id="glocke"' in page and "Benachrichtigungen, 3 ungelesen" in page
    assert 'data-hx-trigger="notifications-changed from:body"' in page
    bell = client.get("/benachrichtigungen/glocke")
    assert bell.status_code == 200
    assert "3 ungelesen" in bell.get_data(as_text=True)
    assert "<html" not in bell.get_data(as_text=True)


def test_bell_without_unread_says_nothing_more(world, login_as) -> None:  # noqa: ANN001
    page = login_as(world["user"]).get("/kooperationen/").get_data(as_text=True)
    assert 'id="glocke"' in page and "ungelesen" not in page


def test_mark_one_read_plain_form(world, login_as) -> None:  # noqa: ANN001
    d = deliver(world["user"], world["coop"].id)
    response = login_as(world["user"]).post(
        f"/benachrichtigungen/{d.id}/gelesen", data={"seite": "2"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/benachrichtigungen/?seite=2"
    assert read_at(d.id) is not None


def test_mark_one_read_htmx_returns_the_row_and_triggers_the_bell(world, login_as) -> None:  # noqa: ANN001
    d = deliver(world["user"], world["coop"].id)
    response = login_as(world["user"]).post(f"/benachrichtigungen/{d.id}/gelesen", headers=HX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith(f'<li id="benachrichtigung-{d.id}"')
    assert "ungelesen" not in body and "Als gelesen markieren" not in body
    assert "notifications-changed" in response.headers["HX-Trigger"]
    assert "HX-Request" in response.headers["Vary"]
    assert read_at(d.id) is not None


def test_mark_read_twice_is_harmless(world, login_as) -> None:  # noqa: ANN001
    d = deliver(world["user"], world["coop"].id, read=True)
    before = read_at(d.id)
    response = login_as(world["user"]).post(f"/benachrichtigungen/{d.id}/gelesen")
    assert response.status_code == 302
    assert read_at(d.id) == before


def test_another_users_delivery_is_404(world, login_as) -> None:  # noqa: ANN001
    theirs = deliver(world["other"], world["coop"].id)
    client = login_as(world["user"])
    assert client.post(f"/benachrichtigungen/{theirs.id}/gelesen").status_code == 404
    assert client.post(f"/benachrichtigungen/{theirs.id}/gelesen", headers=HX).status_code == 404
    assert client.post("/benachrichtigungen/999999/gelesen").status_code == 404
    assert read_at(theirs.id) is None


def test_mark_all_read_touches_only_own_rows(world, login_as) -> None:  # noqa: ANN001
    mine = [deliver(world["user"], world["coop"].id) for _ in range(3)]
    theirs = deliver(world["other"], world["coop"].id)
    client = login_as(world["user"])
    response = client.post(ALL_READ)
    assert response.status_code == 302
    assert all(read_at(d.id) is not None for d in mine)
    assert read_at(theirs.id) is None
    page = client.get(LIST).get_data(as_text=True)
    assert "3 Benachrichtigungen als gelesen markiert." in page
    assert ">ungelesen</strong>" not in page and "Alle als gelesen markieren" not in page


def test_mark_all_read_htmx_returns_the_list(world, login_as) -> None:  # noqa: ANN001
    deliver(world["user"], world["coop"].id)
    response = login_as(world["user"]).post(ALL_READ, headers=HX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="benachrichtigungen-liste">')
    assert "notifications-changed" in response.headers["HX-Trigger"]


def test_without_a_role_the_cooperations_events_disappear(
    world, make_cooperation, login_as
) -> None:  # noqa: ANN001, E501
    """Events of a cooperation the user left are neither listed, counted nor markable."""
    other, coop = world["other"], world["coop"]
    d = deliver(other, coop.id, payload={"title": "Vor dem Austritt"})
    client = login_as(other)
    assert "Vor dem Austritt" in client.get(LIST).get_data(as_text=True)
    db.session.execute(
        Membership.__table__.delete().where(
            Membership.user_id == other.id, Membership.cooperation_id == coop.id
        )
    )
    db.session.commit()
    page = client.get(LIST).get_data(as_text=True)
    assert "Vor dem Austritt" not in page and "Gemeinsamer Bauhof" not in page
    assert "ungelesen" not in page
    assert client.post(f"/benachrichtigungen/{d.id}/gelesen").status_code == 404
    client.post(ALL_READ)
    assert read_at(d.id) is None


def test_pagination(world, login_as) -> None:  # noqa: ANN001
    user, coop = world["user"], world["coop"]
    for i in range(25):
        deliver(user, coop.id, payload={"title": f"Meilenstein Nr. {i:02d}"}, commit=False)
    db.session.commit()
    client = login_as(user)
    first = client.get(LIST).get_data(as_text=True)
    assert first.count('<li id="benachrichtigung-') == 20
    assert "Meilenstein Nr. 24" in first and "Meilenstein Nr. 04" not in first
    assert 'href="/benachrichtigungen/?seite=2" rel="next"' in first
    second = client.get(LIST + "?seite=2").get_data(as_text=True)
    assert second.count('<li id="benachrichtigung-') == 5
    assert "Meilenstein Nr. 00" in second and 'rel="prev"' in second and 'rel="next"' not in second
    for bad in ("?seite=0", "?seite=abc", "?seite=-1"):
        assert client.get(LIST + bad).status_code == 200
    assert "keine Benachrichtigungen mehr" in client.get(LIST + "?seite=9").get_data(as_text=True)


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


def test_constant_queries_for_5_and_50(world, app) -> None:  # noqa: ANN001
    few_user, many_user = world["user"], world["other"]
    for _ in range(5):
        deliver(few_user, world["coop"].id, commit=False)
    for _ in range(50):
        deliver(many_user, world["coop"].id, commit=False)
    db.session.commit()
    counts = []
    for user in (few_user, many_user):
        client = app.test_client()
        sign_in(client, user.id)
        client.get(LIST)  # warm up
        with counting() as statements:
            response = client.get(LIST)
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 6, counts
    unread = db.session.scalar(
        select(func.count()).where(
            NotificationDelivery.user_id == many_user.id, NotificationDelivery.read_at.is_(None)
        )
    )
    assert unread == 50
