"""Security headers and a strict Content-Security-Policy."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


def is_local_path(target: str | None) -> bool:
    """True for a path on this site ("/kooperationen/1"), never one that leads to another host.

    Browsers read a backslash as a slash and drop tabs and newlines, so such characters,
    a scheme or a host make the target unsafe."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if any(c == "\\" or ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def init_app(app: Flask) -> None:
    @app.after_request
    def set_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        if app.config["SESSION_COOKIE_SECURE"] or request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if not request.path.startswith("/static/"):
            # Pages, fragments, exports (CSV, XLSX, PDF, iCalendar), receipts and JSON carry
            # personal and financial data: no cache may keep any of them. Only the static
            # files (CSS, JS, icons) are the same for everyone.
            headers.setdefault("Cache-Control", "no-store")
        return response
