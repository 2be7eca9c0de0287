"""Issue 17.11 in a real browser: the lead invites a person of a partner municipality as
Kämmerei; she accepts through the link in the mail, lands on the cooperation and books a
cost; she cannot approve her own booking, the other treasurer approves it, and the
settlement proposal shows the transfers. Also: an account holder accepts an offer.

The mails are the real ones (eager Celery for the link mail, the outbox's relay for the
offer) received by the aiosmtpd ``mailbox``; every page is audited by axe-core.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from koopboard.domain.catalog import Rechtsform, Role
from tests.conftest import Mailbox
from tests.e2e.conftest import AuditedPage, LiveServer, log_in
from tests.mailhelpers import page_link
from tests.mailhelpers import text as mail_text

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

MERCHWEILER, ILLINGEN, EPPELBORN = "10043113", "10043112", "10043111"
YEAR = 2026
NEW_PASSWORD = "Ein-Langes-Passwort-2026"
INVITED = "ilse.kasse@posteo.example"  # not Illingen's domain: the person confirms it


@pytest.fixture()
def books(
    live_server: LiveServer,
    register_sample: dict[str, Any],
    make_user: Callable[..., Any],
    make_cooperation: Callable[..., Any],
    mailbox: Mailbox,
) -> dict[str, Any]:
    """An informal cooperation of Merchweiler (lead), Illingen and Eppelborn with one
    treasurer in Merchweiler and a population key for the year; Illingen has one user."""
    from koopboard.costs.keys import services as cost_keys
    from koopboard.extensions import db

    live_server.app.config["PUBLIC_BASE_URL"] = live_server.url
    m = {ags: register_sample[ags] for ags in (MERCHWEILER, ILLINGEN, EPPELBORN)}
    lead = make_user(m[MERCHWEILER], email="lea.leitung@merchweiler.de", name="Lea Leitung")
    kasse = make_user(m[MERCHWEILER], email="kim.kasse@merchweiler.de", name="Kim Kasse")
    colleague = make_user(m[ILLINGEN], email="paul.buerger@illingen.de", name="Paul Bürger")
    member = make_user(m[EPPELBORN], email="emil.eppel@eppelborn.de", name="Emil Eppel")
    coop = make_cooperation(
        lead,
        [m[ILLINGEN], m[EPPELBORN]],
        roles={kasse: Role.TREASURER},
        title="Gemeinsames Standesamt",
        start=date(2025, 1, 1),
    )
    coop.rechtsform = Rechtsform.ARBEITSGEMEINSCHAFT  # partners settle directly
    db.session.commit()
    data = cost_keys.KeyData(kind="einwohner", entries=cost_keys.default_entries(coop.id, YEAR))
    cost_keys.save_key(coop, YEAR, data, version=None)
    db.session.commit()
    mailbox.clear()
    return {
        "live": live_server.url,
        "coop": coop.id,
        "lead": lead,
        "kasse": kasse,
        "colleague": colleague,
        "member": member,
        "m": m,
    }


def _log_out(audited: AuditedPage) -> None:
    audited.page.get_by_role("button", name="Abmelden").click()
    audited.page.wait_for_url("**/anmelden**")
    audited.axe()


def _invite(audited: AuditedPage, coop_id: int, municipality: str, email: str, role: str) -> None:
    page = audited.page
    audited.goto(f"/kooperationen/{coop_id}/rollen")
    form = page.locator("form", has=page.get_by_role("button", name="Einladung senden"))
    form.get_by_label("Kommune der Person").select_option(label=municipality)
    form.get_by_label("E-Mail-Adresse").fill(email)
    form.get_by_label("Rolle").select_option(label=role)
    form.get_by_role("button", name="Einladung senden").click()
    page.wait_for_url(re.compile(rf"/kooperationen/{coop_id}/rollen$"))
    audited.axe()


def test_an_invited_treasurer_accepts_books_and_the_other_treasurer_approves(
    audited_page: AuditedPage, books: dict[str, Any], mailbox: Mailbox
) -> None:
    page = audited_page.page
    coop_url = f"/kooperationen/{books['coop']}"
    illingen, eppelborn, merchweiler = (
        books["m"][ags].name for ags in (ILLINGEN, EPPELBORN, MERCHWEILER)
    )

    # The lead invites a person of the partner Illingen as Kämmerei.
    log_in(audited_page, books["lead"].email)
    _invite(audited_page, books["coop"], illingen, INVITED, "Kämmerei")
    expect(page.locator(".flash-success")).to_have_text(
        f"Die Einladung an {INVITED} als Kämmerei ist unterwegs."
    )
    pending = page.get_by_role("table", name="Offene Einladungen in diese Kooperation")
    expect(pending.get_by_role("row", name=re.compile(INVITED))).to_contain_text("Kämmerei")
    expect(pending).to_contain_text(illingen)
    _log_out(audited_page)

    # The mail says who invites, into which cooperation and role; its link is the way in.
    (mail,) = mailbox.to(INVITED)
    text = mail_text(mail)
    assert "Lea Leitung (Merchweiler) lädt Sie in die Kooperation „Gemeinsames Standesamt“" in text
    assert f"Ihre Rolle: Kämmerei, als Person der Kommune {illingen}." in text
    (link,) = Mailbox.links(mail)
    assert link.startswith(books["live"] + "/einladung-kooperation/")

    audited_page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Einladung in „Gemeinsames Standesamt“"
    )
    page.get_by_label("Ihr Name").fill("Ilse Illinger")
    page.get_by_label("Neues Passwort").fill(NEW_PASSWORD)
    page.get_by_label("Passwort wiederholen").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Konto anlegen und Einladung annehmen").click()
    # Without confirming the municipality: the message next to the box, no account.
    expect(page.locator("#confirm-fehler")).to_have_text("Bitte bestätigen Sie Ihre Kommune.")
    audited_page.axe()
    page.get_by_label("Neues Passwort").fill(NEW_PASSWORD)
    page.get_by_label("Passwort wiederholen").fill(NEW_PASSWORD)
    page.get_by_label(f"Ich bin bei der Kommune {illingen} beschäftigt.").check()
    page.get_by_role("button", name="Konto anlegen und Einladung annehmen").click()

    # She lands on the cooperation, not on an empty page.
    page.wait_for_url(re.compile(rf"{coop_url}$"))
    audited_page.axe()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gemeinsames Standesamt")
    expect(page.locator(".flash-success")).to_contain_text(
        "Sie haben in „Gemeinsames Standesamt“ die Rolle Kämmerei."
    )

    # She books a cost that Illingen paid, and submits it.
    audited_page.goto(f"{coop_url}/kosten/neu")
    page.get_by_label("Buchungsdatum").fill(f"{YEAR}-03-15")
    page.get_by_label("Haushaltsjahr").fill(str(YEAR))
    page.get_by_label("Buchungstext").fill("Fachverfahren Standesamt")
    page.get_by_label("Betrag in Euro").fill("12.345,67")
    page.get_by_label("Vorgeleistet von").select_option(label=illingen)
    page.get_by_role("button", name="Als Entwurf buchen").click()
    page.wait_for_url(re.compile(r"/kosten/\d+$"))
    audited_page.axe()
    cost_url = page.url
    page.get_by_role("button", name="Zur Freigabe einreichen").click()
    expect(page.locator("#kosten-status")).to_have_text("eingereicht")
    audited_page.axe()
    # Four eyes: the booker does not see "Freigeben".
    expect(page.get_by_role("button", name="Freigeben")).to_have_count(0)
    expect(page.get_by_text("Freigeben können: Kim Kasse")).to_be_visible()
    _log_out(audited_page)

    # The other treasurer approves.
    log_in(audited_page, books["kasse"].email)
    audited_page.goto(cost_url)
    page.get_by_role("button", name="Freigeben").click()
    expect(page.locator("#kosten-status")).to_have_text("freigegeben")
    audited_page.axe()

    # The settlement proposal: the partners transfer their shares to Illingen.
    audited_page.goto(f"{coop_url}/kosten/?jahr={YEAR}")
    settlement = page.locator("#ausgleich")
    expect(settlement).to_contain_text(f"{eppelborn} überweist 4.814,08\u00a0€ an {illingen}")
    expect(settlement).to_contain_text(f"{merchweiler} überweist 2.860,35\u00a0€ an {illingen}")
    _log_out(audited_page)

    # Illingen's colleague who already used KoopBoard was told of the new account.
    from koopboard.notifications import delivery

    delivery.relay()
    (told,) = mailbox.to(books["colleague"].email)
    assert "Ilse Illinger (ilse.kasse@posteo.example) hat auf Einladung von Lea Leitung" in (
        mail_text(told)
    )


def test_an_account_holder_finds_the_offer_accepts_it_and_lands_on_the_cooperation(
    audited_page: AuditedPage, books: dict[str, Any], mailbox: Mailbox
) -> None:
    from koopboard.notifications import delivery

    page = audited_page.page
    coop_url = f"/kooperationen/{books['coop']}"
    log_in(audited_page, books["lead"].email)
    # A Projektleitung from a partner that does not lead is refused next to the field.
    audited_page.goto(f"{coop_url}/einladungen/neu")
    page.get_by_label("Kommune der Person").select_option(label=books["m"][EPPELBORN].name)
    page.get_by_label("E-Mail-Adresse").fill(books["member"].email)
    page.get_by_label("Rolle").select_option(label="Projektleitung")
    page.get_by_role("button", name="Einladung senden").click()
    expect(page.locator("#einladung-rolle-fehler")).to_contain_text(
        "federführenden Kommune Merchweiler"
    )
    audited_page.axe()
    page.get_by_label("Rolle").select_option(label="Mitglied")
    page.get_by_role("button", name="Einladung senden").click()
    page.wait_for_url(re.compile(rf"{coop_url}/rollen$"))
    audited_page.axe()
    expect(page.locator(".flash-success")).to_have_text(
        f"Die Einladung an {books['member'].email} als Mitglied ist unterwegs."
    )
    _log_out(audited_page)

    delivery.relay()
    (offer,) = mailbox.to(books["member"].email)
    assert "lädt Sie in die Kooperation ein, als „Mitglied“" in mail_text(offer)
    log_in(audited_page, books["member"].email)
    expect(page.get_by_role("heading", name="Einladungen an Sie")).to_be_visible()
    audited_page.goto(page_link(offer))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Einladung in „Gemeinsames Standesamt“"
    )
    page.get_by_role("button", name="Einladung annehmen").click()
    page.wait_for_url(re.compile(rf"{coop_url}$"))
    audited_page.axe()
    expect(page.locator(".flash-success")).to_contain_text("Sie haben jetzt die Rolle Mitglied.")
