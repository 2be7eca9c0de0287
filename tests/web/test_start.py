"""Was ansteht (/start): after login, what needs me across all my cooperations, each with its
action in place (htmx, and a plain form without JavaScript); every cooperation's figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import event, select

from koopboard.cooperations.services import CooperationData, create_cooperation
from koopboard.domain.catalog import Role
from koopboard.domain.directory import JoinRequestStatus
from koopboard.domain.invitations import InvitationStatus
from koopboard.domain.milestones import BERLIN, MilestoneStatus, Phase
from koopboard.extensions import db
from koopboard.models import (
    CooperationInvitation,
    Cost,
    CostBudget,
    JoinRequest,
    Membership,
    Milestone,
    Municipality,
    NotificationDelivery,
    User,
)
from koopboard.models.cost import CostState
from tests.conftest import login
from tests.web.test_authorization import sign_in
from tests.web.test_history_readable import (  # noqa: F401 (fixture)
    _book_and_submit,
    _switch,
    _version,
    text,
    world,
)

HX = {"HX-Request": "true"}


def _today() -> date:
    return datetime.now(BERLIN).date()


def test_login_lands_on_the_start_page(world, client) -> None:  # noqa: ANN001, F811
    response = login(client, world["karl"])
    assert response.status_code == 302 and response.headers["Location"].endswith("/start")
    page = text(client.get("/start"))
    assert "<h1>Was ansteht</h1>" in page and "Gemeinsames Standesamt" in page
    # The old entry stays a cheap redirect.
    assert client.get("/").headers["Location"].endswith("/start")


def test_costs_awaiting_me_follow_the_four_eyes_rule(world, client, login_as) -> None:  # noqa: ANN001, F811
    karl = login_as(world["karl"])
    cost = _book_and_submit(karl, world)
    assert "wartet auf Ihre Freigabe" not in text(karl.get("/start"))  # he submitted it

    observer = _switch(client, login_as, world["observer"])
    assert "wartet auf Ihre Freigabe" not in text(observer.get("/start"))
    lead = _switch(client, login_as, world["lead"])  # two treasurers: the lead does not decide
    assert "wartet auf Ihre Freigabe" not in text(lead.get("/start"))

    tina = _switch(client, login_as, world["tina"])
    page = text(tina.get("/start"))
    assert "1 Kostenposition wartet auf Ihre Freigabe" in page
    assert "„Fachverfahren Personenstand“" in page and "1.234,00\u00a0€" in page
    assert "Eingereicht von Karl Schneider (Illingen)." in page
    url = f"/start/kooperationen/{world['coop'].id}/kosten/{cost.id}/freigeben"
    assert f'action="{url}"' in page and f'data-hx-post="{url}"' in page

    # Without JavaScript: a plain form, back to /start with the confirmation.
    done = tina.post(url, data={"version": _version(cost.id)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/start")
    db.session.expire_all()
    assert db.session.get(Cost, cost.id).state is CostState.FREIGEGEBEN
    after = text(tina.get("/start"))
    assert "Freigegeben: „Fachverfahren Personenstand“ zählt jetzt." in after
    assert "wartet auf Ihre Freigabe" not in after


def test_approving_in_place_with_htmx_and_its_refusals(world, client, login_as) -> None:  # noqa: ANN001, F811
    karl = login_as(world["karl"])
    cost = _book_and_submit(karl, world)
    url = f"/start/kooperationen/{world['coop'].id}/kosten/{cost.id}/freigeben"
    # The submitter is refused by the four-eyes rule, in place.
    own = karl.post(url, data={"version": _version(cost.id)}, headers=HX)
    assert own.status_code == 403 and "Vier-Augen-Prinzip" in own.get_data(as_text=True)
    assert karl.post(url, data={"version": _version(cost.id)}, csrf=False).status_code == 400

    tina = _switch(client, login_as, world["tina"])
    stale = tina.post(url, data={"version": "1"}, headers=HX)
    assert stale.status_code == 409 and "inzwischen geändert" in stale.get_data(as_text=True)
    answer = tina.post(url, data={"version": _version(cost.id)}, headers=HX)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<html" not in body
    assert f'id="kosten-{cost.id}"' in body and "Freigegeben:" in body

    observer = _switch(client, login_as, world["observer"])
    assert observer.post(url, data={"version": "1"}).status_code == 403
    outsider = _switch(client, login_as, world["outsider"])
    assert outsider.post(url, data={"version": "1"}).status_code == 404


def _milestone(w: dict, title: str, due: date, town: Municipality, **kw: object) -> Milestone:
    milestone = Milestone(
        cooperation_id=w["coop"].id,
        title=title,
        phase=Phase.UMSETZUNG,
        due_date=due,
        status=kw.get("status", MilestoneStatus.GEPLANT),
        completed_on=due if kw.get("status") is MilestoneStatus.ERLEDIGT else None,
        responsible_municipality_id=town.id,
    )
    db.session.add(milestone)
    db.session.commit()
    return milestone


def test_my_municipalitys_milestones_overdue_or_due_in_14_days(world, client, login_as) -> None:  # noqa: ANN001, F811
    illingen, merchweiler = world["m"]["illingen"], world["m"]["merchweiler"]
    today = _today()
    late = _milestone(world, "Satzung beschließen", today - timedelta(days=3), illingen)
    _milestone(world, "Räume einrichten", today + timedelta(days=14), illingen)
    _milestone(world, "Später", today + timedelta(days=15), illingen)
    _milestone(
        world, "Schon fertig", today - timedelta(days=1), illingen, status=MilestoneStatus.ERLEDIGT
    )
    _milestone(world, "Merchweilers Sache", today, merchweiler)
    karls_role = db.session.scalar(
        select(Membership).where(
            Membership.user_id == world["karl"].id,
            Membership.cooperation_id == world["coop"].id,
        )
    )
    karls_role.role = Role.MEMBER  # a member of the responsible municipality completes it
    db.session.commit()

    karl = login_as(world["karl"])
    page = text(karl.get("/start"))
    assert (
        "„Satzung beschließen“" in page
        and f"Überfällig seit {today - timedelta(days=3):%d.%m.%Y}." in page
    )
    assert (
        "„Räume einrichten“" in page and f"Fällig am {today + timedelta(days=14):%d.%m.%Y}." in page
    )
    for absent in ("Später", "Schon fertig", "Merchweilers Sache"):
        assert absent not in page, absent
    # Progress per cooperation: 1 of 5 done, 1 overdue.
    assert "1 von 5 (20 %)" in page and "1 überfällig" in page

    url = f"/start/kooperationen/{world['coop'].id}/meilensteine/{late.id}/erledigt"
    answer = karl.post(url, data={"version": str(late.version)}, headers=HX)
    assert answer.status_code == 200 and "Erledigt: „Satzung beschließen“." in answer.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(Milestone, late.id).status is MilestoneStatus.ERLEDIGT
    assert "Satzung beschließen" not in text(karl.get("/start")).split("Ihre Kooperationen")[0]

    observer = _switch(client, login_as, world["observer"])  # Illingen, but only observing
    page = text(observer.get("/start"))
    assert "„Räume einrichten“" in page and "Als erledigt markieren" not in page


def test_join_requests_invitations_and_unread_notifications(world, client, login_as) -> None:  # noqa: ANN001, F811
    eppelborn = db.session.scalar(select(Municipality).where(Municipality.name == "Eppelborn"))
    db.session.add(
        JoinRequest(
            cooperation_id=world["coop"].id,
            municipality_id=eppelborn.id,
            requested_by_id=world["outsider"].id,
            message="Wir möchten mitmachen.",
            intended_join_on=date(2027, 1, 1),
            status=JoinRequestStatus.OPEN,
        )
    )
    db.session.commit()
    karl = login_as(world["karl"])
    _book_and_submit(karl, world)  # tells Tina (unread)

    lead = _switch(client, login_as, world["lead"])
    page = text(lead.get("/start"))
    assert "Eppelborn möchte „Gemeinsames Standesamt“ zum 01.01.2027 beitreten." in page
    assert "/beitrittsanfragen/" in page

    # Eppelborn's person is invited into another cooperation of Merchweiler's lead.
    other = create_cooperation(
        CooperationData(
            title="Gemeinsamer Bauhof",
            goals="",
            handlungsfeld="verwaltung",
            rechtsform="zweckvereinbarung",
            status="aktiv",
            start_date=date(2025, 1, 1),
            end_date=None,
        ),
        by=world["lead"],
    )
    invitation = CooperationInvitation(
        cooperation=other,
        municipality=world["m"]["merchweiler"],
        email=world["tina"].email,
        role=Role.MEMBER,
        status=InvitationStatus.OPEN,
        invited_by=world["lead"],
        expires_at=datetime.now(UTC) + timedelta(days=7),
    )
    db.session.add(invitation)
    db.session.commit()

    tina = _switch(client, login_as, world["tina"])
    page = text(tina.get("/start"))
    assert "Einladungen an Sie" in page and "„Gemeinsamer Bauhof“ als Mitglied" in page
    assert f'action="/einladungen/{invitation.id}/annehmen"' in page
    assert "ungelesene Benachrichtigung" in page
    delivery = db.session.scalar(
        select(NotificationDelivery).where(
            NotificationDelivery.user_id == world["tina"].id, NotificationDelivery.read_at.is_(None)
        )
    )
    url = f"/start/benachrichtigungen/{delivery.id}/gelesen"
    assert f'data-hx-post="{url}"' in page
    answer = tina.post(url, headers=HX)
    assert answer.status_code == 200 and "Als gelesen markiert." in answer.get_data(as_text=True)
    assert answer.headers["HX-Trigger"] == "notifications-changed"
    db.session.expire_all()
    assert db.session.get(NotificationDelivery, delivery.id).read_at is not None
    assert tina.post(url).status_code == 302  # already read: still hers
    other_user = _switch(client, login_as, world["karl"])
    assert other_user.post(url).status_code == 404


def test_each_cooperation_shows_the_plan_and_my_balance(world, client, login_as) -> None:  # noqa: ANN001, F811
    karl = login_as(world["karl"])
    cost = _book_and_submit(karl, world)
    tina = _switch(client, login_as, world["tina"])
    tina.post(
        f"/start/kooperationen/{world['coop'].id}/kosten/{cost.id}/freigeben",
        data={"version": _version(cost.id)},
    )
    db.session.add(
        CostBudget(
            cooperation_id=world["coop"].id,
            budget_year=_today().year,
            category="IT",
            amount=Decimal("2468.00"),
        )
    )
    db.session.commit()
    page = text(tina.get("/start"))
    assert "1.234,00\u00a0€ / 2.468,00\u00a0€ (50 %)" in page
    # Merchweiler paid the whole cost: it gets back what is not its share (1.234,00 € ×
    # 9.872 / 25.994 inhabitants = 468,65 €).
    assert "765,35\u00a0€ zu erhalten" in page


def _many(n: int, prefix: str) -> User:
    """A lead of ``n`` cooperations, each with a submitted cost the lead may approve, a due
    milestone of the lead's municipality, a Planansatz and a join request."""
    town = Municipality(
        ags=f"{prefix}000000",
        name=f"Ort {prefix}",
        kind="Gemeinde",
        land="Saarland",
        kreis="K",
        population=1000,
        postcode="66000",
    )
    other_town = Municipality(
        ags=f"{prefix}000001",
        name=f"Nachbar {prefix}",
        kind="Gemeinde",
        land="Saarland",
        kreis="K",
        population=1000,
        postcode="66001",
    )
    me = User(
        email=f"me{prefix}@example.org", name=f"Ich {prefix}", password_hash="x", municipality=town
    )
    booker = User(
        email=f"b{prefix}@example.org",
        name=f"Bucher {prefix}",
        password_hash="x",
        municipality=other_town,
    )
    db.session.add_all([town, other_town, me, booker])
    db.session.flush()
    today = _today()
    for i in range(n):
        coop = create_cooperation(
            CooperationData(
                title=f"Kooperation {prefix}-{i}",
                goals="",
                handlungsfeld="it",
                rechtsform="zweckverband",
                status="aktiv",
                start_date=date(2025, 1, 1),
                end_date=None,
                lead_may_approve=True,
            ),
            by=me,
        )
        # The only treasurer books; the lead may approve (and leads: join requests).
        db.session.add(Membership(cooperation=coop, user=booker, role=Role.TREASURER))
        db.session.flush()
        db.session.add(
            Cost(
                cooperation_id=coop.id,
                budget_year=today.year,
                booking_date=today,
                text=f"Lizenz {i}",
                category="IT",
                kind="kosten",
                amount=Decimal("10.00"),
                key_description="",
                state=CostState.EINGEREICHT,
                created_by_id=booker.id,
                amount_set_by_id=booker.id,
                submitted_by_id=booker.id,
            )
        )
        db.session.add(
            Milestone(
                cooperation_id=coop.id,
                title=f"Termin {i}",
                phase=Phase.PLANUNG,
                due_date=today,
                status=MilestoneStatus.GEPLANT,
                responsible_municipality_id=town.id,
            )
        )
        db.session.add(
            CostBudget(
                cooperation_id=coop.id,
                budget_year=today.year,
                category="IT",
                amount=Decimal("100.00"),
            )
        )
        db.session.add(
            JoinRequest(
                cooperation_id=coop.id,
                municipality_id=other_town.id,
                requested_by_id=booker.id,
                message="Bitte",
                intended_join_on=date(2027, 1, 1),
                status=JoinRequestStatus.OPEN,
            )
        )
    db.session.commit()
    return me


def test_the_start_page_costs_the_same_statements_for_3_and_60_cooperations(app, client) -> None:  # noqa: ANN001
    few_user, many_user = _many(3, "71"), _many(60, "72")
    counts = {}
    for name, user, expected in (("few", few_user, 3), ("many", many_user, 60)):
        browser = sign_in(app.test_client(), user.id)
        page = browser.get("/start").get_data(as_text=True)  # warm up
        assert page.count('id="kosten-') == expected
        assert page.count('id="meilenstein-') == expected
        assert page.count('<li id="anfrage-') == expected
        statements: list[str] = []

        def record(conn, cursor, statement, *args, seen=statements) -> None:  # noqa: ANN001, ANN002
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert browser.get("/start").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        counts[name] = len(statements)
    assert counts["few"] == counts["many"], counts
    assert counts["many"] <= 12, counts


def test_start_page_and_history_read_english(world, client, login_as) -> None:  # noqa: ANN001, F811
    from tests.web.test_i18n import switch_to

    karl = login_as(world["karl"])
    _book_and_submit(karl, world)
    tina = _switch(client, login_as, world["tina"])
    switch_to(tina, "en")
    page = text(tina.get("/start"))
    assert "<h1>What needs me</h1>" in page
    assert (
        "1 cost awaits your approval" in page and "Submitted by Karl Schneider (Illingen)." in page
    )
    assert "Was ansteht" not in page and "Freigabe" not in page
    history = text(tina.get(f"/kooperationen/{world['coop'].id}/verlauf"))
    assert "Karl Schneider (Illingen) submitted the cost “Fachverfahren Personenstand”" in history
    assert "hat die Kosten" not in history and "Einzelheiten" not in history


def _join_request(w: dict) -> JoinRequest:
    eppelborn = db.session.scalar(select(Municipality).where(Municipality.name == "Eppelborn"))
    found = JoinRequest(
        cooperation_id=w["coop"].id,
        municipality_id=eppelborn.id,
        requested_by_id=w["outsider"].id,
        message="Wir möchten mitmachen.",
        intended_join_on=date(2027, 1, 1),
        status=JoinRequestStatus.OPEN,
    )
    db.session.add(found)
    db.session.commit()
    return found


def _deliveries_to(user: User) -> list[NotificationDelivery]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(NotificationDelivery).where(NotificationDelivery.user_id == user.id)
        )
    )


def test_a_join_request_is_accepted_in_place_with_the_join_date(world, client, login_as) -> None:  # noqa: ANN001, F811
    from koopboard.models import CooperationPartner, HistoryEntry

    found = _join_request(world)
    lead = login_as(world["lead"])
    page = text(lead.get("/start"))
    base = f"/start/kooperationen/{world['coop'].id}/beitrittsanfragen/{found.id}"
    assert f'data-hx-post="{base}/annehmen"' in page and f'action="{base}/ablehnen"' in page
    # The join date defaults to today (Europe/Berlin); the decline sits behind a disclosure.
    assert f'id="anfrage-{found.id}-annehmen-joined_on"' in page
    assert f'value="{_today().isoformat()}"' in page
    assert "<summary>Anfrage von Eppelborn ablehnen …</summary>" in page

    # A wrong date: the German message next to the field, the item only (htmx, 422).
    wrong = lead.post(f"{base}/annehmen", data={"joined_on": "31.02.2026"}, headers=HX)
    body = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and "<html" not in body
    assert f'id="anfrage-{found.id}-annehmen-joined_on-fehler"' in body
    assert "Bitte geben Sie ein gültiges Datum ein" in body or "TT.MM.JJJJ" in body
    # Without JavaScript: the whole page with the message (and nothing written).
    plain = lead.post(f"{base}/annehmen", data={"joined_on": ""})
    assert plain.status_code == 400 and "<h1>Was ansteht</h1>" in text(plain)
    assert f'id="anfrage-{found.id}-annehmen-joined_on-fehler"' in text(plain)
    db.session.expire_all()
    assert db.session.get(JoinRequest, found.id).status is JoinRequestStatus.OPEN

    answer = lead.post(
        f"{base}/annehmen",
        data={"joined_on": _today().strftime("%d.%m.%Y"), "council_resolution_on": "01.11.2026"},
        headers=HX,
    )
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and f'id="anfrage-{found.id}"' in body
    assert f"Eppelborn ist ab dem {_today():%d.%m.%Y} Partner von „{world['coop'].title}“." in body
    db.session.expire_all()
    decided = db.session.get(JoinRequest, found.id)
    assert decided.status is JoinRequestStatus.ACCEPTED
    assert decided.council_resolution_on == date(2026, 11, 1)
    partner = db.session.scalar(
        select(CooperationPartner).where(
            CooperationPartner.cooperation_id == world["coop"].id,
            CooperationPartner.municipality_id == decided.municipality_id,
        )
    )
    assert partner is not None and partner.joined_on == _today()
    # The Börse's history and notification, as on the decision page.
    assert db.session.scalar(
        select(HistoryEntry).where(
            HistoryEntry.record_type == "JoinRequest", HistoryEntry.record_id == found.id
        )
    )
    assert _deliveries_to(world["outsider"])
    # Decided: it no longer waits, and a second answer is refused in place.
    assert "Beitrittsanfragen an Ihre Kooperationen" not in text(lead.get("/start"))
    again = lead.post(f"{base}/ablehnen", data={"reason": "Doch nicht"}, headers=HX)
    assert again.status_code == 409 and "bereits" in again.get_data(as_text=True)
    empty = lead.post(f"{base}/ablehnen", data={"reason": ""}, headers=HX)
    assert empty.status_code == 409 and "Diese Anfrage ist bereits" in empty.get_data(as_text=True)
    plain = lead.post(f"{base}/annehmen", data={"joined_on": ""})
    assert plain.status_code == 302 and plain.headers["Location"].endswith("/start")


def test_a_join_request_is_declined_with_its_reason(world, client, login_as) -> None:  # noqa: ANN001, F811
    found = _join_request(world)
    base = f"/start/kooperationen/{world['coop'].id}/beitrittsanfragen/{found.id}"
    # Only the lead decides: other roles 403, people without a role 404, CSRF 400.
    tina = login_as(world["tina"])
    assert tina.post(f"{base}/ablehnen", data={"reason": "Nein"}).status_code == 403
    assert tina.post(f"{base}/annehmen", data={"joined_on": "01.01.2027"}).status_code == 403
    outsider = _switch(client, login_as, world["outsider"])
    assert outsider.post(f"{base}/ablehnen", data={"reason": "Nein"}).status_code == 404
    lead = _switch(client, login_as, world["lead"])
    assert lead.post(f"{base}/ablehnen", data={"reason": "x"}, csrf=False).status_code == 400

    empty = lead.post(f"{base}/ablehnen", data={"reason": "  "}, headers=HX)
    body = empty.get_data(as_text=True)
    assert empty.status_code == 422 and f'id="anfrage-{found.id}-ablehnen-reason-fehler"' in body
    assert '<details class="agenda-decline" open>' in body

    # Without JavaScript: Post/Redirect/Get back to /start with the confirmation.
    done = lead.post(f"{base}/ablehnen", data={"reason": "Der Zweckverband ist voll."})
    assert done.status_code == 302 and done.headers["Location"].endswith("/start")
    assert "Die Anfrage von Eppelborn ist abgelehnt." in text(lead.get("/start"))
    db.session.expire_all()
    decided = db.session.get(JoinRequest, found.id)
    assert decided.status is JoinRequestStatus.DECLINED
    assert decided.decision_reason == "Der Zweckverband ist voll."
    assert _deliveries_to(world["outsider"])


def test_an_invitation_is_declined_in_place(world, client, login_as) -> None:  # noqa: ANN001, F811
    invitation = CooperationInvitation(
        cooperation=world["coop"],
        municipality=world["m"]["merchweiler"],
        email=world["outsider"].email,
        role=Role.MEMBER,
        status=InvitationStatus.OPEN,
        invited_by=world["lead"],
        expires_at=datetime.now(UTC) + timedelta(days=7),
    )
    db.session.add(invitation)
    db.session.commit()
    url = f"/start/einladungen/{invitation.id}/ablehnen"
    karl = login_as(world["karl"])  # not his invitation
    assert karl.post(url).status_code == 403
    emil = _switch(client, login_as, world["outsider"])
    page = text(emil.get("/start"))
    assert f'data-hx-post="{url}"' in page
    assert f'data-hx-target="#einladung-{invitation.id}"' in page
    answer = emil.post(url, headers=HX)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<html" not in body
    assert f'id="einladung-{invitation.id}"' in body
    assert f"Sie haben die Einladung in „{world['coop'].title}“ abgelehnt." in body
    db.session.expire_all()
    assert db.session.get(CooperationInvitation, invitation.id).status is InvitationStatus.DECLINED
    again = emil.post(url)  # without JavaScript: back to /start, the refusal flashed
    assert again.status_code == 302 and again.headers["Location"].endswith("/start")
    assert "Einladungen an Sie" not in text(emil.get("/start"))
