"""Every log line has time, level and logger; with LOG_FORMAT=json each is one JSON object, in web and worker."""

import json
import logging
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from config.logging_setup import NOT_FIELDS, JsonWithoutSecrets, WithoutSecrets
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


def start_gunicorn(tmp_path: Path, **environment) -> subprocess.Popen:
    """web as docker-compose.yml starts it (config/gunicorn.conf.py), on a free port, its log on stderr."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    return subprocess.Popen(
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
        env={**env, "DEBUG": "1", "DOORSTEP_VAR_DIR": str(tmp_path), **environment},
        stderr=subprocess.PIPE,
        text=True,
    )


def test_gunicorn_logs_json_lines_too(tmp_path):
    """config/gunicorn.conf.py (as docker-compose.yml starts web) gives gunicorn's own loggers (the master's
    lines too) the same format."""
    server = start_gunicorn(tmp_path, LOG_FORMAT="json")
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


FEED_TOKEN = "Xk3vQ9LmR2pT7wZa5nB8cD1eF4gH6jK0"
BOOKING_TOKEN = "WzEsMjNd:1tAbCd:Qm9va2luZ0xpbmtTZWNyZXQxMjM"


def gunicorn_output_for_one_request(tmp_path: Path, **environment) -> str:
    """What gunicorn logs for a calendar feed request with a query string and a Referer, as nginx hands it on."""
    server = start_gunicorn(tmp_path, **environment)
    lines = []
    try:
        for line in server.stderr:
            lines.append(line)
            if listening := re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line):
                port = int(listening[1])
            if "Booting worker" in line:
                break
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/technician/feed/{FEED_TOKEN}.ics?ticket=SecretTicketValue1234",
            headers={
                "X-Forwarded-For": "198.51.100.7",
                "Referer": f"https://doorstep.firm.example/booking/l/{BOOKING_TOKEN}/",
            },
        )
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=60)
        for line in server.stderr:
            lines.append(line)
            if "gunicorn.access" in line:
                break
    finally:
        server.send_signal(signal.SIGINT)
        lines.append(server.communicate(timeout=60)[1])
    return "".join(lines)


def test_gunicorn_logs_no_link_secrets_and_the_visitors_address(tmp_path):
    """The access log keeps a line per request, but a technician's calendar feed token (customers' names and
    addresses, for as long as it lives), a booking link's token, query strings and the Referer's secrets stay
    out; the address is the visitor's that nginx handed on, not nginx's own."""
    output = gunicorn_output_for_one_request(tmp_path, BEHIND_TLS_PROXY="1")

    [access] = [line for line in output.splitlines() if "gunicorn.access" in line]
    assert "/technician/feed/<token>.ics" in access
    assert access.split()[4] == "198.51.100.7"
    for secret in (FEED_TOKEN, "SecretTicketValue1234", BOOKING_TOKEN, "Qm9va2luZ0xpbmtTZWNyZXQxMjM"):
        assert secret not in output


def test_without_the_proxy_gunicorn_logs_the_peers_address_not_one_the_client_wrote(tmp_path):
    output = gunicorn_output_for_one_request(tmp_path)

    [access] = [line for line in output.splitlines() if "gunicorn.access" in line]
    assert access.split()[4] == "127.0.0.1"
    assert "198.51.100.7" not in access


def test_djangos_request_lines_name_a_links_secret_instead_of_showing_it(settings):
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "%s: %s", ("Not Found", f"/feedback/{FEED_TOKEN}/"), None
    )

    line = WithoutSecrets("%(message)s").format(record)

    assert line == "Not Found: /feedback/<token>/"


def test_runservers_request_lines_lose_query_strings():
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /privacy/export/?ticket=abc HTTP/1.1", 200, 5),
        None,
    )

    line = WithoutSecrets("%(message)s").format(record)

    assert line == '"GET /privacy/export/ HTTP/1.1" 200 5'


def test_json_lines_name_a_links_secret_in_extras_however_they_are_nested():
    record = logging.makeLogRecord(
        {"msg": "Sent", "links": (f"/feedback/{FEED_TOKEN}/",), "mail": {"paths": [f"/feedback/{FEED_TOKEN}/"]}}
    )

    line = json.loads(JsonWithoutSecrets("%(message)s", reserved_attrs=NOT_FIELDS).format(record))

    assert line["links"] == ["/feedback/<token>/"]
    assert line["mail"] == {"paths": ["/feedback/<token>/"]}


# A CSRF refusal (django.security.csrf), an error with the path in its exception's text (CommonMiddleware's
# APPEND_SLASH on a POST), and any logger's exception and stack: every line goes through the one handler.
LOG_REQUESTS_WITH_SECRETS = f"""
import django, logging
django.setup()
from django.test import Client

Client(enforce_csrf_checks=True, HTTP_HOST="localhost").post("/request/call/5/{FEED_TOKEN}/", {{"x": "1"}})
Client(raise_request_exception=False, HTTP_HOST="localhost").post("/booking/l/{FEED_TOKEN}", {{"x": "1"}})
try:
    raise ValueError("no such link: https://doorstep.firm.example/booking/l/{BOOKING_TOKEN}/")
except ValueError:
    logging.getLogger("doorstep.test").exception("Failed at %s", "/feedback/{FEED_TOKEN}/", stack_info=True)
"""


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_log_line_shows_a_links_secret_in_its_message_or_exception(tmp_path, log_format):
    result = run_python(
        LOG_REQUESTS_WITH_SECRETS, {"DEBUG": "1", "DOORSTEP_VAR_DIR": str(tmp_path), "LOG_FORMAT": log_format}
    )

    assert result.returncode == 0, result.stderr
    assert "Forbidden (CSRF cookie not set.): /request/call/5/<secret>/" in result.stderr
    assert "RuntimeError" in result.stderr and "ValueError: no such link" in result.stderr
    assert "Failed at /feedback/<token>/" in result.stderr and "Stack (most recent call last)" in result.stderr
    for secret in (FEED_TOKEN, "Qm9va2luZ0xpbmtTZWNyZXQxMjM"):
        assert secret not in result.stderr
