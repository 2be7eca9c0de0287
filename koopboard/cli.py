"""`flask --app app koop ...`: operator commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

koop = AppGroup("koop", help="KoopBoard operator commands.")


@koop.command("import-register")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--quiet", is_flag=True, help="No progress bar.")
def import_register_command(path: str | None, quiet: bool) -> None:
    """Import or update the official municipality register (Destatis CSV)."""
    from koopboard.municipalities.importer import run_import_cli

    run_import_cli(path, quiet=quiet)


@koop.command("create-admin")
@click.option("--email", prompt="E-Mail")
@click.option("--name", prompt="Name")
@click.password_option("--password", prompt="Passwort (mind. 12 Zeichen)")
def create_admin_command(email: str, name: str, password: str) -> None:
    """Create the first platform admin (Betreiber)."""
    from koopboard.auth.services import AccountError, create_admin

    try:
        user = create_admin(email=email, name=name, password=password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Administrator {user.email} angelegt.")


@koop.command("load-demo")
def load_demo_command() -> None:
    """Load demo data (needs the register): the Standesamt cooperation in Saarland."""
    from koopboard.demo import load_demo

    for line in load_demo():
        click.echo(line)


@koop.command("mail-sink")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=1025, type=int)
def mail_sink_command(host: str, port: int) -> None:
    """Run the local development SMTP sink; messages are readable at /dev/mail."""
    from flask import current_app

    from koopboard.devmail.sink import serve

    serve(host, port, current_app.config["MAIL_SINK_DIR"])


@koop.command("anonymise-user")
@click.argument("email")
@click.option(
    "--successor",
    "successors",
    multiple=True,
    metavar="KOOPERATION=E-MAIL",
    help="Who takes over where the person is the only Projektleitung "
    "(cooperation number = e-mail of a person with a role there); repeatable.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def anonymise_user_command(email: str, successors: tuple[str, ...], yes: bool) -> None:
    """Anonymise the account of a person who left (Art. 17 DSGVO), like the admin page."""
    from sqlalchemy import select

    from koopboard.account import anonymisation
    from koopboard.auth.services import normalize_email
    from koopboard.extensions import db
    from koopboard.history import acting_as
    from koopboard.models import Membership, User

    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise click.ClickException(f"Kein Konto mit der E-Mail-Adresse {email}.")
    chosen: dict[int, int] = {}
    for item in successors:
        coop, _sep, address = item.partition("=")
        membership_id = db.session.scalar(
            select(Membership.id)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.cooperation_id == (int(coop) if coop.strip().isdigit() else -1),
                User.email == normalize_email(address),
            )
        )
        if membership_id is None:
            raise click.ClickException(f"--successor {item}: keine Rolle dieser Person dort.")
        chosen[int(coop)] = membership_id
    try:
        anonymisation.check_allowed(user, by=None)
    except anonymisation.AnonymisationError as exc:
        raise click.ClickException(str(exc)) from exc
    if not yes:
        click.confirm(f"Konto {user.email} ({user.name}) endgültig anonymisieren?", abort=True)
    with acting_as("System (Kommandozeile anonymise-user)"):
        try:
            result = anonymisation.anonymise(user, by=None, successors=chosen)
        except anonymisation.AnonymisationError as exc:
            db.session.rollback()
            hint = ""
            if exc.field and exc.field.startswith("nachfolge-"):
                hint = f" (--successor {exc.field.removeprefix('nachfolge-')}=E-MAIL)"
            raise click.ClickException(str(exc) + hint) from exc
        db.session.commit()
    click.echo(
        f"Anonymisiert: {result.roles} Rollen beendet, {result.sessions} Anmeldungen und "
        f"{result.links} Links gelöscht, {result.undelivered} nicht zugestellte E-Mails "
        f"verworfen, {result.history_entries} Verlaufseinträge umbenannt."
    )


@koop.command("delete-mail-content")
def delete_mail_content_command() -> None:
    """Delete what delivered notification mails said, after KOOP_MAIL_RETENTION_DAYS."""
    from koopboard.notifications.retention import delete_old_content

    run = delete_old_content()
    click.echo(
        f"Inhalt von {run.events} Benachrichtigungen gelöscht "
        f"(zugestellt und älter als {run.days} Tage)."
    )
