"""Customers move or cancel online only until BOOKING_CHANGE_CUTOFF_HOURS before the window opens."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from appointments.availability import booking_days, free_windows
from appointments.cutoff import deadline_text
from appointments.formatting import format_day
from appointments.links import appointment_token, card_code, invitation_token
from appointments.models import Appointment, AppointmentStatus
from appointments.services import AppointmentError, appointment_schedule, visit_mark_missed, visit_start_trip
from appointments.services.booking import (
    appointment_cancel_online,
    appointment_move_online,
    appointment_request_new_time,
    booking_invite,
)
from journal.models import JournalEntry
from tests.factories import (
    CustomerFactory,
    local_dt,
)

pytestmark = pytest.mark.django_db
PAGE = reverse("selfservice:page")
BOOK = reverse("selfservice:book")
CANCEL = reverse("selfservice:cancel")
DONE = reverse("selfservice:done")


@pytest.fixture
def appointment(setup):
    return appointment_schedule(
        customer=setup["customer"],
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=local_dt(3, 8),
        actor=setup["office"],
    )


def open_link(client, token):
    return client.get(reverse("selfservice:open", args=[token]))


def offered_windows(response):
    return re.findall(r'name="window" value="([^"]+)"', response.content.decode())


def a_free_window(setup, appointment):
    first_day, last_day = booking_days()
    days = free_windows(
        service_type=setup["service_type"],
        technician=None,
        first_day=first_day,
        last_day=last_day,
        ignoring=appointment,
    )
    return next(window.start for day in days for window in day.windows if window.start > appointment.window_end)


def unchanged(appointment):
    fresh = Appointment.objects.get(pk=appointment.pk)
    return (fresh.status, fresh.version, fresh.window_start) == (
        appointment.status,
        appointment.version,
        appointment.window_start,
    )


# The rule, in the services ------------------------------------------------------------


def test_moving_online_after_the_cutoff_is_refused(setup, appointment):
    with time_machine.travel(appointment.window_start - timedelta(hours=11), tick=False):
        window = a_free_window(setup, appointment)
        with pytest.raises(AppointmentError) as refused:
            appointment_move_online(appointment=appointment, window_start=window)

    assert refused.value.code == "too_late"
    assert unchanged(appointment)


def test_cancelling_online_after_the_cutoff_is_refused(appointment):
    with time_machine.travel(appointment.window_start - timedelta(hours=11), tick=False):
        with pytest.raises(AppointmentError) as refused:
            appointment_cancel_online(appointment=appointment, reason="Doch nicht")

    assert refused.value.code == "too_late"
    assert unchanged(appointment)
    assert not JournalEntry.objects.filter(action="appointment.cancelled").exists()


def test_moving_online_before_the_cutoff_still_works(setup, appointment):
    with time_machine.travel(appointment.window_start - timedelta(hours=13), tick=False):
        moved = appointment_move_online(appointment=appointment, window_start=a_free_window(setup, appointment))

    assert moved.version == 2


@pytest.mark.parametrize(("before", "allowed"), [(timedelta(minutes=1), True), (timedelta(0), False)])
def test_a_cutoff_of_zero_allows_changes_until_the_window_opens(settings, appointment, before, allowed):
    settings.BOOKING_CHANGE_CUTOFF_HOURS = 0

    with time_machine.travel(appointment.window_start - before, tick=False):
        if allowed:
            appointment_cancel_online(appointment=appointment, reason="Doch nicht")
        else:
            with pytest.raises(AppointmentError):
                appointment_cancel_online(appointment=appointment, reason="Doch nicht")

    appointment.refresh_from_db()
    assert (appointment.status == AppointmentStatus.CANCELLED) is allowed


def test_a_visit_whose_technician_is_on_the_way_cannot_be_cancelled_online_whatever_the_cutoff(
    settings, setup, appointment
):
    settings.BOOKING_CHANGE_CUTOFF_HOURS = 0
    with time_machine.travel(appointment.window_start - timedelta(minutes=30), tick=False):
        visit_start_trip(appointment=appointment, actor=setup["technician"].user)
        with pytest.raises(AppointmentError) as refused:
            appointment_cancel_online(appointment=Appointment.objects.get(pk=appointment.pk), reason="Doch nicht")

    assert refused.value.code == "too_late"


def test_a_missed_visit_awaiting_a_new_time_is_rebooked_after_its_window(setup, appointment):
    with time_machine.travel(appointment.window_start + timedelta(hours=1), tick=False):
        missed = visit_mark_missed(
            appointment=appointment, actor=setup["technician"].user, waited_minutes=10, note="", card_left=True
        )
        moved = appointment_move_online(appointment=missed, window_start=a_free_window(setup, missed))

    assert moved.status == AppointmentStatus.SCHEDULED


def test_a_visit_the_office_asked_to_move_can_be_moved_after_the_cutoff(setup, appointment):
    with time_machine.travel(appointment.window_start - timedelta(hours=3), tick=False):
        appointment = appointment_request_new_time(
            appointment=appointment, actor=setup["office"], reason="Our technician is ill that day."
        )
        moved = appointment_move_online(appointment=appointment, window_start=a_free_window(setup, appointment))

    assert moved.version == 2


# The pages ------------------------------------------------------------------------------


def test_the_link_of_a_visit_three_days_ago_no_longer_moves_it(client, setup, appointment):
    with time_machine.travel(appointment.window_start + timedelta(days=3)):
        open_link(client, appointment_token(appointment))  # the confirmation mail, found again
        window = a_free_window(setup, appointment)
        page = client.get(PAGE)
        moved = client.post(BOOK, {"window": window.isoformat()})
        cancelled = client.post(CANCEL, {"reason": "Doch nicht"})

    assert page.status_code == 200 and not offered_windows(page)
    assert (moved.status_code, cancelled.status_code) == (409, 409)
    assert unchanged(appointment)
    assert not JournalEntry.objects.filter(action__in=["appointment.rescheduled", "appointment.cancelled"]).exists()


def test_after_the_cutoff_the_page_shows_the_visit_and_how_to_reach_the_responsible_person(client, appointment):
    with time_machine.travel(appointment.window_start - timedelta(hours=11), tick=False):
        open_link(client, appointment_token(appointment))
        page = client.get(PAGE).content.decode()

    assert "nicht mehr online" in page  # "kann nicht mehr online geändert oder abgesagt werden"
    assert 'name="window"' not in page and 'action="/booking/cancel/"' not in page
    assert "08:00–12:00" in page and "Jan" in page and appointment.site_street in page
    assert "Sandra Brinkmann" in page
    assert 'href="tel:+492821123456"' in page  # the responsible person's direct line
    assert 'href="mailto:s.brinkmann@firm.example"' in page


@pytest.mark.parametrize(("language", "words"), [("nl", "niet meer online"), ("en", "no longer be changed online")])
def test_the_too_late_page_speaks_the_customers_language(client, setup, language, words):
    customer = CustomerFactory(preferred_language=language, responsible=setup["office"])
    appointment = appointment_schedule(
        customer=customer,
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=local_dt(3, 8),
        actor=setup["office"],
    )
    with time_machine.travel(appointment.window_start - timedelta(hours=3), tick=False):
        open_link(client, appointment_token(appointment))
    with time_machine.travel(appointment.window_start - timedelta(hours=2), tick=False):
        response = client.post(CANCEL, {"reason": "x"})

    assert response.status_code == 409
    assert words in response.content.decode()


def test_a_post_that_crosses_the_cutoff_after_the_page_was_shown_changes_nothing(client, setup, appointment):
    with time_machine.travel(appointment.window_start - timedelta(hours=13), tick=False):
        open_link(client, appointment_token(appointment))
        window = offered_windows(client.get(PAGE))[-1]

    with time_machine.travel(appointment.window_start - timedelta(hours=11, minutes=59), tick=False):
        response = client.post(BOOK, {"window": window})

    assert response.status_code == 409
    assert "nicht mehr online" in response.content.decode()
    assert unchanged(appointment)


def test_the_result_page_names_the_deadline_for_changes(client, setup, appointment):
    open_link(client, appointment_token(appointment))
    client.post(BOOK, {"window": offered_windows(client.get(PAGE))[-1]})

    done = client.get(DONE).content.decode()

    with translation.override("de"):
        deadline = deadline_text(Appointment.objects.get(pk=appointment.pk))
    assert f"Bis {deadline} können Sie ihn mit diesem Link online ändern" in done
    assert "/booking/l/" in done


def test_a_visit_booked_late_in_the_evening_for_the_next_morning_offers_the_phone_not_a_link(client, setup):
    # An evening before a working day (the technician works Monday to Friday).
    evening = next(offset for offset in range(7) if local_dt(offset + 1, 8).weekday() < 5)
    with time_machine.travel(local_dt(evening, 21)):
        invitation = booking_invite(
            customer=setup["customer"], service_type=setup["service_type"], actor=setup["office"]
        )
        open_link(client, invitation_token(invitation))
        client.post(BOOK, {"window": offered_windows(client.get(PAGE))[0]})  # the next morning, 08:00
        done = client.get(DONE).content.decode()

    assert Appointment.objects.get().window_start == local_dt(evening + 1, 8)
    assert "/booking/l/" not in done
    assert "zu kurz bevor" in done and 'href="tel:+492821123456"' in done


def test_a_deadline_at_midnight_is_named_as_the_evening_before(setup):
    at_noon = appointment_schedule(
        customer=setup["customer"],
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=local_dt(3, 12),
        actor=setup["office"],
    )

    with translation.override("de"):
        assert deadline_text(at_noon) == f"{format_day(local_dt(2, 12))}, 24:00"


def test_the_mail_link_opened_while_the_technician_is_on_the_way_says_so(client, setup, appointment):
    token = appointment_token(appointment)
    with time_machine.travel(appointment.window_start - timedelta(hours=14), tick=False):
        open_link(client, token)  # the page open since the evening before
    with time_machine.travel(appointment.window_start - timedelta(minutes=30), tick=False):
        visit_start_trip(appointment=appointment, actor=setup["technician"].user)
        posted = client.post(CANCEL, {"reason": "Doch nicht"})
        client.cookies.clear()
        opened = open_link(client, token)  # the reminder, read in the morning

    for response in (posted, opened):
        page = response.content.decode()
        assert "bereits auf dem Weg" in page and "nicht mehr gültig" not in page
        assert 'href="tel:+492821123456"' in page
    assert (posted.status_code, opened.status_code) == (409, 200)
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.EN_ROUTE


def test_a_day_pack_card_read_on_the_visits_day_does_not_promise_an_online_change(client, setup):
    visit = appointment_schedule(
        customer=setup["customer"],
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=local_dt(3, 12),
        actor=setup["office"],
    )

    with time_machine.travel(visit.window_start - timedelta(hours=3), tick=False):
        page = client.get(reverse("card", args=[card_code(visit)])).content.decode()

    assert "nicht mehr online" in page and "enthält einen Link" not in page
