"""Composing notification e-mails: what an event says (German, through Babel), the link to
its page, the subject, and the mail of one delivery or one digest.

An event's mail is rendered once for all its recipients with stand-ins for the
recipient's name and unsubscribe link, which are filled in per recipient.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from email.message import EmailMessage
from typing import Any

from flask import current_app, render_template
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import select

from koopboard.domain.catalog import Role
from koopboard.domain.milestones import MilestoneStatus
from koopboard.domain.notifications import EventType
from koopboard.extensions import db
from koopboard.i18n import format_day, format_money, person
from koopboard.mail import RawMail, build_bulk_mail, build_message
from koopboard.models import Cooperation, NotificationEvent, User
from koopboard.notifications.delivery.claiming import Delivery, Digest
from koopboard.notifications.delivery.errors import PermanentDeliveryError
from koopboard.notifications.unsubscribe import unsubscribe_url


@dataclass
class Recipient:
    """What a delivery's mail needs, read before the batch starts committing (a commit
    expires ORM objects; plain values survive)."""

    user_id: int
    name: str
    email: str
    event_type: str
    mail: EventMail | Exception  # the event's rendering, or why it failed


def base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/")


def link_for(event: NotificationEvent) -> str:
    """The page the event is about, as an absolute URL."""
    coop = f"{base_url()}/kooperationen/{event.cooperation_id}"
    if page := (event.payload or {}).get("page"):  # join requests and contact messages
        return f"{base_url()}{page}"
    if event.record_type == "Milestone":
        return f"{coop}/meilensteine/{event.record_id}"
    if event.record_type == "Cost":
        return f"{coop}/kosten/{event.record_id}"
    if event.record_type == "Payment":
        # Payments have no page of their own: the cost list of their budget year shows them.
        year = (event.payload or {}).get("year")
        return f"{coop}/kosten/" + (f"?jahr={int(year)}" if str(year or "").isdigit() else "")
    return coop


def _datum(value: str | None) -> str:
    """A stored ISO day in the locale's format (mails: German; the feed says these
    sentences too, in the reader's language)."""
    try:
        return format_day(date.fromisoformat(value or ""))
    except ValueError:
        return value or ""


def _status(value: str | None) -> str:
    try:
        return _(MilestoneStatus(value).label)
    except ValueError:
        return value or ""


def took_role_themselves(event: NotificationEvent) -> bool:
    """A role grant whose actor is its grantee: the person accepted an invitation (events
    from before the payload said so are recognised by the actor)."""
    p = event.payload or {}
    return event.event_type == EventType.ROLE_GRANTED.value and bool(
        p.get("accepted") or (event.actor_id is not None and p.get("user_id") == event.actor_id)
    )


def content_deleted() -> str:
    """What an event says once the retention run removed its content."""
    return _("Inhalt nach Ablauf der Aufbewahrungsfrist gelöscht.")


def describe(event: NotificationEvent) -> str:
    """One German sentence saying what happened."""
    if event.content_deleted_at is not None:
        return content_deleted()
    p = event.payload or {}
    if took_role_themselves(event):
        p = {**p, "accepted": True}
    title = p.get("title", "")
    kind = event.event_type
    if kind == EventType.MILESTONE_STATUS_CHANGED:
        return _(
            "Der Status des Meilensteins „%(t)s“ wurde von „%(o)s“ auf „%(n)s“ geändert.",
            t=title,
            o=_status(p.get("old")),
            n=_status(p.get("new")),
        )
    if kind == EventType.MILESTONE_CREATED:
        return _(
            "Neuer Meilenstein „%(t)s“, fällig am %(d)s.", t=title, d=_datum(p.get("due_date"))
        )
    if kind == EventType.MILESTONE_DUE_DATE_CHANGED:
        return _(
            "Der Meilenstein „%(t)s“ ist jetzt am %(n)s fällig (bisher %(o)s).",
            t=title,
            n=_datum(p.get("new")),
            o=_datum(p.get("old")),
        )
    if kind == EventType.MILESTONE_DUE_SOON:
        return _(
            "Der Meilenstein „%(t)s“ ist am %(d)s fällig.", t=title, d=_datum(p.get("due_date"))
        )
    if kind == EventType.MILESTONE_OVERDUE:
        return _(
            "Der Meilenstein „%(t)s“ ist seit dem %(d)s überfällig.",
            t=title,
            d=_datum(p.get("due_date")),
        )
    if kind == EventType.PARTNER_JOINED:
        return _(
            "Die Kommune „%(m)s“ ist der Kooperation am %(d)s beigetreten.",
            m=p.get("municipality", ""),
            d=_datum(p.get("joined_on")),
        )
    if kind == EventType.PARTNER_LEFT:
        return _(
            "Die Kommune „%(m)s“ ist zum %(d)s aus der Kooperation ausgetreten.",
            m=p.get("municipality", ""),
            d=_datum(p.get("left_on")),
        )
    if kind == EventType.JOIN_REQUEST:
        return _join_request_sentence(p)
    if kind == EventType.DIRECTORY_CONTACT:
        return _(
            "%(u)s (%(m)s, %(e)s) schreibt Ihnen über die Kooperationsbörse: %(t)s",
            u=person(p.get("sender", "")),
            m=p.get("municipality", ""),
            e=p.get("email", ""),
            t=p.get("message", ""),
        )
    if kind == EventType.INVITATION_OFFERED:
        return _(
            "%(u)s (%(m)s) lädt Sie in die Kooperation ein, als „%(r)s“ für die Kommune "
            "%(k)s. Auf der Seite der Einladung nehmen Sie sie an oder lehnen sie ab.",
            u=p.get("inviter", ""),
            m=p.get("inviter_municipality", ""),
            r=_role(p.get("role")),
            k=p.get("for_municipality", ""),
        )
    if kind == EventType.INVITATION_DECLINED:
        return _(
            "Die Einladung an %(e)s als „%(r)s“ für die Kommune %(k)s wurde abgelehnt.",
            e=p.get("email", ""),
            r=_role(p.get("role")),
            k=p.get("for_municipality", ""),
        )
    if kind == EventType.INVITATION_WITHDRAWN:
        return _(
            "%(u)s (%(m)s) hat die Einladung in die Kooperation als „%(r)s“ für die Kommune "
            "%(k)s zurückgezogen. Sie können sie nicht mehr annehmen.",
            u=p.get("inviter", ""),
            m=p.get("inviter_municipality", ""),
            r=_role(p.get("role")),
            k=p.get("for_municipality", ""),
        )
    if kind == EventType.INVITATION_ACCOUNT:
        return _(
            "%(u)s (%(e)s) hat auf Einladung von %(i)s ein Konto für Ihre Kommune %(m)s "
            "angelegt, dabei bestätigt, dort beschäftigt zu sein, und hat in dieser Kooperation "
            "jetzt die Rolle „%(r)s“. Wenn das nicht stimmt, wenden Sie sich bitte an den "
            "Betreiber von KoopBoard.",
            u=p.get("user", ""),
            e=p.get("email", ""),
            i=p.get("inviter", ""),
            m=p.get("for_municipality", ""),
            r=_role(p.get("role")),
        )
    if kind == EventType.ROLE_GRANTED and p.get("accepted"):
        return _(
            "%(u)s hat die Einladung angenommen und hat in der Kooperation jetzt die Rolle "
            "„%(r)s“.",
            u=person(p.get("user", "")),
            r=_role(p.get("role")),
        )
    if kind == EventType.ROLE_GRANTED:
        return _(
            "%(u)s hat in der Kooperation die Rolle „%(r)s“ erhalten.",
            u=person(p.get("user", "")),
            r=_role(p.get("role")),
        )
    if kind == EventType.COST_SUBMITTED:
        return _(
            "Die Kosten „%(t)s“ über %(a)s sind zur Freigabe eingereicht.",
            t=title,
            a=_eur(p.get("amount")),
        )
    if kind == EventType.COST_APPROVED:
        return _(
            "Die Kosten „%(t)s“ über %(a)s sind freigegeben.", t=title, a=_eur(p.get("amount"))
        )
    if kind == EventType.COST_REJECTED:
        return _(
            "Die Kosten „%(t)s“ über %(a)s sind abgelehnt. Grund: %(r)s",
            t=title,
            a=_eur(p.get("amount")),
            r=p.get("reason", ""),
        )
    name = label(kind)
    return f"{name}: {title}" if title else name


def _join_request_sentence(p: dict[str, Any]) -> str:
    municipality = p.get("municipality", "")
    step = p.get("step")
    if step == "accepted":
        return _(
            "Die Beitrittsanfrage von %(m)s wurde angenommen: Beitritt am %(d)s.",
            m=municipality,
            d=_datum(p.get("joined_on")),
        )
    if step == "declined":
        return _(
            "Die Beitrittsanfrage von %(m)s wurde abgelehnt. Begründung: %(r)s",
            m=municipality,
            r=p.get("reason", ""),
        )
    if step == "withdrawn":
        return _("%(m)s hat die Beitrittsanfrage zurückgezogen.", m=municipality)
    return _(
        "%(m)s möchte der Kooperation zum %(d)s beitreten. Nachricht: %(t)s",
        m=municipality,
        d=_datum(p.get("intended_join_on")),
        t=p.get("message", ""),
    )


def _eur(value: str | None) -> str:
    """A stored amount ("12345.67") in the locale's format ("12.345,67 €" / "€12,345.67")."""
    try:
        return format_money(Decimal(value or ""))
    except (InvalidOperation, ValueError, TypeError):
        return value or ""


def _role(value: str | None) -> str:
    try:
        return _(Role(value).label)
    except ValueError:
        return value or ""


def subject_detail(event: NotificationEvent) -> str:
    """What the subject names after the event's label: a title, a municipality or a person."""
    p = event.payload or {}
    return str(person(p.get("title") or p.get("municipality") or p.get("user") or ""))


def label(event_type: str) -> str:
    try:
        return EventType(event_type).label
    except ValueError:
        return event_type


def _headers(user_id: int, event_type: str) -> dict[str, str]:
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(user_id, event_type)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _recipient(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not (user.email or "").strip():
        raise PermanentDeliveryError(_("Empfänger ohne E-Mail-Adresse"))
    return user


def render(name: str, context: dict[str, Any]) -> str:
    """A mail template without Flask's per-render context processors (they serve pages:
    the bell count, the locale of a request). Jinja caches the compiled template."""
    return current_app.jinja_env.get_template(name).render(context)


# Stand-ins for the recipient's values: an event's mail is rendered once for all its
# recipients, then these are replaced per recipient (HTML-escaped in the HTML part). NUL
# never occurs in database text, and HTML escaping leaves it as it is.
_NAME = "\x00name\x00"
_UNSUBSCRIBE = "\x00unsubscribe\x00"


class RecipientStandIn:
    """What the event templates may use of the recipient (``user.name``)."""

    name = _NAME


@dataclass
class EventMail:
    """An event's mail, rendered once, with stand-ins for the recipient's values."""

    subject: str
    text: str
    html: str


# Rendered events by (event id and time, cooperation title, base URL): an event's recipients
# may be spread over several batches, and an event never changes once published.
_EVENT_MAILS: dict[tuple[int, datetime, str, str], EventMail] = {}
_EVENT_MAILS_MAX = 512


def event_mail(event: NotificationEvent, cooperation: Cooperation) -> EventMail:
    key = (event.id, event.created_at, cooperation.title, base_url())
    if (mail := _EVENT_MAILS.get(key)) is None:
        if len(_EVENT_MAILS) >= _EVENT_MAILS_MAX:
            _EVENT_MAILS.clear()
        mail = _EVENT_MAILS[key] = _render_event_mail(event, cooperation)
    return mail


def _reason(event: NotificationEvent) -> str:
    """Why the recipient gets the mail, for its footer: most have a role in the cooperation."""
    if event.event_type == EventType.JOIN_REQUEST.value and (event.payload or {}).get("step") in (
        "accepted",
        "declined",
    ):
        return "requester"  # the requesting municipality has no role
    if event.event_type in (
        EventType.INVITATION_OFFERED.value,
        EventType.INVITATION_WITHDRAWN.value,
    ):
        return "invited"
    if event.event_type == EventType.INVITATION_ACCOUNT.value:
        return "colleague"
    return "role"


def _render_event_mail(event: NotificationEvent, cooperation: Cooperation) -> EventMail:
    context = {
        "user": RecipientStandIn(),
        "cooperation": cooperation,
        "event": event,
        "label": label(event.event_type),
        "text": describe(event),
        "link": link_for(event),
        "unsubscribe": _UNSUBSCRIBE,
        "settings_link": f"{base_url()}/benachrichtigungen/einstellungen",
        "reason": _reason(event),
    }
    subject = f"[{cooperation.title}] {context['label']}"
    if detail := subject_detail(event):
        subject += f": {detail}"
    return EventMail(
        subject,
        render("notifications/mail/event.txt", context),
        render("notifications/mail/event.html", context),
    )


# Signed unsubscribe links by (secret, base URL, user, event type): the same people hear of
# the same kinds of events again and again, and signing costs more than the rest of a mail.
_LINKS: dict[tuple[str, str, int, str], str] = {}
_LINKS_MAX = 20_000


def _unsubscribe_link(user_id: int, event_type: str) -> str:
    config = current_app.config
    key = (config["SECRET_KEY"], config["PUBLIC_BASE_URL"], user_id, event_type)
    if (link := _LINKS.get(key)) is None:
        if len(_LINKS) >= _LINKS_MAX:
            _LINKS.clear()
        link = _LINKS[key] = unsubscribe_url(user_id, event_type)
    return link


def compose_delivery(delivery_id: int, recipient: Recipient | Exception) -> RawMail:
    """The delivery's mail: its event's rendering with the recipient's name and link."""
    if isinstance(recipient, Exception):
        raise recipient
    if isinstance(recipient.mail, Exception):
        raise recipient.mail
    mail = recipient.mail
    name = recipient.name or ""
    unsubscribe = _unsubscribe_link(recipient.user_id, recipient.event_type)
    return build_bulk_mail(
        recipient.email,
        mail.subject,
        mail.text.replace(_NAME, name).replace(_UNSUBSCRIBE, unsubscribe),
        mail.html.replace(_NAME, str(escape(name))).replace(_UNSUBSCRIBE, str(escape(unsubscribe))),
        message_id=f"<koopboard-delivery-{delivery_id}@koopboard.localhost>",
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def compose_digest(row: Digest) -> EmailMessage:
    user = _recipient(row.user_id)
    deliveries = db.session.scalars(
        select(Delivery).where(Delivery.digest_id == row.id).order_by(Delivery.id)
    ).all()
    events = [d.event for d in deliveries]
    titles = dict(
        db.session.execute(
            select(Cooperation.id, Cooperation.title).where(
                Cooperation.id.in_({e.cooperation_id for e in events})
            )
        ).all()
    )
    groups: dict[int, list[dict[str, str]]] = defaultdict(list)
    for event in events:
        groups[event.cooperation_id].append(
            {
                "label": label(event.event_type),
                "text": describe(event),
                "link": link_for(event),
            }
        )
    types = dict.fromkeys(e.event_type for e in events)
    context = {
        "user": user,
        "groups": [(titles.get(cid, ""), items) for cid, items in groups.items()],
        "unsubscribes": [(label(t), unsubscribe_url(user.id, t)) for t in types],
        "count": len(events),
        "settings_link": f"{base_url()}/benachrichtigungen/einstellungen",
    }
    subject = _("KoopBoard: %(n)s Neuigkeiten aus Ihren Kooperationen", n=len(events))
    first_type = events[0].event_type if events else EventType.MILESTONE_STATUS_CHANGED.value
    return build_message(
        user.email,
        subject,
        render_template("notifications/mail/digest.txt", **context),
        render_template("notifications/mail/digest.html", **context),
        message_id=f"<koopboard-digest-{row.id}@koopboard.localhost>",
        headers=_headers(user.id, first_type),
    )
