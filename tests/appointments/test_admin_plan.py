"""The office sees and changes a visit's plan (planned start, expected duration) on its admin page."""

from datetime import time, timedelta

import pytest
from django.urls import reverse

from appointments.models import Appointment, WorkingPeriod
from appointments.services import appointment_schedule
from notifications.models import OutboxMessage
from tests.appointments.test_admin import add_form, change_form, split
from tests.factories import CustomerFactory, ServiceTypeFactory, TechnicianFactory, local_dt

pytestmark = pytest.mark.django_db


@pytest.fixture
def gas_check():
    return ServiceTypeFactory(
        duration=timedelta(minutes=45), arrival_window=timedelta(hours=4), buffer_after=timedelta(minutes=15)
    )


@pytest.fixture
def technician(gas_check):
    technician = TechnicianFactory(service_types=[gas_check], weekdays=False)
    for weekday in range(7):
        WorkingPeriod.objects.create(technician=technician, weekday=weekday, starts=time(8), ends=time(16))
    return technician


def book(technician, service_type, office_user):
    return appointment_schedule(
        customer=CustomerFactory(),
        service_type=service_type,
        technician=technician,
        window_start=local_dt(2, 8),
        actor=office_user,
    )


def change_url(appointment):
    return reverse("admin:appointments_appointment_change", args=[appointment.pk])


def test_the_change_page_shows_the_planned_slot_and_buffer(admin_client_office, office_user, gas_check, technician):
    book(technician, gas_check, office_user)
    second = book(technician, gas_check, office_user)

    page = admin_client_office.get(change_url(second), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "09:00–09:45, then 15 min buffer" in page
    assert 'name="planned_time" value="09:00"' in page
    assert 'name="duration_minutes" value="45"' in page


def test_a_new_planned_time_re_orders_the_day_and_tells_nobody(
    admin_client_office, office_user, gas_check, technician
):
    visit = book(technician, gas_check, office_user)
    mails = OutboxMessage.objects.count()

    response = admin_client_office.post(
        change_url(visit),
        change_form(visit, visit.window_start, visit.window_end, planned_time="10:30", duration_minutes=45),
    )

    assert response.status_code == 302
    visit.refresh_from_db()
    assert (visit.planned_start, visit.version) == (local_dt(2, 10, 30), 1)
    assert OutboxMessage.objects.count() == mails


def test_a_planned_time_outside_the_window_is_a_form_error(admin_client_office, office_user, gas_check, technician):
    visit = book(technician, gas_check, office_user)

    response = admin_client_office.post(
        change_url(visit),
        change_form(visit, visit.window_start, visit.window_end, planned_time="13:00", duration_minutes=45),
        HTTP_ACCEPT_LANGUAGE="de",
    )

    assert response.status_code == 200
    assert "Der geplante Beginn muss im Ankunftsfenster liegen" in response.content.decode()
    visit.refresh_from_db()
    assert visit.planned_start == local_dt(2, 8)


def test_a_longer_duration_re_plans_and_one_that_fits_nowhere_is_refused(
    admin_client_office, office_user, gas_check, technician
):
    visits = [book(technician, gas_check, office_user) for _ in range(3)]  # 8:00, 9:00, 10:00

    longer = admin_client_office.post(
        change_url(visits[2]),
        change_form(visits[2], visits[2].window_start, visits[2].window_end, duration_minutes=90),
    )
    assert longer.status_code == 302
    visits[2].refresh_from_db()
    assert visits[2].occupied_until == local_dt(2, 11, 45)

    refused = admin_client_office.post(
        change_url(visits[0]),
        change_form(visits[0], visits[0].window_start, visits[0].window_end, duration_minutes=300),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 200
    assert "no longer fits its window" in refused.content.decode()
    visits[0].refresh_from_db()
    assert visits[0].expected_duration == timedelta(minutes=45)


def test_a_duration_of_a_thousand_minutes_is_a_form_error_not_a_500(
    admin_client_office, office_user, gas_check, technician
):
    visit = book(technician, gas_check, office_user)

    response = admin_client_office.post(
        change_url(visit), change_form(visit, visit.window_start, visit.window_end, duration_minutes=1000)
    )

    assert response.status_code == 200
    visit.refresh_from_db()
    assert visit.expected_duration == timedelta(minutes=45)


def test_booking_in_the_admin_takes_a_duration_and_a_planned_time(admin_client_office, gas_check, technician):
    form = add_form(CustomerFactory(), gas_check, technician, local_dt(2, 8))

    response = admin_client_office.post(
        reverse("admin:appointments_appointment_add"), {**form, "duration_minutes": 90, "planned_time": "09:15"}
    )

    assert response.status_code == 302
    visit = Appointment.objects.get()
    assert (visit.planned_start, visit.expected_duration) == (local_dt(2, 9, 15), timedelta(minutes=90))
    assert split(visit.window_start) == split(local_dt(2, 8))


def test_a_refused_move_also_leaves_the_duration_typed_with_it_unchanged(
    admin_client_office, office_user, gas_check, technician
):
    visit = book(technician, gas_check, office_user)
    # The afternoon window is taken by time off: the move is refused, so nothing of the form may stick.
    technician.time_off.create(starts_at=local_dt(2, 12), ends_at=local_dt(2, 17), reason="Arzt")

    response = admin_client_office.post(
        change_url(visit),
        change_form(visit, local_dt(2, 12), local_dt(2, 16), duration_minutes=90),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "time off" in response.content.decode()
    visit.refresh_from_db()
    assert (visit.window_start, visit.expected_duration, visit.version) == (local_dt(2, 8), timedelta(minutes=45), 1)
