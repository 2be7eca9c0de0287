"""The history (Verlauf): every change through the web, append-only, per cooperation."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import delete, event, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from koopboard.cooperations import services
from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.history import HistoryIsAppendOnly
from koopboard.models import Cooperation, CooperationPartner, HistoryEntry, Membership, User
from tests.conftest import KoopClient
from tests.web.test_authorization import sign_in
from tests.web.test_cooperations import cooperation, municipality, person

VALID = {
    "title": "Gemeinsamer Bauhof",
    "goals": "Maschinen teilen.",
    "handlungsfeld": "infrastruktur",
    "rechtsform": "zweckvereinbarung",
    "status": "planung",
    "start_date": "2025-01-01",
    "end_date": "",
}


@pytest.fixture()
def login_as(client) -> Callable[[User], KoopClient]:  # noqa: ANN001
    """Quick sign-in (a server-side login session, without the slow password hash)."""
    return lambda user: sign_in(client, user.id)


@pytest.fixture()
def setting(app) -> dict:  # noqa: ANN001
    merchweiler = municipality("Merchweiler", "10043113", "66589")
    illingen = municipality("Illingen", "10043112", "66557")
    eppelborn = municipality("Eppelborn", "10043111", "66571")
    lead = person("Lea Leitung", merchweiler)
    lead.email = "lea@merchweiler.example"
    illingen_user = person("Ilse Illinger", illingen)
    eppelborn_user = person("Emil Eppel", eppelborn)
    db.session.add_all([merchweiler, illingen, eppelborn, lead, illingen_user, eppelborn_user])
    db.session.flush()
    coop = cooperation(lead, "Gemeinsamer Bauhof", (illingen,))
    other = cooperation(eppelborn_user, "Streng getrennte Bücherei")
    db.session.commit()
    return {
        "lead": lead,
        "illingen": illingen,
        "illingen_user": illingen_user,
        "eppelborn": eppelborn,
        "coop": coop,
        "other": other,
    }


def entries(cooperation_id: int, **where: object) -> list[HistoryEntry]:
    stmt = select(HistoryEntry).where(HistoryEntry.cooperation_id == cooperation_id)
    for key, value in where.items():
        stmt = stmt.where(getattr(HistoryEntry, key) == value)
    return list(db.session.scalars(stmt.order_by(HistoryEntry.id)))


def history_total() -> int:
    return db.session.scalar(select(func.count(HistoryEntry.id)))


def by_field(rows: list[HistoryEntry]) -> dict[str | None, tuple[str | None, str | None]]:
    return {e.field: (e.old_value, e.new_value) for e in rows}


def assert_by(rows: list[HistoryEntry], user: User) -> None:
    assert rows, "no history written"
    for entry in rows:
        assert entry.actor_id == user.id
        assert entry.actor_label == f"{user.name} <{user.email}>"


# --- every write through the web records who, what, old -> new --------------------------


def test_create_records_every_field_by_the_user(setting, client, login_as) -> None:  # noqa: ANN001
    lead = setting["lead"]
    login_as(lead)
    response = client.post("/kooperationen/neu", data=VALID)
    assert response.status_code == 302
    coop_id = int(response.headers["Location"].rsplit("/", 1)[1])

    rows = entries(coop_id)
    assert_by(rows, lead)
    created = {(e.record_type, e.action) for e in rows}
    assert created == {
        ("Cooperation", "create"),
        ("CooperationPartner", "create"),
        ("Membership", "create"),
    }
    coop_fields = by_field(entries(coop_id, record_type="Cooperation"))
    assert coop_fields["title"] == (None, "Gemeinsamer Bauhof")
    assert coop_fields["handlungsfeld"] == (None, "infrastruktur")
    assert coop_fields["start_date"] == (None, "2025-01-01")
    assert "version" not in coop_fields  # bookkeeping, not content
    assert by_field(entries(coop_id, record_type="Membership"))["role"] == (None, "lead")


def test_update_records_only_changed_fields_old_and_new(setting, client, login_as) -> None:  # noqa: ANN001
    lead, coop = setting["lead"], setting["coop"]
    login_as(lead)
    last_id = db.session.scalar(select(func.max(HistoryEntry.id)))
    response = client.post(
        f"/kooperationen/{coop.id}/bearbeiten",
        data={
            **VALID,
            "title": "Bauhof Illtal",
            "goals": "Ziele",
            "handlungsfeld": "verwaltung",
            "status": "aktiv",
            "end_date": "31.12.2030",
            "version": "1",
        },
    )
    assert response.status_code == 302

    rows = db.session.scalars(select(HistoryEntry).where(HistoryEntry.id > last_id)).all()
    assert_by(rows, lead)
    assert {(e.cooperation_id, e.record_type, e.record_id, e.action) for e in rows} == {
        (coop.id, "Cooperation", coop.id, "update")
    }
    assert by_field(rows) == {
        "title": ("Gemeinsamer Bauhof", "Bauhof Illtal"),
        "end_date": (None, "2030-12-31"),
    }


def test_partner_and_role_changes_are_recorded(setting, client, login_as) -> None:  # noqa: ANN001
    lead, coop = setting["lead"], setting["coop"]
    login_as(lead)
    start = history_total()

    assert (
        client.post(
            f"/kooperationen/{coop.id}/partner/neu",
            data={"ags": "10043111", "action": "add", "joined_on": "2025-02-01"},
        ).status_code
        == 302
    )
    partner = db.session.scalar(
        select(CooperationPartner).where(
            CooperationPartner.cooperation_id == coop.id,
            CooperationPartner.municipality_id == setting["eppelborn"].id,
        )
    )
    added = entries(coop.id, record_type="CooperationPartner", record_id=partner.id)
    assert [e.action for e in added] and {e.action for e in added} == {"create"}
    assert by_field(added)["joined_on"] == (None, "2025-02-01")
    assert added[0].record_label == "Eppelborn"

    assert (
        client.post(
            f"/kooperationen/{coop.id}/partner/{partner.id}",
            data={
                "joined_on": "2025-02-01",
                "left_on": "2026-06-30",
                "council_resolution_on": "2025-01-20",
            },
        ).status_code
        == 302
    )
    updated = entries(
        coop.id, record_type="CooperationPartner", record_id=partner.id, action="update"
    )
    assert by_field(updated) == {
        "left_on": (None, "2026-06-30"),
        "council_resolution_on": (None, "2025-01-20"),
    }

    illingen_user = setting["illingen_user"]
    assert (
        client.post(
            f"/kooperationen/{coop.id}/rollen",
            data={"user_id": str(illingen_user.id), "role": "member"},
        ).status_code
        == 302
    )
    membership = db.session.scalar(select(Membership).where(Membership.user_id == illingen_user.id))
    granted = entries(coop.id, record_type="Membership", record_id=membership.id)
    assert by_field(granted)["role"] == (None, "member")
    assert granted[0].record_label == "Ilse Illinger: Mitglied"

    assert (
        client.post(f"/kooperationen/{coop.id}/rollen/{membership.id}/entfernen").status_code == 302
    )
    revoked = entries(coop.id, record_type="Membership", record_id=membership.id, action="delete")
    assert by_field(revoked)["role"] == ("member", None)
    assert by_field(revoked)["user_id"] == (str(illingen_user.id), None)

    assert (
        client.post(f"/kooperationen/{coop.id}/partner/{partner.id}/entfernen").status_code == 302
    )
    removed = entries(
        coop.id, record_type="CooperationPartner", record_id=partner.id, action="delete"
    )
    assert by_field(removed)["left_on"] == ("2026-06-30", None)

    new_rows = db.session.scalars(
        select(HistoryEntry).where(
            HistoryEntry.id > start, HistoryEntry.cooperation_id.is_not(None)
        )
    ).all()
    assert_by(new_rows, lead)


def test_removing_a_partner_records_its_users_roles_too(setting, client, login_as) -> None:  # noqa: ANN001
    coop, illingen_user = setting["coop"], setting["illingen_user"]
    db.session.add(Membership(cooperation_id=coop.id, user_id=illingen_user.id, role=Role.OBSERVER))
    db.session.commit()
    login_as(setting["lead"])
    partner_id = db.session.scalar(
        select(CooperationPartner.id).where(
            CooperationPartner.municipality_id == setting["illingen"].id
        )
    )

    assert (
        client.post(f"/kooperationen/{coop.id}/partner/{partner_id}/entfernen").status_code == 302
    )

    deleted = entries(coop.id, action="delete")
    assert {e.record_type for e in deleted} == {"CooperationPartner", "Membership"}
    assert_by(deleted, setting["lead"])


# --- same transaction: nothing of a failed write remains --------------------------------


def test_a_failed_commit_leaves_neither_change_nor_history(setting, app, client, login_as) -> None:  # noqa: ANN001
    """The history rows are written in the change's own transaction and go with it."""
    coop = setting["coop"]
    login_as(setting["lead"])
    app.config["PROPAGATE_TEST_ERRORS"] = False
    before = history_total()

    def fail(session: Session) -> None:
        raise RuntimeError("the database went away at commit")

    event.listen(Session, "before_commit", fail)
    try:
        response = client.post(
            f"/kooperationen/{coop.id}/bearbeiten",
            data={**VALID, "title": "Nie gespeichert", "version": "1"},
        )
    finally:
        event.remove(Session, "before_commit", fail)

    assert response.status_code == 500
    assert "Es wurde nichts gespeichert." in response.get_data(as_text=True)
    assert history_total() == before
    db.session.expire_all()
    assert db.session.get(Cooperation, coop.id).title == "Gemeinsamer Bauhof"


def test_a_concurrent_update_rolls_back_with_its_history(setting) -> None:  # noqa: ANN001
    """StaleDataError at flush (someone saved in between): the history goes too."""
    coop = db.session.get(Cooperation, setting["coop"].id)
    before = history_total()
    with db.engine.begin() as other:  # another request saves first
        other.execute(text("UPDATE cooperation SET title = 'Von nebenan', version = 2"))
    data = services.CooperationData(
        title="Von hier",
        goals="",
        handlungsfeld="verwaltung",
        rechtsform="zweckverband",
        status="aktiv",
        start_date=date(2025, 1, 1),
        end_date=None,
    )
    with pytest.raises(Exception, match="(?i)stale|expected to update"):
        services.update_cooperation(coop, data, version=1)
    db.session.rollback()
    assert history_total() == before
    assert db.session.get(Cooperation, coop.id).title == "Von nebenan"


def test_refused_input_writes_no_history(setting, client, login_as) -> None:  # noqa: ANN001
    coop = setting["coop"]
    login_as(setting["lead"])
    before = history_total()
    for data in (
        {"ags": "10043112", "action": "add", "joined_on": "2025-01-01"},  # twice
        {"ags": "99999999", "action": "add", "joined_on": "2025-01-01"},  # unknown
        {"action": "search", "query": "Eppel"},
    ):  # the search writes nothing
        client.post(f"/kooperationen/{coop.id}/partner/neu", data=data)
    client.post(
        f"/kooperationen/{coop.id}/bearbeiten", data={**VALID, "title": "Alt", "version": "0"}
    )  # stale: 409
    assert history_total() == before


# --- shown and exported -----------------------------------------------------------------


def _rename(
    client: KoopClient, coop: Cooperation, title: str, version: int, **changes: str
) -> None:
    response = client.post(
        f"/kooperationen/{coop.id}/bearbeiten",
        data={**VALID, "title": title, "version": str(version), **changes},
    )
    assert response.status_code == 302


def test_the_cooperation_page_and_verlauf_show_the_entries(setting, client, login_as) -> None:  # noqa: ANN001
    coop = setting["coop"]
    login_as(setting["lead"])
    _rename(client, coop, "Bauhof Illtal", 1)

    for url in (f"/kooperationen/{coop.id}", f"/kooperationen/{coop.id}/verlauf"):
        body = client.get(url).get_data(as_text=True)
        assert "Lea Leitung (Merchweiler) hat die Kooperation „Bauhof Illtal“ geändert" in body
        assert "lea@merchweiler.example" not in body  # the person by name and municipality
        assert '<th scope="row">Titel</th>' in body  # the field in words, not the column name
        assert "<td>Gemeinsamer Bauhof</td>" in body and "<td>Bauhof Illtal</td>" in body
        assert "<td>Gemeinschaftliche" not in body
        assert "Infrastrukturen" in body  # the Handlungsfeld's label, not its key
        assert "Streng getrennte Bücherei" not in body


def test_verlauf_pages_through_long_histories(setting, client, login_as) -> None:  # noqa: ANN001
    coop = setting["coop"]
    login_as(setting["lead"])
    for version in range(1, 9):  # 8 saves, 5 fields changed each time: > 50 entries
        _rename(
            client,
            coop,
            f"Titel {version}",
            version,
            goals=f"Ziel {version}",
            status=("aktiv", "ruhend")[version % 2],
            end_date=f"2030-01-{version:02d}",
            handlungsfeld=("it", "bildung")[version % 2],
        )
    for version in range(9, 53):  # one change per save, whatever the number of fields
        _rename(client, coop, f"Titel {version}", version)
    changes = 52 + 4  # the saves, and creating the cooperation, its two partners, the role
    assert len(entries(coop.id)) > 90

    first = client.get(f"/kooperationen/{coop.id}/verlauf").get_data(as_text=True)
    assert f"{changes} Änderungen." in first and "Seite 1 von 2" in first and "Ältere" in first
    assert first.count('<li class="change">') == 50
    last = client.get(f"/kooperationen/{coop.id}/verlauf?seite=2").get_data(as_text=True)
    assert "Seite 2 von 2" in last and "Neuere" in last
    beyond = client.get(f"/kooperationen/{coop.id}/verlauf?seite=99999999999999999999")
    assert beyond.status_code == 200 and "Seite 2 von 2" in beyond.get_data(as_text=True)


def test_csv_export_semicolon_utf8_bom(setting, client, login_as) -> None:  # noqa: ANN001
    coop = setting["coop"]
    login_as(setting["lead"])
    _rename(client, coop, "Müllabfuhr Süd; „Pilot“", 1)

    response = client.get(f"/kooperationen/{coop.id}/verlauf.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:2] == ["Zeitpunkt (UTC)", "Person"]
    assert len(rows) - 1 == len(entries(coop.id))
    title_change = [r for r in rows if r[5] == "update" and r[6] == "title"]
    assert title_change and title_change[0][7:9] == [
        "Gemeinsamer Bauhof",
        "Müllabfuhr Süd; „Pilot“",
    ]
    # Keys keep their number, with the name beside it.
    header = rows[0]
    partner = [r for r in rows if r[2] == "CooperationPartner" and r[6] == "municipality_id"]
    assert header[9:] == ["alter Wert (Name)", "neuer Wert (Name)"]
    assert {(r[8], r[10]) for r in partner} >= {(str(setting["illingen"].id), "Illingen")}
    assert title_change[0][1] == "Lea Leitung <lea@merchweiler.example>"
    assert not any("Streng getrennte Bücherei" in cell for row in rows for cell in row)


def test_other_cooperations_history_never_shows(setting, client, login_as) -> None:  # noqa: ANN001
    coop, other = setting["coop"], setting["other"]
    login_as(setting["lead"])
    _rename(client, coop, "Bauhof Illtal", 1)
    assert entries(other.id)  # the other cooperation has history of its own

    pages = [
        client.get(f"/kooperationen/{coop.id}{suffix}").get_data(as_text=True)
        for suffix in ("", "/verlauf", "/verlauf.csv")
    ]
    for body in pages:
        assert "Streng getrennte Bücherei" not in body and "Emil Eppel" not in body
    assert client.get(f"/kooperationen/{other.id}/verlauf").status_code == 404
    assert client.get(f"/kooperationen/{other.id}/verlauf.csv").status_code == 404


# --- append-only ------------------------------------------------------------------------


def test_the_orm_refuses_to_change_history(setting) -> None:  # noqa: ANN001
    entry = entries(setting["coop"].id)[0]
    entry.new_value = "gefälscht"
    with pytest.raises(HistoryIsAppendOnly):
        db.session.flush()
    db.session.rollback()

    entry = entries(setting["coop"].id)[0]
    db.session.delete(entry)
    with pytest.raises(HistoryIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(HistoryEntry, entry.id, populate_existing=True).new_value != "gefälscht"

    for bulk in (update(HistoryEntry).values(new_value="gefälscht"), delete(HistoryEntry)):
        with pytest.raises(HistoryIsAppendOnly):
            db.session.execute(bulk)
        db.session.rollback()
    assert db.session.get(HistoryEntry, entry.id) is not None


def test_a_record_deleted_after_commit_keeps_its_old_values(setting) -> None:  # noqa: ANN001
    """Attributes expire at commit; the delete still records what the row held."""
    membership = Membership(
        cooperation_id=setting["coop"].id, user_id=setting["illingen_user"].id, role=Role.MEMBER
    )
    db.session.add(membership)
    db.session.commit()  # expires the object
    db.session.delete(membership)
    db.session.commit()
    deleted = entries(
        setting["coop"].id, record_type="Membership", record_id=membership.id, action="delete"
    )
    assert by_field(deleted)["role"] == ("member", None)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE history_entry SET new_value = 'gefälscht'",
        "DELETE FROM history_entry",
        "UPDATE history_entry SET actor_label = 'Niemand' WHERE id = (SELECT min(id) FROM "
        "history_entry)",
    ],
)
def test_postgresql_refuses_raw_update_and_delete(setting, statement: str) -> None:  # noqa: ANN001
    """The migration's trigger guards the table even against SQL that bypasses the ORM."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    before = history_total()
    with pytest.raises(DBAPIError, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(text(statement))
    assert history_total() == before
    assert db.session.scalar(select(func.count()).where(HistoryEntry.new_value == "gefälscht")) == 0
