"""The Kooperations-Check: save a version, read versions, suggest partners, count.

A municipality's answers are seen only by its own users (and, as counts per Land and
Kreis, by the platform admin). The view owns the commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import and_, func, null, or_, select

from koopboard.boerse.services import (
    KIND_COOPERATION,
    Entry,
    Filters,
    attach_partner_names,
    distance_sql,
    entries_query,
    entry_from_row,
    search,
    within_box,
)
from koopboard.cooperations import services as cooperations
from koopboard.cooperations.services import SearchHit
from koopboard.domain.catalog import Handlungsfeld
from koopboard.domain.check import (
    PICKS_MAX,
    Answers,
    entry_key,
    parse_entry_key,
    suggested_fields,
)
from koopboard.domain.directory import Visibility
from koopboard.domain.geo import Point
from koopboard.extensions import db
from koopboard.models import CooperationPartner, KoopCheck, Municipality, User

NEARBY_KM = 25
SUGGESTIONS_MAX = 20


class CheckError(ValueError):
    """A German message for the user; ``field`` names the form field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def latest(municipality_id: int) -> KoopCheck | None:
    """The municipality's newest version, or None."""
    return db.session.scalar(
        select(KoopCheck)
        .where(KoopCheck.municipality_id == municipality_id)
        .order_by(KoopCheck.version.desc())
        .limit(1)
    )


def versions(municipality_id: int) -> list[KoopCheck]:
    """Every version, newest first, with who saved it when."""
    return list(
        db.session.scalars(
            select(KoopCheck)
            .where(KoopCheck.municipality_id == municipality_id)
            .order_by(KoopCheck.version.desc())
        )
    )


def version(municipality_id: int, number: int) -> KoopCheck | None:
    return db.session.scalar(
        select(KoopCheck).where(
            KoopCheck.municipality_id == municipality_id, KoopCheck.version == number
        )
    )


def municipalities_by_ags(ags: Iterable[str]) -> list[Municipality]:
    """Question 3's chosen partners, by name (the partner form's look-up)."""
    return cooperations.municipalities_by_ags(ags, limit=PICKS_MAX)


def find_municipalities(query: str, near: Municipality) -> list[SearchHit]:
    """Question 3's search: the partner form's register search, near the user's own Kreis."""
    return cooperations.search_municipalities(query, near=near)


def entries_by_keys(keys: Iterable[str], *, today: date) -> list[Entry]:
    """The directory entries picked in question 7 that a signed-in user may still see
    (one query; an entry no longer published drops out), in the order picked."""
    parsed = [p for p in (parse_entry_key(k) for k in dict.fromkeys(keys)) if p][:PICKS_MAX]
    if not parsed:
        return []
    entries = entries_query(Visibility.visible_to(signed_in=True), today)
    c = entries.c
    wanted = or_(*(and_(c.kind == kind, c.key == key) for kind, key in parsed))
    rows = db.session.execute(select(*c, null().label("distance_km")).where(wanted)).all()
    found = {entry_key(e.kind, e.key): e for e in map(entry_from_row, rows)}
    return [found[k] for k in (entry_key(kind, key) for kind, key in parsed) if k in found]


def find_entries(text: str, *, today: date) -> list[Entry]:
    """Question 7's search: the directory's own free-text search, as a signed-in user sees it."""
    if len((text or "").strip()) < 2:
        return []
    found = search(Filters(text=text, page_size=10), signed_in=True, today=today)
    return found.entries


def save(user: User, answers: Answers) -> KoopCheck:
    """A new version for the user's municipality (earlier ones stay readable)."""
    if user.municipality_id is None:
        raise CheckError(_("Den Kooperations-Check füllen Beschäftigte einer Kommune aus."))
    current = db.session.scalar(
        select(func.max(KoopCheck.version)).where(KoopCheck.municipality_id == user.municipality_id)
    )
    row = KoopCheck(
        municipality_id=user.municipality_id,
        version=(current or 0) + 1,
        author_id=user.id,
        answers=answers.to_json(),
        ready=answers.ready,
    )
    db.session.add(row)
    db.session.flush()
    return row


@dataclass
class Result:
    fields: list[Handlungsfeld]
    suggestions: list[Entry]
    partners: list[Municipality]  # Q3: whom the municipality already works with
    known: list[Entry]  # Q7: directory entries it named, still published


def result(municipality: Municipality, answers: Answers, *, today: date) -> Result:
    """Suggested fields; published cooperations and register associations in the same
    Kreis or within 25 km in those fields, nearest first."""
    fields = suggested_fields(answers)
    partners = municipalities_by_ags(answers.q3_partners) if answers.q3 else []
    known = entries_by_keys(answers.q7_entries, today=today) if answers.q7 else []
    return Result(fields, suggestions(municipality, fields, today=today), partners, known)


def suggestions(
    municipality: Municipality, fields: list[Handlungsfeld], *, today: date
) -> list[Entry]:
    """Entries in ``fields`` of the same Kreis or within 25 km, nearest first (one query)."""
    if not fields:
        return []
    entries = entries_query(Visibility.visible_to(signed_in=True), today)
    c = entries.c
    origin = Point.of(municipality.breitengrad, municipality.laengengrad)
    near = c.kreis == municipality.kreis
    distance = None
    if origin is not None:
        distance = distance_sql(c.lat, c.lon, origin)
        within = and_(*within_box(c.lat, c.lon, origin, NEARBY_KM), distance <= NEARBY_KM)
        near = or_(near, within)
    own = select(CooperationPartner.cooperation_id).where(
        CooperationPartner.municipality_id == municipality.id
    )
    query = (
        select(*c, (distance if distance is not None else null()).label("distance_km"))
        .where(c.handlungsfeld.in_([f.value for f in fields]), near)
        .where(or_(c.kind != KIND_COOPERATION, c.cooperation_id.not_in(own)))
        .order_by(*(x for x in (distance, c.title) if x is not None))
        .limit(SUGGESTIONS_MAX)
    )
    found = [entry_from_row(row) for row in db.session.execute(query)]
    attach_partner_names(found, today)
    return found


@dataclass(frozen=True)
class AggregateRow:
    land: str
    kreis: str
    municipalities: int  # that filled the check
    ready: int  # of those, ready to cooperate (Q4)
    fields: dict[str, int]  # Handlungsfeld → municipalities naming it (Q1)


def aggregate() -> list[AggregateRow]:
    """Counts per Land and Kreis over each municipality's latest version: never answers."""
    newest = (
        select(KoopCheck.municipality_id, func.max(KoopCheck.version).label("version"))
        .group_by(KoopCheck.municipality_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Municipality.land, Municipality.kreis, KoopCheck.ready, KoopCheck.answers)
        .join(newest, newest.c.municipality_id == KoopCheck.municipality_id)
        .join(Municipality, Municipality.id == KoopCheck.municipality_id)
        .where(KoopCheck.version == newest.c.version)
        .order_by(Municipality.land, Municipality.kreis)
    ).all()
    table: dict[tuple[str, str], AggregateRow] = {}
    for land, kreis, ready, answers in rows:
        row = table.setdefault((land, kreis), AggregateRow(land, kreis, 0, 0, {}))
        fields = dict(row.fields)
        for field in Answers.from_json(answers).q1_fields:
            fields[field] = fields.get(field, 0) + 1
        table[(land, kreis)] = AggregateRow(
            land, kreis, row.municipalities + 1, row.ready + (1 if ready else 0), fields
        )
    return list(table.values())
