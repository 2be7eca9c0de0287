"""What delivered notification mails said is deleted after KOOP_MAIL_RETENTION_DAYS (90).

KoopBoard writes each mail from its event's payload and keeps no copy, so the payload is
the mail's content. Real timestamps: events and sendings dated days back from an aware
"now"; the retention run, the beat task and the CLI all call the same service.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from celery.schedules import crontab
from sqlalchemy import select

from koopboard.domain.catalog import Role
from koopboard.domain.notifications import EventType
from koopboard.extensions import db
from koopboard.models import NotificationDelivery, NotificationDigest, NotificationEvent
from koopboard.notifications import retention
from tests.conftest import login

NOW = datetime.now(UTC)
CONTACT = {
    "sender": "Sina Sender",
    "email": "sina@eppelborn.de",
    "municipality": "Eppelborn",
    "message": "Wir möchten mitmachen.",
    "title": "Gemeinsames Standesamt",
    "page": "/kooperationen/1",
}


@pytest.fixture()
def world(make_municipality, make_user, make_cooperation):  # noqa: ANN001, ANN201
    town = make_municipality("Merchweiler")
    lead = make_user(town, email="lea@merchweiler.de", name="Lea Leitung")
    member = make_user(town, email="mo@merchweiler.de", name="Mo Mitglied")
    coop = make_cooperation(lead, roles={member: Role.MEMBER})
    return {"lead": lead, "member": member, "coop": coop}


def event(
    world,
    *,
    age_days: float,
    status: str,
    sent_days: float | None = None,  # noqa: ANN001
    digest: str | None = None,
    payload: dict | None = None,
) -> int:
    """An event ``age_days`` old with one delivery to the member in ``status``."""
    created = NOW - timedelta(days=age_days)
    ev = NotificationEvent(
        cooperation_id=world["coop"].id,
        event_type=EventType.DIRECTORY_CONTACT.value,
        record_type="Cooperation",
        record_id=world["coop"].id,
        payload=dict(payload or CONTACT),
        created_at=created,
    )
    db.session.add(ev)
    db.session.flush()
    digest_id = None
    if digest is not None:
        row = NotificationDigest(
            user_id=world["member"].id,
            scheduled_for=created + timedelta(hours=1),
            status=digest,
            sent_at=created + timedelta(hours=1) if digest == "sent" else None,
        )
        db.session.add(row)
        db.session.flush()
        digest_id = row.id
    db.session.add(
        NotificationDelivery(
            event_id=ev.id,
            user_id=world["member"].id,
            mode="digest" if digest else "immediate",
            status=status,
            sent_at=NOW - timedelta(days=sent_days) if sent_days is not None else None,
            digest_id=digest_id,
            created_at=created,
        )
    )
    db.session.commit()
    return ev.id


def reload(event_id: int) -> NotificationEvent:
    db.session.expire_all()
    return db.session.get(NotificationEvent, event_id)


def test_old_delivered_content_goes_recent_and_undelivered_stay(app, world) -> None:  # noqa: ANN001
    old_sent = event(world, age_days=100, status="sent", sent_days=100)
    old_digested = event(world, age_days=95, status="digested", digest="sent")
    old_skipped = event(world, age_days=91, status="skipped")  # in-app only, no mail
    recent = event(world, age_days=10, status="sent", sent_days=10)
    just_under = event(world, age_days=89.9, status="sent", sent_days=89.9)
    pending = event(world, age_days=100, status="pending")
    failed = event(world, age_days=100, status="failed")
    waiting_digest = event(world, age_days=100, status="digested", digest="pending")
    sent_lately = event(world, age_days=100, status="sent", sent_days=3)  # retried late

    run = retention.delete_old_content(now=NOW)

    assert run.days == 90 and run.events == 3
    for gone in (old_sent, old_digested, old_skipped):
        ev = reload(gone)
        assert ev.payload == {"page": "/kooperationen/1"}  # only what the link needs
        assert ev.content_deleted_at is not None and ev.content_deleted_at.tzinfo is not None
        # The metadata stays: type, time, cooperation, the delivery and its status.
        assert ev.event_type == EventType.DIRECTORY_CONTACT.value
        assert db.session.scalar(
            select(NotificationDelivery.status).where(NotificationDelivery.event_id == gone)
        ) in ("sent", "digested", "skipped")
    for kept in (recent, just_under, pending, failed, waiting_digest, sent_lately):
        ev = reload(kept)
        assert ev.payload == CONTACT and ev.content_deleted_at is None

    # A second run (tomorrow's) finds nothing new; nothing is emptied twice.
    assert retention.delete_old_content(now=NOW).events == 0


def test_the_period_comes_from_the_configuration(app, world, variant) -> None:  # noqa: ANN001
    recent = event(world, age_days=10, status="sent", sent_days=10)
    newer = event(world, age_days=2, status="sent", sent_days=2)
    short = variant(KOOP_MAIL_RETENTION_DAYS=7)
    with short.app_context():
        run = retention.delete_old_content(now=NOW)
    assert run.days == 7 and run.events == 1
    assert reload(recent).content_deleted_at is not None
    assert reload(newer).content_deleted_at is None


def test_a_period_below_one_day_is_refused(variant) -> None:  # noqa: ANN001
    from koopboard import ConfigurationError

    with pytest.raises(ConfigurationError, match="KOOP_MAIL_RETENTION_DAYS"):
        variant(KOOP_MAIL_RETENTION_DAYS=0)


def test_naive_datetimes_are_refused(app) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="aware"):
        retention.delete_content(now=datetime.now(), days=90)  # noqa: DTZ005


def test_the_lists_say_the_content_was_deleted(app, world, client) -> None:  # noqa: ANN001
    old = event(world, age_days=120, status="sent", sent_days=120)
    event(world, age_days=1, status="sent", sent_days=1)
    retention.delete_old_content(now=NOW)
    assert reload(old).content_deleted_at is not None
    assert login(client, world["member"]).status_code == 302
    inbox = client.get("/benachrichtigungen/").get_data(as_text=True)
    assert "Inhalt nach Ablauf der Aufbewahrungsfrist gelöscht." in inbox
    entries = inbox[inbox.index("<main") :].split('<li id="benachrichtigung-')[1:]
    assert len(entries) == 2
    # Only the recent one still says who wrote.
    assert [("Sina Sender" in e) for e in entries] == [True, False]
    copy = client.get("/konto/meine-daten").get_data(as_text=True)
    assert "Inhalt nach Ablauf der Aufbewahrungsfrist gelöscht." in copy


def test_beat_runs_the_task_daily_and_the_task_calls_the_service(app, world) -> None:  # noqa: ANN001
    from tasks.notifications import delete_old_mail_content

    schedule = app.extensions["celery"].conf.beat_schedule["notifications-mail-retention"]
    assert schedule["task"] == "tasks.notifications.delete_old_mail_content"
    assert isinstance(schedule["schedule"], crontab)
    assert schedule["schedule"].hour == {3}
    old = event(world, age_days=100, status="sent", sent_days=100)
    assert delete_old_mail_content.apply().get() == 1
    assert reload(old).content_deleted_at is not None


def test_the_cli_deletes_old_content(app, world) -> None:  # noqa: ANN001
    old = event(world, age_days=100, status="sent", sent_days=100)
    result = app.test_cli_runner().invoke(args=["koop", "delete-mail-content"])
    assert result.exit_code == 0, result.output
    assert "Inhalt von 1 Benachrichtigungen gelöscht (zugestellt und älter als 90 Tage)." in (
        result.output
    )
    assert reload(old).content_deleted_at is not None
