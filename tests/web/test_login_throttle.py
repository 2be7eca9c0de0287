"""Wrong passwords slow down the client that typed them, never the account's owner."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask

from koopboard.models import Municipality, User
from tests.conftest import PASSWORD, KoopClient, Mailbox, login
from tests.web.test_auth import body, path_of

MakeMunicipality = Callable[..., Municipality]
MakeUser = Callable[..., User]
WRONG = "Falsches-Passwort-123"


def _browser(app: Flask, address: str) -> KoopClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_an_attacker_cannot_lock_the_owner_out(
    app: Flask, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    owner = make_user(make_municipality())
    attacker, office = _browser(app, "203.0.113.7"), _browser(app, "198.51.100.20")
    assert app.config["LOGIN_FREE_FAILURES"] == 5
    assert [login(attacker, owner, WRONG).status_code for _ in range(5)] == [400] * 5
    sixth = login(attacker, owner, WRONG)
    assert sixth.status_code == 400 and "warten Sie 2 Sekunden" in body(sixth)

    # The attacker's client waits, even with the right password ...
    waiting = login(attacker, owner, PASSWORD)
    assert waiting.status_code == 429
    assert 1 <= int(waiting.headers["Retry-After"]) <= 2
    assert "Passwort vergessen" in body(waiting)
    # ... the owner at the office signs in at once.
    assert login(office, owner).status_code == 302
    assert office.get("/kooperationen/").status_code == 200


def test_each_further_failure_doubles_the_wait_up_to_the_cap(
    app: Flask, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    app.config.update(LOGIN_FREE_FAILURES=1, LOGIN_MAX_DELAY_SECONDS=4)
    user = make_user(make_municipality())
    client = _browser(app, "203.0.113.8")
    assert login(client, user, WRONG).status_code == 400
    assert "2 Sekunden" in body(login(client, user, WRONG))
    assert login(client, user, WRONG).status_code == 429  # not counted while waiting
    time.sleep(2.1)
    assert "4 Sekunden" in body(login(client, user, WRONG))
    assert int(login(client, user, PASSWORD).headers["Retry-After"]) in (3, 4)
    time.sleep(4.1)
    assert "4 Sekunden" in body(login(client, user, WRONG))  # capped


def test_a_successful_login_starts_the_count_again(
    app: Flask, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    app.config["LOGIN_FREE_FAILURES"] = 2
    user = make_user(make_municipality())
    client = _browser(app, "203.0.113.9")
    assert [login(client, user, WRONG).status_code for _ in range(2)] == [400, 400]
    assert login(client, user).status_code == 302
    client.post("/abmelden")
    second_round = [login(client, user, WRONG) for _ in range(2)]
    assert [r.status_code for r in second_round] == [400, 400]
    assert not any("warten Sie" in body(r) for r in second_round)


def test_the_reset_path_works_for_the_owner_while_someone_else_hammers_it(
    app: Flask, mailbox: Mailbox, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    owner = make_user(make_municipality())
    attacker, home = _browser(app, "203.0.113.10"), _browser(app, "198.51.100.21")
    for _ in range(10):
        login(attacker, owner, WRONG)
    statuses = [
        attacker.post("/passwort-vergessen", data={"email": owner.email}).status_code
        for _ in range(6)
    ]
    assert statuses == [302] * 5 + [429]  # LOGIN_RATE_LIMIT_ACCOUNT, for that client only

    assert home.post("/passwort-vergessen", data={"email": owner.email}).status_code == 302
    assert len(mailbox.to(owner.email)) == 6


def test_reset_mails_to_one_address_are_capped_without_a_different_answer(
    app: Flask, mailbox: Mailbox, make_municipality: MakeMunicipality, make_user: MakeUser
) -> None:
    app.config["RESET_MAILS_PER_ADDRESS"] = "3 per hour"
    owner = make_user(make_municipality())
    answers = [
        _browser(app, f"203.0.113.{20 + n}").post(
            "/passwort-vergessen", data={"email": owner.email}
        )
        for n in range(5)
    ]
    assert {(a.status_code, path_of(a.headers["Location"])) for a in answers} == {
        (302, "/anmelden")
    }
    assert len(mailbox.to(owner.email)) == 3
