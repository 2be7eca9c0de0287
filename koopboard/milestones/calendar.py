"""iCalendar feeds of milestones and the secret token that guards them.

A feed URL carries the user's random token instead of a login (calendar programs cannot
sign in). The token only ever reads what the user may see right now: the feed checks the
user's roles on every fetch, and rotating the token makes every old URL answer 404.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import select

from koopboard.domain.milestones import MilestoneStatus, is_overdue
from koopboard.extensions import db
from koopboard.models import CalendarFeed, Cooperation, Milestone, User
from koopboard.models.types import utcnow

TOKEN_BYTES = 32


def feed_of(user: User) -> CalendarFeed | None:
    """The user's feed token row, if they set one up."""
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))


def hash_token(token: str) -> str:
    """What is stored of a feed token (256 random bits need no slow hash)."""
    return hashlib.sha256(token.encode()).hexdigest()


def enable_or_rotate(user: User) -> str:
    """Create the user's secret token, or replace it (old feed URLs stop working).

    Returns the token itself: it is stored only hashed, so this is the one chance to show it."""
    feed = feed_of(user)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    if feed is None:
        db.session.add(CalendarFeed(user_id=user.id, token_hash=hash_token(token)))
    else:
        feed.token_hash = hash_token(token)
        feed.rotated_at = utcnow()
    db.session.flush()
    return token


def user_for_token(token: str) -> User | None:
    """The active user behind a feed token, or None."""
    if not token or len(token) > 64:
        return None
    feed = db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.token_hash == hash_token(token))
    )
    if feed is None or not feed.user.is_active_account:
        return None
    return feed.user


def build_calendar(
    name: str,
    rows: Iterable[tuple[Milestone, Cooperation]],
    *,
    link: Callable[[Milestone], str],
    base_url: str,
    now: datetime,
    with_cooperation: bool,
) -> bytes:
    """An RFC 5545 calendar with one all-day event per milestone, on its due date."""
    host = urlsplit(base_url).hostname or "koopboard"
    cal = Calendar()
    cal.add("prodid", "-//KoopBoard//Meilensteine//DE")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/Berlin")
    # Ask subscribing programs (Outlook, Thunderbird) to refresh hourly.
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for milestone, cooperation in rows:
        cal.add_component(
            _event(milestone, cooperation, link(milestone), host, now, with_cooperation)
        )
    return cal.to_ical()


def _event(
    m: Milestone, c: Cooperation, url: str, host: str, now: datetime, with_cooperation: bool
) -> Event:
    status = MilestoneStatus(m.status)
    summary = f"{c.title}: {m.title}" if with_cooperation else m.title
    if status.is_closed:
        summary += " (" + _(status.label) + ")"
    elif is_overdue(status, m.due_date, now):
        summary += " (" + _("überfällig") + ")"
    responsible = m.responsible_municipality.name if m.responsible_municipality else None
    if responsible and m.responsible_person:
        responsible += ", " + m.responsible_person.name
    lines = [
        _("Kooperation: %(title)s", title=c.title),
        _("Phase: %(phase)s", phase=_(m.phase.label)),
        _("Status: %(status)s", status=_(status.label)),
        _("Verantwortlich: %(who)s", who=responsible or _("noch offen")),
    ]
    if m.progress_note:
        lines.append(_("Fortschritt: %(note)s", note=m.progress_note))
    if m.description:
        lines += ["", m.description]
    lines += ["", url]
    event = Event()
    event.add("uid", f"meilenstein-{m.id}@{host}")
    event.add("dtstamp", m.updated_at or now)
    event.add("last-modified", m.updated_at or now)
    event.add("sequence", max(m.version - 1, 0))
    event.add("summary", summary)
    event.add("dtstart", m.due_date)
    event.add("dtend", m.due_date + timedelta(days=1))
    event.add("description", "\n".join(lines))
    event.add("url", url)
    event.add("categories", [_(m.phase.label)])
    event.add("status", "CANCELLED" if status is MilestoneStatus.ABGESAGT else "CONFIRMED")
    event.add("transp", "TRANSPARENT")  # a deadline, not a meeting: leaves the day free
    return event
