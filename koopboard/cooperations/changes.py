"""The history as a person reads it: one change per record and save, as a sentence.

``koopboard.history`` writes one row per changed field. Rows written by one flush for one
record share their time, actor, record and action; together they are one *change*. This
module pages through changes (not rows), names every referenced record (a deleted one by
the last label the history kept of it) and says each change as a German sentence, in the
reader's language. A page costs the same statements however many changes it shows: one
for the page of changes (with their total), one for every name behind them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, and_, cast, func, literal, null, select, union_all
from sqlalchemy.orm import aliased, lazyload

from koopboard.cooperations.history_labels import (
    history_field,
    history_record,
    history_value,
)
from koopboard.domain.milestones import BERLIN
from koopboard.extensions import db
from koopboard.i18n import format_money, person, quote
from koopboard.models import HistoryEntry, Municipality, User

# Record types a reader can filter by, in the order of the cooperation's pages.
RECORD_TYPES: dict[str, object] = {
    "Cooperation": _l("Kooperation"),
    "CooperationPartner": _l("Partner"),
    "Membership": _l("Rolle"),
    "CooperationInvitation": _l("Einladung in die Kooperation"),
    "Milestone": _l("Meilenstein"),
    "Cost": _l("Kosten"),
    "RecurringCost": _l("Wiederkehrende Kosten"),
    "CostReceipt": _l("Beleg"),
    "CostKey": _l("Verteilungsschlüssel"),
    "CostKeyEntry": _l("Schlüsselanteil"),
    "CostBudget": _l("Planansatz"),
    "Payment": _l("Zahlung"),
    "YearClosing": _l("Jahresabschluss"),
    "StatementTerms": _l("Zahlungsangaben"),
    "CooperationListing": _l("Eintrag in der Kooperationsbörse"),
    "JoinRequest": _l("Beitrittsanfrage"),
    "KoopCheck": _l("Kooperations-Check"),
}

# Columns that hold the key of another record: the reader sees its name, never the number.
PEOPLE_FIELDS = frozenset(
    {
        "user_id",
        "created_by_id",
        "amount_set_by_id",
        "submitted_by_id",
        "approved_by_id",
        "closed_by_id",
        "uploaded_by_id",
        "requested_by_id",
        "decided_by_id",
        "invited_by_id",
        "responsible_person_id",
    }
)
MUNICIPALITY_FIELDS = frozenset(
    {
        "municipality_id",
        "lead_municipality_id",
        "paid_by_id",
        "recipient_id",
        "responsible_municipality_id",
    }
)
# Records named by the last label the history kept of them (they may be deleted since).
RECORD_FIELDS = {"key_id": "CostKey", "reverses_id": "Cost", "recurring_id": "RecurringCost"}
# The labels of those columns without "(Nr.)": the value shown is a name.
NAMED_FIELD_LABELS = {
    "lead_municipality_id": _l("Federführung"),
    "municipality_id": _l("Kommune"),
    "user_id": _l("Person"),
    "paid_by_id": _l("Bezahlt von"),
    "key_id": _l("Verteilungsschlüssel"),
    "reverses_id": _l("Storno zu Kosten"),
    "recurring_id": _l("Aus wiederkehrenden Kosten"),
    "created_by_id": _l("Erfasst von"),
    "amount_set_by_id": _l("Betrag festgelegt von"),
    "submitted_by_id": _l("Eingereicht von"),
    "approved_by_id": _l("Freigegeben von"),
    "recipient_id": _l("Empfangende Kommune"),
    "closed_by_id": _l("Abgeschlossen von"),
    "uploaded_by_id": _l("Hochgeladen von"),
    "requested_by_id": _l("Gestellt von"),
    "decided_by_id": _l("Entschieden von"),
    "invited_by_id": _l("Eingeladen von"),
}
# Never shown field by field: the page is the cooperation's anyway; a checksum says nothing.
HIDDEN_FIELDS = frozenset({"cooperation_id", "sha256"})
# Records whose sentence names their amount (as it was at that change).
AMOUNT_TYPES = frozenset({"Cost", "Payment", "RecurringCost", "CostBudget"})

# How a sentence names a record (accusative); the label itself says "Verteilungsschlüssel
# 2026", "Zahlung vom …" for the records that are named by their kind.
_NOUNS: dict[str, object] = {
    "Cooperation": _l("die Kooperation %(name)s"),
    "CooperationPartner": _l("die Partnerkommune %(name)s"),
    "Membership": _l("die Rolle %(name)s"),
    "Milestone": _l("den Meilenstein %(name)s"),
    "Cost": _l("die Kosten %(name)s"),
    "RecurringCost": _l("die wiederkehrenden Kosten %(name)s"),
    "CostReceipt": _l("den Beleg %(name)s"),
    "CostKeyEntry": _l("den Schlüsselanteil von %(name)s"),
    "User": _l("das Konto %(name)s"),
    "Municipality": _l("die Kommune %(name)s"),
}
_QUOTED = frozenset({"Cooperation", "Milestone", "Cost", "RecurringCost", "CostReceipt"})


@dataclass
class FieldChange:
    """One field of a change: its label and the old and new value in words."""

    label: str
    old: str
    new: str


@dataclass
class Change:
    """One save of one record by one person, said as a sentence."""

    created_at: datetime
    actor_id: int | None
    actor: str
    record_type: str
    record_id: int
    action: str
    label: str
    last_entry_id: int
    entries: list[HistoryEntry] = field(default_factory=list)
    amount: Decimal | None = None
    sentence: str = ""
    fields: list[FieldChange] = field(default_factory=list)


@dataclass
class Filters:
    """What the reader narrowed the history to (None: everything)."""

    record_type: str | None = None
    actor_id: int | None = None
    since: date | None = None
    until: date | None = None


@dataclass
class ChangePage:
    changes: list[Change]
    total: int
    page_number: int
    pages: int


def _berlin_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BERLIN)


def _conditions(cooperation_id: int, filters: Filters) -> list:
    where = [HistoryEntry.cooperation_id == cooperation_id]
    if filters.record_type:
        where.append(HistoryEntry.record_type == filters.record_type)
    if filters.actor_id:
        where.append(HistoryEntry.actor_id == filters.actor_id)
    if filters.since:
        where.append(HistoryEntry.created_at >= _berlin_start(filters.since))
    if filters.until:
        where.append(HistoryEntry.created_at < _berlin_start(filters.until + timedelta(days=1)))
    return where


_GROUP = (
    HistoryEntry.created_at,
    HistoryEntry.actor_label,
    HistoryEntry.record_type,
    HistoryEntry.record_id,
    HistoryEntry.action,
)


def _entries_of_page(
    cooperation_id: int, filters: Filters, limit: int, offset: int
) -> tuple[list[HistoryEntry], int]:
    """The rows of one page of changes, and how many changes there are (one statement)."""
    groups = (
        select(
            *_GROUP,
            func.max(HistoryEntry.id).label("last_id"),
            func.count().over().label("total"),
        )
        .where(*_conditions(cooperation_id, filters))
        .group_by(*_GROUP)
        .order_by(func.max(HistoryEntry.id).desc())
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    entry = aliased(HistoryEntry)
    rows = db.session.execute(
        select(entry, groups.c.total)
        .join(
            groups,
            and_(
                entry.created_at == groups.c.created_at,
                entry.actor_label == groups.c.actor_label,
                entry.record_type == groups.c.record_type,
                entry.record_id == groups.c.record_id,
                entry.action == groups.c.action,
            ),
        )
        .where(entry.cooperation_id == cooperation_id)
        # The names come in one statement for the whole page (resolve_names).
        .options(lazyload(entry.actor))
        .order_by(groups.c.last_id.desc(), entry.id)
    ).all()
    total = rows[0][1] if rows else 0
    return [row[0] for row in rows], total


def _group(entries: list[HistoryEntry]) -> list[Change]:
    changes: dict[tuple, Change] = {}
    for entry in entries:
        key = (entry.created_at, entry.actor_label, entry.record_type, entry.record_id)
        key = (*key, entry.action)
        change = changes.get(key)
        if change is None:
            change = changes[key] = Change(
                created_at=entry.created_at,
                actor_id=entry.actor_id,
                actor=entry.actor_label,
                record_type=entry.record_type,
                record_id=entry.record_id,
                action=entry.action,
                label=entry.record_label,
                last_entry_id=entry.id,
            )
        change.entries.append(entry)
        change.last_entry_id = max(change.last_entry_id, entry.id)
    return list(changes.values())


@dataclass
class Names:
    """Everything the changes of a page refer to, by name."""

    people: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    municipalities: dict[int, str] = field(default_factory=dict)
    records: dict[tuple[str, int], str] = field(default_factory=dict)
    # (record type, record id) -> [(history entry id, amount)], oldest first
    amounts: dict[tuple[str, int], list[tuple[int, str]]] = field(default_factory=dict)

    def person_name(self, key: int) -> str:
        name, town = self.people.get(key, (None, None))
        if name is None:
            return _("unbekannte Person")
        return f"{person(name)} ({town})" if town else str(person(name))

    def amount_at(self, record_type: str, record_id: int, entry_id: int) -> Decimal | None:
        """The record's amount as the history had it after entry ``entry_id``."""
        value = None
        for seen, amount in self.amounts.get((record_type, record_id), []):
            if seen <= entry_id:
                value = amount
        if value is None:
            return None
        try:
            return Decimal(value)
        except InvalidOperation:
            return None


def _ids(values: set[str]) -> set[int]:
    return {int(v) for v in values if v and v.isdigit() and len(v) < 10}


def resolve_names(entries: list[HistoryEntry], *, amounts: bool = True) -> Names:
    """The names behind the entries' keys and actors (and, with ``amounts``, the amounts
    of their records over time), in one statement (none if nothing is named)."""
    people: set[str] = set()
    towns: set[str] = set()
    records: dict[str, set[str]] = {}
    amount_records: dict[str, set[int]] = {}
    for entry in entries:
        if entry.actor_id:
            people.add(str(entry.actor_id))
        if amounts and entry.record_type in AMOUNT_TYPES:
            amount_records.setdefault(entry.record_type, set()).add(entry.record_id)
        values = {entry.old_value or "", entry.new_value or ""}
        if entry.field in PEOPLE_FIELDS:
            people |= values
        elif entry.field in MUNICIPALITY_FIELDS:
            towns |= values
        elif entry.field in RECORD_FIELDS:
            records.setdefault(RECORD_FIELDS[entry.field], set()).update(values)
    parts = []
    if person_ids := _ids(people):
        parts.append(
            select(
                literal("person").label("kind"),
                User.id.label("key"),
                cast(User.name, String).label("name"),
                cast(Municipality.name, String).label("extra"),
                cast(literal(0), Integer).label("entry_id"),
            )
            .outerjoin(Municipality, Municipality.id == User.municipality_id)
            .where(User.id.in_(person_ids))
        )
    if town_ids := _ids(towns):
        parts.append(
            select(
                literal("town"),
                Municipality.id,
                cast(Municipality.name, String),
                cast(null(), String),
                cast(literal(0), Integer),
            ).where(Municipality.id.in_(town_ids))
        )
    for record_type, values in records.items():
        if record_ids := _ids(values):
            newest = (
                select(func.max(HistoryEntry.id))
                .where(
                    HistoryEntry.record_type == record_type,
                    HistoryEntry.record_id.in_(record_ids),
                )
                .group_by(HistoryEntry.record_id)
            )
            parts.append(
                select(
                    literal("record"),
                    HistoryEntry.record_id,
                    cast(HistoryEntry.record_label, String),
                    cast(HistoryEntry.record_type, String),
                    HistoryEntry.id,
                ).where(HistoryEntry.id.in_(newest))
            )
    for record_type, record_ids in amount_records.items():
        parts.append(
            select(
                literal("amount"),
                HistoryEntry.record_id,
                cast(HistoryEntry.new_value, String),
                cast(HistoryEntry.record_type, String),
                HistoryEntry.id,
            ).where(
                HistoryEntry.record_type == record_type,
                HistoryEntry.record_id.in_(record_ids),
                HistoryEntry.field == "amount",
                HistoryEntry.new_value.is_not(None),
            )
        )
    names = Names()
    if not parts:
        return names
    statement = parts[0] if len(parts) == 1 else union_all(*parts)
    for kind, key, name, extra, entry_id in db.session.execute(statement):
        if kind == "person":
            names.people[key] = (name, extra)
        elif kind == "town":
            names.municipalities[key] = name
        elif kind == "record":
            names.records[(extra, key)] = history_record(extra, name)
        else:
            names.amounts.setdefault((extra, key), []).append((entry_id, name))
    for series in names.amounts.values():
        series.sort()
    return names


def value_name(names: Names, record_type: str, column: str | None, value: str | None) -> str:
    """A stored value in words: a name for a key, a label, a date or an amount."""
    if value is None or column is None:
        return history_value(record_type, column, value)
    if column in PEOPLE_FIELDS and value.isdigit():
        name, _town = names.people.get(int(value), (None, None))
        return str(person(name)) if name else _("unbekannte Person")
    if column in MUNICIPALITY_FIELDS and value.isdigit():
        return names.municipalities.get(int(value)) or _("unbekannte Kommune")
    if column in RECORD_FIELDS and value.isdigit():
        return names.records.get((RECORD_FIELDS[column], int(value))) or _("unbekannt")
    return history_value(record_type, column, value)


def field_label(record_type: str, column: str | None) -> str:
    """A column in words (without "(Nr.)": its value is shown by name)."""
    if column in NAMED_FIELD_LABELS:
        return str(NAMED_FIELD_LABELS[column])
    return history_field(record_type, column)


def actor_text(change: Change, names: Names) -> str:
    """ "Karl Schneider (Illingen)", or the system actor's label."""
    if change.actor_id and change.actor_id in names.people:
        name, town = names.people[change.actor_id]
        stored = change.actor.rsplit(" <", 1)[0] if change.actor.endswith(">") else change.actor
        shown = person(stored or name)
        return f"{shown} ({town})" if town else str(shown)
    if change.actor.endswith(">"):
        return str(person(change.actor.rsplit(" <", 1)[0]))
    return str(person(change.actor))


def record_text(change: Change) -> str:
    """The record, as the sentence names it: "die Kosten „Fachverfahren“ (1.234,00 €)"."""
    label = history_record(change.record_type, change.label)
    name = quote(label) if change.record_type in _QUOTED else label
    noun = _NOUNS.get(change.record_type)
    text = str(noun) % {"name": name} if noun is not None else name
    if change.amount is not None:
        text = f"{text} ({format_money(change.amount)})"
    return text


def _changed(change: Change, column: str) -> str | None:
    for entry in change.entries:
        if entry.field == column:
            return entry.new_value
    return None


def _role_parts(change: Change) -> tuple[str, str]:
    """A role's holder and role in words ("Ilse Illinger", "Kämmerei"), from its label."""
    shown = history_record("Membership", change.label)
    holder, sep, role = shown.rpartition(": ")
    return (str(person(holder)), role) if sep else (shown, "")


def sentence(change: Change, names: Names) -> str:
    """What happened, as one sentence in the reader's language."""
    who = actor_text(change, names)
    what = record_text(change)
    if change.record_type == "Membership" and change.action in ("create", "delete"):
        holder, role = _role_parts(change)
        if change.action == "create":
            return _(
                "%(who)s hat %(person)s die Rolle %(role)s gegeben.",
                who=who,
                person=holder,
                role=role,
            )
        return _(
            "%(who)s hat %(person)s die Rolle %(role)s entzogen.", who=who, person=holder, role=role
        )
    if change.record_type == "CooperationPartner" and change.action == "create":
        return _("%(who)s hat %(name)s als Partnerkommune aufgenommen.", who=who, name=change.label)
    if change.action == "delete":
        return _("%(who)s hat %(what)s gelöscht.", who=who, what=what)
    if change.action == "create":
        if change.record_type == "Cost" and _changed(change, "reverses_id"):
            return _("%(who)s hat die Gegenbuchung %(what)s erfasst.", who=who, what=what)
        if change.record_type in ("Cost", "Payment"):
            return _("%(who)s hat %(what)s erfasst.", who=who, what=what)
        return _("%(who)s hat %(what)s angelegt.", who=who, what=what)
    if change.record_type == "Cost":
        state = _changed(change, "state")
        if state == "eingereicht":
            return _("%(who)s hat %(what)s eingereicht.", who=who, what=what)
        if state == "freigegeben":
            return _("%(who)s hat %(what)s freigegeben.", who=who, what=what)
        if state == "abgelehnt":
            return _("%(who)s hat %(what)s abgelehnt.", who=who, what=what)
    if change.record_type == "Milestone" and (status := _changed(change, "status")):
        return _(
            "%(who)s hat %(what)s auf %(status)s gesetzt.",
            who=who,
            what=what,
            status=quote(history_value("Milestone", "status", status)),
        )
    if change.record_type in ("CooperationPartner",) and _changed(change, "left_on"):
        return _("%(who)s hat den Austritt von %(what)s eingetragen.", who=who, what=what)
    shown = [
        field_label(change.record_type, e.field)
        for e in change.entries
        if e.field and e.field not in HIDDEN_FIELDS
    ]
    if not shown:
        return _("%(who)s hat %(what)s geändert.", who=who, what=what)
    return _(
        "%(who)s hat %(what)s geändert: %(fields)s.",
        who=who,
        what=what,
        fields=", ".join(shown),
    )


def describe(changes: list[Change]) -> list[Change]:
    """Fill in each change's amount, sentence and field-by-field detail (one statement)."""
    names = resolve_names([entry for change in changes for entry in change.entries])
    for change in changes:
        if change.record_type in AMOUNT_TYPES:
            change.amount = names.amount_at(
                change.record_type, change.record_id, change.last_entry_id
            )
        change.sentence = sentence(change, names)
        change.fields = [
            FieldChange(
                label=field_label(change.record_type, entry.field),
                old=value_name(names, change.record_type, entry.field, entry.old_value),
                new=value_name(names, change.record_type, entry.field, entry.new_value),
            )
            for entry in change.entries
            if entry.field and entry.field not in HIDDEN_FIELDS
        ]
    return changes


def latest(cooperation_id: int, count: int = 10) -> list[Change]:
    """The newest ``count`` changes of the cooperation (its page shows ten)."""
    entries, _total = _entries_of_page(cooperation_id, Filters(), count, 0)
    return describe(_group(entries))


def page_of(cooperation_id: int, filters: Filters, page_number: int, size: int) -> ChangePage:
    """One page of changes, newest first; a page beyond the end shows the last one."""
    entries, total = _entries_of_page(cooperation_id, filters, size, (page_number - 1) * size)
    if not entries and page_number > 1:
        count = db.session.scalar(
            select(func.count()).select_from(
                select(*_GROUP)
                .where(*_conditions(cooperation_id, filters))
                .group_by(*_GROUP)
                .subquery()
            )
        )
        page_number = max((count + size - 1) // size, 1)
        entries, total = _entries_of_page(cooperation_id, filters, size, (page_number - 1) * size)
    pages = max((total + size - 1) // size, 1)
    return ChangePage(describe(_group(entries)), total, page_number, pages)


def people_in(cooperation_id: int) -> list[tuple[int, str]]:
    """Everyone who changed something in the cooperation, for the person filter."""
    rows = db.session.execute(
        select(User.id, User.name, Municipality.name)
        .outerjoin(Municipality, Municipality.id == User.municipality_id)
        .where(
            User.id.in_(
                select(HistoryEntry.actor_id)
                .where(
                    HistoryEntry.cooperation_id == cooperation_id,
                    HistoryEntry.actor_id.is_not(None),
                )
                .distinct()
            )
        )
        .order_by(User.name, User.id)
    ).all()
    return [
        (uid, f"{person(name)} ({town})" if town else str(person(name))) for uid, name, town in rows
    ]


def csv_name(names: Names, column: str | None, value: str | None) -> str:
    """The name beside a stored key in the CSV export ("" for a value that is no key)."""
    if not value or not column or not value.isdigit():
        return ""
    if column in PEOPLE_FIELDS | MUNICIPALITY_FIELDS or column in RECORD_FIELDS:
        return value_name(names, "", column, value)
    return ""
