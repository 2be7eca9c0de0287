"""Login throttling per account and client: growing waits instead of a lock-out.

Failed logins are counted per (address, client). The first ``LOGIN_FREE_FAILURES`` cost
nothing; each further one doubles the wait before *that client* may try *that account*
again (2 s, 4 s, 8 s … up to ``LOGIN_MAX_DELAY_SECONDS``). Someone guessing at an account
thus slows only themselves down: the owner signing in from their own browser, and the
password-reset path, are never blocked. A per-client limit across all accounts
(``LOGIN_RATE_LIMIT_CLIENT``, in the view) still stops one client from trying many.

The counters live in the rate limiter's storage (Redis in production, shared by every web
process), so a restart or another process does not reset them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from flask import current_app
from limits.storage import Storage

from koopboard.extensions import limiter

WINDOW_SECONDS = 24 * 3600  # failures older than a day are forgotten


def _storage() -> Storage | None:
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    return limiter.storage


def _keys(email: str, client: str) -> tuple[str, str]:
    base = f"koopboard/login-throttle/{email}/{client}"
    return base + "/failures", base + "/wait"


def delay_after(failures: int) -> int:
    """Seconds to wait after ``failures`` failed attempts in a row (0: none)."""
    free = int(current_app.config["LOGIN_FREE_FAILURES"])
    cap = int(current_app.config["LOGIN_MAX_DELAY_SECONDS"])
    if failures <= free:
        return 0
    return min(2 ** min(failures - free, 30), cap)


def wait_seconds(email: str, client: str) -> int:
    """How long this client must still wait before trying this account again."""
    storage = _storage()
    if storage is None:
        return 0
    _failures, wait = _keys(email, client)
    if storage.get(wait) <= 0:
        return 0
    return max(1, math.ceil(storage.get_expiry(wait) - time.time()))


def record_failure(email: str, client: str) -> int:
    """Count a failed attempt; returns the wait it starts (seconds, 0 for none)."""
    storage = _storage()
    if storage is None:
        return 0
    failures, wait = _keys(email, client)
    delay = delay_after(storage.incr(failures, WINDOW_SECONDS))
    if delay:
        storage.clear(wait)
        storage.incr(wait, delay)
    return delay


def record_success(email: str, client: str) -> None:
    """A correct password from this client: its count starts again."""
    storage = _storage()
    if storage is not None:
        for key in _keys(email, client):
            storage.clear(key)


# --- invitations ------------------------------------------------------------------------------


def _signed_in_user_key() -> str:
    from flask_login import current_user

    return f"user:{getattr(current_user, 'id', None)}"


def limit_invitations(view: Callable[..., Any]) -> Callable[..., Any]:
    """Invitations (of colleagues and into cooperations, counted together) per signed-in
    user and per client: every POST counts, valid or not, so nobody probes addresses
    at full speed. Beyond the limit the answer is 429."""
    view = limiter.shared_limit(
        lambda: current_app.config["INVITE_RATE_LIMIT_CLIENT"],
        scope="invitations-client",
        methods=["POST"],
    )(view)
    return limiter.shared_limit(
        lambda: current_app.config["INVITE_RATE_LIMIT_USER"],
        scope="invitations-user",
        key_func=_signed_in_user_key,
        methods=["POST"],
    )(view)
