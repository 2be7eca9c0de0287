"""The product's fixed vocabularies (SPEC §2), with German labels.

Labels are marked with ``N_`` so Babel extracts them; the UI translates them at display
time with ``gettext(label)``. Keys are stable and stored in the database.
"""

from __future__ import annotations

from enum import StrEnum


def N_(text: str) -> str:  # noqa: N802 (gettext convention)
    """Mark a string for translation without translating it here."""
    return text


class LabelledEnum(StrEnum):
    @property
    def label(self) -> str:
        return self._labels()[self]

    @classmethod
    def _labels(cls) -> dict:
        raise NotImplementedError

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.label) for member in cls]


class Handlungsfeld(LabelledEnum):
    """Exactly the eight fields of the seed text."""

    VER_ENTSORGUNG = "ver_entsorgung"
    INFRASTRUKTUR = "infrastruktur"
    VERWALTUNG = "verwaltung"
    BILDUNG = "bildung"
    RAUMENTWICKLUNG = "raumentwicklung"
    UMWELT_ENERGIE = "umwelt_energie"
    STANDORTMARKETING = "standortmarketing"
    IT = "it"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.VER_ENTSORGUNG: N_("Ver- und Entsorgung"),
            cls.INFRASTRUKTUR: N_("gemeinsame Nutzung technischer Einrichtungen/Infrastrukturen"),
            cls.VERWALTUNG: N_("allgemeine Verwaltung"),
            cls.BILDUNG: N_("Bildung, Kinder-, Jugend- und Seniorenarbeit"),
            cls.RAUMENTWICKLUNG: N_("Raumentwicklung und Flächenmanagement"),
            cls.UMWELT_ENERGIE: N_("Umwelt- und Klimaschutz, Energieversorgung"),
            cls.STANDORTMARKETING: N_("gemeinsames Standortmarketing"),
            cls.IT: N_("IT-Technologien, IT-Sicherheit und E-Government"),
        }


class Rechtsform(LabelledEnum):
    """Legal forms, loosest binding first (the order is meaningful)."""

    ARBEITSGEMEINSCHAFT = "arbeitsgemeinschaft"
    ZWECKVEREINBARUNG = "zweckvereinbarung"
    ZWECKVERBAND = "zweckverband"
    KOMMUNALUNTERNEHMEN = "kommunalunternehmen"
    PRIVATRECHT = "privatrecht"
    VERWALTUNGSGEMEINSCHAFT = "verwaltungsgemeinschaft"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.ARBEITSGEMEINSCHAFT: N_("formlose Arbeitsgemeinschaft"),
            cls.ZWECKVEREINBARUNG: N_("öffentlich-rechtliche Vereinbarung (Zweckvereinbarung)"),
            cls.ZWECKVERBAND: N_("Zweckverband"),
            cls.KOMMUNALUNTERNEHMEN: N_("gemeinsames Kommunalunternehmen (AöR)"),
            cls.PRIVATRECHT: N_("Gesellschaft des Privatrechts (GmbH, eG)"),
            cls.VERWALTUNGSGEMEINSCHAFT: N_("Verwaltungsgemeinschaft / gemeinsame Dienststelle"),
        }


class CooperationStatus(LabelledEnum):
    ANBAHNUNG = "anbahnung"
    PLANUNG = "planung"
    AKTIV = "aktiv"
    RUHEND = "ruhend"
    BEENDET = "beendet"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.ANBAHNUNG: N_("Anbahnung"),
            cls.PLANUNG: N_("Planung"),
            cls.AKTIV: N_("aktiv"),
            cls.RUHEND: N_("ruhend"),
            cls.BEENDET: N_("beendet"),
        }


class Role(LabelledEnum):
    """A user's role in one cooperation."""

    LEAD = "lead"
    TREASURER = "treasurer"
    MEMBER = "member"
    OBSERVER = "observer"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.LEAD: N_("Projektleitung"),
            cls.TREASURER: N_("Kämmerei"),
            cls.MEMBER: N_("Mitglied"),
            cls.OBSERVER: N_("Beobachtung"),
        }
