"""Parsing the Destatis Gemeindeverzeichnis: quirks, skipped areas, broken rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from koopboard.config import Config
from koopboard.municipalities.register import (
    COLUMNS,
    kind_for,
    parse_register,
    parse_register_lines,
    source_label,
    split_name,
    stichtag_from_filename,
)

HEADER = ",".join(COLUMNS)
LAND_SL = "10,,10,,,,,Saarland,,,,,,,,,,,,"
KREIS_NK = "40,44,10,0,43,,,Neunkirchen,,,,,,,,,,,,"
MERCHWEILER = (
    "60,64,10,0,43,0113,113,Merchweiler, 12.80, 9 872, 4 850, 5 022,  771,66589,"
    '"7,058254","49,358969",K03,Übriges Saarland,02,mittlere Besiedlungsdichte'
)
LAND_BY = "10,,09,,,,,Bayern,,,,,,,,,,,,"
KREIS_MIL = "40,44,09,6,76,,,Miltenberg,,,,,,,,,,,,"


def gemeinde(
    gemeinde: str = "111",
    name: str = '"Amorbach, St"',
    tkz: str = "63",
    area: str = " 29.46",
    population: str = '" 3 879"',
    postcode: str = "63916",
) -> str:
    """One Satzart-60 row in Kreis Miltenberg (Bayern), as the register writes it."""
    return (
        f"60,{tkz},09,6,76,5555,{gemeinde},{name},{area},{population}, 1 900, 1 979,  132,"
        f'{postcode},"9,2","49,6",K04,x,03,gering besiedelt'
    )


def write(tmp_path: Path, *lines: str, name: str = "register.csv", bom: bool = True) -> Path:
    path = tmp_path / name
    text = "\n".join(lines) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_reads_a_municipality_with_its_land_kreis_and_figures(tmp_path: Path) -> None:
    result = parse_register(write(tmp_path, HEADER, LAND_SL, KREIS_NK, MERCHWEILER))

    assert result.errors == []
    [m] = result.municipalities
    assert (m.ags, m.name, m.kind, m.land, m.kreis) == (
        "10043113",
        "Merchweiler",
        "Gemeinde",
        "Saarland",
        "Neunkirchen",
    )
    assert m.population == 9872
    assert m.area_km2 == Decimal("12.80")
    assert m.postcode == "66589"
    assert m.line == 4
    assert (m.breitengrad, m.laengengrad) == (Decimal("49.358969"), Decimal("7.058254"))
    assert m.verband == "100430113"


@pytest.mark.parametrize("bom", [True, False])
def test_bom_is_optional(tmp_path: Path, bom: bool) -> None:
    result = parse_register(write(tmp_path, HEADER, LAND_SL, KREIS_NK, MERCHWEILER, bom=bom))
    assert [m.ags for m in result.municipalities] == ["10043113"]
    assert result.errors == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [('" 16 615"', 16615), ('"1 234 567"', 1234567), ("      0", 0), ("\u00a016\u00a0615", 16615)],
)
def test_population_thousands_are_separated_by_spaces(
    tmp_path: Path, raw: str, expected: int
) -> None:
    path = write(tmp_path, HEADER, LAND_BY, KREIS_MIL, gemeinde(population=raw))
    assert parse_register(path).municipalities[0].population == expected


@given(st.integers(min_value=0, max_value=999_999_999))
def test_any_population_survives_the_register_format(population: int) -> None:
    raw = f'"{population:,}"'.replace(",", " ")  # 3 664 088, as Destatis writes Berlin
    row = gemeinde(population=raw)
    lines = [f"{line}\n".encode() for line in (HEADER, LAND_BY, KREIS_MIL, row)]
    assert parse_register_lines(lines).municipalities[0].population == population


def test_area_is_a_decimal_with_two_places(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER, LAND_BY, KREIS_MIL, gemeinde(area="3.1"))
    area = parse_register(path).municipalities[0].area_km2
    assert area == Decimal("3.10")
    assert str(area) == "3.10"


def test_empty_postcode_area_and_population_become_none(tmp_path: Path) -> None:
    row = gemeinde(area="", population="", postcode="")
    [m] = parse_register(write(tmp_path, HEADER, LAND_BY, KREIS_MIL, row)).municipalities
    assert (m.area_km2, m.postcode, m.population) == (None, None, None)
    # No figure, so no claim about its date or source either.
    assert (m.population_date, m.population_source) == (None, None)


@pytest.mark.parametrize(
    ("register_name", "tkz", "name", "kind"),
    [
        ("Amorbach, St", "63", "Amorbach", "Stadt"),
        ("Flensburg, Stadt", "61", "Flensburg", "kreisfreie Stadt"),
        ("Kiel, Landeshauptstadt", "61", "Kiel", "kreisfreie Stadt (Landeshauptstadt)"),
        ("Stuttgart, Landeshauptstadt", "62", "Stuttgart", "Stadtkreis (Landeshauptstadt)"),
        ("Koblenz, kreisfreie Stadt", "61", "Koblenz", "kreisfreie Stadt"),
        ("Bad Kissingen, GKSt", "67", "Bad Kissingen", "Große Kreisstadt"),
        ("Abtswind, M", "60", "Abtswind", "Markt"),
        ("Merchweiler", "64", "Merchweiler", "Gemeinde"),
        ("Bad Bevensen, Flecken", "64", "Bad Bevensen", "Gemeinde (Flecken)"),
        ("Korbach, Hansestadt, Kreisstadt", "63", "Korbach", "Stadt (Hansestadt, Kreisstadt)"),
        (
            "Gelnhausen, Barbarossast., Krst.",
            "63",
            "Gelnhausen",
            "Stadt (Barbarossastadt, Kreisstadt)",
        ),
        ("Landstuhl, Sickingenstadt, Stadt", "63", "Landstuhl", "Stadt (Sickingenstadt)"),
        ("Weißwasser/O.L., Stadt / Běła Woda", "63", "Weißwasser/O.L.", "Stadt"),
        ("Halle (Saale), Stadt", "61", "Halle (Saale)", "kreisfreie Stadt"),
    ],
)
def test_name_and_kind_from_register_name(
    tmp_path: Path, register_name: str, tkz: str, name: str, kind: str
) -> None:
    row = gemeinde(name=f'"{register_name}"', tkz=tkz)
    [m] = parse_register(write(tmp_path, HEADER, LAND_BY, KREIS_MIL, row)).municipalities
    assert (m.name, m.kind, m.register_name) == (name, kind, register_name)


def test_kind_never_exceeds_the_column() -> None:
    assert kind_for("63", "Stadt, " + "x" * 80) == "Stadt"


def test_split_name_normalises_whitespace() -> None:
    assert split_name("  Bad   Orb ,  Stadt ") == ("Bad Orb", "Stadt")


@pytest.mark.parametrize("tkz", ["65", "66"])
def test_unincorporated_areas_are_skipped_and_counted(tmp_path: Path, tkz: str) -> None:
    forest = gemeinde(gemeinde="451", name='"Forst, gemfr. Gebiet"', tkz=tkz, population="0")
    result = parse_register(write(tmp_path, HEADER, LAND_BY, KREIS_MIL, forest, gemeinde()))
    assert [m.name for m in result.municipalities] == ["Amorbach"]
    assert result.skipped == 1
    assert result.errors == []


def test_broken_rows_are_reported_with_their_line_and_skipped(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER,  # 1
        LAND_BY,  # 2
        KREIS_MIL,  # 3
        gemeinde(gemeinde="111"),  # 4 ok
        gemeinde(gemeinde="112", population="viele"),  # 5
        "60,64,09,6,76,5555,113,Kurz",  # 6 too few columns
        gemeinde(gemeinde="1X4"),  # 7 bad AGS
        gemeinde(gemeinde="115", area='"12,5"'),  # 8 decimal comma
        gemeinde(gemeinde="116", postcode="6391"),  # 9
        gemeinde(gemeinde="117", tkz="99"),  # 10
        gemeinde(gemeinde="111", name="Doppelt"),  # 11 duplicate AGS
        gemeinde(gemeinde="118", name="Gut"),  # 12 ok
    )
    result = parse_register(path)

    assert [m.name for m in result.municipalities] == ["Amorbach", "Gut"]
    assert [e.line for e in result.errors] == [5, 6, 7, 8, 9, 10, 11]
    messages = [str(e) for e in result.errors]
    assert messages[0] == "Zeile 5: Einwohnerzahl 'viele' ist keine ganze Zahl ≥ 0."
    assert "Spalten" in messages[1]
    assert "Gemeinde '1X4'" in messages[2]
    assert "Fläche '12,5'" in messages[3]
    assert "Postleitzahl '6391'" in messages[4]
    assert "Textkennzeichen '99'" in messages[5]
    assert "doppelt" in messages[6] and "Zeile 4" in messages[6]


def test_line_numbers_count_physical_lines_across_quoted_newlines(tmp_path: Path) -> None:
    two_line_name = gemeinde(gemeinde="112", name='"Ober\nunter"', population="x")
    path = write(tmp_path, HEADER, LAND_BY, KREIS_MIL, two_line_name, "", gemeinde(tkz="99"))
    assert [e.line for e in parse_register(path).errors] == [4, 7]


def test_control_characters_in_a_name_are_an_error(tmp_path: Path) -> None:
    row = gemeinde(gemeinde="112", name="Amor\x00bach")
    result = parse_register(write(tmp_path, HEADER, LAND_BY, KREIS_MIL, row, gemeinde()))
    assert [m.ags for m in result.municipalities] == ["09676111"]
    assert [(e.line, "Steuerzeichen" in e.message) for e in result.errors] == [(4, True)]


def test_invalid_utf8_costs_only_its_row(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    lines = [HEADER, LAND_BY, KREIS_MIL, gemeinde(gemeinde="112", name="Bärnau"), gemeinde()]
    body = "\n".join(lines).encode("utf-8").replace("Bärnau".encode(), "Bärnau".encode("latin-1"))
    path.write_bytes(body + b"\n")

    result = parse_register(path)

    assert [m.name for m in result.municipalities] == ["Amorbach"]
    assert [(e.line, e.message) for e in result.errors] == [
        (4, "Ungültige Zeichenkodierung (kein UTF-8).")
    ]


def test_municipality_before_its_kreis_is_an_error(tmp_path: Path) -> None:
    result = parse_register(write(tmp_path, HEADER, LAND_BY, gemeinde()))
    assert [(e.line, "Satzart 40" in e.message) for e in result.errors] == [(3, True)]


@pytest.mark.parametrize("content", ["", "a,b,c\n1,2,3"])
def test_missing_or_wrong_header_is_one_error_not_an_exception(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "x.csv"
    path.write_text(content, encoding="utf-8")
    result = parse_register(path)
    assert result.municipalities == []
    assert [e.line for e in result.errors] == [1]


def test_stichtag_comes_from_the_file_name_or_parameter(tmp_path: Path) -> None:
    path = write(
        tmp_path, HEADER, LAND_BY, KREIS_MIL, gemeinde(), name="gemeindeverzeichnis-2020-06-30.csv"
    )
    [m] = parse_register(path).municipalities
    assert m.population_date == date(2020, 6, 30)
    assert m.population_source == "Destatis, Gemeindeverzeichnis GV-ISys, Stand 30.06.2020"

    [m] = parse_register(path, stichtag=date(2021, 12, 31)).municipalities
    assert m.population_date == date(2021, 12, 31)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gemeindeverzeichnis-2019-12-31.csv", date(2019, 12, 31)),
        ("/x/Gemeindeverzeichnis-2022-09-30.CSV", date(2022, 9, 30)),
        ("AuszugGV4QAktuell.csv", date(2019, 12, 31)),
        ("gemeindeverzeichnis-2019-13-45.csv", date(2019, 12, 31)),
    ],
)
def test_stichtag_from_filename(name: str, expected: date) -> None:
    assert stichtag_from_filename(name) == expected


def test_source_label() -> None:
    assert source_label(date(2019, 12, 31)) == (
        "Destatis, Gemeindeverzeichnis GV-ISys, Stand 31.12.2019"
    )


def test_the_shipped_register() -> None:
    result = parse_register(Config.REGISTER_CSV)

    assert result.errors == []
    assert len(result.municipalities) == 10_794
    assert result.skipped == 210
    assert len({m.ags for m in result.municipalities}) == 10_794
    assert all(len(m.ags) == 8 and m.ags.isdigit() for m in result.municipalities)
    assert all(len(m.kind) <= 60 for m in result.municipalities)
    merchweiler = next(m for m in result.municipalities if m.ags == "10043113")
    assert merchweiler.name == "Merchweiler"
    assert merchweiler.kreis == "Neunkirchen"
    assert merchweiler.land == "Saarland"
    assert merchweiler.population == 9872
    assert merchweiler.postcode == "66589"
    assert merchweiler.population_date == date(2019, 12, 31)
    assert merchweiler.population_source == (
        "Destatis, Gemeindeverzeichnis GV-ISys, Stand 31.12.2019"
    )


@pytest.mark.parametrize(
    ("lon", "lat", "message"),
    [
        ('"7.05"', '"49,35"', "Längengrad '7.05' ist ungültig"),
        ('"7,05"', '"99,1"', "Breitengrad '99,1' liegt außerhalb"),
    ],
)
def test_unreadable_coordinates_are_errors(
    tmp_path: Path, lon: str, lat: str, message: str
) -> None:
    row = MERCHWEILER.replace('"7,058254","49,358969"', f"{lon},{lat}")
    result = parse_register(write(tmp_path, HEADER, LAND_SL, KREIS_NK, row))
    assert result.municipalities == []
    assert message in str(result.errors[0])


def test_missing_coordinates_stay_empty(tmp_path: Path) -> None:
    row = MERCHWEILER.replace('"7,058254","49,358969"', ",")
    [m] = parse_register(write(tmp_path, HEADER, LAND_SL, KREIS_NK, row)).municipalities
    assert (m.breitengrad, m.laengengrad) == (None, None)


def test_joint_administrations_are_read_single_gemeinde_verbaende_are_not(
    tmp_path: Path,
) -> None:
    amt = "50,54,09,6,76,5555,,Verwaltungsgemeinschaft Amorbach,,,,,,,,,,,,"
    single = '50,50,09,6,76,0111,,"Miltenberg, St",,,,,,,,,,,,'
    result = parse_register(write(tmp_path, HEADER, LAND_BY, KREIS_MIL, amt, single, gemeinde()))
    assert result.errors == []
    [a] = result.associations
    assert (a.ars, a.name, a.kind, a.land, a.kreis) == (
        "096765555",
        "Verwaltungsgemeinschaft Amorbach",
        "Verwaltungsgemeinschaft",
        "Bayern",
        "Miltenberg",
    )
    assert result.municipalities[0].verband == "096765555"


def test_the_shipped_register_has_1208_joint_administrations() -> None:
    result = parse_register(Config.REGISTER_CSV)
    kinds: dict[str, int] = {}
    for a in result.associations:
        kinds[a.kind] = kinds.get(a.kind, 0) + 1
    assert kinds == {
        "Amt": 210,
        "Samtgemeinde": 116,
        "Verbandsgemeinde": 148,
        "Verwaltungsgemeinschaft": 575,
        "Verwaltungsverband": 120,
        "erfüllende Gemeinde": 39,
    }
    assert all(m.breitengrad is not None for m in result.municipalities)
