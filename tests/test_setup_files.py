"""The set-up files keep their promises: everything pinned, the two-command contract in place."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _requirement_lines(name: str) -> list[str]:
    """The requirement lines of a file, without comments and ``-r`` includes."""
    lines = (REPO_ROOT / name).read_text().splitlines()
    return [
        line.split("#")[0].strip()
        for line in lines
        if line.split("#")[0].strip() and not line.startswith("-r ")
    ]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_python_requirement_is_pinned_exactly():
    for line in _requirement_lines("requirements.txt") + _requirement_lines("requirements-dev.txt"):
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[a-z,]+\])?==[A-Za-z0-9.+!-]+", line), (
            line
        )


def test_every_direct_dependency_is_in_the_frozen_set():
    frozen = {_canonical(line.split("==")[0]) for line in _requirement_lines("requirements.txt")}
    for line in _requirement_lines("requirements.in"):
        name = _canonical(re.split(r"[\[=<>~!; ]", line)[0])
        assert name in frozen, f"{name} from requirements.in is not pinned in requirements.txt"
    assert "psycopg-binary" in frozen  # psycopg[binary]: no libpq or compiler needed
    dev = {_canonical(line.split("==")[0]) for line in _requirement_lines("requirements-dev.txt")}
    for line in _requirement_lines("requirements-dev.in"):
        name = _canonical(re.split(r"[\[=<>~!; ]", line)[0])
        assert name in dev, f"{name} from requirements-dev.in is not pinned in requirements-dev.txt"


def test_the_production_image_gets_no_test_tools():
    """The Dockerfile installs requirements.txt only; tests and lint stay out of it."""
    runtime = {_canonical(line.split("==")[0]) for line in _requirement_lines("requirements.txt")}
    assert not runtime & {"pytest", "playwright", "hypothesis", "ruff", "honcho", "pypdf"}
    assert "pip install -r requirements.txt" in (REPO_ROOT / "Dockerfile").read_text()
    dev = (REPO_ROOT / "requirements-dev.txt").read_text().splitlines()
    assert "-r requirements.txt" in dev  # one venv for development: runtime plus tools


def test_front_end_packages_are_pinned_and_htmx_stays_on_2_0():
    package = json.loads((REPO_ROOT / "package.json").read_text())
    lock = json.loads((REPO_ROOT / "package-lock.json").read_text())
    dependencies = package["dependencies"]
    assert re.fullmatch(r"2\.0\.\d+", dependencies["htmx.org"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", dependencies["axe-core"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", dependencies["@kern-ux/native"])  # KERN UX, exact
    for name, version in dependencies.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version


def test_procfile_runs_web_worker_beat_and_mail_sink():
    procfile = (REPO_ROOT / "Procfile.dev").read_text()
    processes = dict(re.findall(r"^(\w+):\s*(.+)$", procfile, re.M))
    # Ports from `make run PORT=… MAIL_PORT=…`, 5000 and 1025 when started by hand.
    assert "flask --app app run --host 127.0.0.1 --port ${KOOP_PORT:-5000}" in processes["web"]
    assert "--port ${MAIL_PORT:-1025}" in processes["mail"]
    assert "--loglevel=warning" in processes["beat"]  # no line per tick
    assert "celery -A app.celery --quiet worker" in processes["worker"]  # no banner
    assert (
        "celery -A app.celery --quiet beat" in processes["beat"]
        and "instance/" in processes["beat"]
    )
    assert "koop mail-sink" in processes["mail"]


def test_ci_entry_point_is_executable_and_runs_make_test():
    ci_run = REPO_ROOT / ".ci" / "run"
    assert os.access(ci_run, os.X_OK)
    text = ci_run.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert text.rstrip().splitlines()[-1] == "make test"
    assert os.access(REPO_ROOT / "scripts" / "setup-system.sh", os.X_OK)


def test_generated_and_local_files_are_ignored():
    ignored = set((REPO_ROOT / ".gitignore").read_text().split())
    # .venv and node_modules without a slash: a worktree's symlink to them is ignored too.
    for entry in [".venv", "node_modules", "koopboard/static/vendor/", "instance/", ".env"]:
        assert entry in ignored, entry


def test_make_assets_vendors_kern_css_and_fonts():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "node_modules/@kern-ux/native" in makefile
    assert "kern.min.css" in makefile and "fira-sans" in makefile
    assert "kern.min.css" in (REPO_ROOT / "Dockerfile").read_text()


def test_make_run_takes_the_ports_and_the_public_url_follows():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "PORT ?= 5000" in makefile and "MAIL_PORT ?= 1025" in makefile
    assert "PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)" in makefile
    for exported in ("KOOP_PORT := $(PORT)", "MAIL_PORT := $(MAIL_PORT)", "PUBLIC_BASE_URL :="):
        assert f"run: export {exported}" in makefile
