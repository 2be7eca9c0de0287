"""Signed one-click unsubscribe links: one user, one event type, no login needed.

The token is the authorization (RFC 8058: mail clients POST without a session or CSRF
token), so it is signed with the app's secret and names exactly whom and what it turns off.
"""

from __future__ import annotations

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from koopboard.domain.notifications import EventType
from koopboard.extensions import db
from koopboard.models import User
from koopboard.notifications import preferences

SALT = "koopboard-unsubscribe"
VERSION = 1
ENDPOINT = "notifications.unsubscribe"


class UnsubscribeError(ValueError):
    """The link is forged, garbled or names something that does not exist (German message)."""


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(user_id: int, event_type: str) -> str:
    """The signed token for one user and one event type."""
    return _serializer().dumps({"u": user_id, "e": event_type, "v": VERSION})


def unsubscribe_url(user_id: int, event_type: str) -> str:
    """Absolute link (PUBLIC_BASE_URL + path) that turns ``event_type`` off for the user."""
    token = make_token(user_id, event_type)
    if has_request_context():
        path = url_for(ENDPOINT, token=token)
    else:
        with current_app.test_request_context():
            path = url_for(ENDPOINT, token=token)
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def load_token(token: str) -> tuple[User, EventType]:
    """The user and event type the token names; UnsubscribeError for anything else."""
    invalid = _(
        "Dieser Abmeldelink ist ungültig oder unvollständig. Bitte verwenden Sie den "
        "vollständigen Link aus der E-Mail oder ändern Sie Ihre Einstellungen nach der "
        "Anmeldung."
    )
    try:
        data = _serializer().loads(token)
    except BadSignature as exc:
        raise UnsubscribeError(invalid) from exc
    if not isinstance(data, dict) or data.get("v") != VERSION:
        raise UnsubscribeError(invalid)
    user_id, event_key = data.get("u"), data.get("e")
    if not isinstance(user_id, int) or not isinstance(event_key, str):
        raise UnsubscribeError(invalid)
    try:
        event_type = EventType(event_key)
    except ValueError as exc:
        raise UnsubscribeError(_("Diese Art von Benachrichtigung gibt es nicht (mehr).")) from exc
    user = db.session.get(User, user_id)
    if user is None:
        raise UnsubscribeError(invalid)
    return user, event_type


def unsubscribe(token: str) -> tuple[User, EventType]:
    """Turn the token's event type off for its user (general row); caller commits."""
    user, event_type = load_token(token)
    preferences.set_general_mode(user.id, event_type.value, "off")
    return user, event_type
