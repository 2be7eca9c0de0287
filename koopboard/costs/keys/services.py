"""Cost-sharing keys (Verteilungsschlüssel) per budget year: the partners' parameters and
the domain weighting they give. Partners are keyed by AGS, so the tie-break "smaller
Gemeindeschlüssel first" is what users read on the key page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from koopboard.costs.services import CostError, StaleVersion, check_open, partners_in_year
from koopboard.domain import keys as keydomain
from koopboard.domain.allocation import AllocationError
from koopboard.domain.keys import KeyKind, Population, SharingKeyError, Weighting
from koopboard.domain.messages import Msg
from koopboard.extensions import db
from koopboard.models import Cooperation, Municipality
from koopboard.models.cost import CostKey, CostKeyEntry


def key_for(cooperation_id: int, year: int) -> CostKey | None:
    """The cooperation's key for the budget year, with its entries."""
    return db.session.scalar(
        select(CostKey).where(CostKey.cooperation_id == cooperation_id, CostKey.budget_year == year)
    )


@dataclass
class EntryData:
    """One partner's parameters as entered on the key form."""

    municipality_id: int
    population: int | None = None
    population_date: date | None = None
    population_source: str = ""
    change_reason: str = ""
    percent: Decimal | None = None
    usage_units: Decimal | None = None


@dataclass
class KeyData:
    """The key form: kind, mixed base, usage unit and the partners' parameters."""

    kind: str
    base_percent: Decimal | None = None
    usage_unit: str = ""
    basis_note: str = ""
    entries: list[EntryData] = field(default_factory=list)


def default_entries(cooperation_id: int, year: int) -> list[EntryData]:
    """Prefill from the register: each partner's population with its Stichtag and source."""
    return [
        EntryData(
            municipality_id=p.municipality_id,
            population=p.municipality.population,
            population_date=p.municipality.population_date,
            population_source=p.municipality.population_source or "Gemeindeverzeichnis",
        )
        for p in partners_in_year(cooperation_id, year)
    ]


def partners_not_in_key(key: CostKey, partners: list[Any]) -> list[Any]:
    """The partners of the year (``partners_in_year``) that the stored key has no entry for:
    joined after the key was saved, so a cost booked from their join date cannot be shared
    until a new key version names them."""
    named = {e.municipality_id for e in key.entries}
    return [p for p in partners if p.municipality_id not in named]


def weighting_of(
    kind: KeyKind,
    entries: list[EntryData] | list[CostKeyEntry],
    names: dict[int, Municipality],
    *,
    base_percent: Decimal | None,
    usage_unit: str,
    year: int,
) -> Weighting[str]:
    """The domain weighting of a key's entries, keyed by AGS (raises SharingKeyError)."""

    def ags(entry: Any) -> str:
        return names[entry.municipality_id].ags

    if kind is KeyKind.EQUAL:
        return keydomain.equal([ags(e) for e in entries])
    if kind is KeyKind.PERCENTAGES:
        for e in entries:
            if e.percent is None:
                name = names[e.municipality_id].name
                raise SharingKeyError(
                    Msg("Für %(name)s fehlt der Prozentsatz.", name=name), "missing"
                )
        return keydomain.fixed_percentages({ags(e): e.percent for e in entries})
    if kind is KeyKind.USAGE:
        for e in entries:
            if e.usage_units is None:
                name = names[e.municipality_id].name
                raise SharingKeyError(
                    Msg("Für %(name)s fehlen die Nutzungseinheiten.", name=name), "missing"
                )
        return keydomain.by_usage(
            {ags(e): e.usage_units for e in entries}, unit=usage_unit or "", year=year
        )
    populations = {}
    for e in entries:
        if e.population is None or e.population_date is None:
            name = names[e.municipality_id].name
            raise SharingKeyError(
                Msg("Für %(name)s fehlt die Einwohnerzahl mit Stichtag.", name=name),
                "missing_population",
            )
        populations[ags(e)] = Population(e.population, e.population_date, e.population_source)
    if kind is KeyKind.MIXED:
        if base_percent is None:
            raise SharingKeyError(Msg("Bitte den Sockelanteil in Prozent angeben."), "base")
        return keydomain.mixed(populations, base_percent=base_percent)
    return keydomain.by_population(populations)


def _kind(value: str) -> KeyKind:
    try:
        return KeyKind(value)
    except ValueError as exc:
        raise CostError(
            Msg("Bitte wählen Sie eine Art des Schlüssels aus der Liste."), "kind"
        ) from exc


def save_key(cooperation: Cooperation, year: int, data: KeyData, *, version: int | None) -> CostKey:
    """Create or replace the key of the budget year (treasurer or lead)."""
    check_open(cooperation.id, year, None)
    kind = _kind(data.kind)
    partners = {p.municipality_id: p.municipality for p in partners_in_year(cooperation.id, year)}
    entries = [e for e in data.entries if e.municipality_id in partners]
    if not entries:
        raise CostError(Msg("Im Haushaltsjahr ist kein Partner beteiligt."), None)
    key = key_for(cooperation.id, year)
    previous = {e.municipality_id: e for e in key.entries} if key else {}
    for e in entries:
        old = previous.get(e.municipality_id)
        register = partners[e.municipality_id].population
        changed = (old.population if old else register) != e.population
        if kind in (KeyKind.POPULATION, KeyKind.MIXED) and changed and not e.change_reason.strip():
            raise CostError(
                Msg(
                    "Die Einwohnerzahl von %(name)s weicht vom Gemeindeverzeichnis ab: Bitte "
                    "einen Grund angeben.",
                    name=partners[e.municipality_id].name,
                ),
                f"reason_{e.municipality_id}",
            )
    try:
        weighting_of(
            kind,
            entries,
            partners,
            base_percent=data.base_percent,
            usage_unit=data.usage_unit,
            year=year,
        )
    except (SharingKeyError, AllocationError) as exc:
        raise CostError(exc.message, None) from exc
    if key is None:
        key = CostKey(cooperation_id=cooperation.id, budget_year=year, kind=kind)
        db.session.add(key)
    elif version is None or version != key.version:
        raise StaleVersion()
    key.kind = kind
    key.base_percent = data.base_percent if kind is KeyKind.MIXED else None
    key.usage_unit = data.usage_unit.strip() if kind is KeyKind.USAGE else ""
    key.basis_note = data.basis_note.strip()
    db.session.flush()
    for e in entries:
        row = previous.pop(e.municipality_id, None)
        if row is None:
            # With the municipality itself, so the history names it ("Illingen").
            row = CostKeyEntry(
                key_id=key.id,
                cooperation_id=cooperation.id,
                municipality=partners[e.municipality_id],
            )
            db.session.add(row)
        row.population = e.population
        row.population_date = e.population_date
        row.population_source = (e.population_source or "").strip()[:300]
        row.change_reason = (e.change_reason or "").strip()[:300]
        row.percent = e.percent
        row.usage_units = e.usage_units
    for stale in previous.values():  # a partner no longer in the year: parameters, not money
        db.session.delete(stale)
    db.session.flush()
    return key


def key_weighting(key: CostKey, only: set[int] | None = None) -> Weighting[str]:
    """The weighting of a stored key, optionally for some municipalities only."""
    entries = [e for e in key.entries if only is None or e.municipality_id in only]
    names = {e.municipality_id: e.municipality for e in key.entries}
    return weighting_of(
        key.kind,
        entries,
        names,
        base_percent=key.base_percent,
        usage_unit=key.usage_unit,
        year=key.budget_year,
    )
