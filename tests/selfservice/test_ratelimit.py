"""Rate limits: only wrong links count against an IP, posts count per link, and a dead cache limits nobody."""

import logging
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.urls import reverse

from appointments.links import card_code, invitation_token
from appointments.services import appointment_schedule
from appointments.services.booking import booking_invite
from selfservice.ratelimit import OUTAGE_LOG_INTERVAL_SECONDS, limited, outage_log
from tests.factories import (
    CustomerFactory,
    FirmFactory,
    OfficeUserFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    local_dt,
)
from tests.notifications.worker_harness import free_port

pytestmark = pytest.mark.django_db
PAGE = reverse("selfservice:page")
BOOK = reverse("selfservice:book")
WRONG_LINK = "/booking/l/wrong/"


@pytest.fixture(autouse=True)
def _quiet_outage_log():
    outage_log.reset()
    yield
    outage_log.reset()


@pytest.fixture
def setup(db):
    FirmFactory()
    office = OfficeUserFactory()
    service_type = ServiceTypeFactory()
    technician = TechnicianFactory(service_types=[service_type])
    return {"office": office, "service_type": service_type, "technician": technician}


def invite(setup):
    customer = CustomerFactory(responsible=setup["office"])
    return booking_invite(customer=customer, service_type=setup["service_type"], actor=setup["office"])


def open_invitation(client, invitation):
    """Open the link and return what the page's booking form posts: the link key and the first window."""
    client.get(reverse("selfservice:open", args=[invitation_token(invitation)]))
    page = client.get(PAGE).content.decode()
    return {
        "link": re.search(r'name="link"\s+value="([^"]+)"', page).group(1),
        "window": re.findall(r'name="window" value="([^"]+)"', page)[0],
    }


@pytest.fixture
def dead_cache(settings):
    """A Redis cache on a port where nothing listens: every call is refused at once."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


# Wrong links ------------------------------------------------------------------------


def test_a_valid_link_is_served_while_its_ip_is_blocked_for_wrong_links(client, setup, settings):
    settings.RATELIMIT_BAD_LINKS = 2
    for _attempt in range(2):
        assert client.get(WRONG_LINK).status_code == 404
    assert client.get(WRONG_LINK).status_code == 429

    # Another customer behind the same office or carrier address, with a genuine link.
    response = client.get(reverse("selfservice:open", args=[invitation_token(invite(setup))]))

    assert response.status_code == 302 and urlsplit(response["Location"]).path == PAGE
    assert client.get(PAGE).status_code == 200


def test_a_printed_card_is_served_while_its_ip_is_blocked_for_wrong_links(client, setup, settings):
    settings.RATELIMIT_BAD_LINKS = 1
    client.get(reverse("card", args=["1-AAAAAAAA"]))
    assert client.get(reverse("card", args=["1-BBBBBBBB"])).status_code == 429
    appointment = appointment_schedule(
        customer=CustomerFactory(responsible=setup["office"]),
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=local_dt(3, 8),
        actor=setup["office"],
    )

    assert client.get(reverse("card", args=[card_code(appointment)])).status_code == 200


def test_valid_links_do_not_count_towards_the_wrong_link_limit(client, setup, settings):
    settings.RATELIMIT_BAD_LINKS = 2
    token = invitation_token(invite(setup))
    for _attempt in range(5):
        assert client.get(reverse("selfservice:open", args=[token])).status_code == 302

    assert client.get(WRONG_LINK).status_code == 404


# Booking posts ----------------------------------------------------------------------


def test_one_customers_posts_do_not_limit_another_behind_the_same_ip(client, setup, settings):
    from django.test import Client

    settings.RATELIMIT_BOOKING_POSTS = 2
    flooding = open_invitation(client, invite(setup))
    for _attempt in range(2):
        assert client.post(BOOK, {"link": flooding["link"], "window": "nonsense"}).status_code == 400
    assert client.post(BOOK, {"link": flooding["link"], "window": "nonsense"}).status_code == 429

    neighbour = Client()  # same REMOTE_ADDR as the test client above
    form = open_invitation(neighbour, invite(setup))
    response = neighbour.post(BOOK, form)

    assert response.status_code == 302 and response["Location"] == reverse("selfservice:done")


# The cache fails open ----------------------------------------------------------------


def test_limits_fail_open_when_the_cache_is_down(dead_cache):
    assert limited("bad-link", "203.0.113.7", limit=0, period_seconds=600) is False


def test_pages_and_bookings_work_when_the_cache_is_down(client, setup, settings, dead_cache):
    settings.RATELIMIT_BAD_LINKS = 0  # would refuse every wrong link, if the cache could count

    assert client.get(WRONG_LINK).status_code == 404
    form = open_invitation(client, invite(setup))
    response = client.post(BOOK, form)

    assert response.status_code == 302 and response["Location"] == reverse("selfservice:done")


def test_a_cache_outage_is_logged_once_a_minute_not_per_request(dead_cache, caplog):
    start = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    with caplog.at_level(logging.WARNING, logger="selfservice.ratelimit"):
        with time_machine.travel(start, tick=False) as traveller:
            for _request in range(5):
                limited("bad-link", "203.0.113.7", limit=20, period_seconds=600)
            assert len(caplog.records) == 1
            assert "Rate limits are off" in caplog.records[0].getMessage()

            traveller.shift(timedelta(seconds=OUTAGE_LOG_INTERVAL_SECONDS - 1))
            limited("bad-link", "203.0.113.7", limit=20, period_seconds=600)
            assert len(caplog.records) == 1

            traveller.shift(timedelta(seconds=1))
            limited("bad-link", "203.0.113.7", limit=20, period_seconds=600)

    assert len(caplog.records) == 2
    assert "5 more failures since the last warning" in caplog.records[1].getMessage()
