"""The Kooperationsbörse part of `make run`'s demo: published entries and a newcomer.

The demo cooperation goes to the directory (Plattform); two more cooperations of the
Landkreis Neunkirchen are published, one inviting partners; a newcomer from Ottweiler has
filled the Kooperations-Check. Skipped quietly where the register lacks a municipality.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import select

from koopboard.auth.services import create_user
from koopboard.boerse.publishing import ListingData, save_listing
from koopboard.check import services as check
from koopboard.cooperations.services import CooperationData, add_partner, create_cooperation
from koopboard.domain.check import Answers, entry_key
from koopboard.extensions import db
from koopboard.models import Cooperation, Municipality, User

NEWCOMER = ("hauptamt@ottweiler.demo", "Hanna Roth", "10043115")  # Ottweiler
OTHERS = [
    # (lead login, name, lead AGS, partner AGS, title, field, legal form, visibility, seeking)
    (
        "klimaschutz@schiffweiler.demo",
        "Jonas Weber",
        "10043116",  # Schiffweiler
        ("10043117",),  # Spiesen-Elversberg
        "Gemeinsames Klimaschutzmanagement Schiffweiler und Spiesen-Elversberg",
        "umwelt_energie",
        "zweckvereinbarung",
        "oeffentlich",
        True,
        "Eine Klimaschutzmanagerin für zwei Gemeinden: Wärmeplanung, Förderanträge, "
        "Energieberatung der Bürgerinnen und Bürger. Weitere Gemeinden im Kreis Neunkirchen "
        "sind willkommen.",
    ),
    (
        "it@illingen.demo",
        "Lena Hoffmann",
        "10043112",  # Illingen
        ("10043111",),  # Eppelborn
        "IT-Sicherheitsbeauftragter Illingen und Eppelborn",
        "it",
        "arbeitsgemeinschaft",
        "plattform",
        False,
        "Ein gemeinsamer Informationssicherheitsbeauftragter für beide Rathäuser, mit "
        "abgestimmten Richtlinien und Schulungen.",
    ),
]
LOGINS = [(NEWCOMER[0], "neue Kommune mit ausgefülltem Kooperations-Check (Ottweiler)")] + [
    (login, f"Projektleitung „{title[:40]}…“") for login, _n, _a, _p, title, *_rest in OTHERS
]


def _town(ags: str) -> Municipality | None:
    return db.session.scalar(select(Municipality).where(Municipality.ags == ags))


def load(demo_cooperation: Cooperation, password: str) -> None:
    """Publish the demo cooperation and add the directory's demo entries (caller commits)."""
    save_listing(
        demo_cooperation,
        ListingData(
            visibility="plattform",
            summary=(
                "Vier Gemeinden des Illtals führen ein gemeinsames Standesamt: Beurkundungen, "
                "Eheschließungen in allen vier Orten, Vertretung im Urlaubs- und Krankheitsfall."
            ),
            seeking_partners=False,
            seeking_kreis=None,
            seeking_radius_km=None,
        ),
    )
    for login, name, lead_ags, partners, title, field, form, visibility, seeking, text in OTHERS:
        towns = [_town(lead_ags), *(_town(a) for a in partners)]
        if any(t is None for t in towns) or _exists(login):
            continue
        lead = create_user(email=login, name=name, password=password, municipality=towns[0])
        cooperation = create_cooperation(
            CooperationData(
                title=title,
                goals=text,
                handlungsfeld=field,
                rechtsform=form,
                status="aktiv",
                start_date=date(2025, 7, 1),
                end_date=None,
            ),
            by=lead,
        )
        for town in towns[1:]:
            add_partner(
                cooperation, ags=town.ags, joined_on=date(2025, 7, 1), council_resolution_on=None
            )
        save_listing(
            cooperation,
            ListingData(
                visibility=visibility,
                summary=text,
                seeking_partners=seeking,
                seeking_kreis="Neunkirchen" if seeking else None,
                seeking_radius_km=None,
            ),
        )
    ottweiler = _town(NEWCOMER[2])
    if ottweiler is not None and not _exists(NEWCOMER[0]):
        newcomer = create_user(
            email=NEWCOMER[0], name=NEWCOMER[1], password=password, municipality=ottweiler
        )
        check.save(
            newcomer,
            Answers(
                q1_fields=("verwaltung", "umwelt_energie"),
                q1_text="Standesamt, Klimaschutz und Wärmeplanung",
                q2="ja",
                q3=False,
                q4="ja",
                q5=True,
                q5_text="Bürgermeisterrunde des Landkreises Neunkirchen",
                q6=False,
                q7=True,
                # Picked from the directory: the demo cooperation (published above).
                q7_entries=(entry_key("kooperation", str(demo_cooperation.id)),),
                q7_entry_titles=(demo_cooperation.title,),
                q7_text="Der Bauhof-Verbund im Nachbarkreis (nicht in der Kooperationsbörse)",
            ),
        )
    db.session.flush()


def _exists(email: str) -> bool:
    return db.session.scalar(select(User.id).where(User.email == email)) is not None


def login_lines() -> Iterator[tuple[str, str]]:
    """The demo logins this part adds, with what they show."""
    yield from LOGINS
