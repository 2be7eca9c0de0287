"""`make run`'s demo fills the Kooperationsbörse: published entries and a newcomer's check."""

from __future__ import annotations

from sqlalchemy import func, select

from koopboard.demo import AGS, load_demo
from koopboard.domain.directory import Visibility
from koopboard.extensions import db
from koopboard.models import CooperationListing, KoopCheck
from tests.conftest import login


def test_the_demo_publishes_three_cooperations_and_a_newcomer_with_a_check(
    app, client, make_municipality
) -> None:  # noqa: ANN001
    for name, ags in {
        **AGS,
        "Ottweiler": "10043115",
        "Spiesen-Elversberg": "10043117",
    }.items():
        make_municipality(name, ags)
    lines = list(load_demo())
    assert any("hauptamt@ottweiler.demo" in line for line in lines)
    visibilities = db.session.scalars(select(CooperationListing.visibility)).all()
    assert sorted(v.value for v in visibilities) == ["oeffentlich", "plattform", "plattform"]
    assert (
        db.session.scalar(select(func.count()).where(CooperationListing.seeking_partners.is_(True)))
        == 1
    )
    assert db.session.scalar(select(func.count(KoopCheck.id))) == 1
    assert Visibility.INTERN not in visibilities

    assert login(client, "hauptamt@ottweiler.demo", "KoopBoard-Demo-2026").status_code == 302
    result = client.get("/kooperations-check/ergebnis").get_data(as_text=True)
    assert "Gemeinsames Klimaschutzmanagement" in result
    assert "Gemeinsames Standesamt Merchweiler" in result
    # Question 7 names the demo cooperation, picked from the directory.
    form = client.get("/kooperations-check/").get_data(as_text=True)
    assert 'name="q7_entry" value="kooperation:' in form
    assert "Gemeinsames Standesamt Merchweiler" in form.split('id="q7-eintraege"')[1]
