"""The in-app list of notifications, the bell, and marking read."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import event, func, select

from koopboard.domain.catalog import Role
from koopboard.domain.milestones import BERLIN, berlin_today
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
    actor: User | None = None,
    created_at: datetime | None = None,
) -> NotificationDelivery:
    """One event and its delivery to ``user``, each a little newer than the last."""
    ev = NotificationEvent(
        cooperation_id=cooperation_id,
        actor_id=actor.id if actor else None,
        event_type=event_type,
        record_type="Milestone",
        record_id=4711,
        payload=payload
        if payload is not None
        else {"title": "Satzung beschließen", "old": "geplant", "new": "erledigt"},
        created_at=created_at or utcnow() - timedelta(days=30) + timedelta(minutes=next(_minutes)),
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
        client.post(f"/benachrichtigungen/{d.id}/oeffnen"),
        client.post(ALL_READ),
    ):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/anmelden")
    assert read_at(d.id) is None


def test_list_shows_own_deliveries_newest_first(world, login_as) -> None:  # noqa: ANN001
    user, coop, other = world["user"], world["coop"], world["other"]
    deliver(
        user,
        coop.id,
        payload={"title": "Älterer Meilenstein", "old": "geplant", "new": "in_arbeit"},
        actor=other,
    )
    deliver(
        user,
        coop.id,
        event_type=EventType.MILESTONE_DUE_DATE_CHANGED.value,
        payload={"title": "Neuerer Meilenstein", "old": "2026-03-01", "new": "2026-04-15"},
        status="skipped",
        actor=other,
    )
    deliver(world["other"], coop.id, payload={"title": "Fremder Meilenstein"})
    body = login_as(user).get(LIST).get_data(as_text=True)
    assert body.index("Neuerer Meilenstein") < body.index("Älterer Meilenstein")
    assert "Fremder Meilenstein" not in body
    who = f"{other.name} ({world['town'].name})"
    assert (
        f"{who} hat den Status des Meilensteins „Älterer Meilenstein“ von „geplant“ auf "
        "„in Arbeit“ geändert"
    ) in body
    # A skipped delivery (mode off) is listed too.
    assert (
        f"{who} hat die Fälligkeit des Meilensteins „Neuerer Meilenstein“ vom 01.03.2026 auf "
        "den 15.04.2026 verschoben"
    ) in body
    assert "in Kooperation „Gemeinsamer Bauhof“" in body
    assert f"/kooperationen/{coop.id}/meilensteine/4711" in body
    main = body[body.index("<main") :]
    assert main.count(">ungelesen</strong>") == 2
    assert "Alle als gelesen markieren" in body and "2 ungelesen" in main
    assert '<ol class="feed"' in body and "card-list" not in main  # a list, not a card grid


def test_entries_are_grouped_by_their_day_in_berlin(world, login_as) -> None:  # noqa: ANN001
    user, coop = world["user"], world["coop"]
    today = berlin_today(utcnow())
    midnight = datetime.combine(today, time(0, 30), BERLIN)  # 23:30 UTC the day before
    deliver(user, coop.id, payload={"title": "Heute früh", "new": "erledigt"}, created_at=midnight)
    deliver(
        user,
        coop.id,
        payload={"title": "Gestern spät", "new": "erledigt"},
        created_at=midnight - timedelta(hours=1),
    )
    deliver(
        user,
        coop.id,
        payload={"title": "Vor einer Woche", "new": "erledigt"},
        created_at=datetime.combine(today - timedelta(days=7), time(9, 15), BERLIN),
    )
    page = login_as(user).get(LIST).get_data(as_text=True)
    body = page[page.index("<main") :]
    headings = re.findall(r'<h2 id="tag-[^"]+" class="feed-day">([^<]+)</h2>', body)
    assert headings[:2] == ["Heute", "Gestern"] and len(headings) == 3
    assert re.match(r"\w+, \d{1,2}\. \w+ \d{4}", headings[2])  # e.g. Donnerstag, 26. November 2026
    assert body.index("Heute früh") < body.index(">Gestern<") < body.index("Gestern spät")
    assert ">00:30</time>" in body and ">23:30</time>" in body and ">09:15</time>" in body
    # Nobody did a date alert: the sentence says what happened.
    assert "Der Status des Meilensteins „Heute früh“ wurde von" in body


def test_bell_counts_unread_in_words(world, login_as) -> None:  # noqa: ANN001
    user, coop = world["user"], world["coop"]
    for _ in range(3):
        deliver(user, coop.id)
    deliver(user, coop.id, read=True)
    client = login_as(user)
    page = client.get("/kooperationen/").get_data(as_text=True)
    bell = page[page.index('<details id="glocke"') : page.index("</details>")]
    assert (
        "Benachrichtigungen <span" in bell and '<span class="visually-hidden">, 3 ungelesen' in bell
    )
    assert 'data-hx-trigger="notifications-changed from:body"' in bell
    assert '<span class="badge" aria-hidden="true">3</span>' in bell
    fragment = client.get("/benachrichtigungen/glocke")
    assert fragment.status_code == 200
    assert "3 ungelesen" in fragment.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)


def test_bell_without_unread_says_nothing_more(world, login_as) -> None:  # noqa: ANN001
    page = login_as(world["user"]).get("/kooperationen/").get_data(as_text=True)
    assert 'id="glocke"' in page and "ungelesen" not in page
    assert "Noch keine Benachrichtigungen." in page


def test_bell_previews_the_newest_five_with_a_link_to_the_feed(world, login_as) -> None:  # noqa: ANN001
    user, coop, other = world["user"], world["coop"], world["other"]
    for i in range(7):
        title = f"Meilenstein Nr. {i}"
        payload = {"title": title, "old": "geplant", "new": "erledigt"}
        deliver(user, coop.id, payload=payload, actor=other, read=i == 5)
    page = login_as(user).get("/kooperationen/").get_data(as_text=True)
    bell = page[page.index('<details id="glocke"') : page.index("</details>")]
    assert "<summary" in bell  # a disclosure: opens without JavaScript
    titles = re.findall(r"Meilenstein Nr\. (\d)", bell)
    assert titles == ["6", "5", "4", "3", "2"]  # newest first, five
    assert bell.count('<li class="feed-unread">') == 4  # Nr. 5 was read
    assert f"{other.name} ({world['town'].name}) hat den Status" in bell
    assert ", 6 ungelesen" in bell  # all unread, not only those shown
    assert 'href="/benachrichtigungen/">Alle Benachrichtigungen</a>' in bell


def test_following_an_unread_entry_of_the_bell_marks_it_read(world, login_as) -> None:  # noqa: ANN001
    user, coop, other = world["user"], world["coop"], world["other"]
    unread = deliver(user, coop.id, actor=other)
    seen = deliver(user, coop.id, actor=other, read=True)
    client = login_as(user)
    page = client.get("/kooperationen/").get_data(as_text=True)
    bell = page[page.index('<details id="glocke"') : page.index("</details>")]
    # The unread entry is a form (CSRF) whose button reads as a link; the read one a link.
    form = re.search(
        rf'<form method="post" action="/benachrichtigungen/{unread.id}/oeffnen"[^>]*>(.*?)</form>',
        bell,
        re.S,
    )
    assert form and 'name="csrf_token"' in form.group(1)
    assert '<button type="submit" class="link-button">' in form.group(1)
    assert f"/benachrichtigungen/{seen.id}/oeffnen" not in bell
    assert f'<a href="/kooperationen/{coop.id}/meilensteine/4711">' in bell
    assert ", 1 ungelesen" in bell

    # Without the form's token nothing changes; another user's entry is not found.
    assert client.post(f"/benachrichtigungen/{unread.id}/oeffnen", csrf=False).status_code == 400
    assert read_at(unread.id) is None
    theirs = deliver(other, coop.id)
    assert client.post(f"/benachrichtigungen/{theirs.id}/oeffnen").status_code == 404
    assert read_at(theirs.id) is None

    response = client.post(f"/benachrichtigungen/{unread.id}/oeffnen")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/kooperationen/{coop.id}/meilensteine/4711"
    assert read_at(unread.id) is not None
    page = client.get("/kooperationen/").get_data(as_text=True)
    bell = page[page.index('<details id="glocke"') : page.index("</details>")]
    assert "ungelesen" not in bell and "/oeffnen" not in bell


def test_the_bell_is_one_query_and_only_for_signed_in_users(world, app) -> None:  # noqa: ANN001
    for _ in range(30):
        deliver(world["user"], world["coop"].id, actor=world["other"], commit=False)
    db.session.commit()
    anonymous = app.test_client()
    anonymous.get("/barrierefreiheit")
    with counting() as statements:
        assert anonymous.get("/barrierefreiheit").status_code == 200
    assert not [s for s in statements if "notification" in s]
    for user in (world["other"], world["user"]):  # no notifications, 30 of them
        client = sign_in(app.test_client(), user.id)
        client.get("/kooperationen/")
        with counting() as statements:
            assert client.get("/kooperationen/").status_code == 200
        assert len([s for s in statements if "notification_delivery" in s]) == 1, statements


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
        deliver(few_user, world["coop"].id, commit=False, actor=many_user)
    for _ in range(50):  # each names who did it and where: still no query per entry
        deliver(many_user, world["coop"].id, commit=False, actor=few_user)
    db.session.commit()
    for path in (LIST, f"{LIST}?kooperation={world['coop'].id}"):
        counts = []
        for user in (few_user, many_user):
            client = app.test_client()
            sign_in(client, user.id)
            client.get(path)  # warm up
            with counting() as statements:
                response = client.get(path)
            assert response.status_code == 200
            assert "hat den Status" in response.get_data(as_text=True)
            counts.append(len(statements))
        assert counts[0] == counts[1], (path, counts)
        assert counts[1] <= 5, (path, counts)
    unread = db.session.scalar(
        select(func.count()).where(
            NotificationDelivery.user_id == many_user.id, NotificationDelivery.read_at.is_(None)
        )
    )
    assert unread == 50


# --- the filter per cooperation -------------------------------------------------------------


@pytest.fixture()
def two(world, make_cooperation, make_user, make_municipality):  # noqa: ANN001, ANN201
    """The user also has a role in the Bücherei; a stranger's cooperation exists too."""
    buecherei = make_cooperation(world["other"], title="Gemeinsame Bücherei")
    db.session.add(Membership(cooperation=buecherei, user=world["user"], role=Role.OBSERVER))
    stranger = make_cooperation(make_user(make_municipality()), title="Fremde Kooperation")
    db.session.commit()
    user = world["user"]
    for i in range(3):
        deliver(user, world["coop"].id, payload={"title": f"Bauhof {i}"}, commit=False)
        deliver(user, buecherei.id, payload={"title": f"Bücherei {i}"}, commit=False)
    db.session.commit()
    return {**world, "buecherei": buecherei, "stranger": stranger}


def _main(response) -> str:  # noqa: ANN001
    body = response.get_data(as_text=True)
    return body[body.index("<main") :] if "<main" in body else body


def test_filter_by_cooperation_plain_get(two, login_as) -> None:  # noqa: ANN001
    client = login_as(two["user"])
    everything = _main(client.get(LIST))
    assert "Bauhof 2" in everything and "Bücherei 2" in everything
    assert '<option value="">Alle Kooperationen</option>' in everything
    assert "Fremde Kooperation" not in everything
    response = client.get(f"{LIST}?kooperation={two['buecherei'].id}")
    assert response.status_code == 200
    page = _main(response)
    entries = page[page.index('<div id="benachrichtigungen-liste">') :]
    assert "Bücherei 2" in entries and "Bauhof" not in entries
    assert f'<option selected value="{two["buecherei"].id}">Gemeinsame Bücherei' in page
    assert "3 ungelesen" in page  # of the Bücherei only
    assert f'name="kooperation" value="{two["buecherei"].id}"' in page  # carried by the forms


def test_filter_with_htmx_swaps_the_feed_in_place(two, login_as) -> None:  # noqa: ANN001
    response = login_as(two["user"]).get(f"{LIST}?kooperation={two['coop'].id}", headers=HX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="benachrichtigungen">')
    assert "<html" not in body
    entries = body[body.index('<div id="benachrichtigungen-liste">') :]
    assert "Bauhof 1" in entries and "Bücherei" not in entries


@pytest.mark.parametrize("which", ["stranger", "nonsense", "huge"])
def test_filter_refuses_a_cooperation_that_is_not_ones_own(two, login_as, which) -> None:  # noqa: ANN001
    value = {"stranger": str(two["stranger"].id), "nonsense": "abc", "huge": "9" * 30}[which]
    client = login_as(two["user"])
    response = client.get(f"{LIST}?kooperation={value}")
    assert response.status_code == 400
    page = _main(response)
    assert "Bitte wählen Sie einen Eintrag aus der Liste." in page
    assert 'aria-invalid="true"' in page and "Fremde Kooperation" not in page
    assert "Bauhof 2" in page and "Bücherei 2" in page  # the whole feed, unfiltered
    htmx = client.get(f"{LIST}?kooperation={value}", headers=HX)
    assert htmx.status_code == 422
    assert "Bitte wählen Sie einen Eintrag aus der Liste." in htmx.get_data(as_text=True)


def test_pages_keep_the_filter(world, login_as) -> None:  # noqa: ANN001
    user, coop = world["user"], world["coop"]
    for i in range(25):
        deliver(user, coop.id, payload={"title": f"Nr. {i}"}, commit=False)
    db.session.commit()
    page = login_as(user).get(f"{LIST}?kooperation={coop.id}").get_data(as_text=True)
    assert f'href="/benachrichtigungen/?seite=2&amp;kooperation={coop.id}" rel="next"' in page


def test_mark_all_read_in_a_filtered_feed_marks_only_that_cooperation(two, login_as) -> None:  # noqa: ANN001
    user = two["user"]
    client = login_as(user)
    response = client.post(ALL_READ, data={"kooperation": str(two["buecherei"].id)}, headers=HX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="benachrichtigungen-liste">')
    assert "3 Benachrichtigungen als gelesen markiert." in body and "data-focus-after-swap" in body
    assert "Alles gelesen." in body and "Bauhof" not in body
    unread = db.session.execute(
        select(NotificationEvent.cooperation_id, func.count())
        .join(NotificationDelivery)
        .where(NotificationDelivery.user_id == user.id, NotificationDelivery.read_at.is_(None))
        .group_by(NotificationEvent.cooperation_id)
    ).all()
    assert dict(unread) == {two["coop"].id: 3}
    # Someone else's cooperation as the filter: ignored, not a way to touch their rows.
    client.post(ALL_READ, data={"kooperation": str(two["stranger"].id)})
    assert (
        db.session.scalar(
            select(func.count()).where(
                NotificationDelivery.user_id == user.id, NotificationDelivery.read_at.is_(None)
            )
        )
        == 0
    )


# --- mark read in place -----------------------------------------------------------------------


def test_mark_read_in_place_updates_the_count_and_says_so(world, login_as) -> None:  # noqa: ANN001
    user, coop = world["user"], world["coop"]
    d = deliver(user, coop.id, actor=world["other"])
    deliver(user, coop.id)
    response = login_as(user).post(
        f"/benachrichtigungen/{d.id}/gelesen", data={"kooperation": str(coop.id)}, headers=HX
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    item = body[: body.index("</li>")]
    assert "data-focus-after-swap" in item and "ungelesen" not in item  # focus stays on the entry
    assert '<div id="feed-summary" class="feed-summary" data-hx-swap-oob="true">' in body
    assert "1 ungelesen" in body
    assert '<span id="feed-status" data-hx-swap-oob="innerHTML">Als gelesen markiert:' in body
    assert f"{world['other'].name} ({world['town'].name}) hat den Status" in body


def test_mark_read_of_a_vanished_entry_says_so_in_place(world, login_as) -> None:  # noqa: ANN001
    theirs = deliver(world["other"], world["coop"].id)
    response = login_as(world["user"]).post(f"/benachrichtigungen/{theirs.id}/gelesen", headers=HX)
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#feed-status"
    assert "Diese Benachrichtigung gibt es nicht mehr" in response.get_data(as_text=True)
    assert read_at(theirs.id) is None


def test_mark_read_without_csrf_token_changes_nothing(world, login_as) -> None:  # noqa: ANN001
    d = deliver(world["user"], world["coop"].id)
    client = login_as(world["user"])
    for headers in ({}, HX):
        response = client.post(f"/benachrichtigungen/{d.id}/gelesen", csrf=False, headers=headers)
        assert response.status_code == 400
        assert "Sicherheitsprüfung fehlgeschlagen" in response.get_data(as_text=True)
    assert response.headers["HX-Retarget"] == "#inhalt"  # htmx shows it instead of dropping it
    assert client.post(ALL_READ, csrf=False, headers=HX).status_code == 400
    assert read_at(d.id) is None


def test_htmx_after_the_session_ended_goes_to_the_login_page(client, world) -> None:  # noqa: ANN001
    """The filter's request after the session ended: to the login page, not into the feed.
    (A post fails the CSRF check first and says so in place, see above.)"""
    response = client.get(f"{LIST}?kooperation={world['coop'].id}", headers=HX)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/anmelden")


PAYLOADS = {
    "milestone.created": {"title": "Satzung", "due_date": "2026-03-01"},
    "milestone.status_changed": {"title": "Satzung", "old": "geplant", "new": "erledigt"},
    "milestone.due_date_changed": {"title": "Satzung", "old": "2026-03-01", "new": "2026-04-01"},
    "milestone.due_soon": {"title": "Satzung", "due_date": "2026-03-01"},
    "milestone.overdue": {"title": "Satzung", "due_date": "2026-03-01"},
    "cost.submitted": {"title": "Lizenz", "amount": "12345.67"},
    "cost.approved": {"title": "Lizenz", "amount": "12345.67"},
    "cost.rejected": {"title": "Lizenz", "amount": "12345.67", "reason": "Beleg fehlt"},
    "payment.booked": {"municipality": "Illingen", "amount": "8000.00", "year": 2026},
    "partner.joined": {"municipality": "Illingen", "joined_on": "2026-03-01"},
    "partner.left": {"municipality": "Illingen", "left_on": "2026-06-30"},
    "role.granted": {"user": "Nina Neu", "user_id": 1, "role": "member"},
    "join_request": {"municipality": "Ottweiler", "step": "accepted", "joined_on": "2026-03-01"},
    "directory.contact": {"sender": "Hanna Roth", "email": "h@o.example", "message": "Hallo"},
    "invitation.offered": {"role": "treasurer", "for_municipality": "Illingen"},
    "invitation.account": {"inviter": "Lea Leitung", "role": "member"},
    "invitation.declined": {"email": "a@b.example", "role": "member", "for_municipality": "X"},
    "invitation.withdrawn": {"inviter": "Lea Leitung", "role": "member", "for_municipality": "X"},
}


def test_sentences_without_an_actor_read_english_with_english_dates(world, login_as) -> None:  # noqa: ANN001
    """A personal event without its actor says what happened in the mail's words: in the
    English feed with the English date, not the mail's German one."""
    user, coop = world["user"], world["coop"]
    deliver(user, coop.id, event_type="join_request", payload=PAYLOADS["join_request"])
    client = login_as(user)
    with client.session_transaction() as session:
        session["locale"] = "en"
    page = client.get(LIST).get_data(as_text=True)
    assert "Mar 1, 2026" in page
    assert "01.03.2026" not in page and "„" not in page and "Beitritt" not in page


@pytest.mark.parametrize("event_type", [e.value for e in EventType])
def test_every_event_type_reads_as_who_did_what(app, event_type: str) -> None:  # noqa: ANN001
    from koopboard.notifications.inbox import sentence

    event = NotificationEvent(event_type=event_type, payload=PAYLOADS[event_type])
    text = sentence(event, "Petra Lehnert (Merchweiler)")
    if event_type in ("milestone.due_soon", "milestone.overdue"):  # nobody's doing
        assert text.startswith("Der Meilenstein „Satzung“ ist")
    elif event_type == "invitation.declined":  # the address declined: no account named
        assert text.startswith("Die Einladung an a@b.example als „Mitglied“"), text
    else:
        assert text.startswith("Petra Lehnert (Merchweiler) hat "), text
    assert "None" not in text and "%(" not in text and "{" not in text
    if "amount" in PAYLOADS[event_type]:
        assert "€" in text
    assert sentence(event, None)  # without an actor (a gone account) still says something
