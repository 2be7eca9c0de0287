"""The history stores column names and raw keys; the pages show them in words."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import format_date, format_datetime
from flask_babel import lazy_gettext as _l

from koopboard.domain.catalog import (
    CooperationStatus,
    Handlungsfeld,
    LabelledEnum,
    Rechtsform,
    Role,
)
from koopboard.domain.milestones import MilestoneStatus, Phase
from koopboard.domain.notifications import DeliveryMode, EventType

# Field labels shared by all record types, then the ones a record type names differently.
FIELDS = {
    "title": _l("Titel"),
    "goals": _l("Ziele"),
    "handlungsfeld": _l("Handlungsfeld"),
    "rechtsform": _l("Rechtsform"),
    "status": _l("Status"),
    "start_date": _l("Beginn"),
    "end_date": _l("Ende"),
    "lead_municipality_id": _l("Federführung (Nr.)"),
    "cooperation_id": _l("Kooperation (Nr.)"),
    "municipality_id": _l("Kommune (Nr.)"),
    "joined_on": _l("Beitritt"),
    "left_on": _l("Austritt"),
    "council_resolution_on": _l("Gremienbeschluss"),
    "user_id": _l("Person (Nr.)"),
    "role": _l("Rolle"),
    "description": _l("Beschreibung"),
    "phase": _l("Phase"),
    "due_date": _l("Fällig am"),
    "responsible_municipality_id": _l("Verantwortliche Kommune (Nr.)"),
    "completed_on": _l("Erledigt am"),
    "progress_note": _l("Fortschrittsnotiz"),
    "event_type": _l("Ereignis"),
    "mode": _l("Zustellung"),
    "digest_days": _l("Tage der Sammel-E-Mail"),
    "digest_hour": _l("Uhrzeit der Sammel-E-Mail"),
    "paused": _l("pausiert"),
}

# Enum-valued fields per record type ("status" means something else for a milestone).
VALUES: dict[tuple[str | None, str], type[LabelledEnum]] = {
    (None, "handlungsfeld"): Handlungsfeld,
    (None, "rechtsform"): Rechtsform,
    (None, "role"): Role,
    (None, "phase"): Phase,
    (None, "event_type"): EventType,
    (None, "mode"): DeliveryMode,
    ("Cooperation", "status"): CooperationStatus,
    ("Milestone", "status"): MilestoneStatus,
}


def history_field(record_type: str | None, field: str | None) -> str:
    """A changed column in words."""
    return str(FIELDS.get(field, field)) if field else "–"


def history_value(record_type: str | None, field: str | None, value: str | None) -> str:
    """A stored value as the pages show it: labels for keys, German dates."""
    if value is None:
        return "–"
    enum_cls = VALUES.get((record_type, field or "")) or VALUES.get((None, field or ""))
    if enum_cls is not None:
        try:
            return str(_l(enum_cls(value).label))
        except ValueError:
            return value
    if value in ("true", "false") and field == "paused":
        return str(_l("ja")) if value == "true" else str(_l("nein"))
    try:
        if len(value) == 10:
            return format_date(date.fromisoformat(value), "dd.MM.yyyy")
        if len(value) > 10 and value[10] == "T":
            return format_datetime(datetime.fromisoformat(value), "dd.MM.yyyy HH:mm")
    except ValueError:
        pass
    return value
