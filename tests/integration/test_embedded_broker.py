"""`make run` uses Celery on kombu's SQLAlchemy transport (SQLite): a worker must start on it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from koopboard import create_app
from tests.conftest import REDIS_HOST, REDIS_PORT

ROOT = Path(__file__).resolve().parents[2]


def test_sqlalchemy_broker_gets_no_redis_only_options(tmp_path: Path) -> None:
    app = create_app({"CELERY_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'b.sqlite'}"})
    assert "visibility_timeout" not in app.extensions["celery"].conf.broker_transport_options
    app = create_app({"CELERY_BROKER_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/13"})
    assert app.extensions["celery"].conf.broker_transport_options["visibility_timeout"] >= 3600


def test_worker_starts_on_the_embedded_broker(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        KOOP_ENV="development",
        KOOP_INSTANCE_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'app.sqlite'}",
        CELERY_BROKER_URL=f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}",
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "app.celery",
            "worker",
            "--pool=solo",
            "--loglevel=info",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = worker.stdout.readline()
            if not line and worker.poll() is not None:
                break
            output.append(line)
            if " ready." in line:
                break
        assert any(" ready." in line for line in output), "".join(output)[-3000:]
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
