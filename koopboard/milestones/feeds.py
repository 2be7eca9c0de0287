"""Calendar subscriptions: the settings page, rotating the secret, and the iCalendar feeds.

The feeds authenticate by the secret token in their URL only (calendar programs cannot
sign in); ``views.TOKEN_ENDPOINTS`` exempts them from the login requirement.
"""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from koopboard.cooperations.access import role_in
from koopboard.cooperations.services import my_cooperations
from koopboard.extensions import db
from koopboard.milestones import calendar, services
from koopboard.milestones.forms import FeedForm
from koopboard.milestones.views import bp
from koopboard.models import Cooperation, Milestone, User
from koopboard.models.types import utcnow
from koopboard.web import render

# The new token travels from the POST to the one page that shows it (then it is gone).
_SHOW_ONCE = "calendar_token_once"


@bp.get("/meilensteine/kalender")
def calendar_settings() -> Response:
    """The user's secret calendar addresses, shown once after they were made."""
    feed = calendar.feed_of(current_user)
    token = session.pop(_SHOW_ONCE, None) if feed else None
    return render(
        "milestones/calendar.html",
        feed=feed,
        token=token,
        cooperations=[c for c, _role, _n in my_cooperations(current_user)] if token else [],
        form=FeedForm(),
    )


@bp.post("/meilensteine/kalender")
def rotate_feed() -> Response:
    """Set up the secret calendar address, or replace it (old addresses stop working)."""
    form = FeedForm()
    if not form.validate_on_submit():
        abort(400)
    existed = calendar.feed_of(current_user) is not None
    session[_SHOW_ONCE] = calendar.enable_or_rotate(current_user)
    db.session.commit()
    if existed:
        flash(
            _("Neue Kalenderadressen erzeugt. Die bisherigen funktionieren nicht mehr."),
            "success",
        )
    else:
        flash(_("Kalender-Abo eingerichtet."), "success")
    return redirect(url_for("milestones.calendar_settings"))


def _link(milestone: Milestone) -> str:
    return url_for(
        "milestones.show",
        cooperation_id=milestone.cooperation_id,
        milestone_id=milestone.id,
        _external=True,
    )


def _ics(body: bytes, filename: str) -> Response:
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            # The address is the secret: keep the answer out of shared caches and referrers.
            "Cache-Control": "private, no-store",
            "Referrer-Policy": "no-referrer",
            "X-Robots-Tag": "noindex",
        },
    )


def _user(token: str) -> User:
    user = calendar.user_for_token(token)
    if user is None:
        abort(404)
    return user


@bp.get("/kalender/<token>/meilensteine.ics")
def user_feed(token: str) -> Response:
    """Every milestone of every cooperation the token's user has a role in."""
    user = _user(token)
    body = calendar.build_calendar(
        _("KoopBoard: Meilensteine von %(n)s", n=user.name),
        services.feed_rows_for_user(user),
        link=_link,
        base_url=current_app.config["PUBLIC_BASE_URL"],
        now=utcnow(),
        with_cooperation=True,
    )
    return _ics(body, "meilensteine.ics")


@bp.get("/kalender/<token>/kooperation-<int:cooperation_id>.ics")
def cooperation_feed(token: str, cooperation_id: int) -> Response:
    """The milestones of one cooperation, while the token's user has a role in it."""
    user = _user(token)
    if role_in(cooperation_id, user) is None:
        abort(404)
    cooperation = db.session.get(Cooperation, cooperation_id)
    if cooperation is None:
        abort(404)
    rows = [(m, cooperation) for m in services.milestones_of(cooperation.id)]
    body = calendar.build_calendar(
        _("KoopBoard: %(t)s", t=cooperation.title),
        rows,
        link=_link,
        base_url=current_app.config["PUBLIC_BASE_URL"],
        now=utcnow(),
        with_cooperation=False,
    )
    return _ics(body, f"kooperation-{cooperation.id}.ics")
