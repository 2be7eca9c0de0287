"""The Kooperations-Check: the seed's seven checklist questions and what the answers suggest.

Pure: the questions in the seed's own wording, the answer scale, the Handlungsfelder the
answers point to, the cooperation forms from the loosest to the most binding, and what an
agreement must settle under the Land's law on joint municipal work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from koopboard.domain.catalog import N_, Handlungsfeld, LabelledEnum, Rechtsform

# The checklist of seed/interkommunale-kooperationen.txt, word for word.
QUESTIONS: tuple[str, ...] = (
    N_(
        "In welchen Bereichen kann in Ihrer Kommune durch eine verstärkte interkommunale "
        "Zusammenarbeit den Auswirkungen des demografischen Wandels begegnet werden?"
    ),
    N_(
        "Glauben Sie, dass regionale/kommunale Kooperationen zur Bewältigung des "
        "demografischen Wandels beitragen können?"
    ),
    N_(
        "Arbeiten Sie bereits heute mit anderen Kommunen Ihrer Region beispielsweise in den "
        "oben genannten Handlungsfeldern zusammen?"
    ),
    N_(
        "Wären Sie zur Lösung der künftigen demografischen Herausforderungen stärker als "
        "bisher bereit, kommunale Aufgaben zusammen mit anderen Kommunen effektiver und "
        "kostengünstiger zu lösen?"
    ),
    N_(
        "Gibt es Gesprächskreise mit anderen Kommunen zum Erfahrungsaustausch über "
        "vergleichbare Problemstellungen?"
    ),
    N_(
        "Nutzen Sie Informationsangebote zu beispielhaften Zusammenarbeitsprojekten "
        "(z. B. im Internet, bei Fortbildungseinrichtungen)?"
    ),
    N_(
        "Sind Ihnen in der Region bestehende Kooperationen bekannt, denen Sie sich "
        "anschließen könnten oder die als Vorbilder für eine aufzubauende Kooperation dienen?"
    ),
)


class Scale(LabelledEnum):
    """The four-step answer of questions 2 and 4."""

    JA = "ja"
    EHER_JA = "eher_ja"
    EHER_NEIN = "eher_nein"
    NEIN = "nein"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.JA: N_("ja"),
            cls.EHER_JA: N_("eher ja"),
            cls.EHER_NEIN: N_("eher nein"),
            cls.NEIN: N_("nein"),
        }

    @property
    def positive(self) -> bool:
        return self in (Scale.JA, Scale.EHER_JA)


@dataclass(frozen=True)
class Answers:
    """One filled check. Stored as JSON (``to_json``/``from_json``)."""

    q1_fields: tuple[str, ...] = ()
    q1_text: str = ""
    q2: str = ""
    q3: bool = False
    q3_fields: tuple[str, ...] = ()
    q3_partners: tuple[str, ...] = ()  # AGS of the partner municipalities
    q4: str = ""
    q5: bool = False
    q5_text: str = ""
    q6: bool = False
    q6_text: str = ""
    q7: bool = False
    q7_text: str = ""
    # Directory entries picked (published cooperations, register associations), each as
    # "kooperation:<id>" or "verband:<ARS>" (entry_key).
    q7_entries: tuple[str, ...] = ()
    q7_entry_titles: tuple[str, ...] = ()  # their titles when saved: a version stays readable

    def to_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answers:
        known = cls.__dataclass_fields__
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
        return cls(**values)

    @property
    def ready(self) -> bool:
        """Question 4 answered "ja" or "eher ja": ready to cooperate more than today."""
        try:
            return Scale(self.q4).positive
        except ValueError:
            return False


ENTRY_KINDS = ("kooperation", "verband")
PICKS_MAX = 20  # partners of Q3 and entries of Q7, each


def entry_key(kind: str, key: str) -> str:
    """How a directory entry picked in Q7 is stored."""
    return f"{kind}:{key}"


def parse_entry_key(value: str) -> tuple[str, str] | None:
    """("kooperation", "12") from "kooperation:12"; None for anything else."""
    kind, _sep, key = (value or "").partition(":")
    if kind not in ENTRY_KINDS or not key.isdigit() or len(key) > 12:
        return None
    return kind, key


def suggested_fields(answers: Answers) -> list[Handlungsfeld]:
    """The Handlungsfelder the answers point to, in the seed's order (Q1, then Q3)."""
    chosen = set(answers.q1_fields) | set(answers.q3_fields if answers.q3 else ())
    return [field for field in Handlungsfeld if field.value in chosen]


@dataclass(frozen=True)
class FormStep:
    rechtsform: Rechtsform
    fits_when: str


# From the loosest to the most binding form, with when each one fits.
FORM_STEPS: tuple[FormStep, ...] = (
    FormStep(
        Rechtsform.ARBEITSGEMEINSCHAFT,
        N_(
            "Zum Einstieg: Erfahrungen austauschen, Vorhaben abstimmen, gemeinsam planen – "
            "ohne Aufgaben oder Zuständigkeiten abzugeben."
        ),
    ),
    FormStep(
        Rechtsform.ZWECKVEREINBARUNG,
        N_(
            "Eine Kommune erledigt eine Aufgabe für die anderen mit (z. B. Standesamt, "
            "Datenschutz), die anderen zahlen nach einem vereinbarten Schlüssel."
        ),
    ),
    FormStep(
        Rechtsform.ZWECKVERBAND,
        N_(
            "Eine dauerhafte Aufgabe mit eigenem Personal und Vermögen (z. B. Abwasser, "
            "Wasser): eine eigene Körperschaft mit Verbandsversammlung."
        ),
    ),
    FormStep(
        Rechtsform.KOMMUNALUNTERNEHMEN,
        N_(
            "Eine wirtschaftliche Aufgabe, die unternehmerisch geführt werden soll, "
            "öffentlich-rechtlich und unter kommunaler Aufsicht."
        ),
    ),
    FormStep(
        Rechtsform.PRIVATRECHT,
        N_(
            "Wenn Private oder viele Beteiligte mitwirken oder ein Markt bedient wird; "
            "Haftung und Steuerung brauchen besondere Sorgfalt."
        ),
    ),
    FormStep(
        Rechtsform.VERWALTUNGSGEMEINSCHAFT,
        N_(
            "Die engste Form: Verwaltungen werden zusammengelegt oder eine gemeinsame "
            "Dienststelle übernimmt Aufgaben mehrerer Kommunen."
        ),
    ),
)

# What every agreement must settle.
AGREEMENT_CHECKLIST: tuple[str, ...] = (
    N_("Aufgabe: was genau gemeinsam erledigt wird, und was nicht"),
    N_("Beteiligte: welche Kommunen, wer federführend ist, wie neue Partner beitreten"),
    N_("Kostenschlüssel: wie Kosten und Förderungen verteilt und abgerechnet werden"),
    N_("Laufzeit und Kündigung: Beginn, Dauer, Kündigungsfrist, Folgen eines Austritts"),
    N_("Gremienbeschlüsse: Beschluss jedes Rats vor der Unterzeichnung"),
    N_("Anzeige oder Genehmigung bei der Aufsichtsbehörde"),
)


@dataclass(frozen=True)
class LandLaw:
    """A Land's law on joint municipal work as its official source names it."""

    title: str  # official title with the official abbreviation
    source: str  # where the title and abbreviation were checked
    source_name: str


# The law on joint municipal work per Land, only where its title and official abbreviation
# were checked against a government-run legal database (checked 2026-12-04; the entry's
# "Amtliche Abkürzung" and "Normgeber"). A Land missing here is named without a law title
# ("das Gesetz Ihres Landes über die kommunale Zusammenarbeit"): no abbreviation is guessed.
# Rheinland-Pfalz: landesrecht.rlp.de, "Amtliche Abkürzung: KomZG", Gliederungs-Nr. 2020-20.
# Not yet verified, because only unofficial copies were at hand: Bayern (KommZG, BayRS
# 2020-6-1-I; official source gesetze-bayern.de), Hessen (KGG, GVBl. 330-9; official
# source rv.hessenrecht.hessen.de), Thüringen (ThürKGG, 2020-2; landesrecht.thueringen.de)
# and the other Länder.
_JUSTIZ_NRW = "Landesrechtsdatenbank der Justiz Nordrhein-Westfalen"
LAND_LAWS: dict[str, LandLaw] = {
    "Baden-Württemberg": LandLaw(
        "Gesetz über kommunale Zusammenarbeit (GKZ)",
        "https://justiz-nrw.wolterskluwer-online.de/browse/source/csh-da-filter%21b37eb7b1-"
        "f17e-47d1-b2a2-eb69df324426--WKDE_LTR_0000051210%233e515534eb8835e4a76ad21f5b4e1856",
        _JUSTIZ_NRW,
    ),
    "Niedersachsen": LandLaw(
        "Niedersächsisches Gesetz über die kommunale Zusammenarbeit (NKomZG)",
        "https://voris.wolterskluwer-online.de/browse/document/c6dbb44a-0264-3754-a939-0f8275db4524",
        "Niedersächsisches Vorschrifteninformationssystem (VORIS)",
    ),
    "Nordrhein-Westfalen": LandLaw(
        "Gesetz über kommunale Gemeinschaftsarbeit (GkG NRW)",
        "https://justiz-nrw.wolterskluwer-online.de/browse/source/csh-da-filter%210adf8a2f-"
        "3a9f-4f3b-b051-5acccbcb48ae--WKDE_LTR_0000051300%230150ce50075736f293790e71b7ddf381",
        _JUSTIZ_NRW,
    ),
    "Rheinland-Pfalz": LandLaw(
        "Landesgesetz über die kommunale Zusammenarbeit (KomZG)",
        "https://landesrecht.rlp.de/jportal/portal/page/bsrlpprod.psml?pid=Dokumentanzeige"
        "&showdoccase=1&js_peid=Trefferliste&fromdoctodoc=yes&doc.id=jlr-ZwVerbGRPV1P14",
        "Landesrecht Rheinland-Pfalz (landesrecht.rlp.de)",
    ),
    "Saarland": LandLaw(
        "Gesetz über die kommunale Gemeinschaftsarbeit (KGG)",
        "https://justiz-nrw.wolterskluwer-online.de/browse/document/b750baf7-81c3-37a7-b5df-f3f7407e4553",
        _JUSTIZ_NRW,
    ),
}


def land_law(land: str) -> LandLaw | None:
    """The Land's law on joint municipal work where it was checked; None elsewhere."""
    return LAND_LAWS.get(land)
