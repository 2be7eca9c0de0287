"""Nationwide data in seconds, for the page benchmark and the scale test — never real data.

Multi-row INSERTs around the services (no history, no notifications), as a migration would:

- ``add_municipalities``: synthetic municipalities (the benchmark imports the register);
- ``add_cooperations``: cooperations led by every 7th municipality with its neighbours as
  partners (4 or 5 each), a Projektleitung each and ``milestones`` milestones each;
- ``build_measured``: the cooperation the pages are measured on — 20 partners, approved
  costs split by the population key (``costs.books.bulk``), milestones, and its
  Projektleitung also a member of a few other cooperations;
- ``grow_measured``: more costs and milestones on it, for the "tenfold" comparison.

Used by ``bench/bench_pages.py`` and ``tests/web/test_queries_scale.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import insert, select

from koopboard.costs.books import services as books
from koopboard.costs.books.bulk import YEAR, add_costs, build_books
from koopboard.domain.catalog import Role
from koopboard.domain.milestones import MilestoneStatus, Phase
from koopboard.extensions import db
from koopboard.models import Cooperation, CooperationPartner, Membership, Municipality, User
from koopboard.models.milestone import Milestone
from koopboard.models.types import utcnow

_BATCH = 5000
_FIELDS = ("verwaltung", "it", "ver_entsorgung", "umwelt_energie", "bildung")
_STATUSES = list(MilestoneStatus)
_PHASES = list(Phase)


@dataclass(frozen=True)
class Measured:
    """The measured cooperation (ids only: the session is committed)."""

    cooperation_id: int
    lead_id: int
    municipality_ids: list[int]
    populations: dict[int, int]
    costs: int
    milestones: int


def add_municipalities(count: int, first: int = 0) -> None:
    """``count`` synthetic municipalities "Ort <n>" (AGS 9<n:07d>), all in one Kreis."""
    rows = [
        {
            "ags": f"9{n:07d}",
            "name": f"Ort {n}",
            "kind": "Gemeinde",
            "land": "Testland",
            "kreis": f"Kreis {n // 50}",
            "population": 1000 + n,
            "population_date": date(YEAR - 2, 12, 31),
            "population_source": "Testdaten",
            "postcode": f"{n % 100000:05d}",
        }
        for n in range(first, first + count)
    ]
    for start in range(0, len(rows), _BATCH):
        db.session.execute(insert(Municipality), rows[start : start + _BATCH])


def municipality_ids() -> list[int]:
    """Every municipality's id, in AGS order."""
    return list(db.session.scalars(select(Municipality.id).order_by(Municipality.ags)))


def milestone_row(cooperation_id: int, k: int, municipality_id: int, person_id: int | None = None):  # noqa: ANN201
    """The k-th milestone: every status and phase in turn, due every fortnight around today."""
    status = _STATUSES[k % len(_STATUSES)]
    due = date.today() + timedelta(days=14 * k - 120)
    now = utcnow()
    return {
        "cooperation_id": cooperation_id,
        "title": f"Meilenstein {k + 1}: Beschluss & Umsetzung <Teil {k % 4}>",
        "description": "Beschreibung des Schritts mit Umlauten: Kämmerei, Gebührensatzung.",
        "phase": _PHASES[k % len(_PHASES)],
        "due_date": due,
        "status": status,
        "responsible_municipality_id": municipality_id,
        "responsible_person_id": person_id,
        "completed_on": due if status is MilestoneStatus.ERLEDIGT else None,
        "progress_note": "Vorlage im Rat" if k % 2 else "",
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }


def add_cooperations(
    count: int, partners: int, milestones: int, ids: list[int], *, number: int = 0
) -> list[int]:
    """``count`` cooperations with ``partners`` partners in all (4 or 5 each), one
    Projektleitung and ``milestones`` milestones each; returns their ids."""
    if not 4 * count <= partners <= 5 * count:
        raise ValueError("4 or 5 partners per cooperation")
    now, start = utcnow(), date(YEAR - 2, 1, 1)
    coops, leads = [], []
    for n in range(number, number + count):
        lead_town = ids[(n * 7) % len(ids)]
        coops.append(
            {
                "title": f"Kooperation {n} Verwaltung und Service",
                "goals": "Gemeinsam verwalten.",
                "handlungsfeld": _FIELDS[n % len(_FIELDS)],
                "rechtsform": "zweckvereinbarung",
                "status": "aktiv",
                "start_date": start,
                "lead_municipality_id": lead_town,
                "lead_may_approve": False,
                "created_at": now,
                "version": 1,
            }
        )
        leads.append(
            {
                "email": f"leitung{n}@scale.example",
                "name": f"Leitung {n}",
                "password_hash": "x",  # nosec B105 - no valid hash: nobody signs in as them
                "municipality_id": lead_town,
                "is_admin": False,
                "is_active_account": True,
                "created_at": now,
            }
        )
    coop_ids = db.session.scalars(insert(Cooperation).returning(Cooperation.id), coops).all()
    user_ids = db.session.scalars(insert(User).returning(User.id), leads).all()
    fifth = partners - 4 * count  # the first ones get a fifth partner
    partner_rows, memberships, milestone_rows = [], [], []
    for i, (coop_id, user_id) in enumerate(zip(coop_ids, user_ids, strict=True)):
        n = number + i
        towns = [ids[(n * 7 + k) % len(ids)] for k in range(5 if i < fifth else 4)]
        partner_rows += [
            {"cooperation_id": coop_id, "municipality_id": town, "joined_on": start}
            for town in towns
        ]
        memberships.append(
            {"cooperation_id": coop_id, "user_id": user_id, "role": Role.LEAD, "created_at": now}
        )
        milestone_rows += [
            milestone_row(coop_id, k, towns[k % len(towns)]) for k in range(milestones)
        ]
    db.session.execute(insert(CooperationPartner), partner_rows)
    db.session.execute(insert(Membership), memberships)
    for first in range(0, len(milestone_rows), _BATCH):
        db.session.execute(insert(Milestone), milestone_rows[first : first + _BATCH])
    db.session.commit()
    return list(coop_ids)


def build_measured(costs: int, milestones: int, towns: list[Municipality]) -> Measured:
    """The measured cooperation of the 20 ``towns`` (the first leads), committed."""
    made = build_books(costs, "00", towns=towns)
    populations = {t.id: t.population or 0 for t in towns}
    rows = [
        milestone_row(
            made.cooperation_id,
            k,
            made.municipality_ids[k % 20],
            made.lead_id if k % 3 == 0 else None,
        )
        for k in range(milestones)
    ]
    if rows:
        db.session.execute(insert(Milestone), rows)
    db.session.commit()
    return Measured(
        made.cooperation_id, made.lead_id, made.municipality_ids, populations, costs, milestones
    )


def grow_measured(measured: Measured, costs: int, milestones: int) -> Measured:
    """Up to ``costs`` costs and ``milestones`` milestones on the measured cooperation."""
    add_costs(
        measured.cooperation_id,
        measured.municipality_ids[0],
        measured.populations,
        measured.costs,
        costs - measured.costs,
    )
    books.rebuild_balances(measured.cooperation_id, YEAR)
    rows = [
        milestone_row(
            measured.cooperation_id,
            k,
            measured.municipality_ids[k % 20],
            measured.lead_id if k % 3 == 0 else None,
        )
        for k in range(measured.milestones, milestones)
    ]
    if rows:
        db.session.execute(insert(Milestone), rows)
    db.session.commit()
    return Measured(
        measured.cooperation_id,
        measured.lead_id,
        measured.municipality_ids,
        measured.populations,
        costs,
        milestones,
    )


def join(user_id: int, cooperation_ids: list[int], role: Role = Role.MEMBER) -> None:
    """The user takes ``role`` in each of the cooperations."""
    now = utcnow()
    db.session.execute(
        insert(Membership),
        [
            {"cooperation_id": c, "user_id": user_id, "role": role, "created_at": now}
            for c in cooperation_ids
        ],
    )
    db.session.commit()
