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
