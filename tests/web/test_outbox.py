"""The outbox and the delivery core, inline: fan-out, rendering, retry rules, digests, alerts.

Celery runs eagerly here and mail goes to the session's real aiosmtpd; the worker-process,
broker and SMTP-failure proofs live in tests/integration/test_notifications_*.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from koopboard.domain.catalog import Role
from koopboard.domain.milestones import berlin_today
from koopboard.extensions import db
from koopboard.milestones import services
from koopboard.models import (
    Cooperation,
    Milestone,
    MilestoneAlert,
    NotificationDelivery,
    NotificationDigest,
    NotificationEvent,
    NotificationPreference,
    NotificationSettings,
    User,
)
from koopboard.models.types import utcnow
from koopboard.notifications import delivery
from tests.conftest import free_port, prefer, wants_mail_at_once


@dataclass
class Coop:
    cooperation: Cooperation
    lead: User
    member: User
    treasurer: User
    observer: User
    milestone: Milestone


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _deliveries() -> dict[int, NotificationDelivery]:
    return {d.user_id: d for d in db.session.scalars(select(NotificationDelivery))}


@pytest.fixture()
def coop(make_municipality, make_user, make_cooperation) -> Coop:  # noqa: ANN001
    a, b = make_municipality("Merchweiler"), make_municipality("Illingen")
    lead = make_user(a, name="Lea Leitung")
    member = make_user(b, name="Bernd Illingen")
    treasurer = make_user(a, name="Kim Kämmerei")
    observer = make_user(b, name="Olaf Beobachter")
    make_user(b, name="Ohne Rolle")
    cooperation = make_cooperation(
        lead,
        partners=[b],
        roles={member: Role.MEMBER, treasurer: Role.TREASURER, observer: Role.OBSERVER},
        title="Gemeinsamer Bauhof",
    )
    data = services.MilestoneData(
        title="Satzung beschließen",
        description="",
        phase="planung",
        due_date=berlin_today(utcnow()) + timedelta(days=20),
        status="geplant",
        responsible_municipality_id=b.id,
        progress_note="",
    )
    milestone = services.create_milestone(cooperation, data, by=lead, now=utcnow())
    db.session.commit()
    db.session.execute(NotificationDelivery.__table__.delete())
    db.session.execute(NotificationEvent.__table__.delete())
    db.session.commit()
    # The sending is under test here, so everyone asked for mail at once (the role presets
    # are tested in test_notification_preferences.py).
    wants_mail_at_once(lead, member, treasurer, observer)
    return Coop(cooperation, lead, member, treasurer, observer, milestone)


def _change_status(c: Coop, new: str = "in_arbeit") -> None:
    services.change_status(
        c.milestone, new, version=c.milestone.version, by=c.lead, is_lead=True, now=utcnow()
    )


def test_status_change_fans_out_to_every_role_but_the_actor(coop: Coop, login_as) -> None:
    prefer(coop.treasurer, "milestone.status_changed", "off")
    prefer(coop.observer, "milestone.status_changed", "digest", coop.cooperation.id)
    client = login_as(coop.lead)
    url = f"/kooperationen/{coop.cooperation.id}/meilensteine/{coop.milestone.id}/status"
    response = client.post(url, data={"status": "in_arbeit", "version": "1"})
    assert response.status_code in (200, 302)
    rows = _deliveries()
    assert set(rows) == {coop.member.id, coop.treasurer.id, coop.observer.id}
    assert (rows[coop.member.id].mode, rows[coop.member.id].status) == ("immediate", "pending")
    assert (rows[coop.treasurer.id].mode, rows[coop.treasurer.id].status) == ("off", "skipped")
    assert (rows[coop.observer.id].mode, rows[coop.observer.id].status) == ("digest", "pending")


def test_a_rolled_back_change_leaves_nothing(coop: Coop) -> None:
    _change_status(coop)
    assert _count(NotificationDelivery) == 3
    db.session.rollback()
    assert (_count(NotificationEvent), _count(NotificationDelivery)) == (0, 0)


def test_relay_sends_one_german_mail_per_recipient_with_link_and_unsubscribe(
    coop: Coop, mailbox
) -> None:  # noqa: ANN001
    _change_status(coop)
    db.session.commit()
    assert delivery.relay() == 3
    assert delivery.relay() == 0  # nothing twice
    assert len(mailbox.messages) == 3
    msg = mailbox.to(coop.member.email)[0]
    row = _deliveries()[coop.member.id]
    assert row.status == "sent" and row.attempts == 1 and row.sent_at
    assert msg["Message-ID"] == f"<koopboard-delivery-{row.id}@koopboard.localhost>"
    assert "Gemeinsamer Bauhof" in msg["Subject"] and "Status" in msg["Subject"]
    text = mailbox.text(msg)
    assert "„geplant“ auf „in Arbeit“" in text
    page = f"http://localhost/kooperationen/{coop.cooperation.id}/meilensteine/{coop.milestone.id}"
    assert page in mailbox.links(msg)
    assert msg["List-Unsubscribe"].startswith("<http://localhost/benachrichtigungen/abmelden/")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Unsubscribe"].strip("<>") in text
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert f'href="{page}"' in html
    assert coop.lead.email not in [str(m["To"]) for m in mailbox.messages]


def test_connection_refused_is_retried_later_with_backoff(app, coop: Coop, mailbox) -> None:  # noqa: ANN001
    app.config.update(MAIL_PORT=free_port(), NOTIFY_RETRY_BASE_SECONDS=60)
    _change_status(coop)
    db.session.commit()
    before = utcnow()
    delivery.relay()
    row = _deliveries()[coop.member.id]
    assert (row.status, row.attempts) == ("pending", 1)
    assert "ConnectionRefused" in row.last_error
    assert before + timedelta(seconds=59) < row.next_attempt_at < before + timedelta(seconds=80)
    assert delivery.relay() == 0  # not due yet
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    delivery.relay()
    row = db.session.get(NotificationDelivery, row.id, populate_existing=True)
    assert row.attempts == 2
    assert row.next_attempt_at - utcnow() > timedelta(seconds=100)  # 2 × base: growing
    app.config.update(NOTIFY_MAX_ATTEMPTS=3)
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    delivery.relay()
    row = db.session.get(NotificationDelivery, row.id, populate_existing=True)
    assert (row.status, row.attempts) == ("failed", 3)  # finite
    assert mailbox.messages == []


def test_recipient_without_address_fails_without_retry(coop: Coop, mailbox) -> None:  # noqa: ANN001
    _change_status(coop)
    coop.member.email = ""
    db.session.commit()
    delivery.relay()
    row = _deliveries()[coop.member.id]
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 1, None)
    assert "ohne E-Mail-Adresse" in row.last_error
    assert len(mailbox.messages) == 2


def test_expired_claim_of_a_crashed_worker_is_handed_out_again(coop: Coop, mailbox) -> None:  # noqa: ANN001
    _change_status(coop)
    db.session.commit()
    for row in _deliveries().values():
        if row.status == "pending":
            row.status = "sending"
            row.claimed_until = utcnow() + timedelta(minutes=5)
    db.session.commit()
    assert delivery.relay() == 0  # a live claim is left alone
    for row in _deliveries().values():
        row.claimed_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert delivery.relay() == 3
    assert len(mailbox.messages) == 3


def test_digest_collects_per_user_once_per_slot(coop: Coop, mailbox) -> None:  # noqa: ANN001
    prefer(coop.member, "milestone.status_changed", "digest")
    db.session.add(NotificationSettings(user_id=coop.member.id, digest_days="4", digest_hour=7))
    db.session.commit()
    _change_status(coop)
    _change_status(coop, "gefaehrdet")
    db.session.commit()
    delivery.relay()
    assert mailbox.to(coop.member.email) == []
    thursday_6 = datetime(2026, 11, 26, 5, 30, tzinfo=UTC)  # 06:30 in Berlin
    assert delivery.queue_digests(thursday_6) == []
    thursday_7 = datetime(2026, 11, 26, 6, 5, tzinfo=UTC)  # 07:05 in Berlin
    assert len(delivery.queue_digests(thursday_7)) == 1
    assert delivery.queue_digests(thursday_7 + timedelta(minutes=1)) == []
    mails = mailbox.to(coop.member.email)
    assert len(mails) == 1
    digest = db.session.scalar(select(NotificationDigest))
    assert digest.status == "sent"
    assert mails[0]["Message-ID"] == f"<koopboard-digest-{digest.id}@koopboard.localhost>"
    text = mailbox.text(mails[0])
    assert "== Gemeinsamer Bauhof ==" in text
    assert "auf „in Arbeit“" in text and "auf „gefährdet“" in text
    statuses = db.session.scalars(
        select(NotificationDelivery.status).where(NotificationDelivery.user_id == coop.member.id)
    ).all()
    assert statuses == ["digested", "digested"]


def test_overdue_alert_fires_once_per_interval(app, coop: Coop, mailbox) -> None:  # noqa: ANN001
    app.config.update(NOTIFY_OVERDUE_REPEAT_DAYS=7, NOTIFY_DUE_SOON_DAYS=7)
    today = date(2026, 11, 26)
    coop.milestone.due_date = date(2026, 11, 20)
    db.session.commit()
    assert delivery.date_alerts(today) == 1
    assert delivery.date_alerts(today) == 0
    assert delivery.date_alerts(today + timedelta(days=6)) == 0
    assert delivery.date_alerts(today + timedelta(days=7)) == 1
    types = db.session.scalars(select(NotificationEvent.event_type)).all()
    assert types == ["milestone.overdue", "milestone.overdue"]
    assert _count(NotificationDelivery) == 8  # four recipients (the actor is nobody) × 2
    alert = db.session.scalar(select(MilestoneAlert))
    assert (alert.kind, alert.last_alert_on) == ("overdue", today + timedelta(days=7))


def test_due_soon_alert_fires_once_per_due_date(coop: Coop) -> None:
    today = date(2026, 11, 26)
    coop.milestone.due_date = today + timedelta(days=10)
    db.session.commit()
    assert delivery.date_alerts(today) == 0  # outside the window
    coop.milestone.due_date = today + timedelta(days=7)
    db.session.commit()
    assert delivery.date_alerts(today) == 1
    assert delivery.date_alerts(today + timedelta(days=1)) == 0
    coop.milestone.due_date = today + timedelta(days=20)  # moved: a new window later
    db.session.commit()
    assert delivery.date_alerts(today + timedelta(days=13)) == 1
    coop.milestone.status = "abgesagt"
    db.session.commit()
    assert delivery.date_alerts(today + timedelta(days=30)) == 0


def test_bulk_modes_follow_the_preference_rule(coop: Coop, make_user) -> None:  # noqa: ANN001
    from koopboard.notifications import preferences
    from koopboard.notifications.preferences import modes_for

    kind, cid = "milestone.status_changed", coop.cooperation.id
    extra = [make_user(coop.member.municipality) for _ in range(3)]
    prefer(coop.member, kind, "digest")
    prefer(coop.treasurer, kind, "digest")
    db.session.add_all(
        [
            NotificationPreference(
                user_id=coop.member.id, event_type=kind, cooperation_id=cid, mode="off"
            ),
            NotificationPreference(user_id=extra[0].id, event_type="cost.approved", mode="off"),
            NotificationSettings(user_id=coop.observer.id, paused=True),
        ]
    )
    db.session.commit()
    users = [coop.member.id, coop.treasurer.id, coop.observer.id, coop.lead.id] + [
        u.id for u in extra
    ]
    bulk = modes_for(users, kind, cid)
    assert bulk == {u: preferences.mode_for(u, kind, cid) for u in users}
    assert [bulk[u] for u in users[:4]] == ["off", "digest", "off", "immediate"]


# --- partner and role events --------------------------------------------------------------


def _events(event_type: str) -> list[NotificationEvent]:
    return list(
        db.session.scalars(
            select(NotificationEvent)
            .where(NotificationEvent.event_type == event_type)
            .order_by(NotificationEvent.id)
        )
    )


def test_adding_a_partner_tells_every_role_but_the_actor(
    coop: Coop, make_municipality, login_as, mailbox
) -> None:  # noqa: ANN001
    town = make_municipality("Eppelborn")
    client = login_as(coop.lead)
    response = client.post(
        f"/kooperationen/{coop.cooperation.id}/partner/neu",
        data={"action": "add", "ags": town.ags, "joined_on": "01.03.2025"},
    )
    assert response.status_code == 302
    (event,) = _events("partner.joined")
    assert (event.actor_id, event.record_type) == (coop.lead.id, "CooperationPartner")
    assert event.payload["municipality"] == "Eppelborn"
    rows = _deliveries()
    assert set(rows) == {coop.member.id, coop.treasurer.id, coop.observer.id}
    assert {r.event_id for r in rows.values()} == {event.id}
    assert delivery.relay() == 3
    msg = mailbox.to(coop.member.email)[0]
    assert msg["Subject"] == "[Gemeinsamer Bauhof] Partnerkommune beigetreten: Eppelborn"
    assert "Die Kommune „Eppelborn“ ist der Kooperation am 01.03.2025 beigetreten." in (
        mailbox.text(msg)
    )
    assert f"http://localhost/kooperationen/{coop.cooperation.id}" in mailbox.links(msg)


def test_a_failed_partner_addition_publishes_nothing(coop: Coop, login_as) -> None:
    client = login_as(coop.lead)
    response = client.post(
        f"/kooperationen/{coop.cooperation.id}/partner/neu",
        data={"action": "add", "ags": "99999998", "joined_on": "01.03.2025"},
    )
    assert response.status_code in (400, 422)
    assert _count(NotificationEvent) == 0 and _count(NotificationDelivery) == 0


def test_a_partner_leaving_is_published_once(coop: Coop, mailbox) -> None:  # noqa: ANN001
    from koopboard.cooperations.services import partners_of, update_partner

    (partner,) = [
        p for p in partners_of(coop.cooperation) if p.municipality_id == coop.member.municipality_id
    ]
    joined = partner.joined_on
    update_partner(
        partner, joined_on=joined, left_on=None, council_resolution_on=None, by=coop.lead
    )
    db.session.commit()
    assert _events("partner.left") == []  # no leave date: nothing to tell
    update_partner(
        partner,
        joined_on=joined,
        left_on=date(2026, 6, 30),
        council_resolution_on=None,
        by=coop.lead,
    )
    db.session.commit()
    update_partner(  # the date corrected later: not a second departure
        partner,
        joined_on=joined,
        left_on=date(2026, 7, 31),
        council_resolution_on=None,
        by=coop.lead,
    )
    db.session.commit()
    (event,) = _events("partner.left")
    assert event.actor_id == coop.lead.id
    delivery.relay()
    assert len(mailbox.messages) == 3
    assert "„Illingen“ ist zum 30.06.2026 aus der Kooperation ausgetreten." in mailbox.text(
        mailbox.to(coop.observer.email)[0]
    )


def test_granting_a_role_tells_the_new_member_too(coop: Coop, make_user, login_as, mailbox) -> None:  # noqa: ANN001
    newcomer = make_user(coop.member.municipality, name="Nina Neu")
    client = login_as(coop.lead)
    response = client.post(
        f"/kooperationen/{coop.cooperation.id}/rollen",
        data={"user_id": str(newcomer.id), "role": "member"},
    )
    assert response.status_code == 302
    (event,) = _events("role.granted")
    assert (event.actor_id, event.payload["user_id"]) == (coop.lead.id, newcomer.id)
    rows = _deliveries()
    assert set(rows) == {coop.member.id, coop.treasurer.id, coop.observer.id, newcomer.id}
    delivery.relay()
    msg = mailbox.to(newcomer.email)[0]
    assert msg["Subject"] == "[Gemeinsamer Bauhof] Rolle vergeben: Nina Neu"
    assert "Nina Neu hat in der Kooperation die Rolle „Mitglied“ erhalten." in mailbox.text(msg)
    assert mailbox.to(coop.lead.email) == []


# --- batches: one SMTP connection, errors per message -------------------------------------


class PickyMailbox:
    """Refuses some recipients (550 or 451), can drop the connection, counts sessions."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.sessions: set[int] = set()
        self.drop_at: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201, N802
        self.sessions.add(id(session))
        if address.startswith("abgelehnt"):
            return "550 5.1.1 Postfach unbekannt"
        if address.startswith("spaeter"):
            return "451 4.2.0 Bitte später"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        if self.drop_at and self.drop_at in envelope.rcpt_tos:
            server.transport.close()  # the connection breaks mid-batch
            return "421 weg"
        self.received.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture()
def picky(app):  # noqa: ANN001, ANN201
    from aiosmtpd.controller import Controller

    box = PickyMailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_PORT=port, NOTIFY_RETRY_BASE_SECONDS=60)
    yield box
    controller.stop()


def test_a_batch_uses_one_connection_and_judges_each_message(coop: Coop, picky) -> None:  # noqa: ANN001
    coop.treasurer.email = "abgelehnt@example.org"
    coop.observer.email = "spaeter@example.org"
    db.session.commit()
    _change_status(coop)
    db.session.commit()
    ids = sorted(d.id for d in _deliveries().values())
    statuses = delivery.deliver_batch(ids)
    rows = {d.user_id: d for d in _deliveries().values()}
    assert statuses == {
        rows[coop.member.id].id: "sent",
        rows[coop.treasurer.id].id: "failed",
        rows[coop.observer.id].id: "pending",
    }
    assert len(picky.sessions) == 1 and picky.received == [coop.member.email]
    member, treasurer, observer = (rows[u.id] for u in (coop.member, coop.treasurer, coop.observer))
    assert (member.status, member.attempts, member.sent_at is not None) == ("sent", 1, True)
    assert (treasurer.status, treasurer.attempts, treasurer.next_attempt_at) == ("failed", 1, None)
    assert "550" in treasurer.last_error
    assert (observer.status, observer.attempts) == ("pending", 1) and "451" in observer.last_error
    assert observer.next_attempt_at > utcnow() + timedelta(seconds=59)
    assert delivery.deliver_batch(ids) == {}  # nothing due: a repeated task sends nothing


def test_a_dropped_connection_retries_the_rest_of_the_batch(coop: Coop, picky) -> None:  # noqa: ANN001
    picky.drop_at = coop.treasurer.email
    _change_status(coop)
    db.session.commit()
    rows = _deliveries()
    ids = sorted(d.id for d in rows.values())
    order = [d.user_id for d in sorted(rows.values(), key=lambda d: d.id)]
    statuses = delivery.deliver_batch(ids)
    dropped = order.index(coop.treasurer.id)
    rows = _deliveries()
    for position, user_id in enumerate(order):
        row = rows[user_id]
        if position < dropped:
            assert (row.status, statuses[row.id]) == ("sent", "sent")
        else:  # the dropped one and every one after it: retried later, not failed
            assert (row.status, row.attempts, statuses[row.id]) == ("pending", 1, "pending")
            assert row.next_attempt_at > utcnow() + timedelta(seconds=59)
    assert len(picky.received) == dropped
