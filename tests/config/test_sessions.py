"""Sessions: expired ones are deleted every night, and a customer's link does not write a two-week one."""

from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from appointments.links import invitation_token
from appointments.services.booking import booking_invite
from config.celery import app
from config.tasks import clear_expired_sessions
from tests.factories import CustomerFactory, FirmFactory, OfficeUserFactory, ServiceTypeFactory, TechnicianFactory

pytestmark = pytest.mark.django_db


def session_expiring_in(delta: timedelta) -> str:
    session = SessionStore()
    session["doorstep_links"] = {}
    session.create()
    Session.objects.filter(session_key=session.session_key).update(expire_date=timezone.now() + delta)
    return session.session_key


def test_the_nightly_job_deletes_expired_sessions_and_keeps_fresh_ones():
    expired = session_expiring_in(-timedelta(minutes=1))
    fresh = session_expiring_in(timedelta(hours=1))

    clear_expired_sessions.delay()  # tests run tasks eagerly, in this process

    remaining = set(Session.objects.values_list("session_key", flat=True))
    assert expired not in remaining
    assert remaining == {fresh}


def test_beat_clears_sessions_once_a_day():
    entries = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"].endswith("sessions")]

    assert len(entries) == 1
    schedule = entries[0]["schedule"]
    assert isinstance(schedule, crontab)
    assert len(schedule.hour) == 1 and len(schedule.minute) == 1
    assert schedule.day_of_week == set(range(7)) and schedule.day_of_month == set(range(1, 32))
    # The worker finds the task under the name beat sends.
    app.loader.import_default_modules()
    assert entries[0]["task"] in app.tasks


@pytest.fixture
def invitation(db):
    FirmFactory()
    office = OfficeUserFactory()
    service_type = ServiceTypeFactory()
    TechnicianFactory(service_types=[service_type])
    customer = CustomerFactory(responsible=office)
    return booking_invite(customer=customer, service_type=service_type, actor=office)


def test_a_customers_link_writes_a_short_lived_session(client, invitation):
    # Mail scanners open every link: each open writes a session, which should not last two weeks.
    client.get(reverse("selfservice:open", args=[invitation_token(invitation)]))

    session = Session.objects.get()
    lifetime = session.expire_date - timezone.now()
    assert timedelta(seconds=settings.CUSTOMER_SESSION_AGE - 60) < lifetime
    assert lifetime <= timedelta(seconds=settings.CUSTOMER_SESSION_AGE)
    assert settings.CUSTOMER_SESSION_AGE <= 24 * 3600 < settings.SESSION_COOKIE_AGE


def test_office_staff_opening_a_customers_link_stay_signed_in_as_long_as_before(client, invitation):
    client.force_login(invitation.customer.responsible)

    client.get(reverse("selfservice:open", args=[invitation_token(invitation)]))

    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
