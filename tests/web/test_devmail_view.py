"""The development inbox (/dev/mail/) shows everyone's links: only the platform admin reads it."""

from __future__ import annotations

from pathlib import Path

from koopboard.devmail.sink import store_message
from tests.conftest import KoopClient, Variant, login

RESET_MAIL = (
    b"From: KoopBoard <noreply@koopboard.localhost>\r\nTo: erika@example.org\r\n"
    b"Subject: Passwort zuruecksetzen\r\n\r\nhttp://localhost/passwort-zuruecksetzen/geheim\r\n"
)


def test_only_the_platform_admin_reads_the_development_inbox(
    variant: Variant,
    tmp_path: Path,
    make_municipality,
    make_user,  # noqa: ANN001
) -> None:
    app = variant(DEV_MAIL_VIEW=True, MAIL_SINK_DIR=str(tmp_path))
    app.test_client_class = KoopClient
    message_id = store_message(tmp_path, RESET_MAIL, "noreply@x", ["erika@example.org"])
    member, admin = make_user(make_municipality()), make_user(None, is_admin=True)
    pages = ("/dev/mail/", f"/dev/mail/{message_id}")

    anonymous = app.test_client()
    for path in pages:
        response = anonymous.get(path)
        assert response.status_code == 302 and "/anmelden" in response.headers["Location"]
    colleague = app.test_client()
    assert login(colleague, member).status_code == 302
    for path in pages:
        response = colleague.get(path)
        assert response.status_code == 404
        assert "geheim" not in response.get_data(as_text=True)

    operator = app.test_client()
    assert login(operator, admin).status_code == 302
    assert "Passwort zuruecksetzen" in operator.get(pages[0]).get_data(as_text=True)
    assert "passwort-zuruecksetzen/geheim" in operator.get(pages[1]).get_data(as_text=True)
    # From another machine not even the admin reaches it.
    operator.environ_base["REMOTE_ADDR"] = "192.0.2.5"
    assert operator.get(pages[0]).status_code == 404
