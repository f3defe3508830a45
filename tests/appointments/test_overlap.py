"""The overlap rule holds under concurrency, on whichever database the suite runs against."""

import threading
from datetime import timedelta
from itertools import pairwise

import pytest
from django.db import IntegrityError, connection, connections, transaction

from appointments.models import Appointment
from appointments.services import AppointmentError, appointment_schedule
from tests.factories import (
    AppointmentFactory,
    CustomerFactory,
    OfficeUserFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    local_dt,
)

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="database-level exclusion constraint: runs in the PostgreSQL pass (DATABASE_URL=postgres://…)",
)


def book_concurrently(attempts: int, **booking) -> list[object]:
    """Start `attempts` threads that book at the same instant; return what each got."""
    barrier = threading.Barrier(attempts)
    results: list[object] = [None] * attempts

    def attempt(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[index] = appointment_schedule(**booking)
        except AppointmentError as exc:
            results[index] = exc
        except Exception as exc:  # noqa: BLE001 - any other outcome is a failure the test reports
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        # Bounds only a hang: each join returns as soon as its booking is done, however busy the machine.
        thread.join(timeout=300)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_bookings_of_the_same_window_at_once_make_exactly_one_appointment():
    service_type = ServiceTypeFactory()
    technician = TechnicianFactory(service_types=[service_type])
    customer = CustomerFactory()

    results = book_concurrently(
        2,
        customer=customer,
        service_type=service_type,
        technician=technician,
        window_start=local_dt(3, 8),
        actor=OfficeUserFactory(),
    )

    booked = [result for result in results if isinstance(result, Appointment)]
    refused = [result for result in results if isinstance(result, AppointmentError)]
    assert len(booked) == 1, results
    assert len(refused) == 1, results
    assert refused[0].code == "overlap"
    assert Appointment.objects.filter(technician=technician).count() == 1


@pytest.mark.django_db(transaction=True)
def test_many_overlapping_bookings_at_once_leave_no_overlap():
    service_type = ServiceTypeFactory()
    technician = TechnicianFactory(service_types=[service_type])
    customer = CustomerFactory()

    results = book_concurrently(
        6,
        customer=customer,
        service_type=service_type,
        technician=technician,
        window_start=local_dt(4, 9),
        actor=None,
    )

    assert sum(isinstance(result, Appointment) for result in results) == 1, results
    assert all(isinstance(result, (Appointment, AppointmentError)) for result in results), results


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_database_refuses_overlapping_rows_written_past_the_service():
    existing = AppointmentFactory(window_start=local_dt(2, 8))

    with pytest.raises(IntegrityError, match="appointment_technician_no_overlap"), transaction.atomic():
        AppointmentFactory(
            technician=existing.technician,
            service_type=existing.service_type,
            window_start=existing.window_start + timedelta(hours=1),
        )


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_database_accepts_back_to_back_and_cancelled_rows():
    existing = AppointmentFactory(window_start=local_dt(2, 8))

    AppointmentFactory(
        technician=existing.technician, service_type=existing.service_type, window_start=existing.occupied_until
    )
    AppointmentFactory(
        technician=existing.technician,
        service_type=existing.service_type,
        window_start=existing.window_start,
        status="cancelled",
    )

    assert Appointment.objects.filter(technician=existing.technician).count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("minutes", "fit"), [(210, 1), (90, 2), (30, 4)])
def test_fifty_bookings_for_the_last_slots_of_a_window_book_exactly_as_many_as_fit(minutes, fit):
    # With the 30-minute buffer, a 4-hour window holds one 3.5-hour job, two 1.5-hour or four half-hour ones.
    service_type = ServiceTypeFactory(duration=timedelta(minutes=minutes))
    technician = TechnicianFactory(service_types=[service_type])

    results = book_concurrently(
        50,
        customer=CustomerFactory(),
        service_type=service_type,
        technician=technician,
        window_start=local_dt(3, 8),
        actor=None,
        require_working_hours=True,
    )

    booked = [result for result in results if isinstance(result, Appointment)]
    assert len(booked) == fit, results
    assert all(isinstance(result, AppointmentError) for result in results if result not in booked), results
    planned = sorted(Appointment.objects.filter(technician=technician).values_list("planned_start", "occupied_until"))
    assert len(planned) == fit
    assert all(earlier_end <= later_start for (_s, earlier_end), (later_start, _e) in pairwise(planned))


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_database_accepts_two_visits_in_one_window_one_after_the_other():
    short = ServiceTypeFactory(duration=timedelta(minutes=30))
    first = AppointmentFactory(service_type=short, window_start=local_dt(2, 8))

    second = AppointmentFactory(
        technician=first.technician,
        service_type=short,
        window_start=local_dt(2, 8),
        planned_start=first.occupied_until,
    )

    assert second.window_start == first.window_start
    with pytest.raises(IntegrityError, match="appointment_technician_no_overlap"), transaction.atomic():
        AppointmentFactory(
            technician=first.technician,
            service_type=short,
            window_start=local_dt(2, 8),
            planned_start=first.planned_start + timedelta(minutes=15),
        )
