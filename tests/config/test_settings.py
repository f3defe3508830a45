"""Settings come from the environment; production values pass Django's deploy checks."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k8Jq2v9XzR4mT7wB1nL5pS3dF6hG0yC-aE_uIoPqWeRtYuIoPlKjHgFdSaZxCvBnM",
    "ALLOWED_HOSTS": "doorstep.example.com",
    "SITE_URL": "https://doorstep.example.com",
    "DATABASE_URL": "postgres://doorstep:secret@db.internal:5432/doorstep",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "EMAIL_URL": "smtp://mailer:secret@mail.example.com:587?tls=1",
}


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean_env = {
        key: value
        for key, value in os.environ.items()
        if key not in PRODUCTION_ENV and key != "DJANGO_ALLOW_ASYNC_UNSAFE" and key != "DJANGO_SETTINGS_MODULE"
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean_env, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = run_python(
        "import django; django.setup(); from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='WARNING')",
        PRODUCTION_ENV,
    )

    assert result.returncode == 0, result.stderr


def test_secret_key_is_required_when_debug_is_off():
    result = run_python("import django; django.setup()", {**PRODUCTION_ENV, "SECRET_KEY": ""})

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_old_keys_after_a_rotation_come_from_the_environment():
    old = "an-old-key-that-signed-last-months-cards-0123456789abcdefghijklmnopqrstuvwxyz"
    result = run_python(
        "import django; django.setup(); from django.conf import settings as s; print(s.SECRET_KEY_FALLBACKS)",
        {
            **PRODUCTION_ENV,
            "SECRET_KEY_FALLBACKS": f" {old} , older-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH",
        },
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr([old, "older-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH"])


def test_environment_configures_database_redis_and_mail():
    result = run_python(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['HOST'], s.CELERY_BROKER_URL, "
        "s.CACHES['default']['BACKEND'], s.MAILERS['default']['OPTIONS']['host'], "
        "s.MAILERS['default']['OPTIONS']['port'], s.MAILERS['default']['OPTIONS']['use_tls'], s.TIME_ZONE, "
        "s.LANGUAGE_CODE)",
        PRODUCTION_ENV,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "db.internal",
        "redis://redis.internal:6379/0",
        "django.core.cache.backends.redis.RedisCache",
        "mail.example.com",
        "587",
        "True",
        "Europe/Berlin",
        "de",
    ]


def test_embedded_default_needs_no_servers(tmp_path):
    result = run_python(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL.split(':')[0], "
        "s.MAILERS['default']['BACKEND'])",
        {"DEBUG": "1", "DOORSTEP_VAR_DIR": str(tmp_path)},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "sqla+sqlite",
        "notifications.backends.ConsoleSummaryBackend",
    ]


@pytest.mark.parametrize(
    ("url", "host", "port", "ssl"),
    [
        ("smtps://u:p@smtp.example.com", "smtp.example.com", 465, True),
        ("smtp://relay.example.com:2525", "relay.example.com", 2525, False),
    ],
)
def test_email_url_variants(url, host, port, ssl, monkeypatch):
    from config.settings import mailer_from_env

    monkeypatch.setenv("EMAIL_URL", url)
    options = mailer_from_env()["OPTIONS"]

    assert (options["host"], options["port"], options["use_ssl"]) == (host, port, ssl)


@pytest.mark.django_db
def test_models_and_migrations_agree():
    from django.core.management import call_command

    call_command("makemigrations", check=True, dry_run=True, verbosity=0)


def production_setting_values(*names: str) -> dict:
    result = run_python(
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{name: getattr(s, name) for name in {list(names)!r}}}, default=repr))",
        PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_redis_client_gives_up_well_within_a_booking():
    """A hung Redis accepts connections and never answers: only timeouts bound what a request waits."""
    values = production_setting_values(
        "CACHES",
        "CELERY_BROKER_TRANSPORT_OPTIONS",
        "CELERY_BROKER_CONNECTION_TIMEOUT",
        "CELERY_TASK_PUBLISH_RETRY",
        "CELERY_TASK_PUBLISH_RETRY_POLICY",
    )
    cache = values["CACHES"]["default"]["OPTIONS"]
    broker = values["CELERY_BROKER_TRANSPORT_OPTIONS"]

    for options in (cache, broker):
        assert 0 < options["socket_connect_timeout"] <= 0.5
        assert 0 < options["socket_timeout"] <= 0.5
        assert options["retry_on_timeout"] is False
    assert broker["max_retries"] == 0
    assert values["CELERY_BROKER_CONNECTION_TIMEOUT"] <= 0.5
    assert values["CELERY_TASK_PUBLISH_RETRY"] is False
    assert values["CELERY_TASK_PUBLISH_RETRY_POLICY"]["max_retries"] == 0
    # A booking makes one rate-limit call and one publish; at worst each connects and waits for
    # one answer. That leaves at least half a second of the README's 1.5 s for the booking itself.
    worst_wait = sum(options["socket_connect_timeout"] + options["socket_timeout"] for options in (cache, broker))
    assert worst_wait <= 1.0


def test_sessions_live_in_the_database_not_in_redis():
    # A customer's open links are in the session: a cache outage must not lose them.
    values = production_setting_values("SESSION_ENGINE")

    assert values["SESSION_ENGINE"] == "django.contrib.sessions.backends.db"


def test_env_example_names_every_variable_the_settings_read():
    """The README sends operators to .env.example for every setting: one it leaves out cannot be found."""
    read = set()
    for module in ("config/settings.py", "config/gunicorn.conf.py"):
        source = (ROOT / module).read_text()
        read |= set(re.findall(r"""(?:os\.environ(?:\.get)?|env_bool|env_list)[\[(]\s*["']([A-Z0-9_]+)""", source))
    documented = set(re.findall(r"\b[A-Z][A-Z0-9_]+\b", (ROOT / ".env.example").read_text()))

    assert "SECRET_KEY" in read
    assert sorted(read - documented) == []
