"""Route-by-role authorization: every rule of the URL map, every actor, the expected answer.

``ROUTES`` maps each endpoint to how it is called and what each actor gets. A rule of the
URL map without an entry fails ``test_every_route_is_in_the_table``: new routes are
covered as soon as they exist. Actors, around two municipalities A and B:

- anonymous;
- lead, treasurer, member, observer: one user per role in cooperation A (led by A);
- partner_no_role: a user of A's partner municipality P without a role in A;
- other_lead: a user of B, lead of cooperation B;
- admin: the platform admin (no municipality, no role).

Whoever has no role in A learns nothing of it (404, or the login for anonymous; A's title,
goals and partner names never appear); roles that only read get 403 on every change and the
database stays as it was; the lead's changes arrive. The world is built once per module
(the ``app`` fixture would truncate it for every test); each case logs in afresh and
makes the rows it changes itself, so the cases do not depend on each other.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from koopboard.auth.services import start_login_session
from koopboard.cooperations.services import CooperationData, add_partner, create_cooperation
from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.models import (
    Cooperation,
    CooperationPartner,
    HistoryEntry,
    Membership,
    Milestone,
    Municipality,
    NotificationPreference,
    User,
)
from tests.conftest import KoopClient, _clean, _test_config

ROLE_ACTORS = ("lead", "treasurer", "member", "observer")
READERS_ONLY = ("treasurer", "member", "observer")
OUTSIDERS = ("partner_no_role", "other_lead", "admin")
ACTORS = ("anonymous", *ROLE_ACTORS, *OUTSIDERS)
LOGIN = "/anmelden"  # an expected outcome given as a path means "302 to this path"
HX = {"HX-Request": "true"}

TITLE_A = "Geheimes Klärwerk Westrich"
GOALS_A = "Vertraulicher Zielsatz 4711"
LEAD_MUNICIPALITY_A = "Altkirchen am Bach"
PARTNER_MUNICIPALITY_A = "Partnerau im Grund"
START = date(2025, 1, 1)

Outcome = int | str


def sign_in(client: KoopClient, user_id: int) -> KoopClient:
    """Sign the browser in as the login form does, minus the password check.

    scrypt costs ~0.4 s per login on purpose; the login form has its own tests."""
    with client.application.app_context():
        user = db.session.get(User, user_id)
        start_login_session(user)
        key = user.get_id()  # the session's token bound to the password's state
        db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = key
        session["_fresh"] = True
    return client


# --- the world --------------------------------------------------------------------------


@dataclass
class World:
    """Two municipalities with one cooperation each, and one user per actor."""

    app: Flask
    users: dict[str, int]
    municipality_ids: dict[str, int]
    coop_a: int
    coop_b: int
    partner_p: int
    partner_b: int
    membership_b: int
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def client_for(self, actor: str) -> KoopClient:
        """A fresh browser; signed in through a fresh server-side login session."""
        client = self.app.test_client()
        if actor == "anonymous":
            return client
        return sign_in(client, self.users[actor])

    def values(self) -> dict[str, Any]:
        """URL values every call may use."""
        return {
            "coop": self.coop_a,
            "partner": self.partner_p,
            "coop_b": self.coop_b,
            "partner_b": self.partner_b,
            "membership_b": self.membership_b,
        }

    def n(self) -> int:
        return next(self.counter)

    def fresh_municipality(self) -> Municipality:
        """A register entry no cooperation uses yet (call inside an app context)."""
        n = self.n()
        municipality = Municipality(
            ags=f"77{n:06d}",
            name=f"Frischdorf {n}",
            kind="Gemeinde",
            land="Saarland",
            kreis="Neunkirchen",
            population=1000 + n,
            postcode=f"67{n:03d}",
        )
        db.session.add(municipality)
        db.session.flush()
        return municipality

    def fresh_user(self, role: Role | None = None) -> User:
        """A user of the partner municipality P, with the role in A if given."""
        n = self.n()
        user = User(
            email=f"frisch{n}@example.org",
            name=f"Frisch Person {n}",
            password_hash="x",
            municipality_id=self.municipality_ids["P"],
        )
        db.session.add(user)
        if role is not None:
            db.session.add(Membership(cooperation_id=self.coop_a, user=user, role=role))
        db.session.flush()
        return user

    def snapshot(self) -> tuple:
        """Everything a refused request must leave untouched."""
        with self.app.app_context():
            coop = db.session.get(Cooperation, self.coop_a)
            partners = db.session.execute(
                select(
                    CooperationPartner.id,
                    CooperationPartner.municipality_id,
                    CooperationPartner.joined_on,
                    CooperationPartner.left_on,
                    CooperationPartner.council_resolution_on,
                ).order_by(CooperationPartner.id)
            ).all()
            memberships = db.session.execute(
                select(
                    Membership.id, Membership.cooperation_id, Membership.user_id, Membership.role
                ).order_by(Membership.id)
            ).all()
            milestones = db.session.execute(
                select(
                    Milestone.id,
                    Milestone.title,
                    Milestone.status,
                    Milestone.due_date,
                    Milestone.progress_note,
                    Milestone.version,
                ).order_by(Milestone.id)
            ).all()
            return (
                tuple(milestones),
                db.session.scalar(select(func.count(Cooperation.id))),
                db.session.scalar(
                    select(func.count(HistoryEntry.id)).where(
                        HistoryEntry.cooperation_id.is_not(None)
                    )
                ),
                db.session.scalar(select(func.count(User.id))),
                (coop.title, coop.goals, coop.status, coop.version, coop.start_date),
                tuple(partners),
                tuple(memberships),
            )

    def forbidden_texts(self, actor: str) -> list[str]:
        """What an actor without a role in A must never read (its own town it may)."""
        texts = [TITLE_A, GOALS_A, LEAD_MUNICIPALITY_A, PARTNER_MUNICIPALITY_A]
        if actor == "partner_no_role":
            texts.remove(PARTNER_MUNICIPALITY_A)  # shown in the header: it is theirs
        return texts


def _municipality(name: str, ags: str) -> Municipality:
    return Municipality(
        ags=ags,
        name=name,
        kind="Gemeinde",
        land="Saarland",
        kreis="Neunkirchen",
        population=5000,
        postcode=ags[-5:],
    )


def _user(key: str, municipality: Municipality | None, *, is_admin: bool = False) -> User:
    return User(
        email=f"{key}@example.org",
        name=f"Person {key}",
        password_hash="x",
        municipality=municipality,
        is_admin=is_admin,
    )


def _build_world(app: Flask) -> World:
    a = _municipality(LEAD_MUNICIPALITY_A, "10000001")
    p = _municipality(PARTNER_MUNICIPALITY_A, "10000002")
    b = _municipality("Bergheim im Tal", "10000003")
    q = _municipality("Querfurt an der Au", "10000004")
    users = {
        "lead": _user("lead", a),
        "treasurer": _user("treasurer", a),
        "member": _user("member", p),
        "observer": _user("observer", p),
        "partner_no_role": _user("partner_no_role", p),
        "other_lead": _user("other_lead", b),
        "b_member": _user("b_member", q),
        "admin": _user("admin", None, is_admin=True),
    }
    db.session.add_all([a, p, b, q, *users.values()])
    db.session.flush()

    def cooperation(title: str, goals: str, lead: User, partner: Municipality) -> Cooperation:
        coop = create_cooperation(
            CooperationData(
                title=title,
                goals=goals,
                handlungsfeld="ver_entsorgung",
                rechtsform="zweckverband",
                status="aktiv",
                start_date=START,
                end_date=None,
            ),
            by=lead,
        )
        add_partner(coop, ags=partner.ags, joined_on=START, council_resolution_on=None)
        return coop

    coop_a = cooperation(TITLE_A, GOALS_A, users["lead"], p)
    coop_b = cooperation("Offene Bergheimer Bücherei", "Lesen", users["other_lead"], q)
    for key, role in (
        ("treasurer", Role.TREASURER),
        ("member", Role.MEMBER),
        ("observer", Role.OBSERVER),
    ):
        db.session.add(Membership(cooperation=coop_a, user=users[key], role=role))
    membership_b = Membership(cooperation=coop_b, user=users["b_member"], role=Role.MEMBER)
    db.session.add(membership_b)
    db.session.commit()
    partner_p = db.session.scalar(
        select(CooperationPartner.id).where(
            CooperationPartner.cooperation_id == coop_a.id,
            CooperationPartner.municipality_id == p.id,
        )
    )
    partner_b = db.session.scalar(
        select(CooperationPartner.id).where(
            CooperationPartner.cooperation_id == coop_b.id,
            CooperationPartner.municipality_id == q.id,
        )
    )
    return World(
        app=app,
        users={k: u.id for k, u in users.items()},
        municipality_ids={"A": a.id, "P": p.id, "B": b.id, "Q": q.id},
        coop_a=coop_a.id,
        coop_b=coop_b.id,
        partner_p=partner_p,
        partner_b=partner_b,
        membership_b=membership_b.id,
    )


@pytest.fixture(scope="module")
def auth_app(database_url: str, smtp_server) -> Iterator[Flask]:  # noqa: ANN001
    """An app for this module only: its world lives across the module's tests."""
    from koopboard import create_app

    # Rate limits answer 429 after a few posts to one route; they have their own tests.
    app = create_app({**_test_config(database_url, smtp_server[1]), "RATELIMIT_ENABLED": False})
    app.test_client_class = KoopClient
    with app.app_context():
        _clean(db)
    yield app
    with app.app_context():
        _clean(db)
        db.engine.dispose()


@pytest.fixture(scope="module")
def world(auth_app: Flask) -> World:
    with auth_app.app_context():
        return _build_world(auth_app)


# --- the table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """How to call one rule, and the outcome per actor.

    ``path`` is formatted with the world's values and those ``prepare`` returns (rows the
    call may change, made fresh for each case). ``data`` builds the form data. For the
    actors in ``changes_for`` the call must change the database and ``changed`` checks it;
    for every other actor the database must stay exactly as it was."""

    method: str
    path: str
    expect: Mapping[str, Outcome]
    data: Callable[[World, dict], dict] | None = None
    prepare: Callable[[World], dict] | None = None
    changed: Callable[[World, dict], None] | None = None
    changes_for: frozenset[str] = frozenset()
    about_coop_a: bool = False
    label: str = ""


def everyone(
    outcome: Outcome, *, anonymous: Outcome | None = None, admin: Outcome | None = None
) -> dict[str, Outcome]:
    expect = dict.fromkeys(ACTORS, outcome)
    if anonymous is not None:
        expect["anonymous"] = anonymous
    if admin is not None:
        expect["admin"] = admin
    return expect


def signed_in(outcome: Outcome, **overrides: Outcome) -> dict[str, Outcome]:
    """``outcome`` for every signed-in actor, the login for anonymous."""
    return {**everyone(outcome, anonymous=LOGIN), **overrides}


def read_a() -> dict[str, Outcome]:
    """A page of cooperation A that every role may read."""
    return {"anonymous": LOGIN, **dict.fromkeys(ROLE_ACTORS, 200), **dict.fromkeys(OUTSIDERS, 404)}


def change_a(lead: Outcome) -> dict[str, Outcome]:
    """A change of cooperation A: only the lead; other roles 403, outsiders 404."""
    return {
        "anonymous": LOGIN,
        "lead": lead,
        **dict.fromkeys(READERS_ONLY, 403),
        **dict.fromkeys(OUTSIDERS, 404),
    }


def coop_call(method: str, path: str, expect: Mapping[str, Outcome], **kwargs: Any) -> Call:
    changes = frozenset({"lead"}) if kwargs.get("changed") else frozenset()
    return Call(method, path, expect, about_coop_a=True, changes_for=changes, **kwargs)


# What the lead changes, prepared fresh for every case, and how to see it arrived.


def _edit_data(world: World, values: dict) -> dict:
    with world.app.app_context():
        version = db.session.get(Cooperation, world.coop_a).version
    return {
        "title": TITLE_A,
        "goals": f"{GOALS_A} – geändert {values['n']}",
        "handlungsfeld": "ver_entsorgung",
        "rechtsform": "zweckverband",
        "status": "aktiv",
        "start_date": "2025-01-01",
        "end_date": "",
        "version": str(version),
    }


def _edit_changed(world: World, values: dict) -> None:
    with world.app.app_context():
        assert db.session.get(Cooperation, world.coop_a).goals.endswith(f"geändert {values['n']}")


def _new_municipality(world: World) -> dict:
    with world.app.app_context():
        municipality = world.fresh_municipality()
        db.session.commit()
        return {"n": world.n(), "ags": municipality.ags, "municipality_id": municipality.id}


def _partner_added(world: World, values: dict) -> None:
    with world.app.app_context():
        assert db.session.scalar(
            select(CooperationPartner.id).where(
                CooperationPartner.cooperation_id == world.coop_a,
                CooperationPartner.municipality_id == values["municipality_id"],
            )
        )


def _fresh_partner(world: World) -> dict:
    with world.app.app_context():
        municipality = world.fresh_municipality()
        partner = CooperationPartner(
            cooperation_id=world.coop_a, municipality=municipality, joined_on=START
        )
        db.session.add(partner)
        db.session.commit()
        return {"n": world.n(), "fresh_partner": partner.id}


def _partner_removed(world: World, values: dict) -> None:
    with world.app.app_context():
        assert db.session.get(CooperationPartner, values["fresh_partner"]) is None


def _council_date(values: dict) -> date:
    return date(2024, 1 + values["n"] % 12, 1 + values["n"] % 28)


def _partner_data(world: World, values: dict) -> dict:
    return {
        "joined_on": "2025-01-01",
        "left_on": "",
        "council_resolution_on": _council_date(values).isoformat(),
    }


def _partner_changed(world: World, values: dict) -> None:
    with world.app.app_context():
        partner = db.session.get(CooperationPartner, world.partner_p)
        assert partner.council_resolution_on == _council_date(values)


def _user_without_role(world: World) -> dict:
    with world.app.app_context():
        user = world.fresh_user()
        db.session.commit()
        return {"n": world.n(), "user_id": user.id}


def _role_granted(world: World, values: dict) -> None:
    with world.app.app_context():
        assert (
            db.session.scalar(
                select(Membership.role).where(
                    Membership.cooperation_id == world.coop_a,
                    Membership.user_id == values["user_id"],
                )
            )
            is Role.OBSERVER
        )


def _user_with_role(world: World) -> dict:
    with world.app.app_context():
        user = world.fresh_user(Role.OBSERVER)
        db.session.commit()
        membership = db.session.scalar(select(Membership.id).where(Membership.user_id == user.id))
        return {"n": world.n(), "membership": membership}


def _role_revoked(world: World, values: dict) -> None:
    with world.app.app_context():
        assert db.session.get(Membership, values["membership"]) is None


def _person_elsewhere(world: World) -> dict:
    """A person of a municipality outside A (the admin's pages name a person's town)."""
    with world.app.app_context():
        town = world.fresh_municipality()
        user = User(
            email=f"weg{world.n()}@example.org",
            name="Wera Weg",
            password_hash="x",
            municipality=town,
        )
        db.session.add(user)
        db.session.commit()
        return {"user_id": user.id}


def _person_anonymised(world: World, values: dict) -> None:
    with world.app.app_context():
        user = db.session.get(User, values["user_id"])
        assert user.anonymised_at is not None and not user.is_active_account


def _just_n(world: World) -> dict:
    return {"n": world.n()}


def _invite_data(world: World, values: dict) -> dict:
    return {
        "municipality_id": str(world.municipality_ids["P"]),
        "email": f"eingeladen{values['n']}@example.org",
        "role": "observer",
    }


def _invited(world: World, values: dict) -> None:
    from koopboard.models import CooperationInvitation

    with world.app.app_context():
        assert (
            db.session.scalar(
                select(CooperationInvitation.status).where(
                    CooperationInvitation.cooperation_id == world.coop_a,
                    CooperationInvitation.email == f"eingeladen{values['n']}@example.org",
                )
            ).value
            == "offen"
        )


def _open_invitation(world: World) -> dict:
    """An open invitation of A to an address nobody of the world has."""
    from datetime import UTC, datetime, timedelta

    from koopboard.domain.invitations import InvitationStatus
    from koopboard.models import CooperationInvitation

    with world.app.app_context():
        n = world.n()
        invitation = CooperationInvitation(
            cooperation_id=world.coop_a,
            municipality_id=world.municipality_ids["P"],
            email=f"offen{n}@example.org",
            role=Role.MEMBER,
            status=InvitationStatus.OPEN,
            invited_by_id=world.users["lead"],
            expires_at=datetime.now(UTC) + timedelta(days=7),
        )
        db.session.add(invitation)
        db.session.commit()
        return {"n": n, "invitation": invitation.id}


def _withdrawn(world: World, values: dict) -> None:
    from koopboard.models import CooperationInvitation

    with world.app.app_context():
        invitation = db.session.get(CooperationInvitation, values["invitation"])
        assert invitation.status.value == "zurueckgezogen"


COOP = "/kooperationen/{coop}"


# --- milestones: a fresh one per case, assigned to P (whose member may update it) ---------

MILESTONES = COOP + "/meilensteine"
MILESTONE_PAGE = MILESTONES + "/#meilenstein-{milestone}"


def _fresh_milestone(world: World) -> dict:
    from koopboard.domain.milestones import MilestoneStatus, Phase
    from koopboard.models import Milestone

    with world.app.app_context():
        n = world.n()
        milestone = Milestone(
            cooperation_id=world.coop_a,
            title=f"Meilenstein {n}",
            description="",
            phase=Phase.PLANUNG,
            due_date=date(2026, 6, 1),
            status=MilestoneStatus.GEPLANT,
            responsible_municipality_id=world.municipality_ids["P"],
            progress_note="",
        )
        db.session.add(milestone)
        db.session.commit()
        return {"n": n, "milestone": milestone.id, "version": str(milestone.version)}


def _milestone_has(field_name: str, value: Callable[[dict], Any]) -> Callable[[World, dict], None]:
    def check(world: World, values: dict) -> None:
        from koopboard.models import Milestone

        with world.app.app_context():
            milestone = db.session.get(Milestone, values["milestone"])
            assert getattr(milestone, field_name) == value(values)

    return check


def _milestone_form(world: World, values: dict) -> dict:
    return {
        "title": f"Geändert {values['n']}",
        "phase": "planung",
        "due_date": "2026-06-01",
        "status": "geplant",
        "responsible_municipality_id": str(world.municipality_ids["P"]),
        "description": "",
        "progress_note": "",
        "version": values["version"],
    }


def progress_a(outcome: Outcome) -> dict[str, Outcome]:
    """Status and note of a milestone assigned to P: the lead and P's member."""
    return {**change_a(outcome), "member": outcome}


def milestone_call(method: str, path: str, expect: Mapping[str, Outcome], **kwargs: Any) -> Call:
    changes = frozenset(k for k, v in expect.items() if v == MILESTONE_PAGE)
    return Call(
        method,
        path,
        expect,
        about_coop_a=True,
        prepare=_fresh_milestone,
        changes_for=changes if kwargs.get("changed") else frozenset(),
        **kwargs,
    )


NOTIFY_SETTINGS = "/benachrichtigungen/einstellungen"


def _no_override_for_a(world: World) -> dict:
    """No exception for A yet, so each role's post visibly adds one."""
    with world.app.app_context():
        for row in db.session.scalars(
            select(NotificationPreference).where(
                NotificationPreference.cooperation_id == world.coop_a
            )
        ):
            db.session.delete(row)
        db.session.commit()
    return {}


def _override_for_a_added(world: World, values: dict) -> None:
    with world.app.app_context():
        assert (
            db.session.scalar(
                select(NotificationPreference.mode).where(
                    NotificationPreference.cooperation_id == world.coop_a
                )
            )
            == "off"
        )


# --- costs (issue 4): Kämmerei books; Kämmerei and Projektleitung edit keys; all read -------

COSTS = COOP + "/kosten"
COST_PAGE = COSTS + "/{cost}"


def book_a(outcome: Outcome) -> dict[str, Outcome]:
    """A booking of cooperation A: only the treasurer; other roles 403, outsiders 404."""
    return {**change_a(403), "treasurer": outcome}


def key_a(outcome: Outcome) -> dict[str, Outcome]:
    """The cost-sharing key: treasurer and lead."""
    return {**change_a(outcome), "treasurer": outcome}


def _fresh_cost(state: str) -> Callable[[World], dict]:
    """A cost of A in ``state``, created (and submitted) by the lead, never by the treasurer."""

    def prepare(world: World) -> dict:
        from decimal import Decimal

        from koopboard.models.cost import Cost, CostKind, CostState

        with world.app.app_context():
            n = world.n()
            lead = world.users["lead"]
            cost = Cost(
                cooperation_id=world.coop_a,
                budget_year=2026,
                booking_date=date(2026, 3, 1),
                text=f"Kosten {n}",
                kind=CostKind.KOSTEN,
                amount=Decimal("100.00"),
                state=CostState(state),
                created_by_id=lead,
                submitted_by_id=lead if state != "entwurf" else None,
                approved_by_id=world.users["member"] if state == "freigegeben" else None,
            )
            db.session.add(cost)
            db.session.commit()
            return {"n": n, "cost": cost.id, "version": str(cost.version)}

    return prepare


def _cost_has(field_name: str, value: Callable[[dict], Any]) -> Callable[[World, dict], None]:
    def check(world: World, values: dict) -> None:
        from koopboard.models.cost import Cost

        with world.app.app_context():
            assert str(getattr(db.session.get(Cost, values["cost"]), field_name)) == value(values)

    return check


def _terms_saved(world: World, values: dict) -> None:
    from koopboard.models.cost import StatementTerms

    with world.app.app_context():
        assert db.session.scalar(
            select(StatementTerms.id).where(StatementTerms.reference == "KZ-2026")
        )


def _year_closed(world: World, values: dict) -> None:
    from koopboard.models.cost import YearClosing

    with world.app.app_context():
        assert db.session.scalar(
            select(YearClosing.id).where(YearClosing.budget_year == values["year"])
        )


def cost_call(method: str, path: str, expect: Mapping[str, Outcome], **kwargs: Any) -> Call:
    changes = frozenset({"treasurer"}) if kwargs.get("changed") else frozenset()
    return Call(method, path, expect, about_coop_a=True, changes_for=changes, **kwargs)


def _cost_form(world: World, values: dict) -> dict:
    return {
        "booking_date": "01.03.2026",
        "budget_year": "2026",
        "text": f"Geändert {values['n']}",
        "kind": "kosten",
        "amount": "100,00",
        "version": values["version"],
    }


# Receipts: every role downloads; the Kämmerei uploads (a PDF by its magic bytes).
RECEIPT_PDF = b"%PDF-1.4\n%%EOF\n"


def _fresh_receipt(world: World) -> dict:
    """A draft cost of A with a stored receipt."""
    import hashlib

    from koopboard.models.cost import CostReceipt

    values = _fresh_cost("entwurf")(world)
    with world.app.app_context():
        db.session.add(
            CostReceipt(
                cost_id=values["cost"],
                cooperation_id=world.coop_a,
                filename="beleg.pdf",
                media_type="application/pdf",
                size_bytes=len(RECEIPT_PDF),
                sha256=hashlib.sha256(RECEIPT_PDF).hexdigest(),
                data=RECEIPT_PDF,
            )
        )
        db.session.commit()
    return values


def _receipt_file(world: World, values: dict) -> dict:
    import io

    return {"receipt": (io.BytesIO(RECEIPT_PDF), f"beleg-{values['n']}.pdf")}


def _receipt_stored(world: World, values: dict) -> None:
    from koopboard.models.cost import CostReceipt

    with world.app.app_context():
        receipt = db.session.scalar(
            select(CostReceipt).where(CostReceipt.cost_id == values["cost"])
        )
        assert receipt is not None and receipt.filename == f"beleg-{values['n']}.pdf"


# Recurring costs: a fresh running one of A per case (no draft is ever booked here).
RECURRING = COSTS + "/wiederkehrend"


def _fresh_recurring(world: World) -> dict:
    from decimal import Decimal

    from koopboard.models.cost import RecurringCost, RecurringInterval

    with world.app.app_context():
        n = world.n()
        rc = RecurringCost(
            cooperation_id=world.coop_a,
            text=f"Miete {n}",
            amount=Decimal("100.00"),
            interval=RecurringInterval.MONATLICH,
            start_date=date(2026, 3, 1),
            day_of_month=1,
            next_date=date(2026, 3, 1),
            active=True,
        )
        db.session.add(rc)
        db.session.commit()
        return {"n": n, "recurring": rc.id, "version": str(rc.version)}


def _recurring_has(field_name: str, value: Callable[[dict], Any]) -> Callable[[World, dict], None]:
    def check(world: World, values: dict) -> None:
        from koopboard.models.cost import RecurringCost

        with world.app.app_context():
            rc = db.session.get(RecurringCost, values["recurring"])
            assert str(getattr(rc, field_name)) == value(values)

    return check


def _recurring_form(world: World, values: dict) -> dict:
    return {
        "text": f"Geändert {values['n']}",
        "amount": "100,00",
        "interval": "monatlich",
        "day_of_month": "1",
        "start_date": "01.03.2026",
        "version": values["version"],
    }


def _listing_saved(world: World, values: dict) -> None:
    from koopboard.models import CooperationListing

    with world.app.app_context():
        listing = db.session.scalar(
            select(CooperationListing).where(CooperationListing.cooperation_id == world.coop_a)
        )
        assert listing is not None and listing.summary == f"Kurz {values['n']}"


ROUTES: dict[str, list[Call]] = {
    # --- public and global -----------------------------------------------------------
    "main.index": [Call("GET", "/", everyone("/start", anonymous=LOGIN))],
    "start.index": [Call("GET", "/start", signed_in(200))],
    "start.approve_cost": [
        Call("POST", "/start/kooperationen/987654/kosten/987654/freigeben", signed_in(404)),
        # Deciding roles reach the (missing) cost, other roles are refused, outsiders 404.
        coop_call(
            "POST",
            "/start" + COOP + "/kosten/987654/freigeben",
            {**change_a(404), "treasurer": 404},
        ),
    ],
    "start.complete_milestone": [
        coop_call("POST", "/start" + COOP + "/meilensteine/987654/erledigt", signed_in(404)),
    ],
    "start.mark_read": [Call("POST", "/start/benachrichtigungen/987654/gelesen", signed_in(404))],
    # Only the lead decides a join request from the start page (the Börse's rule).
    "start.accept_join": [
        coop_call(
            "POST",
            "/start" + COOP + "/beitrittsanfragen/987654/annehmen",
            change_a(404),
            data=lambda w, v: {"joined_on": "2026-01-01"},
        )
    ],
    "start.decline_join": [
        coop_call(
            "POST",
            "/start" + COOP + "/beitrittsanfragen/987654/ablehnen",
            change_a(404),
            data=lambda w, v: {"reason": "Nein"},
        )
    ],
    "start.decline_invitation": [
        Call(
            "POST",
            "/start/einladungen/{invitation}/ablehnen",
            signed_in(403),
            prepare=_open_invitation,
        ),
        Call("POST", "/start/einladungen/987654/ablehnen", signed_in(404)),
    ],
    "main.set_language": [
        Call(
            "POST",
            "/sprache",
            everyone("/barrierefreiheit"),
            data=lambda w, v: {"lang": "de", "next": "/barrierefreiheit"},
        ),
    ],
    "main.accessibility": [Call("GET", "/barrierefreiheit", everyone(200))],
    "main.healthz": [Call("GET", "/healthz", everyone(200))],
    "main.imprint": [Call("GET", "/impressum", everyone(200))],
    "main.privacy": [Call("GET", "/datenschutz", everyone(200))],
    # --- Kooperationsbörse: A is intern, so it appears to nobody, not even its own people
    "boerse.directory": [
        Call("GET", "/kooperationsboerse", everyone(200)),
        Call("GET", "/kooperationsboerse?q=Klärwerk&umkreis=50", everyone(200), label="search"),
    ],
    "boerse.entry": [
        Call("GET", COOP.replace("/kooperationen/", "/kooperationsboerse/"), signed_in(404)),
    ],
    "boerse.contact": [
        Call("GET", "/kooperationsboerse/{coop}/kontakt", signed_in(404)),
        Call(
            "POST",
            "/kooperationsboerse/{coop}/kontakt",
            signed_in(404),
            data=lambda w, v: {"message": "Hallo"},
        ),
    ],
    "boerse.request_join": [
        Call("GET", "/kooperationsboerse/{coop}/beitritt", signed_in(404)),
        Call(
            "POST",
            "/kooperationsboerse/{coop}/beitritt",
            signed_in(404),
            data=lambda w, v: {"message": "Hallo", "intended_join_on": "2026-01-01"},
        ),
    ],
    "boerse.withdraw": [
        Call("POST", "/kooperationsboerse/{coop}/beitritt/987654/zurueckziehen", signed_in(404))
    ],
    # No request exists: the lead learns that (404), the other roles may not decide (403).
    "boerse.decision": [coop_call("GET", COOP + "/beitrittsanfragen/987654", change_a(404))],
    "boerse.accept": [
        coop_call(
            "POST",
            COOP + "/beitrittsanfragen/987654/annehmen",
            change_a(404),
            data=lambda w, v: {"joined_on": "2026-01-01"},
        )
    ],
    "boerse.decline": [
        coop_call(
            "POST",
            COOP + "/beitrittsanfragen/987654/ablehnen",
            change_a(404),
            data=lambda w, v: {"reason": "Nein"},
        )
    ],
    # --- Kooperations-Check: the user's own municipality's, never another's; not the admin's
    "check.fill": [
        Call("GET", "/kooperations-check/", signed_in(200, admin=403)),
        Call("POST", "/kooperations-check/", signed_in(400, admin=403), data=lambda w, v: {}),
    ],
    "check.result": [
        Call("GET", "/kooperations-check/ergebnis", signed_in("/kooperations-check/", admin=403))
    ],
    "check.history": [Call("GET", "/kooperations-check/versionen", signed_in(200, admin=403))],
    "check.municipality_search": [
        Call("GET", "/kooperations-check/kommunen", signed_in("/kooperations-check/", admin=403))
    ],
    "check.entry_search": [
        Call("GET", "/kooperations-check/eintraege", signed_in("/kooperations-check/", admin=403))
    ],
    "check.show_version": [
        Call("GET", "/kooperations-check/versionen/1", signed_in(404, admin=403))
    ],
    "check.overview": [Call("GET", "/kooperations-check/uebersicht", signed_in(403, admin=200))],
    "boerse.register_entry": [Call("GET", "/kooperationsboerse/verband/000000000", everyone(404))],
    "boerse.publish": [
        coop_call("GET", COOP + "/boerse", change_a(200)),
        coop_call(
            "POST",
            COOP + "/boerse",
            change_a(COOP + "/boerse"),
            prepare=_just_n,
            data=lambda w, v: {"visibility": "intern", "summary": f"Kurz {v['n']}"},
            changed=_listing_saved,
        ),
    ],
    "auth.login": [
        Call("GET", "/anmelden", everyone("/start", anonymous=200)),
        Call(
            "POST",
            "/anmelden",
            everyone("/start", anonymous=400),
            data=lambda w, v: {"email": "niemand@example.org", "password": "falsch"},
        ),
    ],
    "auth.logout": [Call("POST", "/abmelden", everyone(LOGIN))],
    "auth.invite_colleague": [
        Call("GET", "/kolleginnen-einladen", signed_in(200, admin="/verwaltung/einladen")),
        Call(
            "POST",
            "/kolleginnen-einladen",
            signed_in(400, admin="/verwaltung/einladen"),
            data=lambda w, v: {"email": ""},
        ),
    ],
    "auth.accept_invitation": [
        Call("GET", "/einladung/ungueltig", everyone(400)),
        Call(
            "POST",
            "/einladung/ungueltig",
            everyone(400),
            data=lambda w, v: {"name": "X", "password": "y"},
        ),
    ],
    "auth.forgot_password": [
        Call("GET", "/passwort-vergessen", everyone(200)),
        Call("POST", "/passwort-vergessen", everyone(400), data=lambda w, v: {"email": ""}),
    ],
    "auth.reset_password": [
        Call("GET", "/passwort-zuruecksetzen/ungueltig", everyone(400)),
        Call(
            "POST",
            "/passwort-zuruecksetzen/ungueltig",
            everyone(400),
            data=lambda w, v: {"password": "y"},
        ),
    ],
    "account.show": [Call("GET", "/konto/", signed_in(200))],
    "account.data_page": [Call("GET", "/konto/meine-daten", signed_in(200))],
    "account.data_json": [Call("GET", "/konto/meine-daten.json", signed_in(200))],
    "municipalities.search": [
        Call("GET", "/kommunen/suche?query=Nirgendwo&for_partner=1", signed_in(200)),
    ],
    "admin.deliveries": [
        Call("GET", "/verwaltung/zustellungen", signed_in(404, admin=200)),
        Call("GET", "/verwaltung/zustellungen?seite=2", signed_in(404, admin=200)),
    ],
    "admin.retry_delivery": [
        Call(
            "POST",
            "/verwaltung/zustellungen/delivery/999999/erneut",
            signed_in(404, admin="/verwaltung/zustellungen"),
        ),
        Call(
            "POST",
            "/verwaltung/zustellungen/digest/999999/erneut",
            signed_in(404, admin="/verwaltung/zustellungen"),
        ),
    ],
    "admin.invite": [
        Call("GET", "/verwaltung/einladen", signed_in(404, admin=200)),
        Call(
            "POST",
            "/verwaltung/einladen",
            signed_in(404, admin=400),
            data=lambda w, v: {"ags": "", "email": ""},
        ),
    ],
    "admin.people": [
        Call("GET", "/verwaltung/personen", signed_in(404, admin=200)),
        Call("GET", "/verwaltung/personen?q=Frisch", signed_in(404, admin=200), label="search"),
    ],
    "admin.anonymise": [
        Call(
            "GET",
            "/verwaltung/personen/{user_id}/anonymisieren",
            signed_in(404, admin=200),
            prepare=_person_elsewhere,
        ),
        Call(
            "POST",
            "/verwaltung/personen/{user_id}/anonymisieren",
            signed_in(404, admin="/verwaltung/personen"),
            prepare=_person_elsewhere,
            changed=_person_anonymised,
            changes_for=frozenset({"admin"}),
        ),
    ],
    # Registered only in development (or with DEV_MAIL_VIEW); the tests run without it.
    "devmail.inbox": [Call("GET", "/dev/mail/", everyone(404))],
    "devmail.message": [Call("GET", "/dev/mail/irgendwas", everyone(404))],
    # --- cooperations: lists and creation --------------------------------------------
    "cooperations.mine": [Call("GET", "/kooperationen/", signed_in(200))],
    "cooperations.create": [
        Call("GET", "/kooperationen/neu", signed_in(200)),
        Call("POST", "/kooperationen/neu", signed_in(400), data=lambda w, v: {"title": ""}),
    ],
    # --- cooperation A -----------------------------------------------------------------
    "cooperations.show": [coop_call("GET", COOP, read_a())],
    "cooperations.history": [coop_call("GET", COOP + "/verlauf", read_a())],
    "cooperations.history_csv": [coop_call("GET", COOP + "/verlauf.csv", read_a())],
    "cooperations.edit": [
        coop_call("GET", COOP + "/bearbeiten", change_a(200)),
        coop_call(
            "POST",
            COOP + "/bearbeiten",
            change_a(COOP),
            prepare=_just_n,
            data=_edit_data,
            changed=_edit_changed,
        ),
    ],
    "cooperations.add_partner": [
        coop_call("GET", COOP + "/partner/neu", change_a(200)),
        coop_call(
            "POST",
            COOP + "/partner/neu",
            change_a(COOP + "/partner/neu"),
            prepare=_new_municipality,
            changed=_partner_added,
            data=lambda w, v: {"ags": v["ags"], "action": "add", "joined_on": "2025-02-01"},
        ),
        coop_call(
            "POST",
            COOP + "/partner/neu",
            change_a(200),
            label="search",
            data=lambda w, v: {"action": "search", "query": PARTNER_MUNICIPALITY_A},
        ),
    ],
    # Issue 17: the partner form's search while typing (the page with results without htmx).
    "cooperations.partner_search": [
        coop_call("GET", COOP + "/partner/suche?query=Partnerau", change_a(200)),
    ],
    "cooperations.edit_partner": [
        coop_call("GET", COOP + "/partner/{partner}", change_a(200)),
        coop_call(
            "POST",
            COOP + "/partner/{partner}",
            change_a(COOP),
            prepare=_just_n,
            data=_partner_data,
            changed=_partner_changed,
        ),
    ],
    "cooperations.remove_partner": [
        coop_call(
            "POST",
            COOP + "/partner/{fresh_partner}/entfernen",
            change_a(COOP),
            prepare=_fresh_partner,
            changed=_partner_removed,
        ),
    ],
    "cooperations.roles": [
        coop_call("GET", COOP + "/rollen", change_a(200)),
        coop_call(
            "POST",
            COOP + "/rollen",
            change_a(COOP + "/rollen"),
            prepare=_user_without_role,
            changed=_role_granted,
            data=lambda w, v: {"user_id": str(v["user_id"]), "role": "observer"},
        ),
    ],
    # --- invitations into a cooperation (issue 17.1) ----------------------------------------
    "invitations.create": [
        coop_call("GET", COOP + "/einladungen/neu", change_a(200)),
        coop_call(
            "POST",
            COOP + "/einladungen/neu",
            change_a(COOP + "/rollen"),
            prepare=_just_n,
            data=_invite_data,
            changed=_invited,
        ),
    ],
    "invitations.withdraw": [
        coop_call(
            "POST",
            COOP + "/einladungen/{invitation}/zurueckziehen",
            change_a(COOP + "/rollen"),
            prepare=_open_invitation,
            changed=_withdrawn,
        ),
    ],
    # The offer page is only for the invited address (the tests of the invitations show
    # that person's answers); everyone else is refused, whatever role they hold.
    "invitations.show": [
        Call("GET", "/einladungen/{invitation}", signed_in(403), prepare=_open_invitation),
        Call("GET", "/einladungen/987654", signed_in(404)),
    ],
    "invitations.accept": [
        Call(
            "POST", "/einladungen/{invitation}/annehmen", signed_in(403), prepare=_open_invitation
        ),
    ],
    "invitations.decline": [
        Call(
            "POST", "/einladungen/{invitation}/ablehnen", signed_in(403), prepare=_open_invitation
        ),
    ],
    "invitations.accept_link": [
        Call("GET", "/einladung-kooperation/ungueltig", everyone(400)),
        Call(
            "POST",
            "/einladung-kooperation/ungueltig",
            everyone(400),
            data=lambda w, v: {"name": "X", "password": "y"},
        ),
    ],
    "invitations.decline_link": [
        Call("POST", "/einladung-kooperation/ungueltig/ablehnen", everyone(400)),
    ],
    "cooperations.revoke_role": [
        coop_call(
            "POST",
            COOP + "/rollen/{membership}/entfernen",
            change_a(COOP + "/rollen"),
            prepare=_user_with_role,
            changed=_role_revoked,
        ),
    ],
    # --- milestones (issue 3) ------------------------------------------------------------
    "milestones.mine": [Call("GET", "/meilensteine/", signed_in(200))],
    "milestones.index": [coop_call("GET", MILESTONES + "/", read_a())],
    "milestones.summary": [coop_call("GET", MILESTONES + "/uebersicht", read_a())],
    "milestones.phases": [coop_call("GET", MILESTONES + "/phasen", read_a())],
    "milestones.timeline": [coop_call("GET", MILESTONES + "/zeitleiste", read_a())],
    "milestones.show": [milestone_call("GET", MILESTONES + "/{milestone}", read_a())],
    "milestones.create": [
        coop_call("GET", MILESTONES + "/neu", change_a(200)),
        coop_call("POST", MILESTONES + "/neu", change_a(400), data=lambda w, v: {"title": ""}),
    ],
    "milestones.edit": [
        milestone_call("GET", MILESTONES + "/{milestone}/bearbeiten", change_a(200)),
        milestone_call(
            "POST",
            MILESTONES + "/{milestone}/bearbeiten",
            change_a(MILESTONE_PAGE),
            data=_milestone_form,
            changed=_milestone_has("title", lambda v: f"Geändert {v['n']}"),
        ),
    ],
    "milestones.update_status": [
        milestone_call(
            "POST",
            MILESTONES + "/{milestone}/status",
            progress_a(MILESTONE_PAGE),
            data=lambda w, v: {"status": "erledigt", "version": v["version"]},
            changed=_milestone_has("status", lambda v: "erledigt"),
        ),
    ],
    "milestones.update_due_date": [
        milestone_call(
            "POST",
            MILESTONES + "/{milestone}/termin",
            change_a(MILESTONE_PAGE),
            data=lambda w, v: {
                "due_date": f"2026-07-{v['n'] % 28 + 1:02d}",
                "version": v["version"],
            },
            changed=_milestone_has("due_date", lambda v: date(2026, 7, v["n"] % 28 + 1)),
        ),
    ],
    "milestones.update_note": [
        milestone_call(
            "POST",
            MILESTONES + "/{milestone}/notiz",
            progress_a(MILESTONE_PAGE),
            data=lambda w, v: {"progress_note": f"Notiz {v['n']}", "version": v["version"]},
            changed=_milestone_has("progress_note", lambda v: f"Notiz {v['n']}"),
        ),
    ],
    "milestones.calendar_settings": [Call("GET", "/meilensteine/kalender", signed_in(200))],
    "milestones.rotate_feed": [
        Call("POST", "/meilensteine/kalender", signed_in("/meilensteine/kalender")),
    ],
    # The feeds authenticate by their secret token only; a wrong one is not found.
    "milestones.user_feed": [Call("GET", "/kalender/ungueltig/meilensteine.ics", everyone(404))],
    "milestones.cooperation_feed": [
        Call("GET", "/kalender/ungueltig/kooperation-{coop}.ics", everyone(404)),
    ],
    # --- notifications (issue 5) -------------------------------------------------------
    "notifications.index": [Call("GET", "/benachrichtigungen/", signed_in(200))],
    "notifications.bell": [Call("GET", "/benachrichtigungen/glocke", signed_in(200))],
    # Another user's (or a missing) delivery is not found; tests/web/test_notification_inbox.py.
    "notifications.mark_read": [Call("POST", "/benachrichtigungen/987654/gelesen", signed_in(404))],
    "notifications.open_entry": [
        Call("POST", "/benachrichtigungen/987654/oeffnen", signed_in(404)),
    ],
    "notifications.mark_all_read": [
        Call("POST", "/benachrichtigungen/alle-gelesen", signed_in("/benachrichtigungen/")),
    ],
    "notifications.settings": [
        Call("GET", NOTIFY_SETTINGS, signed_in(200)),
        Call("POST", NOTIFY_SETTINGS, signed_in(400), data=lambda w, v: {"modus-bogus": "off"}),
    ],
    # Whoever has a role in A may add an exception for A; nobody else learns of A.
    "notifications.add_override": [
        Call(
            "POST",
            NOTIFY_SETTINGS + "/ausnahmen",
            {
                "anonymous": LOGIN,
                **dict.fromkeys(ROLE_ACTORS, NOTIFY_SETTINGS + "#ausnahmen"),
                **dict.fromkeys(OUTSIDERS, 400),
            },
            prepare=_no_override_for_a,
            data=lambda w, v: {
                "cooperation_id": str(w.coop_a),
                "event_type": "cost.approved",
                "mode": "off",
            },
            changed=_override_for_a_added,
            changes_for=frozenset(ROLE_ACTORS),
        ),
    ],
    "notifications.remove_override": [
        Call("POST", NOTIFY_SETTINGS + "/ausnahmen/987654/entfernen", signed_in(404)),
    ],
    # The signed token is the authorization: a wrong one is refused for everyone.
    "notifications.unsubscribe": [
        Call("GET", "/benachrichtigungen/abmelden/ungueltig", everyone(400)),
        Call("POST", "/benachrichtigungen/abmelden/ungueltig", everyone(400)),
    ],
    # --- costs (issue 4) ------------------------------------------------------------------
    "costs.index": [cost_call("GET", COSTS + "/?jahr=2026", read_a())],
    "costs.key": [
        cost_call("GET", COSTS + "/schluessel/2026", read_a()),
        cost_call("POST", COSTS + "/schluessel/2026", key_a(400), data=lambda w, v: {"kind": ""}),
    ],
    "costs.create": [
        cost_call("GET", COSTS + "/neu", book_a(200)),
        cost_call("POST", COSTS + "/neu", book_a(400), data=lambda w, v: {"amount": "1e3"}),
    ],
    "costs.show": [cost_call("GET", COST_PAGE, read_a(), prepare=_fresh_cost("entwurf"))],
    "costs.receipt_download": [
        cost_call("GET", COST_PAGE + "/beleg", read_a(), prepare=_fresh_receipt),
    ],
    "costs.receipt_upload": [
        cost_call(
            "POST",
            COST_PAGE + "/beleg",
            book_a(COST_PAGE),
            prepare=_fresh_cost("entwurf"),
            data=_receipt_file,
            changed=_receipt_stored,
        ),
    ],
    "costs.edit": [
        cost_call("GET", COST_PAGE + "/bearbeiten", book_a(200), prepare=_fresh_cost("entwurf")),
        cost_call(
            "POST",
            COST_PAGE + "/bearbeiten",
            book_a(COST_PAGE),
            prepare=_fresh_cost("entwurf"),
            data=_cost_form,
            changed=_cost_has("text", lambda v: f"Geändert {v['n']}"),
        ),
    ],
    "costs.submit": [
        cost_call(
            "POST",
            COST_PAGE + "/einreichen",
            book_a(COST_PAGE),
            prepare=_fresh_cost("entwurf"),
            data=lambda w, v: {"version": v["version"]},
            changed=_cost_has("state", lambda v: "eingereicht"),
        ),
    ],
    "costs.approve": [
        cost_call(
            "POST",
            COST_PAGE + "/freigeben",
            book_a(COST_PAGE),
            prepare=_fresh_cost("eingereicht"),
            data=lambda w, v: {"version": v["version"]},
            changed=_cost_has("state", lambda v: "freigegeben"),
        ),
    ],
    "costs.reject": [
        cost_call(
            "POST",
            COST_PAGE + "/ablehnen",
            book_a(COST_PAGE),
            prepare=_fresh_cost("eingereicht"),
            data=lambda w, v: {"version": v["version"], "reason": "Beleg fehlt"},
            changed=_cost_has("state", lambda v: "abgelehnt"),
        ),
    ],
    # A stale version: the treasurer gets 409 and nothing changes (the storno itself is
    # tested in tests/web/test_costs.py).
    "costs.cancel": [
        cost_call(
            "POST",
            COST_PAGE + "/stornieren",
            book_a(409),
            prepare=_fresh_cost("freigegeben"),
            data=lambda w, v: {"version": "0"},
        ),
    ],
    "costs.payment": [
        cost_call("GET", COSTS + "/zahlungen/neu", book_a(200)),
        cost_call("POST", COSTS + "/zahlungen/neu", book_a(400), data=lambda w, v: {}),
    ],
    "costs.close_year_confirm": [
        cost_call(
            "GET",
            COSTS + "/jahresabschluss/{year}",
            book_a(200),
            prepare=lambda w: {"year": 2000 + w.n()},
        ),
    ],
    "costs.close_year": [
        cost_call(
            "POST",
            COSTS + "/jahresabschluss/{year}",
            book_a(COSTS + "/"),
            prepare=lambda w: {"year": 2000 + w.n()},
            changed=_year_closed,
        ),
    ],
    "costs.recurring": [cost_call("GET", RECURRING, read_a())],
    "costs.recurring_create": [
        cost_call("GET", RECURRING + "/neu", book_a(200)),
        cost_call("POST", RECURRING + "/neu", book_a(400), data=lambda w, v: {"amount": "1e3"}),
    ],
    "costs.recurring_edit": [
        cost_call(
            "GET", RECURRING + "/{recurring}/bearbeiten", book_a(200), prepare=_fresh_recurring
        ),
        cost_call(
            "POST",
            RECURRING + "/{recurring}/bearbeiten",
            book_a(RECURRING),
            prepare=_fresh_recurring,
            data=_recurring_form,
            changed=_recurring_has("text", lambda v: f"Geändert {v['n']}"),
        ),
    ],
    "costs.recurring_end_confirm": [
        cost_call("GET", RECURRING + "/{recurring}/beenden", book_a(200), prepare=_fresh_recurring),
    ],
    "costs.recurring_end": [
        cost_call(
            "POST",
            RECURRING + "/{recurring}/beenden",
            book_a(RECURRING),
            prepare=_fresh_recurring,
            data=lambda w, v: {"version": v["version"]},
            changed=_recurring_has("active", lambda v: "False"),
        ),
    ],
    # The same endpoint serves the XLSX (binary; read back in tests/web/test_costs.py).
    "costs.statement": [
        cost_call(
            "GET",
            COSTS + "/abrechnung/2026/{mun}.csv",
            read_a(),
            prepare=lambda w: {"mun": w.municipality_ids["A"]},
        ),
    ],
    # Sammelabrechnung and the statements' details (tests/web/test_cost_statement_letterhead.py).
    "costs.statement_all": [
        cost_call("GET", COSTS + "/abrechnung/2026/alle.pdf", read_a()),
        cost_call("GET", COSTS + "/abrechnung/2026/alle.xlsx", read_a()),
    ],
    "costs.statement_details": [
        cost_call("GET", COSTS + "/abrechnung/2026/angaben", book_a(200)),
        cost_call(
            "POST",
            COSTS + "/abrechnung/2026/angaben",
            book_a(COSTS + "/"),
            data=lambda w, v: {"reference": "KZ-2026", "version": ""},
            changed=_terms_saved,
        ),
    ],
    # Printable statement and its PDF (amounts checked in tests/web/test_cost_statement.py).
    "costs.statement_page": [
        cost_call(
            "GET",
            COSTS + "/abrechnung/2026/{mun}",
            read_a(),
            prepare=lambda w: {"mun": w.municipality_ids["A"]},
        ),
    ],
    "costs.statement_pdf": [
        cost_call(
            "GET",
            COSTS + "/abrechnung/2026/{mun}.pdf",
            read_a(),
            prepare=lambda w: {"mun": w.municipality_ids["A"]},
        ),
    ],
    # Planansatz: every role reads; Kämmerei and Projektleitung set it (saving: test_cost_budget).
    "costs.budget": [
        cost_call("GET", COSTS + "/planansatz/2026", read_a()),
        cost_call(
            "POST",
            COSTS + "/planansatz/2026",
            key_a(400),
            data=lambda w, v: {"category_0": "", "amount_0": "1e3"},
        ),
    ],
}


def _case_id(endpoint: str, call: Call, actor: str) -> str:
    label = f"-{call.label}" if call.label else ""
    return f"{endpoint}-{call.method}{label}-{actor}"


CASES = [
    pytest.param(endpoint, index, actor, id=_case_id(endpoint, call, actor))
    for endpoint, calls in ROUTES.items()
    for index, call in enumerate(calls)
    for actor in ACTORS
]


# --- the tests ----------------------------------------------------------------------------


def test_every_route_is_in_the_table(auth_app: Flask) -> None:
    """Each (rule, method) of the URL map has a call in ROUTES whose path reaches it."""
    adapter = auth_app.url_map.bind("localhost")
    tabled = {(endpoint, call.method) for endpoint, calls in ROUTES.items() for call in calls}
    missing = []
    for rule in auth_app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in tabled:
                missing.append(f"{method} {rule.rule} (endpoint {rule.endpoint!r})")
    assert not missing, (
        "Routes without authorization expectations – add them to ROUTES in "
        "tests/web/test_authorization.py with the outcome for every actor:\n  "
        + "\n  ".join(missing)
    )
    registered = {rule.endpoint for rule in auth_app.url_map.iter_rules()}
    dummy = {
        "coop": 1,
        "partner": 1,
        "fresh_partner": 1,
        "membership": 1,
        "coop_b": 2,
        "milestone": 1,
        "cost": 1,
        "recurring": 1,
        "year": 2026,
        "mun": 1,
        "invitation": 1,
        "user_id": 1,
    }
    for endpoint, calls in ROUTES.items():
        for call in calls:
            assert set(call.expect) == set(ACTORS), f"{endpoint}: expectations for every actor"
            if endpoint not in registered:
                assert endpoint.startswith("devmail."), f"{endpoint} is not a route (any more)"
                continue
            path = call.path.format(**dummy).split("?")[0]
            matched, _args = adapter.match(path, method=call.method)
            assert matched == endpoint, f"ROUTES[{endpoint!r}] calls {path}, which is {matched}"


def _check_outcome(response, expected: Outcome, where: str) -> None:  # noqa: ANN001
    body = response.get_data().decode("utf-8", "replace")  # a PDF answer is binary
    if isinstance(expected, str):
        assert response.status_code == 302, f"{where}: {response.status_code}, {body[:300]}"
        location = response.headers["Location"]
        assert location.split("?")[0] == expected, f"{where}: redirect to {location}"
    else:
        assert response.status_code == expected, f"{where}: {response.status_code}, {body[:300]}"


@pytest.mark.parametrize(("endpoint", "index", "actor"), CASES)
def test_route_by_role(world: World, endpoint: str, index: int, actor: str) -> None:
    """One call by one actor: status, no leak, nothing changed unless it may change."""
    call = ROUTES[endpoint][index]
    expected = call.expect[actor]
    values = world.values()
    if call.prepare:
        values.update(call.prepare(world))
    client = world.client_for(actor)
    path = call.path.format(**values)
    data = call.data(world, values) if call.data else {}
    before = world.snapshot()
    if isinstance(expected, str):
        expected = expected.format(**values)
    where = f"{call.method} {path} as {actor}"

    responses = []
    if call.method == "GET":
        responses.append(client.get(path))
        if call.about_coop_a:  # the htmx fragment is checked like the page
            responses.append(client.get(path, headers=HX))
    else:
        responses.append(client.post(path, data=data))
    for response in responses:
        _check_outcome(response, expected, where)
        # Whatever it carries (page, fragment, export, feed, error): no cache keeps it.
        assert "no-store" in response.headers.get("Cache-Control", ""), where
        if actor not in ROLE_ACTORS:
            body = response.get_data(as_text=True)
            for text in world.forbidden_texts(actor):
                assert text not in body, f"{where}: the answer reveals {text!r}"

    if actor in call.changes_for:
        call.changed(world, values)
    else:
        assert world.snapshot() == before, f"{where}: the database changed"


# Ids of cooperation A smuggled into URLs of cooperation B, by B's own lead.
CROSS_CALLS = [
    ("GET", "/kooperationen/{coop_b}/partner/{partner}"),
    ("POST", "/kooperationen/{coop_b}/partner/{partner}"),
    ("POST", "/kooperationen/{coop_b}/partner/{partner}/entfernen"),
    ("POST", "/kooperationen/{coop_b}/rollen/{membership}/entfernen"),
    ("POST", "/kooperationen/{coop}/partner/{partner_b}/entfernen"),
    ("POST", "/kooperationen/{coop}/rollen/{membership_b}/entfernen"),
]


@pytest.mark.parametrize(("method", "path"), CROSS_CALLS, ids=[f"{m} {p}" for m, p in CROSS_CALLS])
def test_ids_of_another_cooperation_are_not_found(world: World, method: str, path: str) -> None:
    """A lead cannot reach A's partners or roles through their own cooperation's URLs."""
    with world.app.app_context():
        membership = db.session.scalar(
            select(Membership.id).where(
                Membership.cooperation_id == world.coop_a,
                Membership.user_id == world.users["observer"],
            )
        )
    path = path.format(membership=membership, **world.values())
    client = world.client_for("other_lead")
    before = world.snapshot()
    data = {"joined_on": "2025-01-01", "left_on": "2025-06-30"}
    response = client.get(path) if method == "GET" else client.post(path, data=data)
    assert response.status_code == 404, f"{method} {path}: {response.status_code}"
    assert world.snapshot() == before


# A cost of A reached through B's URLs: B's treasurer holds a role there, the cost is A's.
COST_CROSS_CALLS = [
    ("GET", "/kooperationen/{coop_b}/kosten/{cost}"),
    ("GET", "/kooperationen/{coop_b}/kosten/{cost}/bearbeiten"),
    ("POST", "/kooperationen/{coop_b}/kosten/{cost}/bearbeiten"),
    ("POST", "/kooperationen/{coop_b}/kosten/{cost}/einreichen"),
    ("POST", "/kooperationen/{coop_b}/kosten/{cost}/freigeben"),
    ("POST", "/kooperationen/{coop_b}/kosten/{cost}/ablehnen"),
    ("POST", "/kooperationen/{coop_b}/kosten/{cost}/stornieren"),
    ("GET", "/kooperationen/{coop_b}/kosten/abrechnung/2026/{mun_a}.csv"),
]


@pytest.mark.parametrize(
    ("method", "path"), COST_CROSS_CALLS, ids=[f"{m} {p}" for m, p in COST_CROSS_CALLS]
)
def test_costs_of_another_cooperation_are_not_found(world: World, method: str, path: str) -> None:
    """B's treasurer cannot read or change A's costs through B's cost URLs."""
    values = _fresh_cost("eingereicht")(world)
    with world.app.app_context():
        if "b_treasurer" not in world.users:
            user = _user(
                "b_treasurer", db.session.get(User, world.users["other_lead"]).municipality
            )
            db.session.add(user)
            db.session.flush()
            db.session.add(
                Membership(cooperation_id=world.coop_b, user_id=user.id, role=Role.TREASURER)
            )
            db.session.commit()
            world.users["b_treasurer"] = user.id
    path = path.format(cost=values["cost"], mun_a=world.municipality_ids["P"], **world.values())
    client = world.client_for("b_treasurer")
    before = world.snapshot()
    data = {"version": values["version"], "reason": "x", "text": "Fremd", "amount": "1,00"}
    response = client.get(path) if method == "GET" else client.post(path, data=data)
    assert response.status_code == 404, f"{method} {path}: {response.status_code}"
    assert TITLE_A not in response.get_data(as_text=True)
    assert world.snapshot() == before
    with world.app.app_context():
        from koopboard.models.cost import Cost

        assert db.session.get(Cost, values["cost"]).state.value == "eingereicht"


def _without_tokens(body: str) -> str:
    """The page without what differs per request: CSRF tokens and the page's own path."""
    return re.sub(
        r'(name="csrf-token" content|name="csrf_token" value|name="next" value)="[^"]*"', "", body
    )


@pytest.mark.parametrize("actor", OUTSIDERS)
def test_a_hidden_cooperation_looks_like_a_missing_one(world: World, actor: str) -> None:
    """The 404 for A is the same page as for an id that does not exist."""
    client = world.client_for(actor)
    hidden = client.get(f"/kooperationen/{world.coop_a}/verlauf")
    missing = client.get("/kooperationen/987654/verlauf")
    assert hidden.status_code == missing.status_code == 404
    assert _without_tokens(hidden.get_data(as_text=True)) == _without_tokens(
        missing.get_data(as_text=True)
    )


@pytest.mark.parametrize("actor", OUTSIDERS)
def test_a_valid_calendar_token_does_not_open_a_hidden_cooperation(
    world: World, actor: str
) -> None:
    """The feeds authenticate by token: the token's owner still needs a role in A."""
    from koopboard.milestones.calendar import enable_or_rotate

    with world.app.app_context():
        token = enable_or_rotate(db.session.get(User, world.users[actor]))
        db.session.commit()
    client = world.app.test_client()
    hidden = client.get(f"/kalender/{token}/kooperation-{world.coop_a}.ics")
    assert hidden.status_code == 404
    own = client.get(f"/kalender/{token}/meilensteine.ics")
    assert own.status_code == 200
    for text in world.forbidden_texts(actor):
        assert text not in own.get_data(as_text=True)
