"""A Redis outage must never take the customers' pages down.

Each test runs a redis-server of its own on a free port (never the shared one), points the cache
and Celery's publishing at it with exactly the options config/settings.py gives production, then
stops it (connections refused) or freezes it with SIGSTOP (connections accepted, never answered)
and uses the pages as a customer would.
"""

import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

import pytest
from celery import signals
from django.test import Client
from django.urls import reverse

from appointments.links import invitation_token
from appointments.models import Appointment
from appointments.services.booking import booking_invite
from config.celery import PATIENT_SOCKET_TIMEOUT
from notifications.models import MessageKind, MessageStatus, OutboxMessage
from selfservice.ratelimit import outage_log
from tests.factories import CustomerFactory, FirmFactory, OfficeUserFactory, ServiceTypeFactory, TechnicianFactory
from tests.notifications.worker_harness import production_settings, publishing_to

PAGE = reverse("selfservice:page")
BOOK = reverse("selfservice:book")
DONE = reverse("selfservice:done")
# What the README promises for a booking while Redis hangs.
BOOKING_BOUND_SECONDS = 1.5
# More than a request waits for Redis since its timeouts (one call of REDIS_SOCKET_TIMEOUT, 0.25 s), less than
# the 3 s a hung Redis cost before them.
HANG_FREE_SECONDS = 1.5


@pytest.fixture
def production_redis(private_redis, settings):
    """The cache and Celery's publishing on the private Redis, configured as in production."""
    settings.CACHES = production_settings(private_redis.url)["CACHES"]
    outage_log.reset()
    with publishing_to(private_redis.url):
        yield private_redis
    outage_log.reset()


@pytest.fixture
def world(db):
    FirmFactory()
    office = OfficeUserFactory()
    service_type = ServiceTypeFactory()
    TechnicianFactory(service_types=[service_type])
    return {"office": office, "service_type": service_type}


def invite(world):
    customer = CustomerFactory(responsible=world["office"])
    return booking_invite(customer=customer, service_type=world["service_type"], actor=world["office"])


def ready_to_book(world, *, window_index: int) -> tuple[Client, dict]:
    """A customer's browser with an invitation open, and the form it is about to post."""
    client = Client(raise_request_exception=False)
    client.get(reverse("selfservice:open", args=[invitation_token(invite(world))]))
    page = client.get(PAGE).content.decode()
    form = {
        "link": re.search(r'name="link"\s+value="([^"]+)"', page).group(1),
        "window": re.findall(r'name="window" value="([^"]+)"', page)[window_index],
    }
    return client, form


@dataclass
class Timed:
    status: int
    seconds: float


def timed(request) -> Timed:
    started = time.monotonic()
    response = request()
    return Timed(response.status_code, time.monotonic() - started)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("outage", ["stopped", "frozen"])
def test_customer_pages_and_bookings_survive_a_redis_outage(outage, production_redis, world, caplog):
    healthy_client, healthy_form = ready_to_book(world, window_index=0)
    client, form = ready_to_book(world, window_index=3)
    # The same booking with Redis answering: what this machine needs for one, however busy it is.
    healthy = timed(lambda: healthy_client.post(BOOK, healthy_form))
    assert healthy.status == 302
    token = invitation_token(invite(world))

    if outage == "stopped":
        production_redis.stop()
    else:
        production_redis.freeze()
    try:
        with caplog.at_level(logging.WARNING):
            visitor = Client(raise_request_exception=False)
            link = timed(lambda: visitor.get(reverse("selfservice:open", args=[token])))
            page = timed(lambda: visitor.get(PAGE))
            wrong = [timed(lambda: visitor.get("/booking/l/wrong/")) for _attempt in range(3)]
            booking = timed(lambda: client.post(BOOK, form))
    finally:
        if outage == "frozen":
            production_redis.thaw()

    print(
        f"\nRedis {outage}: open link {link.seconds * 1000:.0f} ms, page {page.seconds * 1000:.0f} ms, "
        f"wrong link {max(w.seconds for w in wrong) * 1000:.0f} ms, booking {booking.seconds * 1000:.0f} ms "
        f"(with Redis answering {healthy.seconds * 1000:.0f} ms)"
    )
    assert (link.status, page.status, booking.status) == (302, 200, 302)
    assert [w.status for w in wrong] == [404, 404, 404]  # the limits fail open, nobody gets a 500
    # A valid link never touches Redis, its page asks it once (plan_inputs' version, then leaves it alone for a
    # while); a wrong link waits for one cache call at most.
    # A hung Redis used to cost 3-5 s on each. The bounds grow with the machine's own speed (the healthy
    # booking) and leave a busy CI (two test passes on two cores) 1.5 s of scheduling, still half the hang.
    assert link.seconds < HANG_FREE_SECONDS + healthy.seconds and page.seconds < HANG_FREE_SECONDS + healthy.seconds
    assert max(w.seconds for w in wrong) < HANG_FREE_SECONDS + healthy.seconds
    # Generous for a busy machine, and still far below the 3–5 s a hung Redis used to cost.
    assert booking.seconds < max(BOOKING_BOUND_SECONDS, healthy.seconds + 1.0)

    # The confirmation waits in the outbox for the relay.
    appointment = Appointment.objects.get(window_start=datetime.fromisoformat(form["window"]))
    message = OutboxMessage.objects.get(appointment=appointment, kind=MessageKind.CONFIRMATION)
    assert (message.status, message.handed_at) == (MessageStatus.QUEUED, None)
    # Four requests failed to reach the cache; the log says so once.
    rate_limit_warnings = [record for record in caplog.records if record.name == "selfservice.ratelimit"]
    assert len(rate_limit_warnings) == 1


@pytest.mark.parametrize("process", ["worker", "beat"])
def test_a_worker_and_beat_wait_for_redis_longer_than_a_web_request(process):
    """The tight timeouts are for publishing from a request; a worker or beat should ride out a slow moment."""
    web = production_settings("redis://127.0.0.1:6379/0")["CELERY_BROKER_TRANSPORT_OPTIONS"]
    conf = SimpleNamespace(broker_transport_options=dict(web))

    if process == "worker":
        signals.celeryd_init.send(sender="worker@test", instance=None, conf=conf, options={})
    else:
        signals.beat_init.send(sender=type("Service", (), {"app": SimpleNamespace(conf=conf)})())

    assert web["socket_timeout"] < 1
    assert conf.broker_transport_options == {
        **web,
        "socket_connect_timeout": PATIENT_SOCKET_TIMEOUT,
        "socket_timeout": PATIENT_SOCKET_TIMEOUT,
    }
