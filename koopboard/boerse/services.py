"""The directory: published cooperations and the register's joint administrations.

One search reads both kinds of entry through a UNION, filters, counts and pages in SQL,
then fetches the partner names of the page's cooperations: a constant number of queries
however many entries exist. Nothing internal (costs, milestones, people, history) is read.
"""

from __future__ import annotations

import math
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Numeric,
    String,
    and_,
    cast,
    event,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.engine import Engine

from koopboard.domain.catalog import CooperationStatus, Handlungsfeld, Rechtsform
from koopboard.domain.directory import PAGE_SIZE_MAX, Visibility, page_window
from koopboard.domain.geo import EARTH_RADIUS_KM, Point, bounding_box
from koopboard.extensions import db
from koopboard.models import (
    Cooperation,
    CooperationListing,
    CooperationPartner,
    Municipality,
    RegisterAssociation,
)

KIND_COOPERATION = "kooperation"
KIND_REGISTER = "verband"
PAGE_SIZE = 20


@dataclass(frozen=True)
class Filters:
    """A directory search as its GET parameters say (already validated)."""

    handlungsfeld: str | None = None
    land: str | None = None
    kreis: str | None = None
    rechtsform: str | None = None
    status: str | None = None
    seeking: bool = False
    text: str = ""
    radius_km: int | None = None
    origin: Municipality | None = None  # "within N km of" and the distance shown
    kind: str | None = None  # only cooperations or only register associations
    page: int = 1
    page_size: int = PAGE_SIZE


@dataclass
class Entry:
    """One directory entry as a result row shows it: public facts only."""

    kind: str
    key: str  # the cooperation's id or the association's ARS
    title: str
    handlungsfeld: Handlungsfeld
    rechtsform: Rechtsform
    status: CooperationStatus
    land: str
    kreis: str
    summary: str
    start_year: int | None
    seeking: bool
    seeking_kreis: str | None
    seeking_radius_km: int | None
    member_count: int
    population: int | None
    association_kind: str | None
    point: Point | None
    distance_km: float | None
    lead_name: str | None = None
    partner_names: list[str] = field(default_factory=list)

    @property
    def is_register(self) -> bool:
        return self.kind == KIND_REGISTER


@dataclass
class SearchResult:
    entries: list[Entry]
    total: int
    page: int
    pages: int
    offset: int
    ranked: bool  # ordered by text relevance
    by_distance: bool


# --- SQLite: the math functions the distance needs ------------------------------------


@event.listens_for(Engine, "connect")
def _sqlite_math(dbapi_connection: Any, _record: Any) -> None:
    """SQLite builds without its math functions get Python's (PostgreSQL has them)."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    try:
        dbapi_connection.execute("SELECT sin(0), asin(0), radians(0), sqrt(1)")
    except sqlite3.OperationalError:
        for name, fn in (
            ("sin", math.sin),
            ("cos", math.cos),
            ("asin", math.asin),
            ("sqrt", math.sqrt),
            ("radians", math.radians),
        ):
            dbapi_connection.create_function(name, 1, fn, deterministic=True)


def within_box(lat_col: Any, lon_col: Any, origin: Point, radius_km: float) -> tuple[Any, Any]:
    """The bounding box around ``origin`` as conditions on the stored NUMERIC coordinates
    (compared as NUMERIC, not cast, so the coordinate indexes answer them)."""
    box = bounding_box(origin, radius_km)

    def bound(value: float) -> Any:
        return literal(Decimal(repr(value)), Numeric())

    return (
        lat_col.between(bound(box.min_lat), bound(box.max_lat)),
        lon_col.between(bound(box.min_lon), bound(box.max_lon)),
    )


def distance_sql(lat_col: Any, lon_col: Any, origin: Point) -> Any:
    """Great-circle km from ``origin`` in SQL: the haversine of ``domain.geo`` term by term."""
    lat = cast(lat_col, Float)
    lon = cast(lon_col, Float)
    half_dlat = func.sin(func.radians(lat - origin.lat) / 2)
    half_dlon = func.sin(func.radians(lon - origin.lon) / 2)
    h = (
        half_dlat * half_dlat
        + math.cos(math.radians(origin.lat)) * func.cos(func.radians(lat)) * half_dlon * half_dlon
    )
    return 2 * EARTH_RADIUS_KM * func.asin(func.sqrt(h))


# --- the union of both kinds of entry -------------------------------------------------------


def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


# A partner's leaving date passes without any write, so no trigger sees it: the nightly run
# recomputes the stored search text of the cooperations whose partners left in this window
# (a week, so that runs missed while beat was down are caught up; a repeat changes nothing).
DEPARTURE_WINDOW_DAYS = 7


def refresh_after_departures(today: date) -> int:
    """PostgreSQL: refresh the stored tsvector of every listing whose cooperation had a
    partner leave in the last days, so a former partner's name no longer finds it. Returns
    the number of listings refreshed (0 on SQLite, whose search reads active partners per
    row anyway). Not committed: the task's unit of work."""
    if not _is_postgresql():
        return 0
    departed = (
        select(CooperationPartner.cooperation_id)
        .where(
            CooperationPartner.left_on <= today,
            CooperationPartner.left_on > today - timedelta(days=DEPARTURE_WINDOW_DAYS),
        )
        .distinct()
        .subquery()
    )
    # One statement: the migration's refresh function, called once per affected listing.
    refreshed = db.session.execute(
        select(func.cooperation_listing_refresh(CooperationListing.cooperation_id)).where(
            CooperationListing.cooperation_id.in_(select(departed.c.cooperation_id))
        )
    ).all()
    return len(refreshed)


def _active_partner(today: date) -> Any:
    return or_(CooperationPartner.left_on.is_(None), CooperationPartner.left_on > today)


def entries_query(
    visibilities: tuple[Visibility, ...], today: date, *, with_vector: bool = False
) -> Any:
    """Every visible entry with the columns the filters and the result rows need.

    ``with_vector`` (PostgreSQL) adds each entry's stored tsvector as ``vector`` for the
    text search; the result rows never select it."""
    lead = Municipality.__table__.alias("lead")
    vectors = with_vector and _is_postgresql()
    cooperations = (
        select(
            literal(KIND_COOPERATION).label("kind"),
            cast(Cooperation.id, String).label("key"),
            Cooperation.id.label("cooperation_id"),
            Cooperation.title.label("title"),
            type_coerce(Cooperation.handlungsfeld, String).label("handlungsfeld"),
            type_coerce(Cooperation.rechtsform, String).label("rechtsform"),
            type_coerce(Cooperation.status, String).label("status"),
            lead.c.land.label("land"),
            lead.c.kreis.label("kreis"),
            CooperationListing.summary.label("summary"),
            cast(func.extract("year", Cooperation.start_date), Integer).label("start_year")
            if _is_postgresql()
            else cast(func.strftime("%Y", Cooperation.start_date), Integer).label("start_year"),
            CooperationListing.seeking_partners.label("seeking"),
            CooperationListing.seeking_kreis.label("seeking_kreis"),
            CooperationListing.seeking_radius_km.label("seeking_radius_km"),
            # Counted from the page's partner names (attach_partner_names): one query per
            # page instead of a subquery per published cooperation.
            null().label("member_count"),
            null().label("population"),
            null().label("association_kind"),
            lead.c.name.label("lead_name"),
            lead.c.breitengrad.label("lat"),
            lead.c.laengengrad.label("lon"),
            literal("").label("names"),
            *([CooperationListing.search_vector.label("vector")] if vectors else []),
        )
        .join(CooperationListing, CooperationListing.cooperation_id == Cooperation.id)
        .join(lead, lead.c.id == Cooperation.lead_municipality_id)
        .where(CooperationListing.visibility.in_(visibilities))
    )
    register = select(
        literal(KIND_REGISTER).label("kind"),
        RegisterAssociation.ars.label("key"),
        null().label("cooperation_id"),
        RegisterAssociation.name.label("title"),
        literal(Handlungsfeld.VERWALTUNG.value).label("handlungsfeld"),
        literal(Rechtsform.VERWALTUNGSGEMEINSCHAFT.value).label("rechtsform"),
        literal(CooperationStatus.AKTIV.value).label("status"),
        RegisterAssociation.land.label("land"),
        RegisterAssociation.kreis.label("kreis"),
        literal("").label("summary"),
        null().label("start_year"),
        false().label("seeking"),
        null().label("seeking_kreis"),
        null().label("seeking_radius_km"),
        RegisterAssociation.member_count.label("member_count"),
        RegisterAssociation.population.label("population"),
        RegisterAssociation.kind.label("association_kind"),
        null().label("lead_name"),
        RegisterAssociation.breitengrad.label("lat"),
        RegisterAssociation.laengengrad.label("lon"),
        RegisterAssociation.member_names.label("names"),
        *([RegisterAssociation.search_vector.label("vector")] if vectors else []),
    )
    return union_all(cooperations, register).subquery("entries")


def _partner_names_sql(today: date) -> Any:
    """(cooperation_id, names): the active partners' names of every cooperation, for text search."""
    if _is_postgresql():
        names = func.string_agg(Municipality.name, literal(" "))
    else:
        names = func.group_concat(Municipality.name, " ")
    return (
        select(CooperationPartner.cooperation_id.label("cooperation_id"), names.label("names"))
        .join(Municipality, Municipality.id == CooperationPartner.municipality_id)
        .where(_active_partner(today))
        .group_by(CooperationPartner.cooperation_id)
        .subquery("partner_names")
    )


_WORD = re.compile(r"\w+", re.UNICODE)


def search(filters: Filters, *, signed_in: bool, today: date) -> SearchResult:
    """One page of matching entries, their total, and distances from ``filters.origin``."""
    text = " ".join(_WORD.findall(filters.text))[:200]
    stored = bool(text) and _is_postgresql()  # the stored tsvectors of migration 0018
    entries = entries_query(Visibility.visible_to(signed_in=signed_in), today, with_vector=stored)
    c = entries.c
    conditions: list[Any] = []
    if filters.kind in (KIND_COOPERATION, KIND_REGISTER):
        conditions.append(c.kind == filters.kind)
    for column, value in (
        (c.handlungsfeld, filters.handlungsfeld),
        (c.rechtsform, filters.rechtsform),
        (c.status, filters.status),
        (c.land, filters.land),
        (c.kreis, filters.kreis),
    ):
        if value:
            conditions.append(column == value)
    if filters.seeking:
        conditions.append(c.seeking == true())

    origin = _point(filters.origin)
    distance = distance_sql(c.lat, c.lon, origin) if origin else None
    by_distance = bool(origin and filters.radius_km)
    if by_distance:
        conditions += [*within_box(c.lat, c.lon, origin, filters.radius_km)]
        conditions.append(distance <= filters.radius_km)

    source: Any = entries
    rank = None
    if stored:  # German full-text search on the GIN-indexed vectors, ranked (title first)
        query = func.websearch_to_tsquery("german", text)
        conditions.append(c.vector.op("@@")(query))
        rank = func.ts_rank(c.vector, query)
    elif text:  # SQLite: every word somewhere in the text, case-insensitive for ASCII
        names = _partner_names_sql(today)
        source = entries.outerjoin(names, names.c.cooperation_id == c.cooperation_id)
        partner_names = func.coalesce(names.c.names, "")
        document = (
            c.title + " " + func.coalesce(c.summary, "") + " " + partner_names + " " + c.names
        )
        lowered = func.lower(document)
        conditions += [lowered.contains(word.lower(), autoescape=True) for word in text.split()]

    where = and_(true(), *conditions)
    columns = [column for column in c if column.name != "vector"]
    columns.append((distance if distance is not None else null()).label("distance_km"))
    # The total rides along as a window count: one scan of the entries for count and page.
    columns.append(func.count().over().label("total"))
    ordering: list[Any] = []
    if by_distance:
        ordering.append(distance)
    elif rank is not None:
        ordering.append(rank.desc())
    ordering += [c.kind, c.title, c.key]
    size = max(1, min(filters.page_size, PAGE_SIZE_MAX))
    query = select(*columns).select_from(source).where(where).order_by(*ordering).limit(size)
    requested = max(filters.page, 1)
    rows = db.session.execute(query.offset((requested - 1) * size)).all()
    if rows:
        total = rows[0]._mapping["total"]
    else:  # no page that far (or nothing at all): count, then show the last page
        total = db.session.scalar(select(func.count()).select_from(source).where(where)) or 0
    page, pages, offset = page_window(total, requested, size)
    if not rows and total:
        rows = db.session.execute(query.offset(offset)).all()
    result = SearchResult(
        entries=[entry_from_row(row) for row in rows],
        total=total,
        page=page,
        pages=pages,
        offset=offset,
        ranked=rank is not None and not by_distance,
        by_distance=by_distance,
    )
    attach_partner_names(result.entries, today)
    return result


def _point(municipality: Municipality | None) -> Point | None:
    if municipality is None:
        return None
    return Point.of(municipality.breitengrad, municipality.laengengrad)


def entry_from_row(row: Any) -> Entry:
    m = row._mapping
    return Entry(
        kind=m["kind"],
        key=m["key"],
        title=m["title"],
        handlungsfeld=Handlungsfeld(m["handlungsfeld"]),
        rechtsform=Rechtsform(m["rechtsform"]),
        status=CooperationStatus(m["status"]),
        land=m["land"],
        kreis=m["kreis"],
        summary=m["summary"] or "",
        start_year=m["start_year"],
        seeking=bool(m["seeking"]),
        seeking_kreis=m["seeking_kreis"],
        seeking_radius_km=m["seeking_radius_km"],
        member_count=m["member_count"] or 0,
        population=m["population"],
        association_kind=m["association_kind"],
        point=Point.of(m["lat"], m["lon"]),
        distance_km=float(m["distance_km"]) if m["distance_km"] is not None else None,
        lead_name=m["lead_name"],
        partner_names=[n for n in (m["names"] or "").split(", ") if n],
    )


def attach_partner_names(entries: list[Entry], today: date) -> None:
    """The page's cooperations get their active partners' names (one query)."""
    by_id = {int(e.key): e for e in entries if e.kind == KIND_COOPERATION}
    # Always one query, even for a page without cooperations: the count stays constant.
    rows = db.session.execute(
        select(CooperationPartner.cooperation_id, Municipality.name)
        .join(Municipality, Municipality.id == CooperationPartner.municipality_id)
        .where(CooperationPartner.cooperation_id.in_(by_id), _active_partner(today))
        .order_by(CooperationPartner.cooperation_id, Municipality.name)
    ).all()
    for cooperation_id, name in rows:
        by_id[cooperation_id].partner_names.append(name)
    for entry in by_id.values():
        entry.member_count = len(entry.partner_names)


# --- single entries -------------------------------------------------------------------------


def cooperation_entry(cooperation_id: int, *, signed_in: bool, today: date) -> Entry | None:
    """The published entry of one cooperation, or None if the visitor may not see it."""
    return _one(KIND_COOPERATION, str(cooperation_id), signed_in=signed_in, today=today)


def register_entry(ars: str, *, today: date) -> Entry | None:
    """One of the register's joint administrations, or None."""
    return _one(KIND_REGISTER, ars, signed_in=False, today=today)


def _one(kind: str, key: str, *, signed_in: bool, today: date) -> Entry | None:
    entries = entries_query(Visibility.visible_to(signed_in=signed_in), today)
    row = db.session.execute(
        select(*entries.c, null().label("distance_km")).where(
            entries.c.kind == kind, entries.c.key == key
        )
    ).first()
    if row is None:
        return None
    entry = entry_from_row(row)
    attach_partner_names([entry], today)
    return entry


def members_of(ars: str) -> list[Municipality]:
    """The member municipalities of a register association, by name."""
    return list(
        db.session.scalars(
            select(Municipality).where(Municipality.verband == ars).order_by(Municipality.name)
        )
    )


# --- what the filter form offers ---------------------------------------------------------------


def lands() -> list[str]:
    """Every Land of the register, by name."""
    return list(
        db.session.scalars(select(Municipality.land).distinct().order_by(Municipality.land))
    )


def kreise_by_land() -> list[tuple[str, str]]:
    """(Land, Kreis) of the register, by Land and name: one query for both pickers."""
    rows = db.session.execute(
        select(Municipality.land, Municipality.kreis)
        .distinct()
        .order_by(Municipality.land, Municipality.kreis)
    ).all()
    return [(land, kreis) for land, kreis in rows]


def find_origin(value: str) -> Municipality | None:
    """The municipality a visitor names for the Umkreis: AGS, or name (exact first)."""
    value = (value or "").strip()
    if not value:
        return None
    if re.fullmatch(r"\d{8}", value):
        return db.session.scalar(select(Municipality).where(Municipality.ags == value))
    lower = func.lower(Municipality.name)
    return db.session.scalar(
        select(Municipality)
        .where(lower.startswith(value.lower(), autoescape=True))
        .order_by((lower == value.lower()).desc(), func.coalesce(Municipality.population, 0).desc())
        .limit(1)
    )
