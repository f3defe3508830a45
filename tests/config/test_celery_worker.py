"""Celery is real in every mode: a worker started like `make run` starts it executes a task."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def run_task_through_worker(env: dict[str, str], log_path: Path) -> str:
    base_env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env = {**base_env, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [
                CELERY,
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"test-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        sender = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup(); from config.celery import app; "
                "print(app.send_task('celery.accumulate', args=(1, 2)).id)",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert sender.returncode == 0, sender.stderr
        task_id = sender.stdout.strip()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            output = log_path.read_text()
            if f"[{task_id}] succeeded" in output:
                return output
            if worker.poll() is not None:
                break
            time.sleep(0.5)
        pytest.fail(f"the worker did not run the task:\n{log_path.read_text()[-3000:]}")
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def test_worker_runs_tasks_on_the_embedded_sqlite_broker(tmp_path):
    output = run_task_through_worker({"DOORSTEP_VAR_DIR": str(tmp_path)}, tmp_path / "worker.log")

    assert "sqla+sqlite" in output


def test_worker_runs_tasks_on_redis(tmp_path, redis_url):
    output = run_task_through_worker(
        {"DOORSTEP_VAR_DIR": str(tmp_path), "REDIS_URL": redis_url}, tmp_path / "worker.log"
    )

    assert "redis://" in output
