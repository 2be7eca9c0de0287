"""The bulk path of notification mail: one rendering per event with the recipient filled in,
raw MIME bytes, SMTP pipelining, and statuses committed chunk by chunk.

Mail goes to real aiosmtpd servers (the session's mailbox, or one of this module's that
offers PIPELINING and refuses some recipients); Celery runs eagerly.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from koopboard.domain.catalog import Role
from koopboard.domain.milestones import berlin_today
from koopboard.extensions import db
from koopboard.milestones import services
from koopboard.models import Cooperation, NotificationDelivery, User
from koopboard.models.types import utcnow
from koopboard.notifications import delivery
from koopboard.notifications.delivery import rendering, sending
from koopboard.notifications.unsubscribe import unsubscribe_url
from tests.conftest import free_port


@pytest.fixture()
def event_rows(make_municipality, make_user, make_cooperation):  # noqa: ANN001, ANN201
    """A status change with four recipients, one of them with HTML characters in the name."""
    a, b = make_municipality("Merchweiler"), make_municipality("Illingen")
    lead = make_user(a, name="Lea Leitung")
    tricky = make_user(b, name="Anna <Müller> & „Söhne“")
    others = [make_user(b, name=f"Person {n}") for n in range(3)]
    cooperation = make_cooperation(
        lead,
        partners=[b],
        roles={u: Role.MEMBER for u in [tricky, *others]},
        title="Gemeinsamer Bauhof & Söhne",
    )
    data = services.MilestoneData(
        title="Satzung <beschließen>",
        description="",
        phase="planung",
        due_date=berlin_today(utcnow()) + timedelta(days=20),
        status="geplant",
        responsible_municipality_id=b.id,
        progress_note="",
    )
    milestone = services.create_milestone(cooperation, data, by=lead, now=utcnow())
    db.session.commit()
    db.session.execute(NotificationDelivery.__table__.update().values(status="sent"))
    db.session.commit()
    services.change_status(
        milestone, "in_arbeit", version=milestone.version, by=lead, is_lead=True, now=utcnow()
    )
    db.session.commit()
    rows = db.session.scalars(
        select(NotificationDelivery)
        .where(NotificationDelivery.status == "pending")
        .order_by(NotificationDelivery.id)
    ).all()
    return cooperation, tricky, rows


def test_each_recipient_gets_the_event_rendered_for_them(app, event_rows, mailbox) -> None:  # noqa: ANN001
    cooperation, tricky, rows = event_rows
    statuses = delivery.deliver_batch([r.id for r in rows])
    assert set(statuses.values()) == {"sent"} and len(mailbox.messages) == len(rows) == 4
    for row in rows:
        user = db.session.get(User, row.user_id)
        (msg,) = mailbox.to(user.email)
        assert msg["Message-ID"] == f"<koopboard-delivery-{row.id}@koopboard.localhost>"
        label = rendering.label("milestone.status_changed")
        assert msg["Subject"] == f"[{cooperation.title}] {label}: Satzung <beschließen>"
        link = unsubscribe_url(user.id, "milestone.status_changed")
        assert msg["List-Unsubscribe"] == f"<{link}>"
        # The same text and HTML as rendering the templates for this one recipient.
        event = row.event
        context = {
            "user": user,
            "cooperation": db.session.get(Cooperation, event.cooperation_id),
            "event": event,
            "label": label,
            "text": rendering.describe(event),
            "link": rendering.link_for(event),
            "unsubscribe": link,
            "settings_link": "http://localhost/benachrichtigungen/einstellungen",
        }
        with app.test_request_context():
            text = rendering.render("notifications/mail/event.txt", context)
            html = rendering.render("notifications/mail/event.html", context)
        assert mailbox.text(msg).replace("\r\n", "\n") == text
        assert msg.get_body(preferencelist=("html",)).get_content().replace("\r\n", "\n") == html
    html = mailbox.to(tricky.email)[0].get_body(preferencelist=("html",)).get_content()
    assert "Anna &lt;Müller&gt; &amp; „Söhne“" in html
    assert "Anna <Müller> & „Söhne“" in mailbox.text(mailbox.to(tricky.email)[0])


class PipeliningMailbox:
    """Offers PIPELINING (RFC 2920), refuses some recipients, records what it received."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.sessions: set[int] = set()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: ANN001, ANN201, N802
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201, N802
        self.sessions.add(id(session))
        if address.startswith("abgelehnt"):
            return "550 5.1.1 Postfach unbekannt"
        if address.startswith("spaeter"):
            return "451 4.2.0 Bitte später"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        self.received.append(envelope.content)
        return "250 OK"


@pytest.fixture()
def pipelining(app):  # noqa: ANN001, ANN201
    from aiosmtpd.controller import Controller

    box = PipeliningMailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_PORT=port, NOTIFY_RETRY_BASE_SECONDS=60)
    yield box
    controller.stop()


def test_pipelined_sending_judges_each_message(event_rows, pipelining) -> None:  # noqa: ANN001
    from email import message_from_bytes
    from email.policy import default

    _cooperation, _tricky, rows = event_rows
    users = [db.session.get(User, r.user_id) for r in rows]
    users[1].email, users[2].email = "abgelehnt@example.org", "spaeter@example.org"
    db.session.commit()
    statuses = delivery.deliver_batch([r.id for r in rows])
    assert [statuses[r.id] for r in rows] == ["sent", "failed", "pending", "sent"]
    assert len(pipelining.sessions) == 1  # one connection, the refusals did not break it
    got = [message_from_bytes(raw, policy=default) for raw in pipelining.received]
    assert [str(m["To"]) for m in got] == [users[0].email, users[3].email]
    assert all(m.get_body(preferencelist=("plain",)).get_content() for m in got)
    failed, later = (db.session.get(NotificationDelivery, r.id) for r in rows[1:3])
    assert "550" in failed.last_error and failed.next_attempt_at is None
    assert "451" in later.last_error and later.next_attempt_at > utcnow() + timedelta(seconds=59)


def test_a_crash_mid_batch_repeats_only_the_unrecorded_chunk(
    app, event_rows, mailbox, monkeypatch
) -> None:  # noqa: ANN001
    """Statuses are committed every NOTIFY_COMMIT_EVERY mails: a worker dying after the
    SMTP server took a chunk but before its commit re-sends that chunk, nothing more."""
    _cooperation, _tricky, rows = event_rows
    app.config.update(NOTIFY_COMMIT_EVERY=2)
    real_record = sending._record
    calls = []

    def crash_on_second_chunk(sent, failed):  # noqa: ANN001, ANN202
        calls.append(sent)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process dies: nothing of this chunk is recorded
        real_record(sent, failed)

    monkeypatch.setattr(sending, "_record", crash_on_second_chunk)
    ids = [r.id for r in rows]
    with pytest.raises(KeyboardInterrupt):
        delivery.deliver_batch(ids)
    db.session.rollback()  # the dead worker's transaction
    monkeypatch.setattr(sending, "_record", real_record)
    states = dict(
        db.session.execute(
            select(NotificationDelivery.id, NotificationDelivery.status).where(
                NotificationDelivery.id.in_(ids)
            )
        ).all()
    )
    assert [states[i] for i in ids] == ["sent", "sent", "pending", "pending"]
    assert len(mailbox.messages) == 4  # all four went out before the crash
    # The claim expires, the relay hands the rest out again: the second chunk is repeated.
    delivery.deliver_batch(ids)
    received = [str(m["Message-ID"]) for m in mailbox.messages]
    assert len(received) == 6 and set(received) == {
        f"<koopboard-delivery-{i}@koopboard.localhost>" for i in ids
    }
    repeated = {r for r in received if received.count(r) > 1}
    assert repeated == {f"<koopboard-delivery-{i}@koopboard.localhost>" for i in ids[2:]}
