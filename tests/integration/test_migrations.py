"""The Alembic migrations build exactly the models' schema, on PostgreSQL and on SQLite.

Each test migrates a fresh, empty database (never the shared test database), compares it
with the models by Alembic autogenerate, and checks that downgrade to base and upgrade again
work. On PostgreSQL the append-only trigger on the history must exist and refuse changes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade

from koopboard import create_app
from koopboard.extensions import db
from tests.conftest import _test_config, create_pg_database, drop_pg_database, service_missing

pytestmark = pytest.mark.integration


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_app(
    request: pytest.FixtureRequest, pg_available: bool, worker_id_suffix: str, tmp_path: Path
) -> Iterator[Flask]:
    """An app on a brand-new, empty database of each kind, dropped afterwards."""
    pg_name = None
    if request.param == "postgresql":
        if not pg_available:
            service_missing("PostgreSQL", "nothing listens on the test PostgreSQL port")
        pg_name = f"koopboard_migrations_{worker_id_suffix}_{os.getpid()}"
        url = create_pg_database(pg_name)
    else:
        url = f"sqlite:///{tmp_path / 'migrations.sqlite'}"
    app = create_app(_test_config(url, smtp_port=1))
    try:
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        if pg_name:
            drop_pg_database(pg_name)


def schema_differences() -> list[object]:
    """What autogenerate would put into a new migration (empty when models and schema agree)."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def table_names() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_upgrade_builds_exactly_the_models(empty_app: Flask) -> None:
    upgrade()

    assert table_names() == set(db.metadata.tables) | {"alembic_version"}
    assert schema_differences() == []


def test_downgrade_to_base_and_upgrade_again(empty_app: Flask) -> None:
    upgrade()

    downgrade(revision="base")
    assert table_names() <= {"alembic_version"}

    upgrade()
    assert schema_differences() == []
    with db.engine.connect() as conn:
        head = conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    assert head is not None


HISTORY_ROW = sa.text(
    "INSERT INTO history_entry (created_at, actor_label, record_type, record_id, record_label,"
    " action) VALUES (CURRENT_TIMESTAMP, 'Test', 'Cooperation', 1, 'Standesamt', 'create')"
)


@pytest.mark.parametrize("empty_app", ["postgresql"], indirect=True)
def test_history_is_append_only_in_postgresql(empty_app: Flask) -> None:
    upgrade()
    with db.engine.connect() as conn:
        trigger = conn.execute(
            sa.text(
                "SELECT tgenabled, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid ="
                " 'history_entry'::regclass AND tgname = 'history_entry_append_only'"
            )
        ).one_or_none()
    assert trigger is not None, "trigger history_entry_append_only missing after upgrade"
    enabled, definition = trigger
    assert enabled == "O"  # fires in the ordinary (origin) replication role
    assert re.search(r"BEFORE (UPDATE OR DELETE|DELETE OR UPDATE) .* FOR EACH ROW", definition)

    with db.engine.begin() as conn:
        conn.execute(HISTORY_ROW)
    for change in ("UPDATE history_entry SET new_value = 'x'", "DELETE FROM history_entry"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(sa.text(change))
    with db.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM history_entry")) == 1

    downgrade(revision="base")
    with db.engine.connect() as conn:
        functions = conn.scalar(
            sa.text("SELECT count(*) FROM pg_proc WHERE proname = 'history_entry_refuse_change'")
        )
    assert functions == 0


REDACTING = "SELECT set_config('koopboard.history_redaction', 'on', true)"


@pytest.mark.parametrize("empty_app", ["postgresql"], indirect=True)
def test_only_anonymisation_may_rewrite_the_person_texts(empty_app: Flask) -> None:
    """Migration 0017: in a transaction that announced the redaction, the trigger lets the
    person-naming texts change and nothing else; DELETE stays refused; 0016 refuses all."""
    upgrade()
    with db.engine.begin() as conn:
        conn.execute(HISTORY_ROW)
    with db.engine.begin() as conn:
        conn.execute(sa.text(REDACTING))
        conn.execute(
            sa.text(
                "UPDATE history_entry SET actor_label = 'ehemalige Person (anonymisiert)',"
                " record_label = 'x', old_value = 'a', new_value = 'b'"
            )
        )
    with db.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT actor_label FROM history_entry")) == (
            "ehemalige Person (anonymisiert)"
        )
    for change in (
        "UPDATE history_entry SET record_id = 2",
        "UPDATE history_entry SET actor_label = 'y', created_at = CURRENT_TIMESTAMP",
        "UPDATE history_entry SET action = 'delete'",
        "DELETE FROM history_entry",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(sa.text(REDACTING))
            conn.execute(sa.text(change))
    # SET LOCAL ends with its transaction: the next one is append-only again.
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE history_entry SET actor_label = 'z'"))

    downgrade(revision="0016_cooperation_invitations")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(sa.text(REDACTING))
        conn.execute(sa.text("UPDATE history_entry SET actor_label = 'z'"))
