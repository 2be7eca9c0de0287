"""Cost events by e-mail, end to end: web requests → outbox → a real Celery worker → SMTP.

Treasurers submit, approve, reject and book payments through the web app (real requests,
real CSRF); the commit nudges a real `celery worker -B` process over Redis, which relays and
sends to the aiosmtpd server of tests/conftest.py. Nothing is mocked: the assertions read
the e-mails the SMTP server received and the rows in PostgreSQL.

Who is told: everyone with a role in the cooperation except the person who acted (all roles
may read the costs). By e-mail at once only the Kämmerei (its role preset for cost events);
the Projektleitung, Mitglied and Beobachtung find them in their Sammel-E-Mail, unless their
own preference says otherwise ("aus": only the in-app list).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.models import Cooperation, NotificationDelivery, NotificationEvent, Payment, User
from tests.conftest import (
    PG_HOST,
    PG_PORT,
    REDIS_HOST,
    REDIS_PORT,
    KoopClient,
    Mailbox,
    _clean,
    _test_config,
    login,
    port_open,
    service_missing,
)
from tests.integration.test_notifications_worker import NOTIFY, Worker, wait_for
from tests.mailhelpers import page_link, text
from tests.web.test_costs import YEAR, _book

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Redis databases no other test uses (the worker test has 11, the recurring-costs test 12).
# Several engineers may run this module at once on one machine: each run claims a free one,
# or the workers would take each other's tasks (and look for their rows in the wrong
# database).
REDIS_DBS = (14, 10, 9, 8, 13)
REDIS_LOCK = "koopboard-test:cost-mails"
COOP_TITLE = "Gemeinsames Rechenzentrum"


@pytest.fixture(scope="module")
def broker() -> Iterator[str]:
    """A Redis database of this run's own, emptied before and after."""
    import redis

    if not port_open(REDIS_HOST, REDIS_PORT):
        service_missing("Redis", f"{REDIS_HOST}:{REDIS_PORT} closed")
    for number in REDIS_DBS:
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=number)
        if client.set(REDIS_LOCK, os.getpid(), nx=True, ex=1800):
            break
    else:
        pytest.fail(f"no free Redis database among {REDIS_DBS}")
    stale = [key for key in client.keys() if key != REDIS_LOCK.encode()]
    if stale:
        client.delete(*stale)
    yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{number}"
    client.flushdb()  # the lock too


@pytest.fixture(scope="module")
def worker(
    database_url: str,
    smtp_server: tuple[Mailbox, int],
    broker: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Worker]:
    """A real Celery worker with beat on this process's test database and SMTP server."""
    if not (port_open(PG_HOST, PG_PORT) and database_url.startswith("postgresql")):
        service_missing("PostgreSQL", "the worker needs the shared test database")
    tmp = tmp_path_factory.mktemp("cost-mail-worker")
    env = {
        **os.environ,
        "KOOP_ENV": "testing",
        "KOOP_INSTANCE_DIR": str(tmp),
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "SECRET_KEY": _test_config(database_url, 0)["SECRET_KEY"],
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_server[1]),
        "PUBLIC_BASE_URL": "http://localhost",
        **{key: str(value) for key, value in NOTIFY.items()},
    }
    w = Worker(env, tmp / "worker.log", tmp / "beat-schedule")
    w.start()
    yield w
    w.kill(signal.SIGTERM)


@pytest.fixture()
def app(database_url: str, smtp_server: tuple[Mailbox, int], broker: str, worker: Worker):  # noqa: ANN201
    """The web app as production runs it: not eager, the worker's broker (overrides conftest)."""
    from koopboard import create_app

    config = {
        **_test_config(database_url, smtp_server[1]),
        "CELERY_TASK_ALWAYS_EAGER": False,
        "CELERY_BROKER_URL": broker,
        **NOTIFY,
    }
    app = create_app(config)
    app.test_client_class = KoopClient
    ctx = app.app_context()
    ctx.push()
    _clean(db)
    yield app
    db.session.remove()
    db.engine.dispose()
    ctx.pop()


@dataclass
class Books:
    cooperation: Cooperation
    base: str
    lead: User
    kim: User  # Kämmerei, Merchweiler: books and submits
    ilse: User  # Kämmerei, Illingen: the second pair of eyes
    mia: User  # Mitglied, Eppelborn
    olaf: User  # Beobachtung, Eppelborn
    illingen_id: int

    def cost_page(self, cost_id: int) -> str:
        return f"http://localhost{self.base}/{cost_id}"


def _settled() -> bool:
    db.session.expire_all()
    busy = db.session.scalar(
        select(NotificationDelivery.id).where(
            NotificationDelivery.status.in_(("pending", "sending")),
            NotificationDelivery.mode == "immediate",  # digest rows wait for their hour
        )
    )
    db.session.rollback()
    return busy is None


@pytest.fixture()
def books(app, make_municipality, make_user, make_cooperation, mailbox: Mailbox) -> Books:  # noqa: ANN001
    merchweiler = make_municipality("Merchweiler", "10043113", population=9872)
    illingen = make_municipality("Illingen", "10043112", population=16122)
    eppelborn = make_municipality("Eppelborn", "10043111", population=16615)
    lead = make_user(merchweiler, email="lea.leitung@merchweiler.de", name="Lea Leitung")
    kim = make_user(merchweiler, email="kim.kasse@merchweiler.de", name="Kim Kasse")
    ilse = make_user(illingen, email="ilse.kasse@illingen.de", name="Ilse Illinger")
    mia = make_user(eppelborn, email="mia.mitglied@eppelborn.de", name="Mia Mitglied")
    olaf = make_user(eppelborn, email="olaf.beobachter@eppelborn.de", name="Olaf Beobachter")
    cooperation = make_cooperation(
        lead,
        [illingen, eppelborn],
        roles={kim: Role.TREASURER, ilse: Role.TREASURER, mia: Role.MEMBER, olaf: Role.OBSERVER},
        title=COOP_TITLE,
    )
    # The setup's "Partnerkommune beigetreten" mails to the lead go out first; then a clean box.
    wait_for(_settled, 30, "the setup's mails")
    mailbox.clear()
    return Books(
        cooperation,
        f"/kooperationen/{cooperation.id}/kosten",
        lead,
        kim,
        ilse,
        mia,
        olaf,
        illingen.id,
    )


def _client_of(app, user: User) -> FlaskClient:  # noqa: ANN001
    """A browser of its own, signed in through the login form."""
    client = app.test_client()
    assert login(client, user).status_code == 302
    return client


def _event_mails(
    mailbox: Mailbox, event_type: str, record_id: int, expected: list[User]
) -> dict[str, EmailMessage]:
    """Wait until the event's deliveries are done; then check that each expected user got
    exactly one e-mail (Message-ID = their delivery row) and nobody else got one."""
    event = db.session.scalar(
        select(NotificationEvent).where(
            NotificationEvent.event_type == event_type, NotificationEvent.record_id == record_id
        )
    )
    assert event is not None, f"no {event_type} event for {record_id}"
    ids = {
        f"<koopboard-delivery-{d.id}@koopboard.localhost>": d
        for d in db.session.scalars(
            select(NotificationDelivery).where(NotificationDelivery.event_id == event.id)
        )
    }

    def arrived() -> list[EmailMessage]:
        return [m for m in mailbox.messages if str(m["Message-ID"]) in ids]

    wanted = sorted(u.email for u in expected)
    wait_for(lambda: len(arrived()) >= len(wanted), 30, f"the {event_type} mails")
    wait_for(_settled, 30, "the worker to finish")
    mails = arrived()
    assert sorted(str(m["To"]) for m in mails) == wanted  # one each, nobody else
    by_user = {ids[str(m["Message-ID"])].user_id: m for m in mails}
    assert {u.id for u in expected} == set(by_user)  # each mail is its recipient's own row
    return {str(m["To"]): m for m in mails}


def _digest_waiting(event_type: str) -> list[int]:
    """Who has the event waiting for their Sammel-E-Mail."""
    db.session.expire_all()
    return sorted(
        db.session.scalars(
            select(NotificationDelivery.user_id)
            .join(NotificationEvent)
            .where(
                NotificationEvent.event_type == event_type,
                NotificationDelivery.mode == "digest",
                NotificationDelivery.status == "pending",
            )
        )
    )


def test_submit_approve_and_payment_reach_the_right_people(
    app, books: Books, login_as, mailbox: Mailbox
) -> None:  # noqa: ANN001
    b = books
    kim = login_as(b.kim)
    cost = _book(kim, {"base": b.base})  # a draft: nobody is told yet
    assert kim.post(f"{b.base}/{cost.id}/einreichen", data={"version": "1"}).status_code == 302

    submitted = _event_mails(mailbox, "cost.submitted", cost.id, [b.ilse])
    assert _digest_waiting("cost.submitted") == sorted([b.lead.id, b.mia.id, b.olaf.id])
    for msg in submitted.values():
        assert msg["Subject"] == f"[{COOP_TITLE}] Kosten zur Freigabe eingereicht: Software-Lizenz"
        assert page_link(msg) == b.cost_page(cost.id)
        assert "12.345,67" in text(msg)

    # The link opens the exact cost page for the second treasurer, who approves there.
    ilse = _client_of(app, b.ilse)
    path = page_link(submitted[b.ilse.email]).removeprefix("http://localhost")
    page = ilse.get(path)
    assert page.status_code == 200
    assert "Software-Lizenz" in page.get_data(as_text=True)

    # Mia turns "Kosten freigegeben" off on her settings page (the other types stay as they are).
    mia = _client_of(app, b.mia)
    saved = mia.post(
        "/benachrichtigungen/einstellungen",
        data={
            "modus-cost.approved": "off",
            "digest_days": ["1", "2", "3", "4", "5"],
            "digest_hour": "7",
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]

    assert ilse.post(f"{path}/freigeben", data={"version": "2"}).status_code == 302
    approved = _event_mails(mailbox, "cost.approved", cost.id, [b.kim])
    assert _digest_waiting("cost.approved") == sorted([b.lead.id, b.olaf.id])
    for msg in approved.values():
        assert msg["Subject"] == f"[{COOP_TITLE}] Kosten freigegeben: Software-Lizenz"
        assert page_link(msg) == b.cost_page(cost.id)
    skipped = db.session.scalar(
        select(NotificationDelivery.status)
        .join(NotificationEvent)
        .where(
            NotificationEvent.event_type == "cost.approved",
            NotificationDelivery.user_id == b.mia.id,
        )
    )
    assert skipped == "skipped"  # still in her in-app list, but no e-mail

    response = ilse.post(
        f"{b.base}/zahlungen/neu",
        data={
            "paid_on": f"01.04.{YEAR}",
            "budget_year": str(YEAR),
            "municipality_id": str(b.illingen_id),
            "recipient_id": "",
            "kind": "abschlag",
            "amount": "4.671,24",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    payment = db.session.scalar(select(Payment))
    booked = _event_mails(mailbox, "payment.booked", payment.id, [b.kim])
    for msg in booked.values():
        assert msg["Subject"] == f"[{COOP_TITLE}] Zahlung gebucht: Illingen: 4.671,24\u00a0€"
        assert page_link(msg) == f"http://localhost{b.base}/?jahr={YEAR}"
    assert len(mailbox.messages) == 3  # nothing else, nothing twice


def test_rejection_mail_carries_the_reason(app, books: Books, login_as, mailbox: Mailbox) -> None:  # noqa: ANN001
    b = books
    kim = login_as(b.kim)
    cost = _book(kim, {"base": b.base}, text="Serverschrank", amount="2.400,00")
    assert kim.post(f"{b.base}/{cost.id}/einreichen", data={"version": "1"}).status_code == 302
    _event_mails(mailbox, "cost.submitted", cost.id, [b.ilse])

    ilse = _client_of(app, b.ilse)
    reason = "Beleg fehlt – bitte die Rechnung vom 12.03. nachreichen"
    rejected = ilse.post(f"{b.base}/{cost.id}/ablehnen", data={"version": "2", "reason": reason})
    assert rejected.status_code == 302
    mails = _event_mails(mailbox, "cost.rejected", cost.id, [b.kim])
    for msg in mails.values():
        assert msg["Subject"] == f"[{COOP_TITLE}] Kosten abgelehnt: Serverschrank"
        assert reason in text(msg)
        assert page_link(msg) == b.cost_page(cost.id)
        assert "Die Kosten „Serverschrank“ über 2.400,00\u00a0€ sind abgelehnt." in text(msg)

    # The in-app list says the same and links to the same page.
    inbox = kim.get("/benachrichtigungen/").get_data(as_text=True)
    assert f'href="{b.base}/{cost.id}"' in inbox
    assert f"Grund: {reason}" in inbox
