"""Browser fixtures: Debian's Chromium (one per session), a live server per test, axe-core.

The live server serves the ``app`` fixture (migrated test database, truncated per test) from
a daemon thread. Each test gets a fresh browser context; ``audited_page`` runs axe-core on
every page and fails the test when a page was visited without an audit, when a script fails,
or when the Content-Security-Policy refused something.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from tests.conftest import PASSWORD, free_port, service_missing

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HTMX_SOURCE = ROOT / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"
HTMX_VENDORED = ROOT / "koopboard" / "static" / "vendor" / "htmx.min.js"
AXE_SOURCE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
KERN_SOURCE = ROOT / "node_modules" / "@kern-ux" / "native"
KERN_VENDORED = ROOT / "koopboard" / "static" / "vendor" / "kern"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TIMEOUT_MS = 10_000

# A real corner of the register: Kreis Neunkirchen (Saarland), plus the other Illingen.
REGISTER_SAMPLE = {
    "10043111",  # Eppelborn
    "10043112",  # Illingen (Saar)
    "10043113",  # Merchweiler
    "10043114",  # Neunkirchen, Kreisstadt
    "10043115",  # Ottweiler
    "10043116",  # Schiffweiler
    "10043117",  # Spiesen-Elversberg
    "08236028",  # Illingen (Enzkreis, Baden-Württemberg)
}


# --- the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def frontend_assets() -> Path:
    """The vendored htmx and KERN UX and the pinned axe-core; runs ``npm ci`` and copies
    like ``make assets`` if needed (pages without KERN's CSS would be audited unstyled).

    Returns the path of ``axe.min.js``."""
    kern_css = KERN_VENDORED / "kern.min.css"
    if (
        not AXE_SOURCE.exists()
        or not (HTMX_VENDORED.exists() or HTMX_SOURCE.exists())
        or not (kern_css.exists() or KERN_SOURCE.exists())
    ):
        npm = shutil.which("npm")
        if npm is None:
            service_missing("npm", "node_modules/ is missing and npm is not installed")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=ROOT,
            check=True,
            timeout=300,
        )
    if not HTMX_VENDORED.exists():
        HTMX_VENDORED.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HTMX_SOURCE, HTMX_VENDORED)
    if not kern_css.exists():
        (KERN_VENDORED / "fonts").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(KERN_SOURCE / "dist" / "kern.min.css", kern_css)
        shutil.copyfile(KERN_SOURCE / "LICENSE.md", KERN_VENDORED / "LICENSE.md")
        fonts = KERN_SOURCE / "dist" / "fonts"
        shutil.copyfile(fonts / "fira-sans.css", KERN_VENDORED / "fonts" / "fira-sans.css")
        target = KERN_VENDORED / "fonts" / "fira-sans"
        shutil.copytree(fonts / "fira-sans", target, dirs_exist_ok=True)
    return AXE_SOURCE


@pytest.fixture(scope="session")
def browser(frontend_assets: Path) -> Iterator[Any]:
    """One headless Chromium for the whole session (Debian's, not Playwright's download)."""
    if not CHROMIUM.exists():
        service_missing("Chromium", f"{CHROMIUM} not found; scripts/setup-system.sh installs it")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


# --- the live server --------------------------------------------------------------------------


@dataclass(slots=True)
class LiveServer:
    """The app served over real HTTP."""

    app: Flask
    url: str

    def __call__(self, path: str = "/") -> str:
        """Absolute URL of ``path``."""
        return self.url + path


@pytest.fixture()
def live_server(app: Flask) -> Iterator[LiveServer]:
    """Serve the test app (its database is emptied per test) from a daemon thread."""
    from koopboard.extensions import db

    server: BaseWSGIServer = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        db.engine.dispose()  # the server threads' pooled connections


# --- data ---------------------------------------------------------------------------------


@cache
def _register_sample() -> tuple[Any, ...]:
    from koopboard.config import Config
    from koopboard.municipalities.register import parse_register

    parsed = parse_register(Config.REGISTER_CSV)
    return tuple(m for m in parsed.municipalities if m.ags in REGISTER_SAMPLE)


@pytest.fixture()
def register_sample(app: Flask) -> dict[str, Any]:
    """The sample municipalities as imported from the shipped register, by AGS."""
    from koopboard.extensions import db
    from koopboard.models import Municipality

    rows = _register_sample()
    assert {m.ags for m in rows} == REGISTER_SAMPLE
    by_ags = {}
    for record in rows:
        municipality = Municipality(
            ags=record.ags,
            name=record.name,
            kind=record.kind,
            land=record.land,
            kreis=record.kreis,
            population=record.population,
            population_date=record.population_date,
            population_source=record.population_source,
            area_km2=record.area_km2,
            postcode=record.postcode,
            breitengrad=record.breitengrad,
            laengengrad=record.laengengrad,
            verband=record.verband,
        )
        db.session.add(municipality)
        by_ags[record.ags] = municipality
    db.session.commit()
    return by_ags


# --- pages with axe -----------------------------------------------------------------------


class AccessibilityError(AssertionError):
    """axe-core found WCAG 2.1 A/AA violations."""


def format_violations(url: str, violations: list[dict[str, Any]]) -> str:
    """One readable block per rule: id, impact, help, and the offending nodes."""
    lines = [f"axe: {len(violations)} WCAG 2.1 A/AA violation(s) on {url}"]
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']}  <{v['helpUrl']}>")
        for node in v["nodes"][:10]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


def run_axe(page: Any, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on ``page`` as it is now."""
    if not page.evaluate("typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol, which the page's CSP does not govern:
        # the page keeps its real policy, so CSP breakage still shows up as an error.
        page.evaluate(axe_source)
    return page.evaluate(
        """tags => window.axe.run(document, {
                runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],
            }).then(r => r.violations)""",
        AXE_TAGS,
    )


SNAPSHOT_PATH = "/__axe_snapshot__"


@dataclass
class AuditedPage:
    """A Playwright page that runs axe on demand and remembers which documents it audited.

    Without JavaScript axe cannot run in the page itself (no script, no timers), so the
    document is copied into ``snapshot_page``, a scripting context whose page scripts are
    blocked: axe sees the same DOM and the same CSS."""

    page: Any
    axe_source: str
    snapshot_page: Any | None = None
    documents: list[str] = field(default_factory=list)
    audited: set[int] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    _snapshot_html: str = ""

    def __post_init__(self) -> None:
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page.on("domcontentloaded", lambda page: self.documents.append(page.url))
        self.page.on("pageerror", lambda exc: self.errors.append(f"script error: {exc}"))
        self.page.on("console", self._console)
        if self.snapshot_page is not None:
            self.snapshot_page.set_default_timeout(TIMEOUT_MS)
            self.snapshot_page.route(f"**{SNAPSHOT_PATH}", self._serve_snapshot)
            self.snapshot_page.route("**/*.js", lambda route: route.abort())

    def _console(self, message: Any) -> None:
        # Network statuses (a 422 form answer, the favicon's 404) are expected; CSP
        # refusals and script errors are not.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {message.text}")

    def _serve_snapshot(self, route: Any) -> None:
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=self._snapshot_html)

    def axe(self) -> None:
        """Run axe-core (WCAG 2.0/2.1 A and AA) on the current state of the page."""
        self.page.wait_for_load_state("load")
        target = self.page
        if self.snapshot_page is not None:
            self._snapshot_html = self.page.content()
            origin = re.match(r"https?://[^/]+", self.page.url).group(0)
            self.snapshot_page.goto(origin + SNAPSHOT_PATH)
            target = self.snapshot_page
        violations = run_axe(target, self.axe_source)
        if violations:
            raise AccessibilityError(format_violations(self.page.url, violations))
        self.audited.add(len(self.documents))

    def goto(self, url: str) -> None:
        """Open ``url`` and audit it."""
        self.page.goto(url)
        self.axe()

    @property
    def navigations(self) -> list[str]:
        """Alias of ``documents``: the URLs of the documents loaded so far."""
        return self.documents

    def unaudited(self) -> list[str]:
        """Documents loaded in this page that were never audited."""
        return [url for i, url in enumerate(self.documents, 1) if i not in self.audited]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the item, so fixtures know whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def axe_source(frontend_assets: Path) -> str:
    return frontend_assets.read_text(encoding="utf-8")


@pytest.fixture()
def open_page(
    browser: Any, axe_source: str, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Callable[..., AuditedPage]]:
    """Open a new browser context and page (``java_script_enabled`` etc. as keyword options).

    At teardown every loaded document must have been audited, and no script error or CSP
    violation may have happened."""
    pages: list[AuditedPage] = []
    contexts: list[Any] = []

    def open_(**options: Any) -> AuditedPage:
        options.setdefault("locale", "de-DE")
        options.setdefault("timezone_id", "Europe/Berlin")
        options.setdefault("base_url", live_server.url)
        context = browser.new_context(**options)
        contexts.append(context)
        snapshot_page = None
        if options.get("java_script_enabled") is False:
            snapshot_context = browser.new_context(base_url=live_server.url, locale="de-DE")
            contexts.append(snapshot_context)
            snapshot_page = snapshot_context.new_page()
        audited = AuditedPage(context.new_page(), axe_source, snapshot_page)
        pages.append(audited)
        return audited

    yield open_
    try:
        call = getattr(request.node, "rep_call", None)
        if call is not None and call.passed:
            problems = [f"not audited by axe: {url}" for p in pages for url in p.unaudited()]
            problems += [error for p in pages for error in p.errors]
            assert not problems, "\n".join(problems)
    finally:
        for context in contexts:
            context.close()


@pytest.fixture()
def audited_page(open_page: Callable[..., AuditedPage]) -> AuditedPage:
    """A page in a fresh JavaScript-enabled context."""
    return open_page()


def log_in(audited: AuditedPage, email: str, password: str = PASSWORD) -> None:
    """Sign in through the login form (and audit the login page)."""
    page = audited.page
    audited.goto("/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort", exact=True).fill(password)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/start")  # Was ansteht
    audited.axe()
