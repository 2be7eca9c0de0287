"""One-click unsubscribe (RFC 8058): a signed link per user and event type, no login, no CSRF."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from koopboard.domain.notifications import EventType
from koopboard.extensions import db
from koopboard.models import NotificationPreference
from koopboard.notifications.preferences import mode_for
from koopboard.notifications.unsubscribe import make_token, unsubscribe_url

STATUS = EventType.MILESTONE_STATUS_CHANGED.value
PREFIX = "http://localhost/benachrichtigungen/abmelden/"


@pytest.fixture()
def user(make_municipality, make_user):  # noqa: ANN001, ANN201
    return make_user(make_municipality())


def path_of(url: str) -> str:
    return url.removeprefix("http://localhost")


def rows() -> int:
    return db.session.scalar(select(func.count()).select_from(NotificationPreference))


def sign(app, payload: object, salt: str = "koopboard-unsubscribe") -> str:  # noqa: ANN001
    return URLSafeSerializer(app.config["SECRET_KEY"], salt=salt).dumps(payload)


def test_url_is_absolute_and_built_without_a_request(app, user) -> None:  # noqa: ANN001
    url = unsubscribe_url(user.id, STATUS)
    assert url.startswith(PREFIX)
    with app.test_request_context("/irgendwo"):
        assert unsubscribe_url(user.id, STATUS) == url


def test_get_confirms_without_login_and_changes_nothing(client, user) -> None:  # noqa: ANN001
    response = client.get(path_of(unsubscribe_url(user.id, STATUS)))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Status eines Meilensteins geändert" in body
    assert "Ja, abbestellen" in body and 'method="post"' in body
    assert rows() == 0


def test_one_click_post_without_csrf_turns_the_type_off(client, user) -> None:  # noqa: ANN001
    path = path_of(unsubscribe_url(user.id, STATUS))
    response = client.post(path, data={"List-Unsubscribe": "One-Click"}, csrf=False)
    assert response.status_code == 200
    assert "Erledigt" in response.get_data(as_text=True)
    row = db.session.scalar(select(NotificationPreference))
    assert (row.user_id, row.event_type, row.cooperation_id, row.mode) == (
        user.id,
        STATUS,
        None,
        "off",
    )
    # Twice is harmless (mail clients may retry).
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}, csrf=False).status_code == 200
    assert rows() == 1


def test_unsubscribe_turns_only_that_type_off(app, client, user, make_cooperation) -> None:  # noqa: ANN001
    coop = make_cooperation(user)
    client.post(path_of(unsubscribe_url(user.id, STATUS)), csrf=False)
    assert mode_for(user.id, STATUS, coop.id) == "off"
    # Untouched: the Projektleitung's preset for costs.
    assert mode_for(user.id, EventType.COST_APPROVED.value, coop.id) == "digest"


def test_unsubscribe_changes_an_existing_general_row(client, user) -> None:  # noqa: ANN001
    db.session.add(NotificationPreference(user_id=user.id, event_type=STATUS, mode="digest"))
    db.session.commit()
    client.post(path_of(unsubscribe_url(user.id, STATUS)), csrf=False)
    db.session.expire_all()
    assert db.session.scalar(select(NotificationPreference.mode)) == "off"
    assert rows() == 1


def _tampered(token: str) -> str:
    """Flip one character of the payload part: the signature no longer matches."""
    head, dot, rest = token.partition(".")
    flipped = ("A" if head[-1] != "A" else "B") + head[:-1]
    return flipped + dot + rest


@pytest.mark.parametrize(
    "forge",
    [
        lambda app, u: "ungueltig",
        lambda app, u: _tampered(make_token(u.id, STATUS)),
        lambda app, u: make_token(u.id, STATUS).rsplit(".", 1)[0] + ".xyz",
        lambda app, u: sign(app, {"u": u.id, "e": STATUS, "v": 1}, salt="koopboard-reset"),
        lambda app, u: URLSafeSerializer("falsch", salt="koopboard-unsubscribe").dumps(
            {"u": u.id, "e": STATUS, "v": 1}
        ),
        lambda app, u: sign(app, {"u": u.id, "e": "milestone.exploded", "v": 1}),
        lambda app, u: sign(app, {"u": 999999, "e": STATUS, "v": 1}),
        lambda app, u: sign(app, {"u": u.id, "e": STATUS, "v": 99}),
        lambda app, u: sign(app, [u.id, STATUS]),
        lambda app, u: sign(app, {"u": str(u.id), "e": STATUS, "v": 1}),
    ],
    ids=[
        "garbage",
        "tampered-payload",
        "tampered-signature",
        "other-salt",
        "other-secret",
        "unknown-event-type",
        "no-such-user",
        "unknown-version",
        "wrong-shape",
        "user-id-as-text",
    ],
)
def test_bad_tokens_answer_400_and_write_nothing(app, client, user, forge) -> None:  # noqa: ANN001
    path = f"/benachrichtigungen/abmelden/{forge(app, user)}"
    for response in (client.get(path), client.post(path, csrf=False)):
        assert response.status_code == 400
        body = response.get_data(as_text=True)
        assert "ungültig" in body or "gibt es nicht" in body
        assert "Ja, abbestellen" not in body
    assert rows() == 0


def test_a_token_cannot_be_rewritten_for_another_user(app, client, user, make_user) -> None:  # noqa: ANN001
    """Swapping the user id inside a valid token breaks its signature."""
    import base64
    import json

    victim = make_user(user.municipality)
    token = make_token(user.id, STATUS)
    payload, signature = token.split(".", 1)
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["u"] = victim.id
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    response = client.post(f"/benachrichtigungen/abmelden/{forged}.{signature}", csrf=False)
    assert response.status_code == 400
    assert rows() == 0


def test_signed_in_as_someone_else_the_token_still_decides(
    client, user, make_user, login_as
) -> None:  # noqa: ANN001, E501
    other = make_user(user.municipality)
    login_as(other)
    client.post(path_of(unsubscribe_url(user.id, STATUS)), csrf=False)
    assert db.session.scalar(select(NotificationPreference.user_id)) == user.id


def test_csrf_stays_on_for_every_other_route(client, user, login_as) -> None:  # noqa: ANN001
    login_as(user)
    response = client.post("/benachrichtigungen/alle-gelesen", csrf=False)
    assert response.status_code == 400
