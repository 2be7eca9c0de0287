"""Constant queries per page: 3 partners, roles and cooperations cost what 30 cost (no N+1)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from koopboard.cooperations.services import CooperationData, add_partner, create_cooperation
from koopboard.domain.catalog import Role
from koopboard.domain.invitations import InvitationStatus
from koopboard.extensions import db
from koopboard.models import CooperationInvitation, Membership, Municipality, User
from tests.conftest import KoopClient
from tests.web.test_authorization import sign_in

START = date(2025, 1, 1)


@pytest.fixture(autouse=True)
def _close_connections(app) -> Iterator[None]:  # noqa: ANN001
    """Each test's app has its own pool; close it, or PostgreSQL runs out of connections."""
    yield
    db.session.remove()
    db.engine.dispose()


@contextmanager
def counting() -> Iterator[list[str]]:
    """Every SQL statement sent to the database while the block runs."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@dataclass
class Scale:
    """One lead with ``n`` partners (each with a person holding a role) and ``n`` more
    cooperations, everything with its history."""

    lead: User
    cooperation_id: int
    partner_id: int


def build(n: int, prefix: str) -> Scale:
    def municipality(i: int) -> Municipality:
        return Municipality(
            ags=f"{prefix}{i:06d}",
            name=f"Ort {prefix}-{i}",
            kind="Gemeinde",
            land="Saarland",
            kreis=f"Kreis {prefix}",
            population=1000 + i,
            postcode=f"{prefix}{i:03d}",
        )

    lead_town = municipality(0)
    towns = [municipality(i) for i in range(1, n + 1)]
    lead = User(
        email=f"lead{prefix}@example.org",
        name=f"Lead {prefix}",
        password_hash="x",
        municipality=lead_town,
    )
    people = [
        User(
            email=f"p{prefix}-{i}@example.org",
            name=f"Person {prefix}-{i}",
            password_hash="x",
            municipality=town,
        )
        for i, town in enumerate(towns)
    ]
    db.session.add_all([lead_town, *towns, lead, *people])
    db.session.flush()

    def cooperation(title: str):  # noqa: ANN202
        return create_cooperation(
            CooperationData(
                title=title,
                goals="Ziele",
                handlungsfeld="it",
                rechtsform="zweckverband",
                status="aktiv",
                start_date=START,
                end_date=None,
            ),
            by=lead,
        )

    main = cooperation(f"Hauptkooperation {prefix}")
    roles = [Role.TREASURER, Role.MEMBER, Role.OBSERVER]
    for i, (town, person) in enumerate(zip(towns, people, strict=True)):
        partner = add_partner(main, ags=town.ags, joined_on=START, council_resolution_on=None)
        db.session.add(Membership(cooperation=main, user=person, role=roles[i % 3]))
    for i in range(n):
        other = cooperation(f"Kooperation {prefix}-{i}")
        add_partner(other, ags=towns[i].ags, joined_on=START, council_resolution_on=None)
    # Open invitations on the roles page, one to the lead on "Meine Kooperationen".
    inviters = [lead, *people]
    for i, town in enumerate(towns):
        db.session.add(
            CooperationInvitation(
                cooperation=main,
                municipality=town,
                email=f"eingeladen{prefix}-{i}@example.org",
                role=roles[i % 3],
                status=InvitationStatus.OPEN,
                invited_by=inviters[i % len(inviters)],
                expires_at=datetime.now(UTC) + timedelta(days=7),
            )
        )
        db.session.add(
            CooperationInvitation(
                cooperation=other if i == 0 else main,
                municipality=lead_town,
                email=lead.email if i == 0 else f"lead-{prefix}-{i}@example.org",
                role=Role.MEMBER,
                status=InvitationStatus.OPEN,
                invited_by=people[i],
                expires_at=datetime.now(UTC) + timedelta(days=7),
            )
        )
    db.session.commit()
    return Scale(lead=lead, cooperation_id=main.id, partner_id=partner.id)


PAGES: dict[str, Callable[[Scale], str]] = {
    "show": lambda s: f"/kooperationen/{s.cooperation_id}",
    "mine": lambda s: "/kooperationen/",
    "history": lambda s: f"/kooperationen/{s.cooperation_id}/verlauf",
    "history_csv": lambda s: f"/kooperationen/{s.cooperation_id}/verlauf.csv",
    "partner_add": lambda s: f"/kooperationen/{s.cooperation_id}/partner/neu",
    "partner_edit": lambda s: f"/kooperationen/{s.cooperation_id}/partner/{s.partner_id}",
    "roles": lambda s: f"/kooperationen/{s.cooperation_id}/rollen",
    "invite": lambda s: f"/kooperationen/{s.cooperation_id}/einladungen/neu",
    "edit": lambda s: f"/kooperationen/{s.cooperation_id}/bearbeiten",
}


# The cooperation page's last changes name the people and records they refer to: one
# statement for all of them.
LIMITS = {"show": 9}


def queries_for(client: KoopClient, url: str) -> list[str]:
    client.get(url)  # warm up: first connect, caches
    with counting() as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return statements


def test_pages_issue_the_same_queries_for_3_and_30(app, client) -> None:  # noqa: ANN001
    small = build(3, "81")
    large = build(30, "82")
    small_client, large_client = client, app.test_client()
    sign_in(small_client, small.lead.id)
    sign_in(large_client, large.lead.id)

    report = {}
    for name, url in PAGES.items():
        few = queries_for(small_client, url(small))
        many = queries_for(large_client, url(large))
        report[name] = (len(few), len(many))
        assert len(few) == len(many), (
            f"{name}: {len(few)} queries with 3, {len(many)} with 30 (N+1?):\n"
            + "\n---\n".join(many)
        )
        limit = LIMITS.get(name, 8)
        assert len(many) <= limit, f"{name}: {len(many)} queries\n" + "\n---\n".join(many)
    print(report)


def test_the_rows_are_really_there(app, client) -> None:  # noqa: ANN001
    """The pages above list what they should, so equal counts are not equal emptiness."""
    large = build(30, "83")
    sign_in(client, large.lead.id)
    mine = client.get("/kooperationen/").get_data(as_text=True)
    assert mine.count("/kooperationen/") >= 31
    show = client.get(f"/kooperationen/{large.cooperation_id}").get_data(as_text=True)
    assert "Ort 83-30" in show and "Person 83-29" in show
    roles = client.get(f"/kooperationen/{large.cooperation_id}/rollen").get_data(as_text=True)
    assert "Person 83-29" in roles
    assert "eingeladen83-29@example.org" in roles and "Ort 83-30" in roles
