"""The history stores column names and raw keys; the pages show them in words."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from koopboard.domain.catalog import (
    CooperationStatus,
    Handlungsfeld,
    LabelledEnum,
    Rechtsform,
    Role,
)
from koopboard.domain.directory import JoinRequestStatus, Visibility
from koopboard.domain.invitations import InvitationStatus
from koopboard.domain.keys import KeyKind, format_percent
from koopboard.domain.milestones import MilestoneStatus, Phase
from koopboard.domain.notifications import DeliveryMode, EventType
from koopboard.i18n import format_day, format_money
from koopboard.models.cost import CostKind, CostState, PaymentKind, RecurringInterval
from koopboard.texts import key_text

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
    "responsible_municipality_id": _l("Verantwortliche Kommune"),
    "responsible_person_id": _l("Verantwortliche Person"),
    "completed_on": _l("Erledigt am"),
    "progress_note": _l("Fortschrittsnotiz"),
    "event_type": _l("Ereignis"),
    "mode": _l("Zustellung"),
    "digest_days": _l("Tage der Sammel-E-Mail"),
    "digest_hour": _l("Uhrzeit der Sammel-E-Mail"),
    "paused": _l("pausiert"),
    "anonymised_at": _l("anonymisiert am"),
    "lead_may_approve": _l("Projektleitung darf bei nur einer Kämmerei freigeben"),
    # Costs, keys, payments
    "budget_year": _l("Haushaltsjahr"),
    "booking_date": _l("Buchungsdatum"),
    "text": _l("Buchungstext"),
    "category": _l("Kategorie"),
    "kind": _l("Art"),
    "amount": _l("Betrag"),
    "net_amount": _l("Nettobetrag"),
    "vat_amount": _l("Umsatzsteuer"),
    "paid_by_id": _l("Bezahlt von (Nr.)"),
    "key_id": _l("Verteilungsschlüssel (Nr.)"),
    "key_description": _l("Verteilungsschlüssel"),
    "rejection_reason": _l("Grund der Ablehnung"),
    "reverses_id": _l("Storno zu Kosten (Nr.)"),
    "recurring_id": _l("Aus wiederkehrenden Kosten (Nr.)"),
    "created_by_id": _l("Erfasst von (Nr.)"),
    "amount_set_by_id": _l("Betrag festgelegt von (Nr.)"),
    "submitted_by_id": _l("Eingereicht von (Nr.)"),
    "submitted_at": _l("Eingereicht am"),
    "approved_by_id": _l("Freigegeben von (Nr.)"),
    "decided_at": _l("Entschieden am"),
    "base_percent": _l("Sockelanteil"),
    "usage_unit": _l("Nutzungseinheit"),
    "basis_note": _l("Grundlage"),
    "population": _l("Einwohnerzahl"),
    "population_date": _l("Stichtag"),
    "population_source": _l("Quelle"),
    "change_reason": _l("Grund der Änderung"),
    "percent": _l("Prozentsatz"),
    "usage_units": _l("Nutzungseinheiten"),
    "paid_on": _l("Gezahlt am"),
    "recipient_id": _l("Empfangende Kommune (Nr.)"),
    "note": _l("Vermerk"),
    "closed_by_id": _l("Abgeschlossen von (Nr.)"),
    "closed_at": _l("Abgeschlossen am"),
    "interval": _l("Rhythmus"),
    "day_of_month": _l("Tag im Monat"),
    "next_date": _l("Nächste Fälligkeit"),
    "active": _l("aktiv"),
    "filename": _l("Dateiname"),
    "media_type": _l("Dateityp"),
    "size_bytes": _l("Größe (Bytes)"),
    "sha256": _l("Prüfsumme (SHA-256)"),
    "uploaded_by_id": _l("Hochgeladen von (Nr.)"),
    # Kooperationsbörse
    "visibility": _l("Sichtbarkeit in der Kooperationsbörse"),
    "summary": _l("Kurzbeschreibung"),
    "seeking_partners": _l("Neue Partner willkommen"),
    "seeking_kreis": _l("Gesucht im Kreis"),
    "seeking_radius_km": _l("Gesucht im Umkreis (km)"),
    "message": _l("Nachricht"),
    "intended_join_on": _l("Gewünschter Beitritt"),
    "requested_by_id": _l("Gestellt von (Nr.)"),
    "decided_by_id": _l("Entschieden von (Nr.)"),
    "decision_reason": _l("Begründung"),
    # Invitations into a cooperation
    "email": _l("E-Mail-Adresse"),
    "invited_by_id": _l("Eingeladen von (Nr.)"),
    "expires_at": _l("Gültig bis"),
}

MONEY_FIELDS = frozenset({"amount", "net_amount", "vat_amount"})
PERCENT_FIELDS = frozenset({"base_percent", "percent"})
YES_NO_FIELDS = frozenset({"paused", "active", "lead_may_approve", "seeking_partners"})

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
    ("Cost", "state"): CostState,
    ("Cost", "kind"): CostKind,
    ("Payment", "kind"): PaymentKind,
    ("CostKey", "kind"): KeyKind,  # type: ignore[dict-item]
    ("RecurringCost", "interval"): RecurringInterval,  # type: ignore[dict-item]
    ("CooperationListing", "visibility"): Visibility,
    ("JoinRequest", "status"): JoinRequestStatus,
    ("CooperationInvitation", "status"): InvitationStatus,
}


def history_field(record_type: str | None, field: str | None) -> str:
    """A changed column in words."""
    return str(FIELDS.get(field, field)) if field else "–"


def history_value(record_type: str | None, field: str | None, value: str | None) -> str:
    """A stored value as the pages show it: labels for keys, dates and amounts of the locale."""
    if value is None:
        return "–"
    enum_cls = VALUES.get((record_type, field or "")) or VALUES.get((None, field or ""))
    if enum_cls is not None:
        try:
            return str(_l(enum_cls(value).label))
        except ValueError:
            return value
    if field == "key_description":  # written by the books in German
        return key_text(value)
    if value in ("true", "false") and field in YES_NO_FIELDS:
        return str(_l("ja")) if value == "true" else str(_l("nein"))
    if field in MONEY_FIELDS or field in PERCENT_FIELDS:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return value
        return format_money(number) if field in MONEY_FIELDS else format_percent(number)
    try:
        if len(value) == 10:
            return format_day(date.fromisoformat(value))
        if len(value) > 10 and value[10] == "T":
            return format_day(datetime.fromisoformat(value))
    except ValueError:
        pass
    return value


# Record labels the models write in German (``str(record)`` when the entry is made), as
# patterns: the pages say them again in the reader's language. Other labels are user data
# (a title, a name) and stay as entered.
_RECORD_LABELS: dict[str, tuple[re.Pattern[str], object]] = {
    "CostKey": (
        re.compile(r"Verteilungsschlüssel (?P<year>\d{4})"),
        _l("Verteilungsschlüssel %(year)s"),
    ),
    "YearClosing": (re.compile(r"Jahresabschluss (?P<year>\d{4})"), _l("Jahresabschluss %(year)s")),
    "CostBudget": (
        re.compile(r"Planansatz (?P<year>\d{4}): (?P<category>.*)", re.S),
        _l("Planansatz %(year)s: %(category)s"),
    ),
    "Payment": (re.compile(r"Zahlung (?P<day>\d{2}\.\d{2}\.\d{4})"), _l("Zahlung vom %(day)s")),
    "StatementTerms": (
        re.compile(r"Zahlungsangaben (?P<year>\d{4})"),
        _l("Zahlungsangaben %(year)s"),
    ),
    "CooperationListing": (
        re.compile(r"Eintrag in der Kooperationsbörse"),
        _l("Eintrag in der Kooperationsbörse"),
    ),
    "JoinRequest": (
        re.compile(r"Beitrittsanfrage von (?P<name>.*)", re.S),
        _l("Beitrittsanfrage von %(name)s"),
    ),
    "KoopCheck": (
        re.compile(r"Kooperations-Check (?P<name>.*), Version (?P<version>\d+)", re.S),
        _l("Kooperations-Check %(name)s, Version %(version)s"),
    ),
}
_ROLE_BY_LABEL = {role.label: role for role in Role}
_INVITATION_LABEL = re.compile(r"Einladung an (?P<email>\S+) \((?P<role>[^)]+)\)")


def history_record(record_type: str | None, label: str | None) -> str:
    """The record's label as the pages show it: a German one the model wrote ("Zahlung
    03.02.2026", "Ilse: Kämmerei") in the reader's language, anything else as stored."""
    if not label:
        return label or ""
    if record_type == "Membership":
        name, sep, role = label.rpartition(": ")
        if sep and role in _ROLE_BY_LABEL:
            return f"{name}: {_l(_ROLE_BY_LABEL[role].label)}"
        return label
    if record_type == "CooperationInvitation":
        match = _INVITATION_LABEL.fullmatch(label)
        if match and match["role"] in _ROLE_BY_LABEL:
            role = _l(_ROLE_BY_LABEL[match["role"]].label)
            return str(_l("Einladung an %(email)s (%(role)s)", email=match["email"], role=role))
        return label
    known = _RECORD_LABELS.get(record_type or "")
    if known is None or not (match := known[0].fullmatch(label)):
        return label
    values = match.groupdict()
    if "day" in values:
        values["day"] = format_day(datetime.strptime(values["day"], "%d.%m.%Y").date())
    return str(known[1]) % values
