"""Writes the append-only history inside the same flush as the change.

Every model with a ``history_cooperation_id()`` method is audited. The hook runs in
``after_flush``: ids of new rows exist, and attribute histories still hold the old
values, so one INSERT per flush records who changed which field from what to what.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import bindparam, event, insert, inspect, text
from sqlalchemy.orm import Session

from koopboard.models.history import HistoryEntry
from koopboard.models.types import utcnow


class HistoryIsAppendOnly(RuntimeError):  # noqa: N818 (public name)
    """Raised when code tries to change or delete a history entry."""


_system_actor: ContextVar[str | None] = ContextVar("history_system_actor", default=None)


@contextmanager
def acting_as(label: str) -> Iterator[None]:
    """Attribute changes made outside a request (CLI, tasks) to a named system actor."""
    token = _system_actor.set(label)
    try:
        yield
    finally:
        _system_actor.reset(token)


def _current_actor() -> tuple[int | None, str]:
    label = _system_actor.get()
    if label is not None:
        return None, label
    try:
        from flask import has_request_context
        from flask_login import current_user

        if has_request_context() and current_user.is_authenticated:
            user = current_user
            return user.id, f"{user.name} <{user.email}>"
    # Outside a request (CLI, worker, migrations) the actor is "System"; a history entry must
    # never fail a write because the login machinery is not there.
    except Exception:  # nosec B110  # pragma: no cover - outside Flask entirely
        pass
    return None, "System"


def _render(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _audited(obj: object) -> bool:
    return hasattr(obj, "history_cooperation_id") and not isinstance(obj, HistoryEntry)


def _label(obj: object) -> str:
    try:
        return str(obj)[:300]
    except Exception:
        return ""


# Bookkeeping columns: the history entry carries its own timestamp, and the version
# counter changes with every edit anyway.
_ALWAYS_EXCLUDED = frozenset({"id", "created_at", "updated_at", "version"})


def _columns(obj: object) -> list:
    mapper = inspect(obj).mapper
    exclude = getattr(obj, "history_exclude", frozenset()) | _ALWAYS_EXCLUDED
    return [attr for attr in mapper.column_attrs if attr.key not in exclude]


def _rows_for(obj: object, action: str, base: dict) -> list[dict]:
    state = inspect(obj)
    record = dict(
        base,
        cooperation_id=obj.history_cooperation_id(),
        record_type=type(obj).__name__,
        record_id=state.identity[0] if state.identity else obj.id,
        record_label=_label(obj),
        action=action,
    )
    rows = []
    for attr in _columns(obj):
        hist = state.attrs[attr.key].history
        if action == "create":
            new = getattr(obj, attr.key)
            if new is None or new == "":  # nothing to tell about an empty field
                continue
            rows.append(dict(record, field=attr.key, old_value=None, new_value=_render(new)))
        elif action == "update":
            if not hist.has_changes():
                continue
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if _render(old) == _render(new):
                continue
            rows.append(
                dict(record, field=attr.key, old_value=_render(old), new_value=_render(new))
            )
        else:  # delete
            old = (
                hist.unchanged[0] if hist.unchanged else (hist.deleted[0] if hist.deleted else None)
            )
            if old is None:
                continue
            rows.append(dict(record, field=attr.key, old_value=_render(old), new_value=None))
    if not rows and action != "update":
        rows.append(dict(record, field=None, old_value=None, new_value=None))
    return rows


@event.listens_for(Session, "before_flush")
def _refuse_history_changes(session: Session, flush_context, instances) -> None:  # noqa: ANN001
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, HistoryEntry) and (obj in session.deleted or session.is_modified(obj)):
            raise HistoryIsAppendOnly(
                "Verlaufseinträge können nicht geändert oder gelöscht werden."
            )
    # A record deleted after a commit (its attributes expired) would otherwise be recorded
    # without its old values: load them while the row still exists.
    for obj in session.deleted:
        if _audited(obj):
            for attr in _columns(obj):
                getattr(obj, attr.key)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_history_changes(execute_state) -> None:  # noqa: ANN001
    """``update(HistoryEntry)`` and ``delete(HistoryEntry)`` skip the flush: refuse them too."""
    if (execute_state.is_update or execute_state.is_delete) and any(
        mapper.class_ is HistoryEntry for mapper in execute_state.all_mappers
    ):
        raise HistoryIsAppendOnly("Verlaufseinträge können nicht geändert oder gelöscht werden.")


@event.listens_for(Session, "after_flush")
def _write_history(session: Session, flush_context) -> None:  # noqa: ANN001
    actor_id, actor_label = _current_actor()
    base = {"created_at": utcnow(), "actor_id": actor_id, "actor_label": actor_label[:300]}
    rows: list[dict] = []
    for obj in session.new:
        if _audited(obj):
            rows.extend(_rows_for(obj, "create", base))
    for obj in session.dirty:
        if _audited(obj) and session.is_modified(obj, include_collections=False):
            rows.extend(_rows_for(obj, "update", base))
    for obj in session.deleted:
        if _audited(obj):
            rows.extend(_rows_for(obj, "delete", base))
    if rows:
        session.connection().execute(insert(HistoryEntry), rows)


def record_event(
    session: Session,
    *,
    record_type: str,
    record_id: int,
    action: str,
    record_label: str = "",
    cooperation_id: int | None = None,
    field: str | None = None,
    old_value: str | None = None,
    new_value: str | None = None,
) -> None:
    """Record a change made by a bulk statement the ORM events do not see."""
    actor_id, actor_label = _current_actor()
    session.execute(
        insert(HistoryEntry),
        [
            {
                "created_at": utcnow(),
                "actor_id": actor_id,
                "actor_label": actor_label[:300],
                "cooperation_id": cooperation_id,
                "record_type": record_type,
                "record_id": record_id,
                "record_label": record_label[:300],
                "action": action,
                "field": field,
                "old_value": old_value,
                "new_value": new_value,
            }
        ],
    )


# The text columns that may name a person; everything else of an entry never changes.
REDACTABLE = ("actor_label", "record_label", "old_value", "new_value")


def redact_person(session: Session, changes: list[dict[str, Any]]) -> int:
    """Rewrite the person-naming text of history entries: the one exception to append-only,
    for the anonymisation of an account (Art. 17 DSGVO, ``koopboard.account.anonymisation``).

    ``changes`` are ``{"id": ..., "actor_label": ..., "record_label": ..., "old_value": ...,
    "new_value": ...}``; who (``actor_id``), when, which record, action and field stay as
    they were. On PostgreSQL the append-only trigger lets these updates through only in a
    transaction that set ``koopboard.history_redaction`` (done here, ``SET LOCAL``: it ends
    with the transaction), and only if nothing but these columns changes. A Core statement
    on the connection: the ORM's refusal (``_refuse_bulk_history_changes``) guards the
    session's own statements. Entries loaded as objects in ``session`` are stale afterwards."""
    if not changes:
        return 0
    conn = session.connection()
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        conn.execute(text("SELECT set_config('koopboard.history_redaction', 'on', true)"))
    table = HistoryEntry.__table__
    statement = (
        table.update()
        .where(table.c.id == bindparam("entry_id"))
        .values({column: bindparam(f"new_{column}") for column in REDACTABLE})
    )
    conn.execute(
        statement,
        [
            {"entry_id": change["id"], **{f"new_{c}": change[c] for c in REDACTABLE}}
            for change in changes
        ],
    )
    if postgres:
        conn.execute(text("SELECT set_config('koopboard.history_redaction', 'off', true)"))
    return len(changes)
