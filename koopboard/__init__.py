"""KoopBoard: the shared workspace of an interkommunale Kooperation."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from koopboard.config import DEFAULT_SECRET_KEY, INSTANCE_DIR, Config


class ConfigurationError(RuntimeError):
    """The app refuses to start with an unsafe configuration."""


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``test_config`` overrides the environment-derived config."""
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=False)
    app.config.from_object(Config)
    if test_config:
        app.config.update(test_config)
    _check_config(app)
    if app.config["TRUSTED_PROXY_HOPS"]:
        # Behind a load balancer: take client address and scheme from X-Forwarded-*,
        # trusting exactly the configured number of proxies (rate limits are per client).
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    os.makedirs(app.instance_path, exist_ok=True)

    from koopboard import extensions, history  # noqa: F401  (history registers its events)

    extensions.db.init_app(app)
    # Batch mode lets the same migrations ALTER tables on SQLite; compare_type keeps types honest.
    extensions.migrate.init_app(
        app, extensions.db, directory=_migrations_dir(), render_as_batch=True, compare_type=True
    )
    extensions.csrf.init_app(app)
    extensions.htmx.init_app(app)
    extensions.limiter.init_app(app)

    from koopboard import auth, i18n, inputs, security, web

    inputs.init_app(app)  # its URL converters must be in place before the first rule
    i18n.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    web.init_app(app)
    _register_blueprints(app)

    from koopboard.cli import koop

    app.cli.add_command(koop)
    _offer_demo_logins(app)

    from tasks import celery_init_app

    celery_init_app(app)
    return app


def _migrations_dir() -> str:
    from koopboard.config import BASE_DIR

    return str(BASE_DIR / "migrations")


def _check_config(app: Flask) -> None:
    if int(app.config["KOOP_MAIL_RETENTION_DAYS"]) < 1:
        raise ConfigurationError("KOOP_MAIL_RETENTION_DAYS must be at least 1 (days).")
    if app.config["KOOP_ENV"] == "production":
        if (
            app.config["SECRET_KEY"] in (None, "", DEFAULT_SECRET_KEY)
            or len(app.config["SECRET_KEY"]) < 32
        ):
            raise ConfigurationError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production."
            )
        app.config["SESSION_COOKIE_SECURE"] = True


def _offer_demo_logins(app: Flask) -> None:
    """The login page lists the demo's sign-ins in development mode only (``make run``);
    production and testing never show them, whatever the database holds."""

    def demo_logins() -> dict[str, Any] | None:
        if app.config["KOOP_ENV"] != "development":
            return None
        from koopboard import demo

        rows = demo.loaded_logins()
        return {"password": demo.DEMO_PASSWORD, "rows": rows} if rows else None

    app.jinja_env.globals["demo_logins"] = demo_logins


def _register_blueprints(app: Flask) -> None:
    from koopboard.account import bp as account_bp
    from koopboard.admin import bp as admin_bp
    from koopboard.auth.views import bp as auth_bp
    from koopboard.boerse import bp as boerse_bp
    from koopboard.check import bp as check_bp
    from koopboard.cooperations import bp as cooperations_bp
    from koopboard.cooperations.invitations.views import bp as invitations_bp
    from koopboard.costs import bp as costs_bp
    from koopboard.devmail import bp as devmail_bp
    from koopboard.main import bp as main_bp
    from koopboard.milestones import bp as milestones_bp
    from koopboard.municipalities import bp as municipalities_bp
    from koopboard.notifications.views import bp as notifications_bp
    from koopboard.start import bp as start_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(cooperations_bp)
    app.register_blueprint(invitations_bp)
    app.register_blueprint(milestones_bp)
    app.register_blueprint(costs_bp)
    app.register_blueprint(municipalities_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(boerse_bp)
    app.register_blueprint(check_bp)
    app.register_blueprint(start_bp)
    if app.config["KOOP_ENV"] == "development" or app.config.get("DEV_MAIL_VIEW"):
        app.register_blueprint(devmail_bp)
