"""Demo data from the real register: the shared registry office (Standesamt) of
Merchweiler, Illingen, Eppelborn and Schiffweiler in the Landkreis Neunkirchen (Saarland)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from koopboard import demo_boerse as boerse_demo
from koopboard.auth.services import create_user
from koopboard.cooperations.services import CooperationData, add_partner, create_cooperation
from koopboard.costs.books import services as cost_books
from koopboard.costs.keys import services as cost_keys
from koopboard.domain.catalog import Role
from koopboard.domain.milestones import berlin_today
from koopboard.extensions import db
from koopboard.history import acting_as
from koopboard.milestones.services import MilestoneData, create_milestone
from koopboard.models import Cooperation, CostBudget, Membership, Municipality, User
from koopboard.notifications import outbox

# The demo's sign-in, documented in the README; the demo is for development machines.
DEMO_PASSWORD = "KoopBoard-Demo-2026"  # nosec B105
TITLE = "Gemeinsames Standesamt Merchweiler, Illingen, Eppelborn und Schiffweiler"
# AGS from the Gemeindeverzeichnis (Landkreis Neunkirchen, Saarland).
AGS = {
    "Merchweiler": "10043113",
    "Illingen": "10043112",
    "Eppelborn": "10043111",
    "Schiffweiler": "10043116",
}
USERS = [
    ("projektleitung@merchweiler.demo", "Petra Lehnert", "Merchweiler", Role.LEAD),
    ("kaemmerei@illingen.demo", "Karl Schneider", "Illingen", Role.TREASURER),
    ("kaemmerei@merchweiler.demo", "Mira Kessler", "Merchweiler", Role.TREASURER),
    ("mitglied@eppelborn.demo", "Emil Becker", "Eppelborn", Role.MEMBER),
    ("beobachtung@schiffweiler.demo", "Sabine Wagner", "Schiffweiler", Role.OBSERVER),
]
ADMIN = ("admin@koopboard.demo", "Betrieb KoopBoard")


def load_demo() -> Iterator[str]:
    """Create the demo cooperation and users once; yields the lines to print."""
    municipalities = {
        name: db.session.scalar(select(Municipality).where(Municipality.ags == ags))
        for name, ags in AGS.items()
    }
    missing = [name for name, m in municipalities.items() if m is None]
    if missing:
        raise RuntimeError(
            "Register fehlt: zuerst `flask --app app koop import-register` ausführen "
            f"({', '.join(missing)} nicht gefunden)."
        )
    # The demo's events fill the in-app lists but mail nobody: ~30 mails about data that
    # was loaded, not done, would be the opposite of help.
    with acting_as("Demodaten"), outbox.silenced():
        existing = db.session.scalar(select(Cooperation).where(Cooperation.title == TITLE))
        if existing is None:
            _create(municipalities)
            db.session.commit()
            yield "Demodaten angelegt."
        else:
            yield "Demodaten sind bereits vorhanden."
    yield f"Demo-Anmeldungen (Passwort für alle: {DEMO_PASSWORD}):"
    for email, what in logins():
        yield f"  {email:<34} {what}"


def logins() -> list[tuple[str, str]]:
    """The demo's sign-ins with what each is for (printed by load-demo, listed on the login
    page in development mode)."""
    rows = [(ADMIN[0], "Betreiber (Plattform-Admin)")]
    rows += [(email, f"{role.label} ({town})") for email, _name, town, role in USERS]
    rows += list(boerse_demo.login_lines())
    return rows


def loaded_logins() -> list[tuple[str, str]]:
    """The demo sign-ins whose accounts exist in this database (none before load-demo)."""
    rows = logins()
    existing = set(
        db.session.scalars(select(User.email).where(User.email.in_([e for e, _ in rows])))
    )
    return [(email, what) for email, what in rows if email in existing]


def _create(municipalities: dict[str, Municipality]) -> None:
    users: dict[str, User] = {}
    for email, name, town, _role in USERS:
        users[email] = create_user(
            email=email, name=name, password=DEMO_PASSWORD, municipality=municipalities[town]
        )
    if db.session.scalar(select(User).where(User.email == ADMIN[0])) is None:
        create_user(
            email=ADMIN[0], name=ADMIN[1], password=DEMO_PASSWORD, municipality=None, is_admin=True
        )
    lead = users[USERS[0][0]]
    cooperation = create_cooperation(
        CooperationData(
            title=TITLE,
            goals=(
                "Die vier Gemeinden des Illtals führen ihre Standesämter zusammen: ein gemeinsames "
                "Standesamt mit spezialisiertem Personal, Vertretung im Urlaubs- und "
                "Krankheitsfall und Trauorten in allen vier Gemeinden."
            ),
            handlungsfeld="verwaltung",
            rechtsform="zweckvereinbarung",
            status="aktiv",
            start_date=date(2025, 1, 1),
            end_date=None,
        ),
        by=lead,
    )
    for town in ("Illingen", "Eppelborn", "Schiffweiler"):
        add_partner(
            cooperation,
            ags=AGS[town],
            joined_on=date(2025, 1, 1),
            council_resolution_on=date(2024, 9, 26),
        )
    for email, _name, _town, role in USERS[1:]:
        db.session.add(Membership(cooperation=cooperation, user=users[email], role=role))
    db.session.flush()
    _milestones(cooperation, users, municipalities)
    _costs(cooperation, users, municipalities)
    boerse_demo.load(cooperation, DEMO_PASSWORD)


def _milestones(
    cooperation,  # noqa: ANN001
    users: dict[str, User],
    municipalities: dict[str, Municipality],
) -> None:
    """A few milestones around today, so the dashboard shows done, overdue and upcoming;
    most name a responsible person of the responsible municipality (Schiffweiler's only
    demo person observes, so its milestone names none)."""
    lead = users[USERS[0][0]]
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo("Europe/Berlin")).date()
    plan = [
        (
            "Zweckvereinbarung unterzeichnet",
            "initiierung",
            date(2025, 1, 15),
            "erledigt",
            "Merchweiler",
            "projektleitung@merchweiler.demo",
        ),
        (
            "Personal- und Raumkonzept beschlossen",
            "planung",
            date(2025, 3, 31),
            "erledigt",
            "Illingen",
            "kaemmerei@illingen.demo",
        ),
        (
            "Fachverfahren für alle vier Gemeinden migriert",
            "umsetzung",
            today - timedelta(days=5),
            "in_arbeit",
            "Eppelborn",
            "mitglied@eppelborn.demo",
        ),
        (
            "Trauzimmer in Schiffweiler eingerichtet",
            "umsetzung",
            today + timedelta(days=12),
            "geplant",
            "Schiffweiler",
            None,
        ),
        (
            "Erster Jahresbericht an die Gemeinderäte",
            "abschluss",
            today + timedelta(days=60),
            "geplant",
            "Merchweiler",
            "kaemmerei@merchweiler.demo",
        ),
    ]
    for title, phase, due, status, town, person in plan:
        create_milestone(
            cooperation,
            MilestoneData(
                title=title,
                description="",
                phase=phase,
                due_date=due,
                status=status,
                responsible_municipality_id=municipalities[town].id,
                responsible_person_id=users[person].id if person else None,
                progress_note="",
            ),
            by=lead,
            now=now,
        )


def _costs(cooperation, users: dict[str, User], municipalities: dict[str, Municipality]) -> None:  # noqa: ANN001
    """This year's books through the same services as the pages: a population key, a
    Planansatz, an approved cost and a grant (four-eyes), one awaiting approval, an Abschlag."""
    year = berlin_today(datetime.now(UTC)).year
    mira = users["kaemmerei@merchweiler.demo"]
    karl = users["kaemmerei@illingen.demo"]
    cost_keys.save_key(
        cooperation,
        year,
        cost_keys.KeyData(
            kind="einwohner", entries=cost_keys.default_entries(cooperation.id, year)
        ),
        version=None,
    )
    for category, amount in (
        ("Personal", "168000.00"),
        ("IT", "15000.00"),
        ("Sachkosten", "9500.00"),
    ):
        db.session.add(
            CostBudget(
                cooperation_id=cooperation.id,
                budget_year=year,
                category=category,
                amount=Decimal(amount),
            )
        )
    merchweiler = municipalities["Merchweiler"].id
    entries = (
        ("Personalkosten Standesamt, 1. Quartal", "Personal", "kosten", "42617.33", True),
        (
            "Landeszuschuss interkommunale Zusammenarbeit",
            "Personal",
            "foerderung",
            "-10000.00",
            True,
        ),
        ("Fachverfahren Personenstand, Jahreslizenz", "IT", "kosten", "12345.67", False),
    )
    for text, category, kind, amount, approve in entries:
        cost = cost_books.book_cost(
            cooperation,
            cost_books.CostData(
                booking_date=date(year, 3, 31),
                budget_year=year,
                text=text,
                category=category,
                kind=kind,
                amount=Decimal(amount),
                net_amount=None,
                vat_amount=None,
                paid_by_id=merchweiler,
            ),
            by=mira,
        )
        cost_books.submit_cost(cost, version=cost.version, by=mira)
        if approve:
            cost_books.approve_cost(cost, version=cost.version, by=karl)
    cost_books.book_payment(
        cooperation,
        cost_books.PaymentData(
            paid_on=date(year, 4, 15),
            budget_year=year,
            municipality_id=municipalities["Illingen"].id,
            recipient_id=None,
            kind="abschlag",
            amount=Decimal("8000.00"),
            note="Abschlag 1. Halbjahr",
        ),
        by=karl,
    )
