"""Configuration read from the environment; embedded defaults for development."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("KOOP_INSTANCE_DIR", BASE_DIR / "instance"))

# Development only: production refuses to start with it (create_app checks).
DEFAULT_SECRET_KEY = "dev-only-not-secret"  # nosec B105


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Settings shared by every mode; each is overridable by an environment variable."""

    KOOP_ENV = os.environ.get("KOOP_ENV", "development")
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'koopboard.sqlite'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    CELERY_BROKER_URL = os.environ.get(
        "CELERY_BROKER_URL", f"sqla+sqlite:///{INSTANCE_DIR / 'celery-broker.sqlite'}"
    )
    CELERY_TASK_ALWAYS_EAGER = _bool("CELERY_TASK_ALWAYS_EAGER", False)

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "1025"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_FROM = os.environ.get("MAIL_FROM", "KoopBoard <noreply@koopboard.localhost>")
    MAIL_SINK_DIR = os.environ.get("MAIL_SINK_DIR", str(INSTANCE_DIR / "mail"))

    # Absolute base for links in e-mails (no request context in workers).
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")

    # Notification delivery: retries are scheduled on the delivery row (next_attempt_at) and
    # picked up by the beat relay, never by Celery countdowns, so a lost task cannot lose a mail.
    NOTIFY_RETRY_BASE_SECONDS = float(os.environ.get("NOTIFY_RETRY_BASE_SECONDS", "30"))
    NOTIFY_RETRY_CAP_SECONDS = float(os.environ.get("NOTIFY_RETRY_CAP_SECONDS", "3600"))
    NOTIFY_MAX_ATTEMPTS = int(os.environ.get("NOTIFY_MAX_ATTEMPTS", "8"))
    # How long a claimed delivery stays with one worker before the relay hands it out again.
    NOTIFY_CLAIM_SECONDS = float(os.environ.get("NOTIFY_CLAIM_SECONDS", "300"))
    NOTIFY_RELAY_BATCH = int(os.environ.get("NOTIFY_RELAY_BATCH", "500"))
    # Deliveries one relay claims and sends (one SMTP connection), and how many of them are
    # sent between two commits of their statuses: a worker killed mid-batch re-sends at most
    # that many (same Message-IDs).
    NOTIFY_BATCH_SIZE = int(os.environ.get("NOTIFY_BATCH_SIZE", "50"))
    NOTIFY_COMMIT_EVERY = int(os.environ.get("NOTIFY_COMMIT_EVERY", "20"))
    NOTIFY_RELAY_INTERVAL_SECONDS = float(os.environ.get("NOTIFY_RELAY_INTERVAL_SECONDS", "5"))
    NOTIFY_DUE_SOON_DAYS = int(os.environ.get("NOTIFY_DUE_SOON_DAYS", "7"))
    NOTIFY_OVERDUE_REPEAT_DAYS = int(os.environ.get("NOTIFY_OVERDUE_REPEAT_DAYS", "7"))
    # What delivered notification mails said (the events' content) is deleted after this
    # many days; the metadata stays (koopboard/notifications/retention.py). Named on the
    # Datenschutz page.
    KOOP_MAIL_RETENTION_DAYS = int(os.environ.get("KOOP_MAIL_RETENTION_DAYS", "90"))
    # Redis redelivers an unacknowledged task after this many seconds; longer than the claim
    # and the longest retry delay, so a slow task is never run twice by the broker itself.
    CELERY_VISIBILITY_TIMEOUT = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "7200"))

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    PERMANENT_SESSION_LIFETIME = int(os.environ.get("SESSION_LIFETIME_SECONDS", 8 * 3600))
    REMEMBER_COOKIE_DURATION = 0

    WTF_CSRF_TIME_LIMIT = None  # bound to the session, which itself expires
    WTF_CSRF_HEADERS = ["X-CSRFToken"]

    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"
    LANGUAGES = ("de", "en")

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    # Failed logins per account and client: this many are free, then each doubles the wait
    # (2 s, 4 s, …) up to the cap. Never a lock-out: another client is not affected.
    LOGIN_FREE_FAILURES = int(os.environ.get("LOGIN_FREE_FAILURES", "5"))
    LOGIN_MAX_DELAY_SECONDS = int(os.environ.get("LOGIN_MAX_DELAY_SECONDS", "900"))
    # Failed logins per client across all accounts; reset requests per account and client.
    LOGIN_RATE_LIMIT_CLIENT = os.environ.get("LOGIN_RATE_LIMIT_CLIENT", "20 per 15 minutes")
    LOGIN_RATE_LIMIT_ACCOUNT = os.environ.get("LOGIN_RATE_LIMIT_ACCOUNT", "5 per 15 minutes")
    # Reset mails per address from all clients together (more requests get the same answer).
    RESET_MAILS_PER_ADDRESS = os.environ.get("RESET_MAILS_PER_ADDRESS", "10 per hour")
    # Invitations (colleagues and into cooperations together) per signed-in user and per
    # client, every attempt counted: nobody probes addresses by the hundred.
    INVITE_RATE_LIMIT_USER = os.environ.get("INVITE_RATE_LIMIT_USER", "20 per hour")
    INVITE_RATE_LIMIT_CLIENT = os.environ.get("INVITE_RATE_LIMIT_CLIENT", "40 per hour")

    INVITATION_MAX_AGE = int(os.environ.get("INVITATION_MAX_AGE_SECONDS", 7 * 24 * 3600))
    PASSWORD_RESET_MAX_AGE = int(os.environ.get("PASSWORD_RESET_MAX_AGE_SECONDS", 3600))

    REGISTER_CSV = os.environ.get(
        "REGISTER_CSV", str(BASE_DIR / "koopboard" / "data" / "gemeindeverzeichnis-2019-12-31.csv")
    )
    ACCESSIBILITY_CONTACT = os.environ.get(
        "ACCESSIBILITY_CONTACT", "barrierefreiheit@koopboard.localhost"
    )
    # The operator named in the Impressum and the Datenschutzerklärung (/impressum,
    # /datenschutz). Empty: the pages say which variable the operator still has to set.
    # KOOP_OPERATOR_ADDRESS may hold several lines (separated by "\n" or "|").
    KOOP_OPERATOR_NAME = os.environ.get("KOOP_OPERATOR_NAME", "")
    KOOP_OPERATOR_ADDRESS = os.environ.get("KOOP_OPERATOR_ADDRESS", "")
    KOOP_OPERATOR_REPRESENTATIVE = os.environ.get("KOOP_OPERATOR_REPRESENTATIVE", "")
    KOOP_OPERATOR_EMAIL = os.environ.get("KOOP_OPERATOR_EMAIL", "")
    KOOP_OPERATOR_PHONE = os.environ.get("KOOP_OPERATOR_PHONE", "")
    KOOP_OPERATOR_SUPERVISION = os.environ.get("KOOP_OPERATOR_SUPERVISION", "")
    KOOP_PRIVACY_OFFICER = os.environ.get("KOOP_PRIVACY_OFFICER", "")
    KOOP_PRIVACY_AUTHORITY = os.environ.get("KOOP_PRIVACY_AUTHORITY", "")
    # Erklärung zur Barrierefreiheit (/barrierefreiheit): the date it was made or last
    # reviewed (TT.MM.JJJJ), and the Land's enforcement body (Durchsetzungs- or
    # Schlichtungsstelle) with its web address. Without one, the page names the federal
    # Schlichtungsstelle nach § 16 BGG.
    KOOP_ACCESSIBILITY_REVIEWED_ON = os.environ.get("KOOP_ACCESSIBILITY_REVIEWED_ON", "")
    KOOP_ACCESSIBILITY_ENFORCEMENT = os.environ.get("KOOP_ACCESSIBILITY_ENFORCEMENT", "")
    KOOP_ACCESSIBILITY_ENFORCEMENT_URL = os.environ.get("KOOP_ACCESSIBILITY_ENFORCEMENT_URL", "")
    # Receipts may have 10 MB (checked with a German message next to the field); the rest is
    # room for the other fields and the multipart overhead. Larger requests answer 413.
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    # Number of reverse proxies in front of the app (0: none); see README.
    TRUSTED_PROXY_HOPS = int(os.environ.get("TRUSTED_PROXY_HOPS", "0"))

    @property
    def is_production(self) -> bool:
        return self.KOOP_ENV == "production"
