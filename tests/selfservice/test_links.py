"""What a customer's link says when it cannot simply show its page: used invitations, refused cookies."""

import re
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from appointments.availability import booking_days, free_windows
from appointments.formatting import format_window
from appointments.links import invitation_token
from appointments.models import Appointment, AppointmentStatus, BookingInvitation
from appointments.services import AppointmentError, appointment_cancel
from appointments.services.booking import appointment_book_online, booking_invite
from tests.factories import (
    CustomerFactory,
    local_dt,
)

pytestmark = pytest.mark.django_db
PAGE = reverse("selfservice:page")
BOOK = reverse("selfservice:book")
CANCEL = reverse("selfservice:cancel")


@pytest.fixture(autouse=True)
def mid_morning():
    """Tomorrow's first window is then well before its cut-off, whenever the tests run."""
    with time_machine.travel(local_dt(0, 10)):
        yield


@pytest.fixture
def invitation(setup):
    return booking_invite(customer=setup["customer"], service_type=setup["service_type"], actor=setup["office"])


def open_link(client, token):
    return client.get(reverse("selfservice:open", args=[token]))


def offered_windows(response):
    return re.findall(r'name="window" value="([^"]+)"', response.content.decode())


def book_first_window(client, token):
    open_link(client, token)
    client.post(BOOK, {"window": offered_windows(client.get(PAGE))[0]})
    return Appointment.objects.get()


# Two people, one invitation ------------------------------------------------------------


def test_the_second_of_two_people_booking_from_one_invitation_learns_it_was_just_used(client, invitation, setup):
    token = invitation_token(invitation)
    other = Client()
    open_link(client, token)
    open_link(other, token)
    mine, theirs = offered_windows(client.get(PAGE))[0], offered_windows(other.get(PAGE))[1]

    client.post(BOOK, {"window": mine})
    response = other.post(BOOK, {"window": theirs})

    booked = Appointment.objects.get()
    page = response.content.decode()
    assert response.status_code == 409
    assert "soeben" in page and "nicht mehr gültig" not in page  # "wurde soeben … gebucht"
    assert format_window(booked.window_start, booked.window_end) in page
    assert 'href="tel:+492821123456"' in page and "s.brinkmann@firm.example" in page
    # The button leads to the visit that was booked, with its options.
    assert other.get(PAGE).status_code == 200 and offered_windows(other.get(PAGE))


def test_the_second_of_two_people_choosing_the_same_window_with_a_note_learns_it_was_just_used(
    client, invitation, setup
):
    token = invitation_token(invitation)
    other = Client()
    open_link(client, token)
    open_link(other, token)
    window = offered_windows(client.get(PAGE))[0]
    key = re.search(r'name="link"\s+value="([^"]+)"', other.get(PAGE).content.decode()).group(1)

    client.post(BOOK, {"window": window, "note": ""})
    response = other.post(BOOK, {"window": window, "note": "Bitte zweimal klingeln", "link": key})

    # The same window, but their note was not saved: not "your appointment is booked".
    assert response.status_code == 409
    assert "soeben" in response.content.decode()


def test_booking_from_an_invitation_used_a_moment_ago_is_refused_as_used(invitation, setup):
    as_the_page_saw_it = BookingInvitation.objects.get(pk=invitation.pk)
    first_day, last_day = booking_days()
    days = [
        day
        for day in free_windows(
            service_type=setup["service_type"], technician=None, first_day=first_day, last_day=last_day
        )
        if day.windows
    ]
    appointment_book_online(invitation=invitation, window_start=days[0].windows[0].start)

    with pytest.raises(AppointmentError) as refused:
        appointment_book_online(invitation=as_the_page_saw_it, window_start=days[1].windows[0].start)

    assert refused.value.code == "invitation_used"
    assert Appointment.objects.count() == 1


def test_the_loser_of_a_race_inside_the_booking_reads_the_same(client, invitation, setup):
    token = invitation_token(invitation)
    other = Client()
    open_link(client, token)
    open_link(other, token)
    windows = offered_windows(other.get(PAGE))
    as_their_page_resolved_it = BookingInvitation.objects.get(pk=invitation.pk)
    client.post(BOOK, {"window": windows[0]})

    # Their request read the invitation before ours committed; the service, under the lock, refuses.
    with mock.patch("selfservice.views.invitation_from_token", return_value=as_their_page_resolved_it):
        response = other.post(BOOK, {"window": windows[1]})

    assert response.status_code == 409
    assert "soeben" in response.content.decode()
    assert Appointment.objects.count() == 1


# An invitation opened again ------------------------------------------------------------


def test_an_invitation_opened_again_after_booking_shows_the_booked_visit_with_its_options(client, invitation):
    token = invitation_token(invitation)
    booked = book_first_window(client, token)
    client.cookies.clear()  # later, on another day or device

    response = open_link(client, token)
    page = client.get(PAGE)

    assert response.status_code == 302
    assert page.status_code == 200
    html = page.content.decode()
    assert f"{timezone.localtime(booked.window_start):%H:%M}" in html and booked.site_address in html
    assert offered_windows(page) and 'href="/booking/cancel/?link=' in html


def test_an_invitation_opened_again_moves_the_visit_it_booked(client, invitation):
    token = invitation_token(invitation)
    booked = book_first_window(client, token)
    client.cookies.clear()
    open_link(client, token)

    client.post(BOOK, {"window": offered_windows(client.get(PAGE))[-1]})

    booked.refresh_from_db()
    assert booked.version == 2 and Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("finish", "words"),
    [("cancel", "abgesagt"), ("complete", "durchgeführt")],
)
def test_an_invitation_whose_visit_has_ended_says_so_with_the_contact(client, invitation, setup, finish, words):
    token = invitation_token(invitation)
    booked = book_first_window(client, token)
    if finish == "cancel":
        appointment_cancel(appointment=booked, reason="am Telefon abgesagt", actor=setup["office"])
    else:
        Appointment.objects.filter(pk=booked.pk).update(status=AppointmentStatus.COMPLETED)
    client.cookies.clear()

    response = open_link(client, token)

    page = response.content.decode()
    assert response.status_code == 200
    assert words in page and "nicht mehr gültig" not in page
    assert 'href="tel:+492821123456"' in page
    assert 'name="window"' not in page


# Cookies refused --------------------------------------------------------------------


def test_a_valid_link_in_a_browser_that_refuses_cookies_says_the_page_needs_cookies(client, setup):
    customer = CustomerFactory(preferred_language="nl", responsible=setup["office"])
    invitation = booking_invite(customer=customer, service_type=setup["service_type"], actor=setup["office"])

    entered = open_link(client, invitation_token(invitation))
    client.cookies.clear()  # the browser kept none of them
    response = client.get(entered["Location"])

    page = response.content.decode()
    assert response.status_code == 400
    assert 'lang="nl"' in page and "cookies toe" in page  # "Sta cookies toe"
    assert "no longer valid" not in page and "niet meer geldig" not in page
    assert invitation_token(invitation) not in entered["Location"]


def test_a_page_reloaded_after_its_session_ended_asks_to_open_the_link_again(client, setup):
    customer = CustomerFactory(preferred_language="nl", responsible=setup["office"])
    invitation = booking_invite(customer=customer, service_type=setup["service_type"], actor=setup["office"])
    entered = open_link(client, invitation_token(invitation))

    with time_machine.travel(timezone.now() + timedelta(days=2)):
        client.cookies.clear()  # the browser let the session cookie expire with the session
        reloaded = client.get(entered["Location"])
        posted = client.post(reverse("selfservice:book"), {"link": "invitation-1", "window": "x"})

    assert reloaded.status_code == 410
    page = reloaded.content.decode()
    assert 'lang="nl"' in page and "opnieuw" in page  # "open de link … opnieuw"
    assert "cookies toe" not in page and "niet meer geldig" not in page
    assert posted.status_code in (404, 410)


def test_the_page_without_a_session_nor_a_link_redirect_is_the_dead_link_page(client, setup):
    assert client.get(PAGE).status_code == 404
    assert client.get(PAGE + "?lang=xx").status_code == 404
