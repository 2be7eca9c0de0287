"""Role presets instead of a flood: who is mailed at once, who in the Sammel-E-Mail, and
that an explicit choice always wins and nobody hears of their own doing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from koopboard.domain.catalog import Role
from koopboard.domain.milestones import berlin_today
from koopboard.extensions import db
from koopboard.milestones import services as milestones
from koopboard.models import (
    Cooperation,
    Cost,
    Milestone,
    Municipality,
    NotificationDelivery,
    NotificationEvent,
    NotificationPreference,
    User,
)
from koopboard.models.types import utcnow
from koopboard.notifications import delivery
from koopboard.notifications.preferences import mode_for
from tests.conftest import KoopClient, Mailbox, prefer, wants_mail_at_once
from tests.web.test_authorization import sign_in
from tests.web.test_costs import YEAR, _cost

PAGE = "/benachrichtigungen/einstellungen"
FEED = "/benachrichtigungen/"


@dataclass
class Team:
    cooperation: Cooperation
    base: str
    lead: User  # Projektleitung, Merchweiler
    kim: User  # Kämmerei, Merchweiler: books and submits
    ilse: User  # Kämmerei, Illingen
    mia: User  # Mitglied, Eppelborn
    olaf: User  # Beobachtung, Eppelborn
    milestone: Milestone
    towns: list[Municipality]

    def people(self) -> list[User]:
        return [self.lead, self.kim, self.ilse, self.mia, self.olaf]


@pytest.fixture()
def team(app, make_municipality, make_user, make_cooperation) -> Team:  # noqa: ANN001
    merchweiler = make_municipality("Merchweiler", "10043113", population=9872)
    illingen = make_municipality("Illingen", "10043112", population=16122)
    eppelborn = make_municipality("Eppelborn", "10043111", population=16615)
    lead = make_user(merchweiler, name="Lea Leitung")
    kim = make_user(merchweiler, name="Kim Kasse")
    ilse = make_user(illingen, name="Ilse Illinger")
    mia = make_user(eppelborn, name="Mia Mitglied")
    olaf = make_user(eppelborn, name="Olaf Beobachter")
    coop = make_cooperation(
        lead,
        [illingen, eppelborn],
        roles={kim: Role.TREASURER, ilse: Role.TREASURER, mia: Role.MEMBER, olaf: Role.OBSERVER},
        title="Gemeinsames Rechenzentrum",
    )
    milestone = milestones.create_milestone(
        coop,
        milestones.MilestoneData(
            title="Server bestellen",
            description="",
            phase="planung",
            due_date=berlin_today(utcnow()) + timedelta(days=1),
            status="geplant",
            responsible_municipality_id=illingen.id,
            progress_note="",
        ),
        by=lead,
        now=utcnow(),
    )
    db.session.commit()
    db.session.execute(NotificationDelivery.__table__.delete())
    db.session.execute(NotificationEvent.__table__.delete())
    db.session.commit()
    base = f"/kooperationen/{coop.id}/kosten"
    return Team(
        coop, base, lead, kim, ilse, mia, olaf, milestone, [merchweiler, illingen, eppelborn]
    )


def client_of(app, user: User) -> KoopClient:  # noqa: ANN001
    return sign_in(app.test_client(), user.id)


def submit_cost(app, t: Team, by: User, text: str = "Software-Lizenz") -> int:  # noqa: ANN001
    """``by`` books a cost and submits it for approval, through the pages."""
    client = client_of(app, by)
    data = {"kind": "einwohner", "version": ""}
    for m in t.towns:
        data |= {f"population_{m.id}": str(m.population), f"stichtag_{m.id}": "31.12.2019"}
        data[f"source_{m.id}"] = "Test"
    client.post(f"{t.base}/schluessel/{YEAR}", data=data)
    assert client.post(f"{t.base}/neu", data=_cost(text=text)).status_code == 302
    cost_id = db.session.scalar(select(Cost.id).order_by(Cost.id.desc()))
    response = client.post(f"{t.base}/{cost_id}/einreichen", data={"version": "1"})
    assert response.status_code == 302
    return cost_id


def modes_of(event_type: str) -> dict[int, tuple[str, str]]:
    """user id → (mode, status) of the event's deliveries."""
    db.session.expire_all()
    rows = db.session.execute(
        select(NotificationDelivery.user_id, NotificationDelivery.mode, NotificationDelivery.status)
        .join(NotificationEvent)
        .where(NotificationEvent.event_type == event_type)
    )
    return {user_id: (mode, status) for user_id, mode, status in rows}


def test_cost_events_mail_the_kaemmerei_at_once_and_collect_the_rest(
    app, team: Team, mailbox: Mailbox
) -> None:  # noqa: ANN001
    t = team
    submit_cost(app, t, by=t.kim)
    assert modes_of("cost.submitted") == {
        t.ilse.id: ("immediate", "pending"),  # the other Kämmerei: the second pair of eyes
        t.lead.id: ("digest", "pending"),
        t.mia.id: ("digest", "pending"),
        t.olaf.id: ("digest", "pending"),
    }  # and Kim, who submitted, not at all
    delivery.relay()
    assert [str(m["To"]) for m in mailbox.messages] == [t.ilse.email]


def test_milestone_events_mail_the_lead_at_once_and_collect_for_the_kaemmerei(
    app, team: Team, mailbox: Mailbox
) -> None:  # noqa: ANN001
    t = team
    assert delivery.date_alerts() == 1  # due tomorrow: "bald fällig", nobody's own doing
    assert modes_of("milestone.due_soon") == {
        t.lead.id: ("immediate", "pending"),
        t.kim.id: ("digest", "pending"),
        t.ilse.id: ("digest", "pending"),
        t.mia.id: ("digest", "pending"),
        t.olaf.id: ("digest", "pending"),
    }
    milestones.change_status(
        t.milestone, "in_arbeit", version=t.milestone.version, by=t.lead, is_lead=True, now=utcnow()
    )
    db.session.commit()
    assert {u: m for u, (m, _s) in modes_of("milestone.status_changed").items()} == {
        t.kim.id: "digest",
        t.ilse.id: "digest",
        t.mia.id: "digest",
        t.olaf.id: "digest",
    }
    delivery.relay()
    assert [str(m["To"]) for m in mailbox.messages] == [t.lead.email]


def test_an_explicit_choice_always_wins_over_the_preset(app, team: Team) -> None:  # noqa: ANN001
    t = team
    kind = "cost.submitted"
    # Through the settings page: Ilse (preset "sofort") wants costs in the digest.
    response = client_of(app, t.ilse).post(
        PAGE, data={f"modus-{kind}": "digest", "digest_days": ["1"], "digest_hour": "7"}
    )
    assert response.status_code == 302
    prefer(t.mia, kind, "immediate", t.cooperation.id)  # only for this cooperation
    prefer(t.olaf, kind, "immediate")
    prefer(t.lead, kind, "off")
    submit_cost(app, t, by=t.kim)
    assert modes_of(kind) == {
        t.ilse.id: ("digest", "pending"),
        t.mia.id: ("immediate", "pending"),
        t.olaf.id: ("immediate", "pending"),
        t.lead.id: ("off", "skipped"),
    }
    # "Voreinstellung" on the page removes her choice: the preset applies again.
    response = client_of(app, t.ilse).post(
        PAGE, data={f"modus-{kind}": "default", "digest_days": ["1"], "digest_hour": "7"}
    )
    assert response.status_code == 302
    rows = db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == t.ilse.id)
    ).all()
    assert rows == []
    assert mode_for(t.ilse.id, kind, t.cooperation.id) == "immediate"


def test_nobody_hears_of_their_own_doing_neither_by_mail_nor_in_the_list(
    app, team: Team, mailbox: Mailbox
) -> None:  # noqa: ANN001
    t = team
    wants_mail_at_once(*t.people())  # even who wants everything at once
    submit_cost(app, t, by=t.kim, text="Serverschrank")
    milestones.change_status(
        t.milestone, "in_arbeit", version=t.milestone.version, by=t.lead, is_lead=True, now=utcnow()
    )
    db.session.commit()
    assert t.kim.id not in modes_of("cost.submitted")
    assert t.lead.id not in modes_of("milestone.status_changed")
    delivery.relay()
    assert mailbox.messages  # the others were mailed
    assert all("Serverschrank" not in str(m["Subject"]) for m in mailbox.to(t.kim.email))
    assert all("Server bestellen" not in str(m["Subject"]) for m in mailbox.to(t.lead.email))
    assert "Serverschrank" not in client_of(app, t.kim).get(FEED).get_data(as_text=True)
    assert "Serverschrank" in client_of(app, t.ilse).get(FEED).get_data(as_text=True)
    lead_feed = client_of(app, t.lead).get(FEED).get_data(as_text=True)
    assert "Server bestellen" not in lead_feed and "Serverschrank" in lead_feed


def test_the_page_shows_the_preset_of_ones_role_per_event_group(
    app, team: Team, make_cooperation
) -> None:  # noqa: ANN001
    t = team
    body = client_of(app, t.kim).get(PAGE).get_data(as_text=True)
    costs = body[body.index('id="gruppe-costs"') : body.index('id="gruppe-partners"')]
    assert "Voreinstellung für Ihre Rolle (Kämmerei): sofort" in costs
    plan = body[body.index('id="gruppe-milestones"') : body.index('id="gruppe-costs"')]
    assert "Voreinstellung für Ihre Rolle (Kämmerei): in der Sammel-E-Mail" in plan
    assert 'name="modus-cost.submitted" value="default" checked' in body
    assert "Voreinstellungen je Rolle" in body and "Projektleitung" in body  # documented
    assert "Über Ihre eigenen Änderungen werden Sie nie benachrichtigt" in body

    # Lea leads one cooperation and is a Mitglied of another: the page says which is which.
    make_cooperation(t.mia, title="Gemeinsamer Bauhof", roles={t.lead: Role.MEMBER})
    body = client_of(app, t.lead).get(PAGE).get_data(as_text=True)
    plan = body[body.index('id="gruppe-milestones"') : body.index('id="gruppe-costs"')]
    assert (
        "Voreinstellung für Ihre Rollen: sofort in „Gemeinsames Rechenzentrum“ (Projektleitung); "
        "in der Sammel-E-Mail in „Gemeinsamer Bauhof“ (Mitglied)"
    ) in plan
    assert "je Kooperation, wie oben beschrieben" in plan
