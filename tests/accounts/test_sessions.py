"""Technicians stay signed in for weeks; "Sign out all devices" ends every session of one user at once, "Sign out on
all other devices" every one but the asking one."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import SessionGeneration
from accounts.services import sessions_end_all, sessions_end_others
from accounts.sessions import SESSION_GENERATION_KEY
from technicians.models import CalendarFeed
from technicians.services import feed_issue
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


def test_signing_a_lost_phone_out_from_the_user_list_stops_its_calendar_link(admin_client_office, office_user):
    """The office's answer to "Jan lost his phone": the phone's calendar app stops getting customers' addresses."""
    jan = TechnicianFactory(user__username="jan")
    link = reverse("technician:feed", args=[feed_issue(technician=jan, actor=office_user).token])
    clerk = OfficeUserFactory()

    response = admin_client_office.post(
        reverse("admin:auth_user_changelist"),
        {"action": "sign_out_all_devices", "_selected_action": [jan.user.pk, clerk.pk]},
        headers={"accept-language": "en"},
        follow=True,
    )

    assert Client().get(link).status_code == 404
    feed = CalendarFeed.objects.get()
    assert feed.revoked_by == office_user and feed.revoked_at is not None
    assert [str(message) for message in response.context["messages"]] == [
        "2 users are signed out on every device.",
        "1 calendar link revoked: it no longer shows any visits.",
    ]
    history = {entry.object_id: entry.get_change_message() for entry in LogEntry.objects.all()}
    assert history == {
        str(jan.user.pk): "Signed out on all devices; calendar link revoked.",
        str(clerk.pk): "Signed out on all devices.",
    }


def test_signing_out_from_the_user_list_without_a_calendar_link_says_nothing_of_calendars(admin_client_office):
    jan = TechnicianFactory()

    response = admin_client_office.post(
        reverse("admin:auth_user_changelist"),
        {"action": "sign_out_all_devices", "_selected_action": [jan.user.pk]},
        headers={"accept-language": "en"},
        follow=True,
    )

    assert [str(message) for message in response.context["messages"]] == ["1 user is signed out on every device."]


@pytest.mark.parametrize("language", ["de", "nl"])
def test_the_users_history_says_the_link_was_revoked_in_the_offices_language(
    admin_client_office, office_user, language
):
    jan = TechnicianFactory()
    feed_issue(technician=jan, actor=office_user)

    admin_client_office.post(
        reverse("admin:auth_user_changelist"),
        {"action": "sign_out_all_devices", "_selected_action": [jan.user.pk]},
        headers={"accept-language": language},
    )

    with translation.override(language):
        assert LogEntry.objects.get().get_change_message() == gettext(
            "Signed out on all devices; calendar link revoked."
        )
        assert (
            gettext("Signed out on all devices; calendar link revoked.")
            != "Signed out on all devices; calendar link revoked."
        )


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

    # session, user (with its generation), technician profile, visits today, visits later, an active calendar link
    with django_assert_num_queries(6):
        client.get(reverse("technician:day"))


def test_ending_other_sessions_keeps_the_asking_one_under_a_new_key(settings):
    technician = TechnicianFactory()
    phone, tablet = Client(), Client()
    for device in (phone, tablet):
        device.force_login(technician.user)
    kept = SessionStore(session_key=phone.session.session_key)
    old_key = kept.session_key

    generation = sessions_end_others(user=technician.user, keep_session=kept, actor=technician.user)
    kept.save()
    phone.cookies[settings.SESSION_COOKIE_NAME] = kept.session_key

    assert kept.session_key != old_key and kept[SESSION_GENERATION_KEY] == generation == 1
    assert not Session.objects.filter(session_key=old_key).exists()
    assert phone.get(reverse("technician:day")).status_code == 200
    assert tablet.get(reverse("technician:day")).status_code == 302


def test_ending_other_sessions_refuses_a_session_of_someone_else():
    technician, colleague = TechnicianFactory(), TechnicianFactory()
    colleagues_phone = Client()
    colleagues_phone.force_login(colleague.user)

    with pytest.raises(ValueError):
        sessions_end_others(
            user=technician.user, keep_session=SessionStore(session_key=colleagues_phone.session.session_key)
        )

    assert not SessionGeneration.objects.filter(user__in=[technician.user, colleague.user]).exists()
    assert colleagues_phone.get(reverse("technician:day")).status_code == 200


def test_one_signs_out_other_computers_from_the_sign_in_security_page_and_stays_signed_in(
    admin_client_office, office_user
):
    other_computer = Client()
    other_computer.force_login(office_user)

    page = admin_client_office.get(reverse("accounts:security"), HTTP_ACCEPT_LANGUAGE="en")
    response = admin_client_office.post(reverse("accounts:sign_out_others"), follow=True)

    assert "Sign out on all other devices" in page.content.decode()
    assert response.redirect_chain == [(reverse("accounts:security"), 302)]
    assert response.content.decode().count("Sie sind auf allen anderen Geräten abgemeldet.") == 1
    assert other_computer.get(reverse("admin:index")).status_code == 302
    assert admin_client_office.get(reverse("admin:index")).status_code == 200


@pytest.mark.password_only
def test_a_password_alone_cannot_sign_other_computers_out(client, office_user):
    other_computer = Client()
    other_computer.force_login(office_user)
    client.force_login(office_user)

    response = client.post(reverse("accounts:sign_out_others"))

    assert response["Location"] == reverse("accounts:security")
    assert not SessionGeneration.objects.filter(user=office_user).exists()
