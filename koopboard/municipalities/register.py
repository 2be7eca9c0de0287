"""Parse the Destatis Gemeindeverzeichnis (GV-ISys) CSV into municipality records.

Pure: no Flask, no database. Unreadable rows become ``RegisterError`` entries with
their physical line number; parsing never raises for bad content, so an operator sees
every problem of a file in one run.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

DEFAULT_STICHTAG = date(2019, 12, 31)

COLUMNS = (
    "satzart",
    "textkennzeichen",
    "land",
    "rb",
    "kreis",
    "vb",
    "gemeinde",
    "gemeindename",
    "flaeche",
    "bevoelkerung",
    "maennlich",
    "weiblich",
    "jekm2",
    "postleitzahl",
    "laengengrad",
    "breitengrad",
    "schluessel",
    "bezeichnung",
    "verstaedterungschluessel",
    "verstaedterungbezeichnung",
)
# Positions are fixed by the header check, so rows are read by index (fast, no dicts).
(_SATZART, _TKZ, _LAND, _RB, _KREIS, _VB, _GEMEINDE, _NAME, _FLAECHE, _BEV) = range(10)
_PLZ = COLUMNS.index("postleitzahl")
_LON = COLUMNS.index("laengengrad")
_LAT = COLUMNS.index("breitengrad")

SATZART_LAND = "10"
SATZART_KREIS = "40"
SATZART_VERBAND = "50"
SATZART_GEMEINDE = "60"

# Textkennzeichen of Satzart 50 that are joint administrations of several Gemeinden
# (50 is a single Gemeinde as its own Verband, 55 an Amt-free Kirchspielslandgemeinde).
ASSOCIATION_KINDS: dict[str, str] = {
    "51": "Amt",
    "52": "Samtgemeinde",
    "53": "Verbandsgemeinde",
    "54": "Verwaltungsgemeinschaft",
    "56": "Verwaltungsverband",
    "58": "erfüllende Gemeinde",
}

# Textkennzeichen of Satzart 60 → the kind of municipality.
KINDS: dict[str, str] = {
    "60": "Markt",
    "61": "kreisfreie Stadt",
    "62": "Stadtkreis",
    "63": "Stadt",
    "64": "Gemeinde",
    "67": "Große Kreisstadt",
}
# Gemeindefreie Gebiete (forests, lakes, military areas): not municipalities, skipped.
UNINCORPORATED = frozenset({"65", "66"})

# Name suffixes that only abbreviate or repeat the kind; they add nothing to ``kind``.
_SUFFIX_EXPANSIONS = {
    "St": "Stadt",
    "M": "Markt",
    "GKSt": "Große Kreisstadt",
    "Krst.": "Kreisstadt",
    "Barbarossast.": "Barbarossastadt",
}
_REDUNDANT_SUFFIXES = frozenset(
    {"Stadt", "Markt", "Gemeinde", "Große Kreisstadt", "kreisfreie Stadt", "Stadtkreis"}
)
_KIND_MAX_LENGTH = 60  # Municipality.kind is String(60)

_FILENAME_DATE = re.compile(r"gemeindeverzeichnis-(\d{4})-(\d{2})-(\d{2})\.csv$", re.IGNORECASE)
# [0-9], not \d: \d also accepts non-ASCII digits. Area fits Numeric(10, 2).
_DIGITS = re.compile(r"[0-9]{1,9}")
_AREA = re.compile(r"[0-9]{1,8}(\.[0-9]+)?")
_POSTCODE = re.compile(r"[0-9]{5}")
# Centre coordinates with a decimal comma ("9,43751"); fits Numeric(9, 6).
_COORDINATE = re.compile(r"-?[0-9]{1,3}(,[0-9]{1,6})?")
_MICRO = Decimal("0.000001")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Thousands separators seen in the register: space, no-break space, narrow no-break space.
_THOUSANDS = str.maketrans("", "", " \u00a0\u202f")
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class RegisterMunicipality:
    """One municipality (Satzart 60) as read from the register."""

    ags: str
    name: str
    kind: str
    land: str
    kreis: str
    population: int | None
    population_date: date | None
    population_source: str | None
    area_km2: Decimal | None
    postcode: str | None
    register_name: str  # the name as written in the register, suffix included
    line: int
    # The register's centre of the Gemeinde, in degrees (None where the row has none).
    breitengrad: Decimal | None = None
    laengengrad: Decimal | None = None
    # Land+RB+Kreis+Verband (9 digits, the ARS without the Gemeinde): its Gemeindeverband.
    verband: str | None = None


@dataclass(frozen=True, slots=True)
class RegisterAssociation:
    """A joint administration (Satzart 50: Amt, Samtgemeinde, ...) as read from the register."""

    ars: str  # Land+RB+Kreis+Verband, 9 digits; its members carry the same ``verband``
    name: str
    textkennzeichen: str
    kind: str
    land: str
    kreis: str
    line: int


@dataclass(frozen=True, slots=True)
class RegisterError:
    """A row that could not be read, with its 1-based physical line in the file."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"Zeile {self.line}: {self.message}"


@dataclass(slots=True)
class RegisterParseResult:
    """Everything read from one register file."""

    municipalities: list[RegisterMunicipality] = field(default_factory=list)
    # Joint administrations only (ASSOCIATION_KINDS); members are matched by the importer.
    associations: list[RegisterAssociation] = field(default_factory=list)
    skipped: int = 0  # gemeindefreie Gebiete
    errors: list[RegisterError] = field(default_factory=list)
    stichtag: date = DEFAULT_STICHTAG
    source: str = ""


class _RowError(ValueError):
    """Internal: the current row is unreadable; the message is shown to the operator."""


def stichtag_from_filename(path: str | Path, default: date = DEFAULT_STICHTAG) -> date:
    """The population reference date encoded in ``gemeindeverzeichnis-YYYY-MM-DD.csv``."""
    match = _FILENAME_DATE.search(Path(path).name)
    if match is None:
        return default
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return default


def source_label(stichtag: date) -> str:
    """The population source stored next to every figure."""
    return f"Destatis, Gemeindeverzeichnis GV-ISys, Stand {stichtag:%d.%m.%Y}"


def split_name(register_name: str) -> tuple[str, str]:
    """Split ``"Amorbach, St"`` into the name and the suffix (``""`` if none)."""
    # Municipality names themselves never contain a comma; suffixes may ("Hansestadt, Kreisstadt").
    name, _, suffix = register_name.partition(",")
    return " ".join(name.split()), " ".join(suffix.split())


def kind_for(textkennzeichen: str, suffix: str) -> str:
    """The kind from the Textkennzeichen, with informative suffixes in parentheses.

    "Kiel, Landeshauptstadt" (61) → "kreisfreie Stadt (Landeshauptstadt)"; "Amorbach, St"
    (63) → "Stadt": abbreviations and repetitions of the kind are dropped.
    """
    base = KINDS[textkennzeichen]
    extras: list[str] = []
    # After " / " follows the Sorbian name ("Stadt / Běła Woda"): a name, not a kind.
    for part in suffix.partition(" / ")[0].split(","):
        part = _SUFFIX_EXPANSIONS.get(part.strip(), part.strip())
        if part and part not in _REDUNDANT_SUFFIXES and part != base and part not in extras:
            extras.append(part)
    if not extras:
        return base
    kind = f"{base} ({', '.join(extras)})"
    return kind if len(kind) <= _KIND_MAX_LENGTH else base


def parse_register(path: str | Path, *, stichtag: date | None = None) -> RegisterParseResult:
    """Read a register file; ``stichtag`` defaults to the date in its file name."""
    with open(path, "rb") as raw:
        return parse_register_lines(
            raw, stichtag=stichtag if stichtag is not None else stichtag_from_filename(path)
        )


def parse_register_lines(
    lines: Iterable[bytes], *, stichtag: date = DEFAULT_STICHTAG
) -> RegisterParseResult:
    """Read a register from raw byte lines (a file opened in binary mode)."""
    result = RegisterParseResult(stichtag=stichtag, source=source_label(stichtag))
    bad_encoding: set[int] = set()
    reader = csv.reader(_decode(lines, bad_encoding))
    lands: dict[str, str] = {}
    kreise: dict[str, str] = {}
    seen: dict[str, int] = {}  # ags → line, to refuse duplicates (one upsert per AGS)

    end = 0  # physical lines consumed so far; a record starts on the line after
    header_done = False
    while True:
        start = end + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            end = reader.line_num
            result.errors.append(RegisterError(start, f"Zeile nicht lesbar ({exc})."))
            continue
        end = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        if not header_done:
            header_done = True
            if [c.strip().lower() for c in row] != list(COLUMNS):
                result.errors.append(
                    RegisterError(
                        start,
                        "Kopfzeile passt nicht zum Gemeindeverzeichnis; erwartet: "
                        + ",".join(COLUMNS)
                        + ".",
                    )
                )
                return result
            continue
        if bad_encoding and any(n in bad_encoding for n in range(start, end + 1)):
            result.errors.append(RegisterError(start, "Ungültige Zeichenkodierung (kein UTF-8)."))
            continue
        try:
            _read_row(row, start, lands, kreise, seen, result)
        except _RowError as exc:
            result.errors.append(RegisterError(start, str(exc)))
    if not header_done:
        result.errors.append(RegisterError(1, "Die Datei ist leer."))
    return result


def _decode(lines: Iterable[bytes], bad: set[int]) -> Iterator[str]:
    """Decode line by line so one bad byte costs one row, not the whole file."""
    for number, line in enumerate(lines, start=1):
        if number == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError:
            bad.add(number)
            yield line.decode("utf-8", errors="replace")


def _read_row(
    row: list[str],
    line: int,
    lands: dict[str, str],
    kreise: dict[str, str],
    seen: dict[str, int],
    result: RegisterParseResult,
) -> None:
    if len(row) != len(COLUMNS):
        raise _RowError(f"Erwartet {len(COLUMNS)} Spalten, gefunden {len(row)}.")
    satzart = row[_SATZART].strip()
    if satzart == SATZART_LAND:
        lands[_code(row[_LAND], 2, "Land")] = _required_name(row)
    elif satzart == SATZART_KREIS:
        key = (
            _code(row[_LAND], 2, "Land") + _code(row[_RB], 1, "RB") + _code(row[_KREIS], 2, "Kreis")
        )
        kreise[key] = _required_name(row)
    elif satzart == SATZART_VERBAND:
        tkz = row[_TKZ].strip()
        if tkz in ASSOCIATION_KINDS:
            result.associations.append(_association(row, tkz, line, lands, kreise))
    elif satzart == SATZART_GEMEINDE:
        tkz = row[_TKZ].strip()
        if tkz in UNINCORPORATED:
            result.skipped += 1
            return
        if tkz not in KINDS:
            raise _RowError(f"Unbekanntes Textkennzeichen {tkz!r} für eine Gemeinde.")
        result.municipalities.append(_municipality(row, tkz, line, lands, kreise, seen, result))


def _municipality(
    row: list[str],
    tkz: str,
    line: int,
    lands: dict[str, str],
    kreise: dict[str, str],
    seen: dict[str, int],
    result: RegisterParseResult,
) -> RegisterMunicipality:
    land = _code(row[_LAND], 2, "Land")
    kreis_key = land + _code(row[_RB], 1, "RB") + _code(row[_KREIS], 2, "Kreis")
    ags = kreis_key + _code(row[_GEMEINDE], 3, "Gemeinde")
    if ags in seen:
        raise _RowError(f"AGS {ags} kommt doppelt vor (zuerst in Zeile {seen[ags]}).")
    if land not in lands:
        raise _RowError(f"Land {land} ist nicht vor der Gemeinde aufgeführt (Satzart 10 fehlt).")
    if kreis_key not in kreise:
        raise _RowError(
            f"Kreis {kreis_key} ist nicht vor der Gemeinde aufgeführt (Satzart 40 fehlt)."
        )
    register_name = _required_name(row)
    name, suffix = split_name(register_name)
    if not name:
        raise _RowError("Gemeindename fehlt.")
    population = _population(row[_BEV])
    record = RegisterMunicipality(
        ags=ags,
        name=name,
        kind=kind_for(tkz, suffix),
        land=lands[land],
        kreis=kreise[kreis_key],
        population=population,
        # A date and source without a figure would claim something the register does not say.
        population_date=result.stichtag if population is not None else None,
        population_source=result.source if population is not None else None,
        area_km2=_area(row[_FLAECHE]),
        postcode=_postcode(row[_PLZ]),
        register_name=register_name.strip(),
        line=line,
        breitengrad=_coordinate(row[_LAT], "Breitengrad", 90),
        laengengrad=_coordinate(row[_LON], "Längengrad", 180),
        verband=kreis_key + _code(row[_VB], 4, "Verband") if row[_VB].strip() else None,
    )
    seen[ags] = line
    return record


def _association(
    row: list[str], tkz: str, line: int, lands: dict[str, str], kreise: dict[str, str]
) -> RegisterAssociation:
    land = _code(row[_LAND], 2, "Land")
    kreis_key = land + _code(row[_RB], 1, "RB") + _code(row[_KREIS], 2, "Kreis")
    if land not in lands or kreis_key not in kreise:
        raise _RowError(f"Kreis {kreis_key} ist nicht vor dem Gemeindeverband aufgeführt.")
    name, _suffix = split_name(_required_name(row))
    return RegisterAssociation(
        ars=kreis_key + _code(row[_VB], 4, "Verband"),
        name=name,
        textkennzeichen=tkz,
        kind=ASSOCIATION_KINDS[tkz],
        land=lands[land],
        kreis=kreise[kreis_key],
        line=line,
    )


def _coordinate(value: str, label: str, limit: int) -> Decimal | None:
    value = value.strip()
    if not value:
        return None
    if not _COORDINATE.fullmatch(value):
        raise _RowError(f"{label} {value!r} ist ungültig (Dezimalkomma erwartet).")
    number = Decimal(value.replace(",", ".")).quantize(_MICRO)
    if abs(number) > limit:
        raise _RowError(f"{label} {value!r} liegt außerhalb von ±{limit}°.")
    return number


def _code(value: str, width: int, label: str) -> str:
    value = value.strip()
    if len(value) != width or not value.isascii() or not value.isdigit():
        raise _RowError(f"Ungültiger Schlüsselteil {label} {value!r} (erwartet {width} Ziffern).")
    return value


def _required_name(row: list[str]) -> str:
    name = row[_NAME].strip()
    if not name:
        raise _RowError("Name fehlt.")
    # The csv module passes NUL and line breaks through; PostgreSQL would reject NUL outright.
    if _CONTROL.search(name):
        raise _RowError(f"Name {name!r} enthält Steuerzeichen.")
    return name


def _population(value: str) -> int | None:
    digits = value.translate(_THOUSANDS)
    if not digits:
        return None
    if not _DIGITS.fullmatch(digits):
        raise _RowError(f"Einwohnerzahl {value.strip()!r} ist keine ganze Zahl ≥ 0.")
    return int(digits)


def _area(value: str) -> Decimal | None:
    value = value.strip()
    if not value:
        return None
    if not _AREA.fullmatch(value):
        raise _RowError(f"Fläche {value!r} ist ungültig (km² mit Dezimalpunkt erwartet).")
    try:
        return Decimal(value).quantize(_CENT)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already rules this out
        raise _RowError(f"Fläche {value!r} ist keine Zahl.") from exc


def _postcode(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    if not _POSTCODE.fullmatch(value):
        raise _RowError(f"Postleitzahl {value!r} ist ungültig (erwartet 5 Ziffern).")
    return value
