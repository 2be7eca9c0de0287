"""Account use-cases. Callers (views, CLI) own the commit."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import bindparam, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from koopboard.extensions import db
from koopboard.history import acting_as, record_event
from koopboard.models import AccountToken, LoginSession, Municipality, User
from koopboard.models.types import utcnow

MIN_PASSWORD_LENGTH = 12
# The forms validate addresses thoroughly; this guards the paths without a form (CLI).
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Compared against when the account does not exist, so timing does not reveal it.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0000", method="scrypt")


class AccountError(ValueError):
    """A German message for the user; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_password_rules(password: str) -> None:
    """Raise an AccountError (at the password field) for a password that is too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _("Das Passwort muss mindestens %(n)d Zeichen lang sein.", n=MIN_PASSWORD_LENGTH),
            "password",
        )


def hash_password(password: str) -> str:
    """Werkzeug's scrypt, with the rules checked first."""
    check_password_rules(password)
    return generate_password_hash(password, method="scrypt")


def _email_taken(email: str) -> bool:
    return db.session.scalar(select(func.count()).where(User.email == email)) > 0


def create_user(
    *,
    email: str,
    name: str,
    password: str,
    municipality: Municipality | None,
    is_admin: bool = False,
) -> User:
    email = normalize_email(email)
    if not _EMAIL.fullmatch(email):
        raise AccountError(_("Bitte geben Sie eine gültige E-Mail-Adresse an."), "email")
    if _email_taken(email):
        raise AccountError(_("Für diese E-Mail-Adresse gibt es bereits ein Konto."), "email")
    if not name.strip():
        raise AccountError(_("Bitte geben Sie Ihren Namen an."), "name")
    user = User(
        email=email,
        name=name.strip(),
        password_hash=hash_password(password),
        municipality=municipality,
        is_admin=is_admin,
        is_active_account=True,
    )
    db.session.add(user)
    db.session.flush()
    return user


def create_admin(*, email: str, name: str, password: str) -> User:
    """Create a platform admin and commit (CLI)."""
    with acting_as("CLI create-admin"):
        user = create_user(
            email=email, name=name, password=password, municipality=None, is_admin=True
        )
        db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else None (same cost either way)."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.is_active_account:
        return None
    return user


def password_state(user: User) -> str:
    """A keyed digest of the password hash. Session cookies and reset links carry it, so
    whatever changes the password (a reset, the CLI, a future settings page) ends them."""
    key = current_app.config["SECRET_KEY"].encode()
    message = b"koopboard-password-state:" + user.password_hash.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:24]


def bind_login_session(user: User, row: LoginSession) -> None:
    """This request runs in ``row``; Flask-Login stores the resulting key in the cookie."""
    user.login_session = row
    user.session_key = f"{row.token}.{password_state(user)}"


# Built once at import, not on every request (it runs for every signed-in request): the
# session row with its user and the user's municipality (both joined) in one statement.
_LIVE_SESSION = select(LoginSession).where(
    LoginSession.token == bindparam("token"),
    LoginSession.revoked_at.is_(None),
    LoginSession.created_at > bindparam("since"),
)


def user_for_session_key(key: str, *, lifetime: timedelta) -> User | None:
    """The user of an unrevoked, unexpired login session whose password is unchanged."""
    token, _dot, state = key.partition(".")
    row = db.session.scalar(_LIVE_SESSION, {"token": token, "since": utcnow() - lifetime})
    if row is None or not row.user.is_active_account:
        return None
    if not hmac.compare_digest(state, password_state(row.user)):
        return None
    bind_login_session(row.user, row)
    return row.user


def start_login_session(user: User) -> LoginSession:
    """A new server-side session; its history names the person signing in, not "System"."""
    row = LoginSession(token=secrets.token_urlsafe(32), user=user)
    db.session.add(row)
    with acting_as(f"{user} (Anmeldung)"[:300]):
        db.session.flush()
    bind_login_session(user, row)
    return row


def end_login_session(user: User) -> None:
    if user.login_session is not None:
        user.login_session.revoked_at = utcnow()


def revoke_all_sessions(user: User) -> None:
    rows = db.session.scalars(
        select(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None)
        )
    )
    now = utcnow()
    for row in rows:
        row.revoked_at = now


# --- one-time links ---------------------------------------------------------------------


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"koopboard-{purpose}")


# Where each kind of link leads. "coop" invites into a cooperation with a role
# (koopboard.cooperations.invitations), creating the account on the way.
_ENDPOINTS = {
    "invite": "auth.accept_invitation",
    "reset": "auth.reset_password",
    "coop": "invitations.accept_link",
}


def _max_age(purpose: str) -> int:
    key = "PASSWORD_RESET_MAX_AGE" if purpose == "reset" else "INVITATION_MAX_AGE"
    return int(current_app.config[key])


@dataclass
class IssuedToken:
    token: AccountToken
    link: str


def _issue(
    purpose: str,
    *,
    email: str,
    municipality: Municipality | None = None,
    user: User | None = None,
    created_by: User | None = None,
) -> IssuedToken:
    nonce = secrets.token_urlsafe(24)
    row = AccountToken(
        purpose=purpose,
        nonce=nonce,
        email=normalize_email(email),
        municipality=municipality,
        user_id=user.id if user else None,
        created_by_id=created_by.id if created_by else None,
        expires_at=utcnow() + timedelta(seconds=_max_age(purpose)),
    )
    db.session.add(row)
    db.session.flush()
    payload: dict[str, object] = {"id": row.id, "nonce": nonce}
    if user is not None:  # a reset link works only while the password is the one it was for
        payload["pw"] = password_state(user)
    signed = _serializer(purpose).dumps(payload)
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    link = base + url_for(_ENDPOINTS[purpose], token=signed)
    return IssuedToken(row, link)


def account_exists(email: str) -> bool:
    """Whether the address has an account (never to be told to whoever typed it in)."""
    return _email_taken(normalize_email(email))


def invite(*, email: str, municipality: Municipality, invited_by: User) -> IssuedToken:
    """Invite a person to an account in ``municipality``.

    Admins may invite into any municipality; everyone else only into their own. Only the
    admin, who sees every account anyway, is told that the address has one. For everyone
    else the same link row is written either way and the answer is the same; the mail
    (``auth.mails``) tells an existing account holder instead of sending a link."""
    if not invited_by.is_admin and invited_by.municipality_id != municipality.id:
        raise AccountError(
            _("Sie können nur Personen Ihrer eigenen Kommune einladen."), "municipality"
        )
    email = normalize_email(email)
    if invited_by.is_admin and _email_taken(email):
        raise AccountError(_("Für diese E-Mail-Adresse gibt es bereits ein Konto."), "email")
    return _issue("invite", email=email, municipality=municipality, created_by=invited_by)


def cooperation_link(*, email: str, municipality: Municipality, created_by: User) -> IssuedToken:
    """The link of an invitation into a cooperation (``koopboard.cooperations.invitations``):
    it creates the account in ``municipality``. Issued whether or not the address has an
    account, so the rows written never tell the two apart."""
    return _issue("coop", email=email, municipality=municipality, created_by=created_by)


def request_password_reset(email: str) -> IssuedToken | None:
    """A reset link if the account exists; the caller says the same either way."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or not user.is_active_account:
        return None
    return _issue("reset", email=user.email, user=user)


def load_token(purpose: str, signed: str) -> AccountToken:
    """The unused, unexpired token row behind a signed link, or an AccountError."""
    invalid = _("Dieser Link ist ungültig.")
    try:
        data = _serializer(purpose).loads(signed, max_age=_max_age(purpose))
    except SignatureExpired as exc:
        raise AccountError(
            _("Dieser Link ist abgelaufen. Bitte fordern Sie einen neuen an.")
        ) from exc
    except BadSignature as exc:
        raise AccountError(invalid) from exc
    if not isinstance(data, dict):
        raise AccountError(invalid)
    row = db.session.get(AccountToken, data.get("id"))
    if (
        row is None
        or row.purpose != purpose
        or not secrets.compare_digest(row.nonce, str(data.get("nonce")))
    ):
        raise AccountError(invalid)
    if row.used_at is not None:
        raise AccountError(_("Dieser Link wurde bereits verwendet."))
    if row.expires_at <= utcnow():
        raise AccountError(_("Dieser Link ist abgelaufen. Bitte fordern Sie einen neuen an."))
    if purpose == "reset":
        user = db.session.get(User, row.user_id)
        if user is None or not hmac.compare_digest(str(data.get("pw", "")), password_state(user)):
            raise AccountError(
                _("Das Passwort wurde inzwischen geändert; dieser Link gilt nicht mehr.")
            )
    return row


def _claim(row: AccountToken) -> None:
    # A conditional UPDATE: of two concurrent uses of the same link only one succeeds.
    claimed = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise AccountError(_("Dieser Link wurde bereits verwendet."))
    db.session.refresh(row)
    record_event(
        db.session,
        record_type="AccountToken",
        record_id=row.id,
        action="update",
        record_label=f"{row.purpose} {row.email}",
        field="used_at",
        new_value=row.used_at.isoformat(),
    )


def link_actor(name: str, row: AccountToken) -> str:
    """How the history names the person who followed an invitation link."""
    return f"{name.strip()} <{row.email}> (Einladungslink)"[:300]


def create_account_from_link(row: AccountToken, *, name: str, password: str) -> User:
    """Use the link up and create its account (the caller chose the history's actor)."""
    check_password_rules(password)  # before using the link up
    _claim(row)
    return create_user(email=row.email, name=name, password=password, municipality=row.municipality)


def accept_invitation(signed: str, *, name: str, password: str) -> User:
    """Create the invited account; the history names the person who followed the link."""
    row = load_token("invite", signed)
    check_password_rules(password)
    with acting_as(link_actor(name, row)):
        return create_account_from_link(row, name=name, password=password)


def reset_password(signed: str, *, password: str) -> User:
    """Set a new password and end every session of the account (all its browsers)."""
    row = load_token("reset", signed)
    new_hash = hash_password(password)
    user = db.session.get(User, row.user_id)
    if user is None:
        raise AccountError(_("Dieser Link ist ungültig."))
    with acting_as(f"{user} (Link zum Zurücksetzen)"[:300]):
        _claim(row)
        user.password_hash = new_hash
        # The hash itself is never written to the history, only the fact of the change
        # (a stored value, so not translated per request).
        record_event(
            db.session,
            record_type="User",
            record_id=user.id,
            action="update",
            record_label=str(user),
            field="password",
            new_value="geändert",
        )
        revoke_all_sessions(user)
        db.session.flush()
    return user
