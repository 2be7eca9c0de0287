"""Views for notifications: the in-app list, the settings page and the unsubscribe link.

Everything needs a signed-in user except the unsubscribe link, which is authorized by its
signed token alone (mail clients post it without a session, RFC 8058).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_htmx import make_response as htmx_response
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import MultiDict

from koopboard.domain.catalog import Role
from koopboard.domain.milestones import berlin_today
from koopboard.domain.notifications import ROLE_DEFAULTS, DeliveryMode, EventGroup, EventType
from koopboard.extensions import csrf, db, htmx, login_manager
from koopboard.i18n import format_long_day, quote
from koopboard.inputs import bounded_int, page_number
from koopboard.models.types import utcnow
from koopboard.notifications import inbox, preferences
from koopboard.notifications import unsubscribe as links
from koopboard.notifications.forms import ActionForm, FeedFilterForm, OverrideForm, SettingsForm
from koopboard.notifications.preferences import ROLE_ORDER
from koopboard.web import form_status, render

bp = Blueprint("notifications", __name__, url_prefix="/benachrichtigungen")

CHANGED_EVENT = "notifications-changed"
MODE_PREFIX = "modus-"
PUBLIC_ENDPOINTS = frozenset({"notifications.unsubscribe"})


@bp.before_request
def _require_login() -> Response | None:
    """Every page here needs a signed-in user, except the token-guarded unsubscribe link."""
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    response = login_manager.unauthorized()
    if htmx:  # a session that ended: the whole page goes to the login, not into the feed
        return Response(status=204, headers={"HX-Redirect": response.location})
    return response


@bp.app_context_processor
def _bell() -> dict[str, Any]:
    return {"bell_preview": _bell_preview}


def _bell_preview() -> inbox.Bell | None:
    """The header's bell: the newest entries and the unread count, one query per request
    and only for a signed-in user; None if it cannot be had (an error page still renders)."""
    if not current_user.is_authenticated:
        return None
    if "bell_preview" not in g:
        try:
            g.bell_preview = inbox.bell_of(current_user.id)
        except SQLAlchemyError:
            db.session.rollback()
            g.bell_preview = None
    return g.bell_preview


def _page_number() -> int:
    return page_number(request.values.get("seite"))


def _posted_cooperation() -> int | None:
    """The feed's filter as the mark-read forms carry it (only one of the user's)."""
    raw = bounded_int(request.form.get("kooperation"), None)
    mine = {cid for cid, _title in preferences.cooperations_of(current_user.id)}
    return raw if raw in mine else None


def _changed(response: Response) -> Response:
    """Tell the bell (and anything listening) that the unread count changed."""
    return htmx_response(response, trigger={CHANGED_EVENT: True})


def _filter_form() -> FeedFilterForm:
    form = FeedFilterForm(
        formdata=MultiDict(request.args) if "kooperation" in request.args else None
    )
    form.set_cooperations(preferences.cooperations_of(current_user.id))
    return form


def _day_label(day: date) -> str:
    today = berlin_today(utcnow())
    if day == today:
        return _("Heute")
    if day == today - timedelta(days=1):
        return _("Gestern")
    return format_long_day(day)


def _listing_page(
    listing: inbox.Page,
    filter_form: FeedFilterForm,
    *,
    fragment: str,
    status: int = 200,
    **extra: Any,
) -> Response:
    return render(
        "notifications/index.html",
        fragment,
        status=status,
        listing=listing,
        filter_form=filter_form,
        action_form=ActionForm(),
        day_label=_day_label,
        **extra,
    )


# --- the feed ---------------------------------------------------------------------------


@bp.get("/")
def index() -> Response:
    """The user's feed, newest first, grouped by day, paginated, filtered by cooperation."""
    form = _filter_form()
    valid = form.validate() if "kooperation" in request.args else True
    listing = inbox.page_of(current_user.id, _page_number(), form.cooperation_id())
    return _listing_page(
        listing, form, fragment="notifications/_feed.html", status=form_status(valid)
    )


@bp.get("/glocke")
def bell() -> Response:
    """The header's bell alone (htmx reloads it on ``notifications-changed``)."""
    return render("notifications/_bell.html")


def _not_found_in_place() -> Response:
    """htmx: a notification that is gone (or never was the user's) says so in the feed's
    status line instead of failing silently; without htmx the 404 page."""
    if not htmx:
        abort(404)
    message = _("Diese Benachrichtigung gibt es nicht mehr, oder sie ist nicht für Sie bestimmt.")
    return Response(
        message,
        status=404,
        headers={"HX-Retarget": "#feed-status", "HX-Reswap": "innerHTML", "Vary": "HX-Request"},
        mimetype="text/html",
    )


@bp.post("/<int:delivery_id>/gelesen")
def mark_read(delivery_id: int) -> Response:
    """Mark one entry read; htmx gets the updated entry, the unread line and a status."""
    if not inbox.mark_read(current_user.id, delivery_id):
        db.session.rollback()
        return _not_found_in_place()
    db.session.commit()
    cooperation_id = _posted_cooperation()
    if not htmx:
        return redirect(
            url_for("notifications.index", seite=_page_number(), kooperation=cooperation_id)
        )
    item = inbox.item_of(current_user.id, delivery_id)
    unread = inbox.unread_count(current_user.id, cooperation_id)
    listing = inbox.Page([], _page_number(), False, unread, cooperation_id)
    form = FeedFilterForm(formdata=None)
    response = _listing_page(
        listing,
        form,
        fragment="notifications/_marked.html",
        item=item,
        focus_after_swap=True,
        status_message=_("Als gelesen markiert: %(s)s", s=item.sentence if item else ""),
    )
    return _changed(response)


@bp.post("/<int:delivery_id>/oeffnen")
def open_entry(delivery_id: int) -> Response:
    """Follow an unread entry of the bell: mark it read, then go to its page (a POST with
    CSRF, so no link elsewhere can mark a person's notifications). The target is the
    entry's own page, never one the form names."""
    if not inbox.mark_read(current_user.id, delivery_id):
        db.session.rollback()
        abort(404)
    db.session.commit()
    item = inbox.item_of(current_user.id, delivery_id)
    return redirect(item.url if item else url_for("notifications.index"), code=303)


@bp.post("/alle-gelesen")
def mark_all_read() -> Response:
    """Mark every entry read (of the filtered cooperation, if any); htmx gets the list."""
    cooperation_id = _posted_cooperation()
    count = inbox.mark_all_read(current_user.id, cooperation_id)
    db.session.commit()
    message = ngettext(
        "%(num)d Benachrichtigung als gelesen markiert.",
        "%(num)d Benachrichtigungen als gelesen markiert.",
        count,
    )
    if not htmx:
        flash(message, "success")
        return redirect(
            url_for("notifications.index", seite=_page_number(), kooperation=cooperation_id)
        )
    listing = inbox.page_of(current_user.id, _page_number(), cooperation_id)
    response = _listing_page(
        listing,
        FeedFilterForm(formdata=None),
        fragment="notifications/_list.html",
        status_message=message,
        focus_after_swap=True,
    )
    return _changed(response)


# --- settings ---------------------------------------------------------------------------


def _posted_modes() -> dict[str, str]:
    """The ``modus-<event type>`` radios of the form (validated by the service)."""
    return {
        key[len(MODE_PREFIX) :]: value
        for key, value in request.form.items()
        if key.startswith(MODE_PREFIX)
    }


def _settings_page(
    form: SettingsForm,
    override_form: OverrideForm,
    *,
    modes: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    user_id = current_user.id
    defaults = preferences.role_defaults(user_id)
    return render(
        "notifications/settings.html",
        status=status,
        form=form,
        override_form=override_form,
        modes=modes or preferences.general_modes(user_id),
        errors=errors or [],
        groups=[
            (group, _default_text(defaults[group]), _default_choice(defaults[group]))
            for group in EventGroup
        ],
        presets=[
            (group, [_mode_label(ROLE_DEFAULTS[role][group].value) for role in ROLE_ORDER])
            for group in EventGroup
        ],
        roles=[_(role.label) for role in ROLE_ORDER],
        default_choice=preferences.DEFAULT_CHOICE,
        delivery_modes=list(DeliveryMode),
        overrides=preferences.overrides_of(user_id),
        has_cooperations=bool(override_form.cooperation_id.choices[1:]),
        action_form=ActionForm(),
        event_label=_event_label,
        mode_label=_mode_label,
    )


def _role_label(key: str) -> str:
    return _(Role(key).label)


def _default_text(defaults: list[preferences.RoleDefault]) -> str:
    """What an event group gets without a choice, said with the user's roles."""
    if len(defaults) == 1:
        (preset,) = defaults
        roles = sorted({Role(r) for _t, r in preset.where}, key=ROLE_ORDER.index)
        mode = _mode_label(preset.mode)
        if not roles:
            return _("Voreinstellung: %(m)s", m=mode)
        names = ", ".join(_(r.label) for r in roles)
        if len(roles) == 1:
            return _("Voreinstellung für Ihre Rolle (%(r)s): %(m)s", r=names, m=mode)
        return _("Voreinstellung für Ihre Rollen (%(r)s): %(m)s", r=names, m=mode)
    parts = [
        _(
            "%(m)s in %(k)s",
            m=_mode_label(preset.mode),
            k=", ".join(f"{quote(title)} ({_role_label(role)})" for title, role in preset.where),
        )
        for preset in defaults
    ]
    return _("Voreinstellung für Ihre Rollen: %(p)s", p="; ".join(parts))


def _default_choice(defaults: list[preferences.RoleDefault]) -> str:
    """The label of the radio "no choice of my own" in an event group."""
    if len(defaults) == 1:
        return _default_text(defaults)
    return _("Voreinstellung für Ihre Rollen (je Kooperation, wie oben beschrieben)")


def _event_label(key: str) -> str:
    return _(EventType(key).label) if key in preferences.EVENT_TYPES else key


def _mode_label(key: str) -> str:
    return _(DeliveryMode(key).label) if key in preferences.MODES else key


def _override_form() -> OverrideForm:
    form = OverrideForm(formdata=None) if request.method == "GET" else OverrideForm()
    form.set_cooperations(preferences.cooperations_of(current_user.id))
    return form


@bp.route("/einstellungen", methods=["GET", "POST"])
def settings() -> Response:
    """Per event type: immediately, digest or off; the digest schedule; pause all."""
    override_form = OverrideForm(formdata=None)
    override_form.set_cooperations(preferences.cooperations_of(current_user.id))
    if request.method == "GET":
        stored = preferences.settings_for(current_user.id)
        form = SettingsForm(formdata=None)
        form.digest_days.data = [int(d) for d in stored.digest_days.split(",") if d]
        form.digest_hour.data = stored.digest_hour
        form.paused.data = stored.paused
        return _settings_page(form, override_form)
    form = SettingsForm()
    posted = _posted_modes()
    if form.validate_on_submit():
        try:
            preferences.save_settings(
                current_user.id,
                modes=posted,
                digest_days=form.digest_days.data or [],
                digest_hour=form.digest_hour.data,
                paused=form.paused.data,
            )
        except preferences.PreferenceError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Ihre Einstellungen sind gespeichert."), "success")
            return redirect(url_for("notifications.settings"))
    modes = preferences.general_modes(current_user.id)
    modes.update({k: v for k, v in posted.items() if k in modes})
    return _settings_page(
        form, override_form, modes=modes, errors=form.form_errors, status=form_status(False)
    )


@bp.post("/einstellungen/ausnahmen")
def add_override() -> Response:
    """Add or change the exception for one cooperation and event type."""
    override_form = _override_form()
    if override_form.validate_on_submit():
        try:
            preferences.set_override(
                current_user.id,
                int(override_form.cooperation_id.data),
                override_form.event_type.data,
                override_form.mode.data,
            )
        except preferences.PreferenceError as exc:
            db.session.rollback()
            override_form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Die Ausnahme ist gespeichert."), "success")
            return redirect(url_for("notifications.settings") + "#ausnahmen")
    stored = preferences.settings_for(current_user.id)
    form = SettingsForm(formdata=None)
    form.digest_days.data = [int(d) for d in stored.digest_days.split(",") if d]
    form.digest_hour.data = stored.digest_hour
    form.paused.data = stored.paused
    return _settings_page(form, override_form, status=form_status(False))


@bp.post("/einstellungen/ausnahmen/<int:preference_id>/entfernen")
def remove_override(preference_id: int) -> Response:
    """Remove one of the user's exceptions (another user's: 404)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    if not preferences.remove_override(current_user.id, preference_id):
        abort(404)
    db.session.commit()
    flash(_("Die Ausnahme ist entfernt."), "success")
    return redirect(url_for("notifications.settings") + "#ausnahmen")


# --- unsubscribe ------------------------------------------------------------------------


@bp.route("/abmelden/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str) -> Response:
    """Confirm (GET) or do (POST, also RFC 8058 one-click) the unsubscribe of one event type."""
    try:
        user, event_type = (
            links.load_token(token) if request.method == "GET" else links.unsubscribe(token)
        )
    except links.UnsubscribeError as exc:
        db.session.rollback()
        return render("notifications/unsubscribe.html", status=400, error=str(exc))
    if request.method == "POST":
        db.session.commit()
    return render(
        "notifications/unsubscribe.html",
        done=request.method == "POST",
        event_label=_(event_type.label),
        email=user.email,
    )
