"""Journey 3 in a real browser with real e-mail, and the e-mail end of journey 1.

A partner opens the link of a received e-mail (signing in first, which returns to that page),
switches status changes to the daily Sammel-E-Mail, gets nothing at the next change, exactly
one digest at its hour (grouped by cooperation, right links), and unsubscribes in one click.

The mails go through the real outbox and delivery code (``relay``, ``queue_digests``; eager
Celery, so in this process) on the test's PostgreSQL database to the aiosmtpd ``mailbox``.
Their links point at the live server (``PUBLIC_BASE_URL``), so the browser opens them as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from koopboard.domain.catalog import Role
from koopboard.domain.milestones import BERLIN, berlin_today
from koopboard.domain.notifications import EventType
from koopboard.extensions import db
from koopboard.milestones import services
from koopboard.models import (
    Cooperation,
    Milestone,
    NotificationDelivery,
    NotificationEvent,
    NotificationPreference,
    User,
)
from koopboard.models.types import utcnow
from koopboard.notifications import delivery
from koopboard.notifications.preferences import mode_for, settings_for
from tests.conftest import Mailbox, wants_mail_at_once
from tests.e2e.conftest import PASSWORD, AuditedPage, LiveServer, log_in
from tests.mailhelpers import digest_groups, digest_unsubscribes, page_link, unsubscribe_link

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

MERCHWEILER, ILLINGEN, EPPELBORN, SCHIFFWEILER = "10043113", "10043112", "10043111", "10043116"
STATUS_CHANGED = EventType.MILESTONE_STATUS_CHANGED.value
STATUS_LABEL = "Status eines Meilensteins geändert"
WEEKDAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]


@dataclass
class World:
    live: LiveServer
    lead: User
    partner: User  # Illingen: member of the Standesamt, observer of the Bauhof; chose "sofort"
    treasurer: User  # Eppelborn: Kämmerei of the Standesamt, chose "sofort" for everything
    silent: User  # Schiffweiler: observer of the Standesamt, status changes "aus"
    standesamt: Cooperation
    bauhof: Cooperation
    vertrag: int  # milestone ids
    eroeffnung: int
    halle: int

    def page(self, cooperation: Cooperation, milestone_id: int) -> str:
        return self.live(f"/kooperationen/{cooperation.id}/meilensteine/{milestone_id}")


def _milestone(cooperation: Cooperation, title: str, by: User, responsible: int) -> int:
    return services.create_milestone(
        cooperation,
        services.MilestoneData(
            title=title,
            description="",
            phase="planung",
            due_date=berlin_today(utcnow()) + timedelta(days=30),
            status="geplant",
            responsible_municipality_id=responsible,
            progress_note="",
        ),
        by=by,
        now=utcnow(),
    ).id


@pytest.fixture()
def world(
    live_server: LiveServer,
    register_sample: dict[str, Any],
    make_user: Any,
    make_cooperation: Any,
    mailbox: Mailbox,
) -> World:
    """Two cooperations of Merchweiler (lead) with three milestones; the setup's own
    "Neuer Meilenstein" mails are sent and dropped, so each test starts with an empty box."""
    live_server.app.config["PUBLIC_BASE_URL"] = live_server.url
    m = register_sample
    lead = make_user(m[MERCHWEILER], email="lea.leitung@merchweiler.de", name="Lea Leitung")
    partner = make_user(m[ILLINGEN], email="paula.partner@illingen.de", name="Paula Partner")
    treasurer = make_user(m[EPPELBORN], email="ida.kasse@eppelborn.de", name="Ida Kasse")
    silent = make_user(m[SCHIFFWEILER], email="otto.aus@schiffweiler.de", name="Otto Aus")
    standesamt = make_cooperation(
        lead,
        partners=[m[ILLINGEN], m[EPPELBORN], m[SCHIFFWEILER]],
        roles={partner: Role.MEMBER, treasurer: Role.TREASURER, silent: Role.OBSERVER},
        title="Gemeinsames Standesamt",
    )
    bauhof = make_cooperation(
        lead, partners=[m[ILLINGEN]], roles={partner: Role.OBSERVER}, title="Gemeinsamer Bauhof"
    )
    db.session.add(NotificationPreference(user_id=silent.id, event_type=STATUS_CHANGED, mode="off"))
    db.session.commit()
    # Both asked for every mail at once (their roles' presets would collect milestone news in
    # the Sammel-E-Mail): journey 3 starts from a mail received at once.
    wants_mail_at_once(partner, treasurer)
    illingen = m[ILLINGEN].id
    world = World(
        live=live_server,
        lead=lead,
        partner=partner,
        treasurer=treasurer,
        silent=silent,
        standesamt=standesamt,
        bauhof=bauhof,
        vertrag=_milestone(standesamt, "Zweckvereinbarung unterzeichnen", lead, illingen),
        eroeffnung=_milestone(standesamt, "Standesamt eröffnen", lead, illingen),
        halle=_milestone(bauhof, "Fahrzeughalle planen", lead, illingen),
    )
    db.session.commit()
    delivery.relay()
    mailbox.clear()
    return world


def _change(w: World, milestone_id: int, status: str) -> None:
    """The lead changes a milestone's status (saved like the web app saves it)."""
    db.session.expire_all()
    milestone = db.session.get(Milestone, milestone_id)
    services.change_status(
        milestone, status, version=milestone.version, by=w.lead, is_lead=True, now=utcnow()
    )
    db.session.commit()


def _status_sentence(title: str, old: str, new: str) -> str:
    return f"Der Status des Meilensteins „{title}“ wurde von „{old}“ auf „{new}“ geändert."


def _delivery_of(user: User, milestone_id: int) -> NotificationDelivery:
    db.session.expire_all()
    return db.session.scalars(
        select(NotificationDelivery)
        .join(NotificationEvent)
        .where(
            NotificationDelivery.user_id == user.id,
            NotificationEvent.event_type == STATUS_CHANGED,
            NotificationEvent.record_id == milestone_id,
        )
        .order_by(NotificationDelivery.id.desc())
    ).first()


def _digest_hour_at(hour: int) -> datetime:
    """Tomorrow at ``hour``:05 in Berlin: inside that digest hour (a clock for the run)."""
    return datetime.combine(berlin_today(utcnow()) + timedelta(days=1), time(hour, 5), BERLIN)


def test_partner_follows_the_mail_then_gets_one_daily_digest(
    audited_page: AuditedPage, world: World, mailbox: Mailbox
) -> None:
    w, page = world, audited_page.page
    partner = w.partner.email

    # The lead starts the contract: the partner receives one e-mail at once.
    _change(w, w.vertrag, "in_arbeit")
    delivery.relay()
    [mail] = mailbox.to(partner)
    assert mail["Subject"] == (
        f"[Gemeinsames Standesamt] {STATUS_LABEL}: Zweckvereinbarung unterzeichnen"
    )
    assert _status_sentence("Zweckvereinbarung unterzeichnen", "geplant", "in Arbeit") in (
        mailbox.text(mail)
    )
    link = page_link(mail)
    assert link == w.page(w.standesamt, w.vertrag)

    # Opening the link: the login comes first and returns to exactly that page.
    page.goto(link)
    page.wait_for_url("**/anmelden?next=*")
    expect(page.locator(".flash-info")).to_contain_text("Bitte melden Sie sich an.")
    audited_page.axe()
    page.get_by_label("E-Mail-Adresse").fill(partner)
    page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Zweckvereinbarung unterzeichnen")
    expect(page.locator(f"#meilenstein-{w.vertrag} .ms-status")).to_contain_text("in Arbeit")
    expect(page.get_by_role("link", name="Gemeinsames Standesamt")).to_be_visible()
    audited_page.axe()

    # To the settings through the bell and the list; status changes → daily Sammel-E-Mail.
    page.locator("#glocke summary").click()
    page.locator("#glocke").get_by_role("link", name="Alle Benachrichtigungen").click()
    page.wait_for_url("**/benachrichtigungen/")
    expect(page.get_by_role("main")).to_contain_text("Zweckvereinbarung unterzeichnen")
    audited_page.axe()
    page.get_by_role("link", name="Einstellungen für Benachrichtigungen").click()
    page.wait_for_url("**/benachrichtigungen/einstellungen")
    audited_page.axe()
    status = page.get_by_role("group", name=STATUS_LABEL)
    status.get_by_label("in der Sammel-E-Mail", exact=True).check()
    for day in WEEKDAYS:
        page.get_by_label(day, exact=True).check()
    page.get_by_label("Uhrzeit der Sammel-E-Mail").select_option(label="18:00")
    page.get_by_role("button", name="Einstellungen speichern").click()
    page.wait_for_url("**/benachrichtigungen/einstellungen")
    expect(page.locator(".flash-success")).to_contain_text("Ihre Einstellungen sind gespeichert.")
    expect(status.get_by_label("in der Sammel-E-Mail", exact=True)).to_be_checked()
    expect(page.get_by_label("Sonntag", exact=True)).to_be_checked()
    expect(page.get_by_label("Uhrzeit der Sammel-E-Mail")).to_have_value("18")
    audited_page.axe()
    db.session.expire_all()
    stored = settings_for(w.partner.id)
    assert (stored.digest_days, stored.digest_hour, stored.paused) == ("1,2,3,4,5,6,7", 18, False)
    assert mode_for(w.partner.id, STATUS_CHANGED, w.bauhof.id) == "digest"

    # Two more changes, in both cooperations: no e-mail for the partner now (the
    # Kämmerei, still "sofort", gets hers: the relay did run).
    _change(w, w.eroeffnung, "gefaehrdet")
    _change(w, w.halle, "erledigt")
    delivery.relay()
    assert len(mailbox.to(w.treasurer.email)) == 2
    assert mailbox.to(partner) == [mail]
    assert _delivery_of(w.partner, w.halle).status == "pending"

    # The digest run: not before her hour, then exactly one e-mail however often it ticks.
    slot = _digest_hour_at(18)
    assert delivery.queue_digests(slot - timedelta(hours=1)) == []
    assert len(delivery.queue_digests(slot)) == 1
    assert delivery.queue_digests(slot + timedelta(minutes=20)) == []
    digests = [m for m in mailbox.to(partner) if m is not mail]
    assert len(digests) == 1
    [digest] = digests
    assert digest["Subject"] == "KoopBoard: 2 Neuigkeiten aus Ihren Kooperationen"
    bauhof_page, eroeffnung_page = w.page(w.bauhof, w.halle), w.page(w.standesamt, w.eroeffnung)
    assert digest_groups(digest) == {
        "Gemeinsames Standesamt": [
            (_status_sentence("Standesamt eröffnen", "geplant", "gefährdet"), eroeffnung_page)
        ],
        "Gemeinsamer Bauhof": [
            (_status_sentence("Fahrzeughalle planen", "geplant", "erledigt"), bauhof_page)
        ],
    }
    assert all(len(mailbox.to(u.email)) == 0 for u in (w.lead, w.silent))
    assert _delivery_of(w.partner, w.halle).status == "digested"

    # A digest link leads to its page (signed in already).
    audited_page.goto(bauhof_page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Fahrzeughalle planen")

    # One click on the unsubscribe link of the e-mail turns status changes off.
    unsubscribe = unsubscribe_link(mail)
    assert digest_unsubscribes(digest) == {STATUS_LABEL: unsubscribe}
    audited_page.goto(unsubscribe)
    expect(page.get_by_role("heading", level=1)).to_have_text("Benachrichtigung abbestellen")
    page.get_by_role("button", name="Ja, abbestellen").click()
    expect(page.get_by_role("status")).to_contain_text(f"„{STATUS_LABEL}“ mehr an {partner}")
    audited_page.axe()
    db.session.expire_all()
    assert mode_for(w.partner.id, STATUS_CHANGED, w.standesamt.id) == "off"
    page.get_by_role("link", name="Einstellungen für Benachrichtigungen").click()
    page.wait_for_url("**/benachrichtigungen/einstellungen")
    expect(
        page.get_by_role("group", name=STATUS_LABEL).get_by_label("aus", exact=True)
    ).to_be_checked()
    audited_page.axe()

    # And so the next change reaches her neither now nor in a digest.
    _change(w, w.eroeffnung, "in_arbeit")
    delivery.relay()
    assert delivery.queue_digests(slot + timedelta(days=1)) == []
    assert _delivery_of(w.partner, w.eroeffnung).status == "skipped"
    assert mailbox.to(partner) == [mail, digest]


def test_lead_marks_done_inline_and_each_subscribed_partner_gets_one_mail(
    audited_page: AuditedPage, world: World, mailbox: Mailbox
) -> None:
    """The last step of journey 1: the inline "erledigt" becomes one e-mail per partner user
    who wants it — not the lead who did it, not the one who turned status changes off."""
    w, page = world, audited_page.page
    cid = w.standesamt.id
    log_in(audited_page, w.lead.email)
    audited_page.goto(f"/kooperationen/{cid}/meilensteine/")
    row = page.locator(f"#meilenstein-{w.vertrag}")
    documents = len(audited_page.documents)
    # The table saves the status as soon as another one is chosen.
    page.locator(f"#status-{w.vertrag}").select_option("erledigt")
    expect(page.locator(f"#status-{w.vertrag}-gespeichert")).to_have_text("✓ gespeichert")
    expect(row.locator(".ms-done-on")).to_be_visible()
    assert len(audited_page.documents) == documents  # saved in place, no page load
    audited_page.axe()

    delivery.relay()
    assert delivery.relay() == 0  # nothing twice
    received = sorted(str(m["To"]) for m in mailbox.messages)
    assert received == sorted([w.partner.email, w.treasurer.email])
    for user in (w.partner, w.treasurer):
        [mail] = mailbox.to(user.email)
        assert mail["Subject"] == (
            f"[Gemeinsames Standesamt] {STATUS_LABEL}: Zweckvereinbarung unterzeichnen"
        )
        assert _status_sentence("Zweckvereinbarung unterzeichnen", "geplant", "erledigt") in (
            mailbox.text(mail)
        )
        assert page_link(mail) == w.page(w.standesamt, w.vertrag)
    assert _delivery_of(w.silent, w.vertrag).status == "skipped"
