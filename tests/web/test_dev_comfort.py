"""Development comfort (`make run`): the demo logins on the login page in development mode
only, and worker logs that say what happened instead of every tick."""

from __future__ import annotations

import logging

import pytest

from koopboard.demo import AGS, DEMO_PASSWORD, load_demo


@pytest.fixture()
def demo_loaded(app, make_municipality) -> None:  # noqa: ANN001
    for name, ags in AGS.items():
        make_municipality(name, ags)
    list(load_demo())


@pytest.mark.parametrize("mode", ["development", "production", "testing"])
def test_login_page_lists_the_demo_logins_in_development_only(
    app,  # noqa: ANN001
    client,  # noqa: ANN001
    demo_loaded: None,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
) -> None:
    monkeypatch.setitem(app.config, "KOOP_ENV", mode)
    page = client.get("/anmelden").get_data(as_text=True)
    shown = "projektleitung@merchweiler.demo" in page
    assert shown == (mode == "development")
    assert (DEMO_PASSWORD in page) == (mode == "development")
    if shown:
        assert "Demo-Anmeldungen (nur in der Entwicklung)" in page
        assert "admin@koopboard.demo" in page and "kaemmerei@illingen.demo" in page


def test_no_demo_logins_listed_before_the_demo_is_loaded(
    app,  # noqa: ANN001
    client,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "KOOP_ENV", "development")
    page = client.get("/anmelden").get_data(as_text=True)
    assert "Demo-Anmeldungen" not in page and DEMO_PASSWORD not in page


def test_celery_task_lines_are_quiet_unless_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks import CHATTY_LOGGERS, quiet_task_logs

    for name in CHATTY_LOGGERS:
        monkeypatch.setattr(logging.getLogger(name), "level", logging.NOTSET)
    monkeypatch.setenv("KOOP_VERBOSE_TASK_LOGS", "1")
    quiet_task_logs()
    assert all(logging.getLogger(n).level == logging.NOTSET for n in CHATTY_LOGGERS)
    monkeypatch.delenv("KOOP_VERBOSE_TASK_LOGS")
    quiet_task_logs()
    assert all(logging.getLogger(n).level == logging.WARNING for n in CHATTY_LOGGERS)


def test_an_idle_relay_tick_logs_nothing(app, caplog: pytest.LogCaptureFixture) -> None:  # noqa: ANN001
    from tasks import notifications

    with caplog.at_level(logging.INFO, logger="tasks.notifications"):
        assert notifications.relay.run() == 0
    assert not [r for r in caplog.records if r.name == "tasks.notifications"]
