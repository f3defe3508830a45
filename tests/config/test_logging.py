"""Every log line has time, level and logger; with LOG_FORMAT=json each is one JSON object, in web and worker."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.config.test_celery_worker import run_task_through_worker
from tests.config.test_settings import run_python

ROOT = Path(__file__).resolve().parents[2]
LOG_SOME = (
    "import django, logging; django.setup(); "
    "logging.getLogger('doorstep.test').warning('Hello %s', 'office'); "
    # runserver's line per request (Django gives it a handler and format of its own).
    "logging.getLogger('django.server').info('\"GET /healthz HTTP/1.1\" 200 2', extra={'request': object()})"
)


def test_with_log_format_json_a_record_is_one_json_object_with_time_level_and_logger(tmp_path):
    result = run_python(LOG_SOME, {"DEBUG": "1", "DOORSTEP_VAR_DIR": str(tmp_path), "LOG_FORMAT": "json"})

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(line["level"], line["logger"], line["message"]) for line in lines] == [
        ("WARNING", "doorstep.test", "Hello office"),
        ("INFO", "django.server", '"GET /healthz HTTP/1.1" 200 2'),
    ]
    assert all(line["time"].startswith("20") and line["time"].endswith("+00:00") for line in lines)


def test_text_lines_say_time_level_and_logger(tmp_path):
    result = run_python(LOG_SOME, {"DEBUG": "1", "DOORSTEP_VAR_DIR": str(tmp_path)})

    assert result.returncode == 0, result.stderr
    first, second = result.stderr.splitlines()
    assert first.endswith(" WARNING doorstep.test Hello office")
    assert second.endswith(' INFO django.server "GET /healthz HTTP/1.1" 200 2')
    assert first[:4].isdigit() and first[4] == "-"


def test_an_unknown_log_format_is_refused(tmp_path):
    result = run_python(LOG_SOME, {"DEBUG": "1", "DOORSTEP_VAR_DIR": str(tmp_path), "LOG_FORMAT": "xml"})

    assert result.returncode != 0
    assert "LOG_FORMAT must be one of text, json" in result.stderr


def test_the_worker_logs_json_lines_too(tmp_path):
    output = run_task_through_worker(
        {"DOORSTEP_VAR_DIR": str(tmp_path), "LOG_FORMAT": "json"}, tmp_path / "worker.log"
    )

    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    succeeded = [record for record in records if "succeeded" in record["message"]]
    assert succeeded and succeeded[0]["logger"] == "celery.app.trace" and succeeded[0]["level"] == "INFO"
    assert {"time", "level", "logger", "message"} <= succeeded[0].keys()


def test_gunicorn_logs_json_lines_too(tmp_path):
    """config/gunicorn.conf.py (as docker-compose.yml starts web) gives gunicorn's own loggers (the master's
    lines too) the same format."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-c",
            "config/gunicorn.conf.py",
            "config.wsgi:application",
            "--bind=127.0.0.1:0",
            "--workers=1",
            "--graceful-timeout=5",
        ],
        cwd=ROOT,
        env={**env, "DEBUG": "1", "DOORSTEP_VAR_DIR": str(tmp_path), "LOG_FORMAT": "json"},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        for line in server.stderr:
            lines.append(line)
            if "Booting worker" in line:
                break
        else:
            pytest.fail("gunicorn did not start:\n" + "".join(lines))
    finally:
        # Quick shutdown: the worker may still be loading Django, which a graceful stop would wait for.
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)

    records = [json.loads(line) for line in lines]
    assert {record["logger"] for record in records} == {"gunicorn.error"}
    assert any(record["message"].startswith("Listening at") for record in records)
