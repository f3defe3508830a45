"""Technicians stay signed in for weeks; "Sign out all devices" ends every session of one user at once."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.services import sessions_end_all
from tests.factories import OfficeUserFactory, TechnicianFactory

pytestmark = pytest.mark.django_db


def session_lifetime(client) -> timedelta:
    return Session.objects.get(session_key=client.session.session_key).expire_date - timezone.now()


def test_a_technician_sign_in_lasts_technician_session_days(client, settings):
    settings.TECHNICIAN_SESSION_AGE = 30 * 86400
    TechnicianFactory(user__username="jan", user__password="van-keys-2026")

    response = client.post(reverse("technician:login"), {"username": "jan", "password": "van-keys-2026"})

    assert response.status_code == 302
    assert timedelta(days=30) - timedelta(minutes=1) < session_lifetime(client) <= timedelta(days=30)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 30 * 86400


def test_an_office_sign_in_keeps_djangos_two_weeks(client, settings):
    OfficeUserFactory(username="clerk", password="desk-2026-secret", is_superuser=False)

    client.post(reverse("admin:login"), {"username": "clerk", "password": "desk-2026-secret"})

    lifetime = session_lifetime(client)
    assert timedelta(seconds=settings.SESSION_COOKIE_AGE) - timedelta(minutes=1) < lifetime
    assert lifetime <= timedelta(seconds=settings.SESSION_COOKIE_AGE) < timedelta(days=30)


def test_signing_out_all_devices_ends_every_session_of_that_user_only():
    technician = TechnicianFactory(user__username="jan", user__password="van-keys-2026")
    phone, tablet, colleague = Client(), Client(), Client()
    for device in (phone, tablet):
        device.post(reverse("technician:login"), {"username": "jan", "password": "van-keys-2026"})
    colleague.force_login(TechnicianFactory().user)
    assert phone.get(reverse("technician:day")).status_code == 200

    sessions_end_all(user=technician.user)

    for device in (phone, tablet):
        response = device.get(reverse("technician:day"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("technician:login"))
    assert colleague.get(reverse("technician:day")).status_code == 200
    # Signing in again works at once, in the new generation.
    phone.post(reverse("technician:login"), {"username": "jan", "password": "van-keys-2026"})
    assert phone.get(reverse("technician:day")).status_code == 200


def test_an_office_admin_signs_a_lost_phone_out_from_the_user_list(admin_client_office):
    jan = TechnicianFactory().user
    phone = Client()
    phone.force_login(jan)

    admin_client_office.post(
        reverse("admin:auth_user_changelist"), {"action": "sign_out_all_devices", "_selected_action": [jan.pk]}
    )

    assert phone.get(reverse("technician:day")).status_code == 302
    assert admin_client_office.get(reverse("admin:index")).status_code == 200


def test_one_signs_oneself_out_everywhere_from_the_sign_in_security_page(admin_client_office, office_user):
    other_computer = Client()
    other_computer.force_login(office_user)

    page = admin_client_office.get(reverse("accounts:security"), HTTP_ACCEPT_LANGUAGE="en")
    response = admin_client_office.post(reverse("accounts:sign_out_everywhere"))

    assert page.status_code == 200 and "Sign out all devices" in page.content.decode()
    assert response["Location"] == reverse("admin:login")
    assert other_computer.get(reverse("admin:index")).status_code == 302
    assert admin_client_office.get(reverse("admin:index")).status_code == 302


def test_sessions_from_before_the_generation_existed_stay_signed_in(client):
    technician = TechnicianFactory()
    client.force_login(technician.user)
    session = client.session
    del session["_doorstep_generation"]
    session.save()

    assert client.get(reverse("technician:day")).status_code == 200


def test_the_generation_costs_no_query_of_its_own(client, django_assert_num_queries):
    technician = TechnicianFactory()
    client.force_login(technician.user)
    client.get(reverse("technician:day"))
    sessions_end_all(user=technician.user)
    client.force_login(technician.user)

    # session, user (with its generation), technician profile, visits today, visits later
    with django_assert_num_queries(5):
        client.get(reverse("technician:day"))
