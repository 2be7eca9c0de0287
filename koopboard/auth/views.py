"""Login, logout, invitations and password resets."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from limits import parse
from werkzeug.wrappers import Response

from koopboard.auth import services, throttle
from koopboard.auth.forms import (
    AcceptInvitationForm,
    ForgotPasswordForm,
    InviteForm,
    LoginForm,
    ResetPasswordForm,
)
from koopboard.extensions import db, limiter
from koopboard.models import User
from koopboard.security import is_local_path
from koopboard.web import form_status, render

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


def _account_and_client_key() -> str:
    """Per address *and* client: nobody can use up the owner's attempts from elsewhere."""
    email = services.normalize_email(request.form.get("email", ""))
    return f"account:{email}|client:{get_remote_address()}"


def _failed(response: Response) -> bool:
    # Only failed attempts count against the limits; a successful login redirects.
    return response.status_code != 302


def _safe_next(target: str | None) -> str:
    """Only a path on this site; anything else lands on the start page (Was ansteht)."""
    return target if is_local_path(target) else url_for("start.index")


def _fresh_session() -> None:
    """Drop everything of the old session (no fixation), but keep the chosen language."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def sign_in(user: User) -> None:
    """Start a server-side login session and bind this browser's cookie to it."""
    _fresh_session()
    services.start_login_session(user)
    db.session.commit()
    session.permanent = True
    login_user(user)


def send_token_mail_after_commit(issued: services.IssuedToken) -> None:
    """Queue the e-mail; the link also works if the queue is briefly unavailable (resend)."""
    from tasks.mail import send_account_mail

    try:
        send_account_mail.delay(issued.token.id, issued.link)
    except Exception:  # broker down: inviting again issues a new link and mail
        log.exception("could not queue account mail for token %s", issued.token.id)


@bp.route("/anmelden", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_CLIENT"], methods=["POST"], deduct_when=_failed
)
def login() -> Response:
    """Sign in with e-mail and password (failures slow down this client for this account)."""
    if current_user.is_authenticated:
        return redirect(url_for("start.index"))
    form = LoginForm()
    if form.validate_on_submit():
        email, client = services.normalize_email(form.email.data), get_remote_address()
        wait = throttle.wait_seconds(email, client)
        if wait:
            # Even the right password waits: else guessing would go on at full speed.
            form.password.errors.append(_too_many(wait))
            page = render("auth/login.html", "auth/_login_form.html", form=form, status=429)
            page.headers["Retry-After"] = str(wait)
            return page
        user = services.authenticate(email, form.password.data)
        if user is not None:
            throttle.record_success(email, client)
            sign_in(user)
            return redirect(_safe_next(request.args.get("next")))
        wait = throttle.record_failure(email, client)
        # Same message whether the account exists or not.
        form.password.errors.append(
            _too_many(wait) if wait else _("E-Mail-Adresse oder Passwort ist falsch.")
        )
    status = form_status(not form.is_submitted())
    return render("auth/login.html", "auth/_login_form.html", form=form, status=status)


def _too_many(seconds: int) -> str:
    return _(
        "E-Mail-Adresse oder Passwort ist falsch, und von diesem Gerät gab es zu viele "
        "Fehlversuche für dieses Konto. Bitte warten Sie %(seconds)d Sekunden, oder setzen Sie "
        "Ihr Passwort über „Passwort vergessen?“ zurück.",
        seconds=seconds,
    )


@bp.post("/abmelden")
@login_required
def logout() -> Response:
    """End the session on the server: a copied cookie stops working."""
    services.end_login_session(current_user)
    db.session.commit()
    logout_user()
    _fresh_session()
    flash(_("Sie sind abgemeldet."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/kolleginnen-einladen", methods=["GET", "POST"])
@login_required
@throttle.limit_invitations
def invite_colleague() -> Response:
    """Invite a colleague of one's own municipality.

    The answer is the same whether the address has an account or not (the mail tells an
    existing account holder instead), and invitations are rate-limited per user and client."""
    if current_user.municipality is None:
        flash(_("Als Betreiber laden Sie Personen über die Verwaltung ein."), "info")
        return redirect(url_for("admin.invite"))
    form = InviteForm()
    if form.validate_on_submit():
        try:
            issued = services.invite(
                email=form.email.data,
                municipality=current_user.municipality,
                invited_by=current_user,
            )
        except services.AccountError as exc:
            getattr(form, exc.field or "", form.email).errors.append(str(exc))
        else:
            db.session.commit()
            send_token_mail_after_commit(issued)
            flash(
                _("Die Einladung an %(email)s ist unterwegs.", email=issued.token.email), "success"
            )
            return redirect(url_for("auth.invite_colleague"))
    return render("auth/invite.html", form=form, status=form_status(not form.is_submitted()))


@bp.route("/einladung/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> Response:
    """Create one's account from an invitation link (works once, expires)."""
    try:
        row = services.load_token("invite", token)
    except services.AccountError as exc:
        return render("auth/link_invalid.html", message=str(exc), status=400)
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(
                token, name=form.name.data, password=form.password.data
            )
        except services.AccountError as exc:
            db.session.rollback()
            field = getattr(form, exc.field, None) if exc.field else None
            if field is None:  # e.g. the address got an account meanwhile: the link is spent
                return render("auth/link_invalid.html", message=str(exc), status=400)
            field.errors.append(str(exc))
        else:
            sign_in(user)
            flash(_("Willkommen bei KoopBoard, %(name)s!", name=user.name), "success")
            return redirect(url_for("cooperations.mine"))
    return render(
        "auth/accept_invitation.html",
        form=form,
        invitation=row,
        status=form_status(not form.is_submitted()),
    )


@bp.route("/passwort-vergessen", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_CLIENT"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"],
    key_func=_account_and_client_key,
    methods=["POST"],
)
def forgot_password() -> Response:
    """Ask for a reset link; the answer never reveals whether the account exists."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        # Per address, from all clients together, only so many mails go out; beyond that the
        # answer stays the same and the links already sent keep working (asking again never
        # kills them), so nobody can flood the mailbox or keep the owner from resetting.
        issued = None
        if _reset_mail_allowed(services.normalize_email(form.email.data)):
            issued = services.request_password_reset(form.email.data)
        db.session.commit()
        if issued is not None:
            send_token_mail_after_commit(issued)
        flash(
            _(
                "Wenn es ein Konto mit dieser Adresse gibt, ist ein Link zum Zurücksetzen unterwegs."  # noqa: E501
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render(
        "auth/forgot_password.html", form=form, status=form_status(not form.is_submitted())
    )


def _reset_mail_allowed(email: str) -> bool:
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    limit = parse(current_app.config["RESET_MAILS_PER_ADDRESS"])
    return limiter.limiter.hit(limit, "koopboard/reset-mails", email)


@bp.route("/passwort-zuruecksetzen/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response:
    """Set a new password from a reset link; ends every session of the account."""
    try:
        services.load_token("reset", token)
    except services.AccountError as exc:
        return render("auth/link_invalid.html", message=str(exc), status=400)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, password=form.password.data)
        except services.AccountError as exc:
            db.session.rollback()
            if exc.field is None:
                return render("auth/link_invalid.html", message=str(exc), status=400)
            form.password.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Ihr Passwort ist geändert. Bitte melden Sie sich an."), "success")
            return redirect(url_for("auth.login"))
    return render(
        "auth/reset_password.html", form=form, status=form_status(not form.is_submitted())
    )
