"""Notification preferences: the precedence rules the delivery core relies on, and the page."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from koopboard.domain.notifications import EventType
from koopboard.extensions import db
from koopboard.models import HistoryEntry, NotificationPreference, NotificationSettings
from koopboard.notifications.preferences import mode_for, settings_for

STATUS = EventType.MILESTONE_STATUS_CHANGED.value
COST = EventType.COST_APPROVED.value
PAGE = "/benachrichtigungen/einstellungen"
OVERRIDES = "/benachrichtigungen/einstellungen/ausnahmen"


@pytest.fixture()
def setup(make_municipality, make_user, make_cooperation):  # noqa: ANN001, ANN201
    town = make_municipality()
    lead = make_user(town)
    coop = make_cooperation(lead, title="Gemeinsamer Bauhof")
    other = make_cooperation(lead, title="Gemeinsame Bücherei")
    stranger_coop = make_cooperation(make_user(make_municipality()), title="Fremde Kooperation")
    return {
        "town": town,
        "user": lead,
        "coop": coop.id,
        "other": other.id,
        "stranger_coop": stranger_coop.id,
    }


def pref(user_id: int, event_type: str, mode: str, cooperation_id: int | None = None) -> None:
    db.session.add(
        NotificationPreference(
            user_id=user_id, event_type=event_type, mode=mode, cooperation_id=cooperation_id
        )
    )
    db.session.commit()


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- mode_for and settings_for (the interface of the delivery core) ------------------------


def test_default_is_immediate_and_settings_are_transient(setup) -> None:  # noqa: ANN001
    user = setup["user"]
    assert mode_for(user.id, STATUS, setup["coop"]) == "immediate"
    settings = settings_for(user.id)
    assert (settings.digest_days, settings.digest_hour, settings.paused) == ("1,2,3,4,5", 7, False)
    assert settings not in db.session
    assert count(NotificationSettings) == 0


def test_general_row_applies_to_every_cooperation(setup) -> None:  # noqa: ANN001
    user = setup["user"]
    pref(user.id, STATUS, "digest")
    assert mode_for(user.id, STATUS, setup["coop"]) == "digest"
    assert mode_for(user.id, STATUS, setup["other"]) == "digest"
    assert mode_for(user.id, COST, setup["coop"]) == "digest"  # the Projektleitung's preset


def test_override_beats_general_only_for_its_cooperation(setup) -> None:  # noqa: ANN001
    user = setup["user"]
    pref(user.id, STATUS, "digest")
    pref(user.id, STATUS, "off", setup["coop"])
    assert mode_for(user.id, STATUS, setup["coop"]) == "off"
    assert mode_for(user.id, STATUS, setup["other"]) == "digest"


def test_override_without_general_row(setup) -> None:  # noqa: ANN001
    user = setup["user"]
    pref(user.id, STATUS, "immediate", setup["coop"])
    pref(user.id, COST, "digest", setup["other"])
    assert mode_for(user.id, STATUS, setup["coop"]) == "immediate"
    assert mode_for(user.id, COST, setup["other"]) == "digest"
    pref(user.id, COST, "immediate", setup["coop"])
    assert mode_for(user.id, COST, setup["coop"]) == "immediate"


def test_paused_turns_everything_off(setup) -> None:  # noqa: ANN001
    user = setup["user"]
    pref(user.id, STATUS, "immediate", setup["coop"])
    db.session.add(NotificationSettings(user_id=user.id, paused=True))
    db.session.commit()
    assert mode_for(user.id, STATUS, setup["coop"]) == "off"
    assert mode_for(user.id, COST, setup["other"]) == "off"
    assert settings_for(user.id).paused is True


def test_other_users_rows_do_not_count(setup, make_user) -> None:  # noqa: ANN001
    someone = make_user(setup["town"])
    pref(someone.id, STATUS, "off")
    db.session.add(NotificationSettings(user_id=someone.id, paused=True))
    db.session.commit()
    assert mode_for(setup["user"].id, STATUS, setup["coop"]) == "immediate"


# --- the settings page ---------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client) -> None:  # noqa: ANN001
    for response in (client.get(PAGE), client.post(PAGE, data={}), client.post(OVERRIDES)):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/anmelden")


def test_page_shows_a_fieldset_per_event_type(setup, login_as) -> None:  # noqa: ANN001
    body = login_as(setup["user"]).get(PAGE).get_data(as_text=True)
    assert body.count("<fieldset") == len(EventType) + 1  # + digest days
    assert "Status eines Meilensteins geändert</legend>" in body
    assert f'name="modus-{STATUS}" value="default" checked' in body
    assert 'name="digest_days" type="checkbox" value="1"' in body
    assert "Gemeinsamer Bauhof" in body  # choices for an override
    assert "Fremde Kooperation" not in body


def settings_form(**modes: str) -> dict:
    data = {f"modus-{e.value}": "default" for e in EventType}
    data.update({f"modus-{key}": mode for key, mode in modes.items()})
    data.update({"digest_days": ["1", "3"], "digest_hour": "18", "paused": "y"})
    return data


def test_saving_settings_writes_rows_and_history(setup, login_as) -> None:  # noqa: ANN001
    user = setup["user"]
    client = login_as(user)
    response = client.post(PAGE, data=settings_form(**{STATUS: "digest", COST: "off"}))
    assert response.status_code == 302
    assert response.headers["Location"] == PAGE
    rows = dict(
        db.session.execute(
            select(NotificationPreference.event_type, NotificationPreference.mode).where(
                NotificationPreference.user_id == user.id
            )
        ).all()
    )
    assert rows == {STATUS: "digest", COST: "off"}  # defaults are not stored
    settings = settings_for(user.id)
    assert (settings.digest_days, settings.digest_hour, settings.paused) == ("1,3", 18, True)
    audited = db.session.scalars(
        select(HistoryEntry.record_type).where(HistoryEntry.actor_id == user.id)
    ).all()
    assert "NotificationPreference" in audited and "NotificationSettings" in audited
    page = client.get(PAGE).get_data(as_text=True)
    assert f'name="modus-{STATUS}" value="digest" checked' in page
    assert "Ihre Einstellungen sind gespeichert." in page


@pytest.mark.parametrize(
    "bad",
    [
        {"modus-milestone.exploded": "immediate"},
        {f"modus-{STATUS}": "sometimes"},
        {"digest_days": ["8"]},
        {"digest_hour": "24"},
    ],
    ids=["unknown-event-type", "unknown-mode", "bad-day", "bad-hour"],
)
def test_bad_input_writes_nothing(setup, login_as, bad: dict) -> None:  # noqa: ANN001
    client = login_as(setup["user"])
    data = {**settings_form(**{COST: "off"}), **bad}
    history_before = count(HistoryEntry)
    response = client.post(PAGE, data=data)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Unbekannte" in body or "Bitte wählen Sie einen Eintrag aus der Liste." in body
    assert count(NotificationPreference) == 0
    assert count(NotificationSettings) == 0
    assert count(HistoryEntry) == history_before


def test_unknown_event_type_message_is_german(setup, login_as) -> None:  # noqa: ANN001
    client = login_as(setup["user"])
    response = client.post(PAGE, data={**settings_form(), "modus-bogus": "off"})
    assert response.status_code == 400
    assert "Unbekannte Art von Benachrichtigung „bogus“." in response.get_data(as_text=True)


def test_missing_csrf_token_is_refused(setup, login_as) -> None:  # noqa: ANN001
    client = login_as(setup["user"])
    response = client.post(PAGE, data=settings_form(), csrf=False)
    assert response.status_code == 400
    assert count(NotificationSettings) == 0


# --- overrides -----------------------------------------------------------------------------


def test_add_change_and_remove_an_override(setup, login_as) -> None:  # noqa: ANN001
    user = setup["user"]
    client = login_as(user)
    data = {"cooperation_id": str(setup["coop"]), "event_type": STATUS, "mode": "off"}
    response = client.post(OVERRIDES, data=data)
    assert response.status_code == 302
    assert mode_for(user.id, STATUS, setup["coop"]) == "off"
    client.post(OVERRIDES, data={**data, "mode": "digest"})
    assert count(NotificationPreference) == 1
    assert mode_for(user.id, STATUS, setup["coop"]) == "digest"
    history = db.session.scalar(
        select(func.count()).where(
            HistoryEntry.record_type == "NotificationPreference",
            HistoryEntry.cooperation_id == setup["coop"],
        )
    )
    assert history >= 2
    page = client.get(PAGE).get_data(as_text=True)
    assert "Ausnahme entfernen" in page and "in der Sammel-E-Mail" in page
    row_id = db.session.scalar(select(NotificationPreference.id))
    response = client.post(f"{OVERRIDES}/{row_id}/entfernen")
    assert response.status_code == 302
    assert count(NotificationPreference) == 0
    assert mode_for(user.id, STATUS, setup["coop"]) == "immediate"


@pytest.mark.parametrize(
    "bad",
    [
        {"event_type": "milestone.exploded"},
        {"mode": "sometimes"},
        {"cooperation_id": "stranger"},
        {"cooperation_id": "999999"},
    ],
    ids=["unknown-event-type", "unknown-mode", "cooperation-without-role", "no-such-coop"],
)
def test_bad_override_writes_nothing(setup, login_as, bad: dict) -> None:  # noqa: ANN001
    if bad.get("cooperation_id") == "stranger":
        bad = {"cooperation_id": str(setup["stranger_coop"])}
    data = {"cooperation_id": str(setup["coop"]), "event_type": STATUS, "mode": "off", **bad}
    response = login_as(setup["user"]).post(OVERRIDES, data=data)
    assert response.status_code == 400
    assert "Bitte wählen Sie einen Eintrag aus der Liste." in response.get_data(as_text=True)
    assert count(NotificationPreference) == 0


def test_override_with_htmx_answers_422(setup, login_as) -> None:  # noqa: ANN001
    data = {"cooperation_id": str(setup["coop"]), "event_type": "x", "mode": "off"}
    response = login_as(setup["user"]).post(OVERRIDES, data=data, headers={"HX-Request": "true"})
    assert response.status_code == 422


def test_another_users_override_cannot_be_removed(setup, login_as, make_user) -> None:  # noqa: ANN001
    someone = make_user(setup["town"])
    pref(someone.id, STATUS, "off", setup["coop"])
    row_id = db.session.scalar(select(NotificationPreference.id))
    response = login_as(setup["user"]).post(f"{OVERRIDES}/{row_id}/entfernen")
    assert response.status_code == 404
    assert count(NotificationPreference) == 1


def test_a_general_row_is_not_removed_as_override(setup, login_as) -> None:  # noqa: ANN001
    user = setup["user"]
    pref(user.id, STATUS, "off")
    row_id = db.session.scalar(select(NotificationPreference.id))
    assert login_as(user).post(f"{OVERRIDES}/{row_id}/entfernen").status_code == 404
    assert count(NotificationPreference) == 1


def test_lost_role_keeps_no_override_choice(setup, login_as, make_user) -> None:  # noqa: ANN001
    """Only cooperations with a role are offered: a user without any sees a hint."""
    loner = make_user(setup["town"])
    body = login_as(loner).get(PAGE).get_data(as_text=True)
    assert "sobald Sie eine Rolle in einer Kooperation haben" in body
