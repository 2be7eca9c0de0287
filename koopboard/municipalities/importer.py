"""Import the official municipality register into the database: one transaction, upsert by AGS."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

import click
from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from koopboard.domain.geo import Point, centroid
from koopboard.extensions import db
from koopboard.history import acting_as, record_event
from koopboard.models.directory import RegisterAssociation
from koopboard.models.municipality import Municipality
from koopboard.municipalities.register import (
    DEFAULT_STICHTAG,
    RegisterError,
    RegisterMunicipality,
    RegisterParseResult,
    parse_register,
)

_MICRO = Decimal("0.000001")

# Columns the register owns; everything else on a municipality (id, relations) is ours.
FIELDS = (
    "name",
    "kind",
    "land",
    "kreis",
    "population",
    "population_date",
    "population_source",
    "area_km2",
    "postcode",
    "breitengrad",
    "laengengrad",
    "verband",
)
ASSOCIATION_FIELDS = (
    "name",
    "textkennzeichen",
    "kind",
    "land",
    "kreis",
    "member_count",
    "member_names",
    "population",
    "population_date",
    "breitengrad",
    "laengengrad",
    "register_date",
)
# 1000 rows x 13 columns stays below SQLite's 32766 bound-parameter limit.
BATCH_SIZE = 1000

ProgressCallback = Callable[[int, int], None]
"""Called with (rows processed so far, rows in total) after each batch."""


@dataclass(slots=True)
class ImportResult:
    """What one register import did."""

    path: str
    stichtag: date = DEFAULT_STICHTAG
    total: int = 0  # municipalities read from the file
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # gemeindefreie Gebiete
    not_in_register: int = 0  # in the database but no longer in the file; kept, never deleted
    errors: list[RegisterError] = field(default_factory=list)
    associations: int = 0  # joint administrations (Satzart 50) with at least two members
    associations_changed: int = 0  # of those, new or changed rows written

    def summary(self) -> str:
        """German one-line summary, also stored in the history entry."""
        text = (
            f"{self.total} Gemeinden: {self.created} neu, {self.updated} geändert, "
            f"{self.unchanged} unverändert; "
        )
        if self.associations:
            text += (
                f"{self.associations} Gemeindeverbände "
                f"({self.associations_changed} neu oder geändert); "
            )
        text += f"{self.skipped} übersprungen; {len(self.errors)} Fehler"
        if self.not_in_register:
            text += f"; {self.not_in_register} nicht mehr im Register"
        return text


def import_register(path: str | Path, *, progress: ProgressCallback | None = None) -> ImportResult:
    """Upsert the register at ``path`` into ``db.session``; the caller commits.

    On any failure the session is rolled back, so nothing of a half import remains.
    """
    session = db.session
    try:
        return _import(session, Path(path), progress)
    except BaseException:
        session.rollback()
        raise


def _import(session: Session, path: Path, progress: ProgressCallback | None) -> ImportResult:
    parsed = parse_register(path)
    result = ImportResult(
        path=str(path),
        stichtag=parsed.stichtag,
        total=len(parsed.municipalities),
        skipped=parsed.skipped,
        errors=parsed.errors,
    )
    table = Municipality.__table__
    columns = [table.c.ags, *(table.c[name] for name in FIELDS)]
    # One query instead of one per row: compare in Python and write only what changed.
    existing = {row[0]: tuple(row[1:]) for row in session.execute(select(*columns))}

    changed: list[dict[str, Any]] = []
    for record in parsed.municipalities:
        values = _values(record)
        old = existing.get(record.ags)
        if old is None:
            result.created += 1
        elif old != values:
            result.updated += 1
        else:
            result.unchanged += 1
            continue
        changed.append({"ags": record.ags, **dict(zip(FIELDS, values, strict=True))})
    seen = {record.ags for record in parsed.municipalities}
    result.not_in_register = sum(1 for ags in existing if ags not in seen)

    done = result.unchanged
    if progress:
        progress(done, result.total)
    statement = _upsert_statement(session, Municipality, "ags", FIELDS)
    for batch in _batches(changed, BATCH_SIZE):
        session.execute(statement, batch)
        done += len(batch)
        if progress:
            progress(done, result.total)

    _import_associations(session, parsed, result)

    record_event(
        session,
        record_type="Register",
        record_id=0,  # the register as a whole, not one row
        action="import",
        record_label=f"{path.name} (Stand {parsed.stichtag:%d.%m.%Y})",
        new_value=result.summary(),
    )
    session.flush()
    return result


def _import_associations(
    session: Session, parsed: RegisterParseResult, result: ImportResult
) -> None:
    """Upsert the joint administrations with their members' names, population and centre."""
    members: dict[str, list[RegisterMunicipality]] = {}
    for record in parsed.municipalities:
        if record.verband:
            members.setdefault(record.verband, []).append(record)
    table = RegisterAssociation.__table__
    columns = [table.c.ars, *(table.c[name] for name in ASSOCIATION_FIELDS)]
    existing = {row[0]: tuple(row[1:]) for row in session.execute(select(*columns))}
    changed: list[dict[str, Any]] = []
    for association in parsed.associations:
        group = sorted(members.get(association.ars, []), key=lambda m: (m.name, m.ags))
        if len(group) < 2:  # a Verband of one Gemeinde is no cooperation
            continue
        result.associations += 1
        populations = [m.population for m in group if m.population is not None]
        centre = centroid(
            [p for m in group if (p := Point.of(m.breitengrad, m.laengengrad)) is not None]
        )
        values = (
            association.name,
            association.textkennzeichen,
            association.kind,
            association.land,
            association.kreis,
            len(group),
            ", ".join(m.name for m in group),
            sum(populations) if populations else None,
            parsed.stichtag if populations else None,
            _degrees(centre.lat) if centre else None,
            _degrees(centre.lon) if centre else None,
            parsed.stichtag,
        )
        if existing.get(association.ars) == values:
            continue
        changed.append(
            {"ars": association.ars, **dict(zip(ASSOCIATION_FIELDS, values, strict=True))}
        )
    result.associations_changed = len(changed)
    statement = _upsert_statement(session, RegisterAssociation, "ars", ASSOCIATION_FIELDS)
    for batch in _batches(changed, BATCH_SIZE):
        session.execute(statement, batch)


def _degrees(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_MICRO)


def _batches(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    # itertools.batched needs Python 3.12; the project runs on 3.11.
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _values(record: RegisterMunicipality) -> tuple[Any, ...]:
    return (
        record.name,
        record.kind,
        record.land,
        record.kreis,
        record.population,
        record.population_date,
        record.population_source,
        record.area_km2,
        record.postcode,
        record.breitengrad,
        record.laengengrad,
        record.verband,
    )


def _upsert_statement(session: Session, model: type, key: str, fields: Sequence[str]) -> Any:
    """INSERT ... ON CONFLICT (key) DO UPDATE in the dialect of the bound database."""
    dialect = session.get_bind(mapper=model.__mapper__).dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise RuntimeError(f"Registerimport unterstützt {dialect!r} nicht.")
    statement = insert(model.__table__)
    return statement.on_conflict_do_update(
        index_elements=[key], set_={name: statement.excluded[name] for name in fields}
    )


def run_import_cli(path: str | None, *, quiet: bool = False) -> ImportResult:
    """`flask koop import-register`: import, report errors and a summary, commit."""
    path = path or current_app.config["REGISTER_CSV"]
    if not Path(path).is_file():
        raise click.ClickException(f"Registerdatei nicht gefunden: {path}")
    bar = _ProgressBar(enabled=not quiet and sys.stdout.isatty())
    started = time.perf_counter()
    try:
        with acting_as("Registerimport"):
            result = import_register(path, progress=bar.update)
    finally:
        bar.close()

    _echo_errors(result.errors)
    if result.total == 0 and result.errors:
        db.session.rollback()
        raise click.ClickException("Keine Gemeinde lesbar – nichts importiert.")
    db.session.commit()
    seconds = f"{time.perf_counter() - started:.1f}".replace(".", ",")
    click.echo(
        f"Registerimport abgeschlossen ({Path(path).name}, Stand "
        f"{result.stichtag:%d.%m.%Y}) in {seconds} s: {result.summary()}."
    )
    return result


def _echo_errors(errors: Sequence[RegisterError]) -> None:
    if not errors:
        return
    click.echo(f"{len(errors)} Zeilen konnten nicht gelesen werden und fehlen:", err=True)
    for error in errors:
        click.echo(f"  {error}", err=True)


class _ProgressBar:
    """A tqdm bar created on the first report, when the total is known."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None

    def update(self, done: int, total: int) -> None:
        """Move the bar to ``done`` of ``total`` rows."""
        if not self.enabled:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit=" Gemeinden", desc="Registerimport", file=sys.stdout)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        """Finish the bar line so the summary starts on a fresh one."""
        if self._bar is not None:
            self._bar.close()
