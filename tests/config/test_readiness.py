"""/readyz: database, cache, broker, a worker that ran lately, and mail going out."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app as celery_app
from config.models import Heartbeat
from config.tasks import WORKER_HEARTBEAT, record_heartbeat
from notifications.models import MessageStatus
from tests.factories import OutboxMessageFactory

pytestmark = pytest.mark.django_db


def readiness(client):
    response = client.get("/readyz?format=json")
    return response.status_code, json.loads(response.content)


def failing(results):
    return {name.split("(")[0] for name, state in results.items() if state != "OK"}


@pytest.fixture
def worker_alive():
    record_heartbeat()


def test_ready_when_every_part_answers(client, worker_alive):
    status, results = readiness(client)

    assert status == 200
    assert failing(results) == set()
    assert {name.split("(")[0] for name in results} == {"Database", "Cache", "Broker", "Worker", "Outbox"}


def test_the_heartbeat_job_records_when_a_worker_last_ran_it():
    before = timezone.now()
    record_heartbeat()

    assert before <= Heartbeat.objects.get(name=WORKER_HEARTBEAT).beat_at <= timezone.now()


def test_not_ready_before_any_worker_ran_the_heartbeat(client):
    status, results = readiness(client)

    assert status == 503
    assert failing(results) == {"Worker"}
    assert "heartbeat" in results["Worker()"]


def test_not_ready_when_the_last_heartbeat_is_older_than_the_limit(client, settings, worker_alive):
    settings.WORKER_HEARTBEAT_MAX_AGE = timedelta(minutes=3)
    Heartbeat.objects.update(beat_at=timezone.now() - timedelta(minutes=10))

    status, results = readiness(client)

    assert status == 503
    assert "10 min" in results["Worker()"]


def test_one_refused_address_is_the_offices_to_handle_not_a_readiness_failure(client, worker_alive):
    OutboxMessageFactory(status=MessageStatus.FAILED)

    status, results = readiness(client)

    assert status == 200


def test_not_ready_while_mail_fails_as_a_whole(client, settings, worker_alive):
    settings.OUTBOX_READY_MAX_FAILING = 5
    OutboxMessageFactory.create_batch(3, status=MessageStatus.FAILED)
    OutboxMessageFactory.create_batch(2, status=MessageStatus.QUEUED, attempts=1)

    status, results = readiness(client)

    assert status == 503
    assert failing(results) == {"Outbox"}
    assert "3 failed, 2 waiting" in results["Outbox()"]


def test_not_ready_when_the_broker_cannot_be_reached(client, monkeypatch, worker_alive):
    # Not by changing the app's settings: restoring conf.broker_write_url (a derived value) would pin it to
    # this moment's broker for every later test.
    dead = "redis://127.0.0.1:9/0"
    monkeypatch.setattr(celery_app, "connection_for_write", lambda *args, **kwargs: celery_app.connection(dead))

    status, results = readiness(client)

    assert status == 503
    assert failing(results) == {"Broker"}


def test_not_ready_when_the_cache_server_is_down_and_never_a_500(client, settings, worker_alive):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }

    status, results = readiness(client)

    assert status == 503
    assert "Cache" in failing(results)


def test_liveness_stays_an_answer_that_touches_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200


@pytest.fixture
def behind_the_tls_proxy(settings):
    """Production's settings: nginx says how the request reached the TLS proxy."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = ["doorstep.firm.example"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_a_monitor_on_the_host_asking_plain_http_gets_an_answer_not_a_redirect(
    client, behind_the_tls_proxy, worker_alive, path
):
    # What `curl http://127.0.0.1:8000/readyz` on the host reaches through nginx (which names the host).
    response = client.get(path, HTTP_HOST="doorstep.firm.example", HTTP_X_FORWARDED_PROTO="http")

    assert response.status_code == 200


def test_every_other_page_still_moves_to_https(client, behind_the_tls_proxy):
    response = client.get("/booking/", HTTP_HOST="doorstep.firm.example", HTTP_X_FORWARDED_PROTO="http")

    assert response.status_code == 301
    assert response["Location"].startswith("https://doorstep.firm.example/")
