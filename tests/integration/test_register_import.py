"""Importing the register into a real database: upsert, re-import, errors, rollback, CLI."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from koopboard.config import Config
from koopboard.extensions import db
from koopboard.models import HistoryEntry, Municipality, RegisterAssociation
from koopboard.municipalities import importer
from koopboard.municipalities.importer import import_register

pytestmark = pytest.mark.integration

SHIPPED = Path(Config.REGISTER_CSV)
MERCHWEILER_ROW = "60,64,10,0,43,0113,113,Merchweiler, 12.80, 9 872,"


@pytest.fixture
def register_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped register under its original name (keeps the Stichtag)."""
    path = tmp_path / SHIPPED.name
    shutil.copyfile(SHIPPED, path)
    return path


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def register_history() -> list[HistoryEntry]:
    query = select(HistoryEntry).where(HistoryEntry.record_type == "Register")
    return list(db.session.scalars(query.order_by(HistoryEntry.id)))


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8-sig")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8-sig")


def test_first_import_creates_every_municipality(app: Flask) -> None:
    progress: list[tuple[int, int]] = []

    result = import_register(SHIPPED, progress=lambda done, total: progress.append((done, total)))
    db.session.commit()

    assert (result.total, result.created, result.updated, result.unchanged) == (10794, 10794, 0, 0)
    assert (result.skipped, result.errors) == (210, [])
    assert count(Municipality) == 10794
    assert progress[-1] == (10794, 10794)
    merchweiler = db.session.scalar(select(Municipality).filter_by(ags="10043113"))
    assert merchweiler is not None
    assert (merchweiler.name, merchweiler.kreis, merchweiler.land) == (
        "Merchweiler",
        "Neunkirchen",
        "Saarland",
    )
    assert (merchweiler.population, merchweiler.postcode) == (9872, "66589")
    assert str(merchweiler.area_km2) == "12.80"
    [entry] = register_history()
    assert entry.action == "import"
    assert entry.new_value == (
        "10794 Gemeinden: 10794 neu, 0 geändert, 0 unverändert; "
        "1208 Gemeindeverbände (1208 neu oder geändert); 210 übersprungen; 0 Fehler"
    )
    assert (merchweiler.breitengrad, merchweiler.laengengrad) == (
        Decimal("49.358969"),
        Decimal("7.058254"),
    )


def test_reimport_changes_nothing_and_never_duplicates(app: Flask) -> None:
    import_register(SHIPPED)
    db.session.commit()

    result = import_register(SHIPPED)
    db.session.commit()

    assert (result.created, result.updated, result.unchanged) == (0, 0, 10794)
    assert (result.associations, result.associations_changed) == (1208, 0)
    assert count(Municipality) == 10794
    assert count(RegisterAssociation) == 1208
    assert len(register_history()) == 2


def test_joint_administrations_with_their_members(app: Flask) -> None:
    import_register(SHIPPED)
    db.session.commit()

    kinds = dict(
        db.session.execute(
            select(RegisterAssociation.kind, func.count()).group_by(RegisterAssociation.kind)
        ).all()
    )
    assert kinds == {
        "Amt": 210,
        "Samtgemeinde": 116,
        "Verbandsgemeinde": 148,
        "Verwaltungsgemeinschaft": 575,
        "Verwaltungsverband": 120,
        "erfüllende Gemeinde": 39,
    }
    # Every association's figures are its members' (matched by AGS + Verband key).
    totals = dict(
        db.session.execute(
            select(Municipality.verband, func.sum(Municipality.population)).group_by(
                Municipality.verband
            )
        ).all()
    )
    for association in db.session.scalars(select(RegisterAssociation)):
        assert association.member_count >= 2
        assert association.population == totals[association.ars]
    amt = db.session.scalar(select(RegisterAssociation).filter_by(name="Burg-St. Michaelisdonn"))
    members = db.session.scalars(
        select(Municipality.name).filter_by(verband=amt.ars).order_by(Municipality.name)
    ).all()
    assert (amt.kind, amt.kreis, amt.land) == ("Amt", "Dithmarschen", "Schleswig-Holstein")
    assert amt.member_names == ", ".join(members)
    assert amt.register_date.isoformat() == "2019-12-31"
    assert 53.9 < float(amt.breitengrad) < 54.1


def test_a_changed_row_is_updated_in_place(app: Flask, register_copy: Path) -> None:
    import_register(register_copy)
    db.session.commit()
    before = db.session.scalar(select(Municipality.id).filter_by(ags="10043113"))
    replace_in(register_copy, MERCHWEILER_ROW, MERCHWEILER_ROW.replace(" 9 872,", " 9 901,"))

    result = import_register(register_copy)
    db.session.commit()

    assert (result.created, result.updated, result.unchanged) == (0, 1, 10793)
    assert count(Municipality) == 10794
    merchweiler = db.session.scalar(select(Municipality).filter_by(ags="10043113"))
    assert (merchweiler.id, merchweiler.population) == (before, 9901)


def test_a_broken_row_is_reported_and_the_rest_imported(app: Flask, register_copy: Path) -> None:
    replace_in(register_copy, MERCHWEILER_ROW, MERCHWEILER_ROW.replace(" 9 872,", " neun,"))
    line = next(
        number
        for number, text in enumerate(register_copy.read_text("utf-8-sig").splitlines(), 1)
        if text.startswith(MERCHWEILER_ROW[:30])
    )

    result = import_register(register_copy)
    db.session.commit()

    assert [(e.line, e.message) for e in result.errors] == [
        (line, "Einwohnerzahl 'neun' ist keine ganze Zahl ≥ 0.")
    ]
    assert result.created == count(Municipality) == 10793
    assert db.session.scalar(select(Municipality).filter_by(ags="10043113")) is None
    assert register_history()[0].new_value.endswith("210 übersprungen; 1 Fehler")


def test_a_failure_mid_import_leaves_nothing_written(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_batches = importer._batches
    written: list[int] = []

    def fail_after_first_batch(rows: list, size: int) -> Iterator[list]:
        for batch in real_batches(rows, size):
            if written:
                raise RuntimeError("Datenbank weg")
            written.append(len(batch))
            yield batch

    monkeypatch.setattr(importer, "_batches", fail_after_first_batch)

    with pytest.raises(RuntimeError, match="Datenbank weg"):
        import_register(SHIPPED)

    assert written == [importer.BATCH_SIZE]  # one batch really went to the database
    assert count(Municipality) == 0
    assert register_history() == []


def test_cli_imports_commits_and_prints_a_summary(app: Flask) -> None:
    runner = app.test_cli_runner()

    result = runner.invoke(args=["koop", "import-register", str(SHIPPED), "--quiet"])

    assert result.exit_code == 0, result.output
    assert "Registerimport abgeschlossen" in result.output
    assert "10794 Gemeinden: 10794 neu, 0 geändert" in result.output
    db.session.rollback()  # a fresh transaction sees what the command committed
    assert count(Municipality) == 10794
    [entry] = register_history()
    assert entry.actor_label == "Registerimport"


def test_cli_lists_unreadable_rows_with_line_numbers(app: Flask, register_copy: Path) -> None:
    replace_in(register_copy, MERCHWEILER_ROW, MERCHWEILER_ROW.replace("113,Merch", "11,Merch"))

    result = app.test_cli_runner().invoke(
        args=["koop", "import-register", str(register_copy), "--quiet"]
    )

    assert result.exit_code == 0, result.output
    assert "1 Zeilen konnten nicht gelesen werden" in result.output
    assert "Zeile 12567: Ungültiger Schlüsselteil Gemeinde '11'" in result.output
    assert "10793 Gemeinden: 10793 neu" in result.output


def test_cli_uses_the_configured_register_by_default(app: Flask) -> None:
    app.config["REGISTER_CSV"] = str(SHIPPED)

    result = app.test_cli_runner().invoke(args=["koop", "import-register", "--quiet"])

    assert result.exit_code == 0, result.output
    assert f"({SHIPPED.name}, Stand 31.12.2019)" in result.output


def test_cli_refuses_a_file_without_municipalities(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "leer.csv"
    path.write_text("kein,register\n", encoding="utf-8")

    result = app.test_cli_runner().invoke(args=["koop", "import-register", str(path), "--quiet"])

    assert result.exit_code == 1
    assert "Zeile 1: Kopfzeile passt nicht" in result.output
    assert "nichts importiert" in result.output
    db.session.rollback()
    assert count(Municipality) == 0
    assert register_history() == []
