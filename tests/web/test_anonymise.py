"""The platform admin anonymises the account of a person who left (Art. 17 DSGVO).

Karla Kassenwart, treasurer in Illingen, books and submits a cost, is given her role by
the lead, subscribes to the calendar and has a reset link and an undelivered mail waiting.
After the admin anonymises her account through the confirmation page she cannot sign in,
her open browser is signed out, and neither her name nor her address is readable anywhere:
not in the history page or its CSV, not in the database's history or notification events.
What the cooperation recorded stays, and the four-eyes rule still counts her.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import String, cast, func, or_, select

from koopboard.auth import services as accounts
from koopboard.cooperations.services import grant_role
from koopboard.domain.catalog import Role
from koopboard.domain.invitations import InvitationStatus
from koopboard.domain.notifications import EventType
from koopboard.domain.persons import ANONYMISED_NAME
from koopboard.extensions import db
from koopboard.milestones.calendar import enable_or_rotate
from koopboard.models import (
    AccountToken,
    CalendarFeed,
    CooperationInvitation,
    Cost,
    HistoryEntry,
    LoginSession,
    Membership,
    NotificationDelivery,
    NotificationEvent,
    NotificationPreference,
    User,
)
from koopboard.models.cost import CostState
from koopboard.models.types import utcnow
from koopboard.notifications.outbox import publish
from tests.conftest import KoopClient, login
from tests.web.test_costs import YEAR, _book, _population_key
from tests.web.test_queries import counting

NAME = "Karla Kassenwart"
EMAIL = "karla.kassenwart@illingen.de"


def body(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


@pytest.fixture()
def world(make_municipality, make_user, make_cooperation):  # noqa: ANN001, ANN201
    """Merchweiler leads; Illingen and Eppelborn are partners; Karla and Theo are the
    treasurers, Karla got her role from the lead (a role-granted event names her)."""
    merchweiler = make_municipality("Merchweiler", "10043113", population=9872)
    illingen = make_municipality("Illingen", "10043112", population=16122)
    eppelborn = make_municipality("Eppelborn", "10043111", population=16615)
    lead = make_user(merchweiler, email="lea.leitung@merchweiler.de", name="Lea Leitung")
    karla = make_user(illingen, email=EMAIL, name=NAME)
    theo = make_user(eppelborn, email="theo@eppelborn.de", name="Theo Taler")
    admin = make_user(None, email="betrieb@example.org", name="Bea Betrieb", is_admin=True)
    coop = make_cooperation(lead, [illingen, eppelborn], roles={theo: Role.TREASURER})
    grant_role(coop, user_id=karla.id, role=Role.TREASURER.value, by=lead)
    db.session.commit()
    return {
        "coop": coop,
        "base": f"/kooperationen/{coop.id}/kosten",
        "lead": lead,
        "karla": karla,
        "theo": theo,
        "admin": admin,
        "m": {"merchweiler": merchweiler, "illingen": illingen, "eppelborn": eppelborn},
    }


def _client(app) -> KoopClient:  # noqa: ANN001
    return app.test_client()


def _signed_in(app, user) -> KoopClient:  # noqa: ANN001
    client = _client(app)
    response = login(client, user)
    assert response.status_code == 302, body(response)[:500]
    return client


def _karla_was_busy(app, world, make_cooperation) -> tuple[KoopClient, Cost, str, str]:  # noqa: ANN001
    """Karla's browser after she booked and submitted a cost; her calendar address and a
    reset link; a mail to her not yet delivered; a preference of hers."""
    karla = _signed_in(app, world["karla"])
    _population_key(karla, world)
    cost = _book(karla, world)
    submitted = karla.post(
        f"{world['base']}/{cost.id}/einreichen", data={"version": str(cost.version)}
    )
    assert submitted.status_code == 302, body(submitted)[:2000]
    user = db.session.get(User, world["karla"].id)
    token = enable_or_rotate(user)
    with app.test_request_context():
        reset = accounts.request_password_reset(EMAIL)
    db.session.add(
        NotificationPreference(
            user_id=user.id, event_type=EventType.MILESTONE_CREATED.value, mode="digest"
        )
    )
    publish(
        NotificationEvent(
            cooperation_id=world["coop"].id,
            event_type=EventType.MILESTONE_CREATED.value,
            record_type="Milestone",
            record_id=1,
            actor_id=world["lead"].id,
            payload={"title": "Satzung beschließen", "due_date": f"{YEAR}-06-30"},
        ),
        to=[user.id],
    )
    # Another cooperation has invited her too (an audited record of that cooperation).
    bauhof = make_cooperation(world["lead"], [world["m"]["illingen"]], title="Gemeinsamer Bauhof")
    db.session.add(
        CooperationInvitation(
            cooperation_id=bauhof.id,
            municipality_id=world["m"]["illingen"].id,
            email=EMAIL,
            role=Role.MEMBER,
            invited_by_id=world["lead"].id,
            expires_at=utcnow() + timedelta(days=7),
        )
    )
    db.session.commit()
    return karla, cost, f"/kalender/{token}/meilensteine.ics", urlsplit(reset.link).path


def _anonymise(admin: KoopClient, user_id: int, **data: str):  # noqa: ANN202
    return admin.post(f"/verwaltung/personen/{user_id}/anonymisieren", data=data)


def _mentions(text: str) -> list[str]:
    """The old name or address (any case) in ``text``."""
    return re.findall(rf"{re.escape(NAME)}|{re.escape(EMAIL)}", text, flags=re.IGNORECASE)


def test_the_admin_anonymises_a_departed_treasurer(app, world, make_cooperation) -> None:  # noqa: ANN001
    karla_browser, cost, feed, reset_path = _karla_was_busy(app, world, make_cooperation)
    assert karla_browser.get("/konto/").status_code == 200
    assert app.test_client().get(feed).status_code == 200
    coop = world["coop"]
    lead = _signed_in(app, world["lead"])
    assert NAME in body(lead.get(f"/kooperationen/{coop.id}/verlauf"))  # before: her name
    costs_before = db.session.scalar(select(func.count()).select_from(Cost))

    admin = _signed_in(app, world["admin"])
    found = body(admin.get("/verwaltung/personen", query_string={"q": "kassenw"}))
    assert NAME in found and EMAIL in found
    confirm = admin.get(f"/verwaltung/personen/{world['karla'].id}/anonymisieren")
    page = body(confirm)
    assert confirm.status_code == 200
    assert f"Konto von {NAME} anonymisieren?" in page
    assert "Gemeinsames Standesamt" in page and "Kämmerei" in page
    assert "Ja, Konto endgültig anonymisieren" in page
    # Without the form's CSRF token nothing happens.
    refused = admin.post(
        f"/verwaltung/personen/{world['karla'].id}/anonymisieren", data={}, csrf=False
    )
    assert refused.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, world["karla"].id).name == NAME

    done = _anonymise(admin, world["karla"].id)
    assert done.status_code == 302, body(done)[:3000]
    assert done.headers["Location"].endswith("/verwaltung/personen")
    flashed = body(admin.get("/verwaltung/personen"))
    assert "Das Konto ist anonymisiert: 1 Rollen beendet" in flashed
    assert not _mentions(flashed)

    # The account: renamed, undeliverable, unusable.
    db.session.expire_all()
    karla = db.session.get(User, world["karla"].id)
    assert karla.name == ANONYMISED_NAME
    assert karla.email == f"person-{karla.id}@anonymisiert.invalid"
    assert karla.anonymised_at is not None and karla.anonymised_at.tzinfo is not None
    assert not karla.is_active_account
    # Her open browser is signed out, her password opens nothing, old links are dead.
    assert karla_browser.get("/konto/").status_code == 302
    assert login(_client(app), EMAIL).status_code != 302
    assert login(_client(app), karla.email).status_code != 302
    assert app.test_client().get(feed).status_code == 404
    assert "ungültig" in body(app.test_client().get(reset_path))
    for model in (LoginSession, AccountToken, CalendarFeed, NotificationPreference, Membership):
        owner = model.user_id == karla.id
        if model is AccountToken:
            owner = or_(owner, AccountToken.email == EMAIL)
        assert db.session.scalar(select(func.count()).select_from(model).where(owner)) == 0
    assert (
        db.session.scalar(
            select(func.count()).where(
                NotificationDelivery.user_id == karla.id, NotificationDelivery.status == "pending"
            )
        )
        == 0
    )

    # The cooperation's records are intact: her cost, its shares, its authors.
    assert db.session.scalar(select(func.count()).select_from(Cost)) == costs_before
    kept = db.session.get(Cost, cost.id)
    assert kept.created_by_id == karla.id and kept.submitted_by_id == karla.id
    assert kept.amount == cost.amount and kept.state is CostState.EINGEREICHT

    # The history: every entry kept, attributed to the placeholder; never her name or address.
    history = body(lead.get(f"/kooperationen/{coop.id}/verlauf"))
    assert ANONYMISED_NAME in history
    assert not _mentions(history)
    assert f"{ANONYMISED_NAME} die Rolle Kämmerei entzogen" in history  # the role's end
    csv = body(lead.get(f"/kooperationen/{coop.id}/verlauf.csv"))
    assert ANONYMISED_NAME in csv and not _mentions(csv)
    own = db.session.scalars(select(HistoryEntry).where(HistoryEntry.actor_id == karla.id)).all()
    assert own and {e.actor_label for e in own} == {ANONYMISED_NAME}
    stored = [
        " ".join(str(v) for v in row)
        for row in db.session.execute(
            select(
                HistoryEntry.actor_label,
                HistoryEntry.record_label,
                HistoryEntry.old_value,
                HistoryEntry.new_value,
            )
        )
    ]
    assert [t for t in stored if _mentions(t)] == []
    events = db.session.scalars(select(cast(NotificationEvent.payload, String))).all()
    assert [p for p in events if _mentions(p.encode().decode("unicode_escape"))] == []
    invitation = db.session.scalar(select(CooperationInvitation))
    assert invitation.status is InvitationStatus.WITHDRAWN
    assert invitation.email == karla.email and invitation.decided_at is not None
    granted = db.session.scalar(
        select(NotificationEvent).where(
            NotificationEvent.event_type == EventType.ROLE_GRANTED.value
        )
    )
    assert granted.payload["user"] == ANONYMISED_NAME

    # The cost page names her by the placeholder, and the four-eyes rule still holds:
    # Theo (who neither booked nor submitted it) approves it.
    theo = _signed_in(app, world["theo"])
    cost_page = body(theo.get(f"{world['base']}/{cost.id}"))
    assert not _mentions(cost_page)
    approved = theo.post(
        f"{world['base']}/{cost.id}/freigeben", data={"version": str(kept.version)}
    )
    assert approved.status_code == 302, body(approved)[:2000]
    db.session.expire_all()
    assert db.session.get(Cost, cost.id).state is CostState.FREIGEGEBEN


def test_anonymising_twice_is_refused(app, world) -> None:  # noqa: ANN001
    admin = _signed_in(app, world["admin"])
    assert _anonymise(admin, world["karla"].id).status_code == 302
    db.session.expire_all()
    first = db.session.get(User, world["karla"].id).anonymised_at
    entries = db.session.scalar(select(func.count()).select_from(HistoryEntry))

    again = _anonymise(admin, world["karla"].id)
    assert again.status_code == 400
    assert "Dieses Konto ist bereits anonymisiert." in body(again)
    page = body(admin.get(f"/verwaltung/personen/{world['karla'].id}/anonymisieren"))
    assert "Konto bereits anonymisiert" in page
    assert "Ja, Konto endgültig anonymisieren" not in page
    listed = body(admin.get("/verwaltung/personen", query_string={"q": "anonymisiert"}))
    assert "anonymisiert am" in listed and "Anonymisieren …" not in listed
    db.session.expire_all()
    assert db.session.get(User, world["karla"].id).anonymised_at == first
    assert db.session.scalar(select(func.count()).select_from(HistoryEntry)) == entries


def test_only_the_platform_admin_may_anonymise(app, world) -> None:  # noqa: ANN001
    """Everyone else learns nothing of these pages (404, like every admin page)."""
    lead = _signed_in(app, world["lead"])
    path = f"/verwaltung/personen/{world['karla'].id}/anonymisieren"
    assert lead.get("/verwaltung/personen").status_code == 404
    assert lead.get(path).status_code == 404
    assert lead.post(path).status_code == 404
    assert _client(app).post(path).status_code in (302, 401)  # not signed in: to the login
    db.session.expire_all()
    assert db.session.get(User, world["karla"].id).name == NAME


def test_the_admin_cannot_anonymise_their_own_account(app, world) -> None:  # noqa: ANN001
    admin = _signed_in(app, world["admin"])
    page = body(admin.get(f"/verwaltung/personen/{world['admin'].id}/anonymisieren"))
    assert "Das eigene Konto kann man nicht selbst anonymisieren." in page
    assert "Ja, Konto endgültig anonymisieren" not in page
    assert _anonymise(admin, world["admin"].id).status_code == 400
    db.session.expire_all()
    assert db.session.get(User, world["admin"].id).anonymised_at is None


def test_the_only_lead_hands_over_before_leaving(app, world) -> None:  # noqa: ANN001
    """A cooperation keeps its Projektleitung: the admin names who takes over."""
    admin = _signed_in(app, world["admin"])
    lead_id, coop = world["lead"].id, world["coop"]
    page = body(admin.get(f"/verwaltung/personen/{lead_id}/anonymisieren"))
    assert "Neue Projektleitung für „Gemeinsames Standesamt“" in page
    assert "Theo Taler (Eppelborn), bisher Kämmerei" in page

    missing = _anonymise(admin, lead_id)
    assert missing.status_code == 400
    assert "Bitte wählen Sie, wer die Projektleitung von „Gemeinsames Standesamt“ übernimmt." in (
        body(missing)
    )
    db.session.expire_all()
    assert db.session.get(User, lead_id).anonymised_at is None

    theo_role = db.session.scalar(select(Membership).where(Membership.user_id == world["theo"].id))
    done = _anonymise(admin, lead_id, **{f"nachfolge-{coop.id}": str(theo_role.id)})
    assert done.status_code == 302, body(done)[:2000]
    db.session.expire_all()
    assert db.session.get(Membership, theo_role.id).role is Role.LEAD
    theo = _signed_in(app, world["theo"])
    history = body(theo.get(f"/kooperationen/{coop.id}/verlauf"))
    assert "Theo Taler: Projektleitung" in history
    assert "Lea Leitung" not in history and "lea.leitung@merchweiler.de" not in history


def test_english_pages_say_former_person(app, world) -> None:  # noqa: ANN001
    admin = _signed_in(app, world["admin"])
    assert _anonymise(admin, world["karla"].id).status_code == 302
    lead = _signed_in(app, world["lead"])
    lead.post("/sprache", data={"lang": "en", "next": "/"})
    history = body(lead.get(f"/kooperationen/{world['coop'].id}/verlauf"))
    assert "former person (anonymised)" in history
    assert ANONYMISED_NAME not in history
    roles = body(lead.get("/benachrichtigungen/"))
    assert ANONYMISED_NAME not in roles and not _mentions(roles)


def test_the_cli_anonymises_through_the_same_service(app, world) -> None:  # noqa: ANN001
    runner = app.test_cli_runner()
    result = runner.invoke(args=["koop", "anonymise-user", EMAIL.upper(), "--yes"])
    assert result.exit_code == 0, result.output
    assert "Anonymisiert: 1 Rollen beendet" in result.output
    db.session.expire_all()
    karla = db.session.get(User, world["karla"].id)
    assert karla.name == ANONYMISED_NAME and karla.anonymised_at is not None
    recorded = db.session.scalar(
        select(HistoryEntry).where(
            HistoryEntry.record_type == "User",
            HistoryEntry.record_id == karla.id,
            HistoryEntry.field == "anonymised_at",
        )
    )
    assert recorded.actor_label == "System (Kommandozeile anonymise-user)"

    again = runner.invoke(args=["koop", "anonymise-user", karla.email, "--yes"])
    assert again.exit_code != 0
    assert "Dieses Konto ist bereits anonymisiert." in again.output
    unknown = runner.invoke(args=["koop", "anonymise-user", "niemand@example.org", "--yes"])
    assert unknown.exit_code != 0 and "Kein Konto" in unknown.output


def test_the_cli_names_the_successor_of_an_only_lead(app, world) -> None:  # noqa: ANN001
    runner = app.test_cli_runner()
    coop = world["coop"]
    email = "lea.leitung@merchweiler.de"
    refused = runner.invoke(args=["koop", "anonymise-user", email, "--yes"])
    assert refused.exit_code != 0
    assert f"--successor {coop.id}=E-MAIL" in refused.output
    done = runner.invoke(
        args=[
            "koop",
            "anonymise-user",
            email,
            "--yes",
            "--successor",
            f"{coop.id}=theo@eppelborn.de",
        ]
    )
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    theo_role = db.session.scalar(select(Membership).where(Membership.user_id == world["theo"].id))
    assert theo_role.role is Role.LEAD


def _roles_for(user, n, make_cooperation, others) -> None:  # noqa: ANN001
    """``user`` leads ``n`` cooperations, each with the others as members."""
    for i in range(n):
        make_cooperation(user, title=f"Kooperation {i}", roles={o: Role.MEMBER for o in others})


def test_the_confirmation_page_is_a_plain_form_with_constant_queries(
    app, world, make_user, make_cooperation
) -> None:  # noqa: ANN001
    """Works without JavaScript (method post, CSRF field) and costs the same number of
    queries for a person with one role as for one who leads six cooperations."""
    admin = _signed_in(app, world["admin"])
    town = world["m"]["merchweiler"]
    one, many = make_user(town, name="Ein Amt"), make_user(town, name="Viele Ämter")
    others = [make_user(town, name=f"Kollegin {i}") for i in range(3)]
    _roles_for(one, 1, make_cooperation, others)
    _roles_for(many, 6, make_cooperation, others)
    counts = []
    for user in (one, many):
        with counting() as statements:
            page = body(admin.get(f"/verwaltung/personen/{user.id}/anonymisieren"))
        counts.append(len(statements))
        assert f'<form method="post" action="/verwaltung/personen/{user.id}/anonymisieren"' in page
        assert 'name="csrf_token"' in page
    assert counts[0] == counts[1], counts
    with counting() as statements:
        admin.get("/verwaltung/personen", query_string={"q": "a"})
        few = len(statements)
    with counting() as statements:
        admin.get("/verwaltung/personen", query_string={"q": "e"})  # more people match
    assert len(statements) == few
