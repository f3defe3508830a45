"""The promise (arrival window) and the plan (planned slot inside it) are two things."""

import random
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from appointments.availability import free_windows, within_working_hours
from appointments.models import Appointment, AppointmentStatus, TimeOff, WorkingPeriod
from appointments.planning import Busy, first_fit, first_fits
from appointments.services import (
    AppointmentError,
    appointment_change_duration,
    appointment_confirm,
    appointment_plan_move,
    appointment_replan,
    appointment_reschedule,
    appointment_schedule,
)
from appointments.services.booking import appointment_request_new_time
from journal.models import JournalEntry
from notifications.models import OutboxMessage
from tests.factories import CustomerFactory, OfficeUserFactory, ServiceTypeFactory, TechnicianFactory, local_dt

pytestmark = pytest.mark.django_db


@pytest.fixture
def gas_check():
    """45 minutes and 15 minutes to drive on: four fit one after another into a 4-hour window."""
    return ServiceTypeFactory(
        duration=timedelta(minutes=45), arrival_window=timedelta(hours=4), buffer_after=timedelta(minutes=15)
    )


@pytest.fixture
def technician(gas_check):
    technician = TechnicianFactory(service_types=[gas_check], weekdays=False)
    for weekday in range(7):
        WorkingPeriod.objects.create(technician=technician, weekday=weekday, starts=time(8), ends=time(16))
    return technician


@pytest.fixture
def office():
    return OfficeUserFactory()


def book(technician, service_type, office, *, hour=8, day=2, **kwargs):
    return appointment_schedule(
        customer=CustomerFactory(),
        service_type=service_type,
        technician=technician,
        window_start=local_dt(day, hour),
        actor=office,
        **kwargs,
    )


def test_a_window_holds_as_many_visits_as_their_planned_slots_fit(technician, gas_check, office):
    visits = [book(technician, gas_check, office) for _ in range(4)]

    assert [visit.planned_start for visit in visits] == [local_dt(2, hour) for hour in (8, 9, 10, 11)]
    assert {(visit.window_start, visit.window_end) for visit in visits} == {(local_dt(2, 8), local_dt(2, 12))}
    with pytest.raises(AppointmentError) as full:
        book(technician, gas_check, office)
    assert full.value.code == "overlap"
    assert Appointment.objects.count() == 4


def test_the_planned_slot_is_the_duration_and_the_buffer_after_it(technician, gas_check, office):
    visit = book(technician, gas_check, office)

    assert visit.planned_start == local_dt(2, 8)
    assert visit.planned_end == local_dt(2, 8, 45)
    assert visit.occupied_until == local_dt(2, 9)


def test_a_job_may_run_past_its_window_but_never_past_the_working_day(technician, office):
    long_job = ServiceTypeFactory(
        duration=timedelta(hours=3), arrival_window=timedelta(hours=4), buffer_after=timedelta(minutes=30)
    )
    technician.service_types.add(long_job)
    first = book(technician, long_job, office, hour=12)  # 12:00-15:30
    assert first.planned_start == local_dt(2, 12)

    # Another 3.5 hours from 15:30 would end at 19:00, after the 16:00 end of the day.
    with pytest.raises(AppointmentError):
        book(technician, long_job, office, hour=12, require_working_hours=True)
    second_morning = book(technician, long_job, office, hour=8)
    assert second_morning.occupied_until == local_dt(2, 11, 30)


def test_the_office_may_plan_outside_working_hours_and_is_warned(technician, gas_check, office):
    evening = book(technician, gas_check, office, hour=17)

    assert evening.planned_start == local_dt(2, 17)
    assert not within_working_hours(evening)


def test_customers_are_never_planned_outside_working_hours(technician, gas_check, office):
    with pytest.raises(AppointmentError) as refused:
        book(technician, gas_check, office, hour=17, require_working_hours=True)

    assert refused.value.code == "outside_hours"
    assert not Appointment.objects.exists()


def test_expected_duration_per_visit_is_used_for_the_plan(technician, gas_check, office):
    visit = book(technician, gas_check, office, expected_duration=timedelta(hours=2))

    assert visit.expected_duration == timedelta(hours=2)
    assert visit.occupied_until == local_dt(2, 10, 15)
    assert book(technician, gas_check, office).planned_start == local_dt(2, 10, 15)


def test_time_off_inside_a_window_pushes_the_plan_past_it(technician, gas_check, office):
    TimeOff.objects.create(technician=technician, starts_at=local_dt(2, 8), ends_at=local_dt(2, 10), reason="Arzt")

    assert book(technician, gas_check, office).planned_start == local_dt(2, 10)


def test_re_ordering_inside_the_window_changes_only_the_plan(technician, gas_check, office):
    first = book(technician, gas_check, office)
    second = book(technician, gas_check, office)
    mails = OutboxMessage.objects.count()

    moved = appointment_replan(appointment=first, planned_start=local_dt(2, 11), actor=office)

    assert (moved.planned_start, moved.occupied_until) == (local_dt(2, 11), local_dt(2, 12))
    assert (moved.window_start, moved.window_end, moved.version) == (local_dt(2, 8), local_dt(2, 12), 1)
    assert OutboxMessage.objects.count() == mails
    assert JournalEntry.objects.filter(appointment=first, action="appointment.replanned").count() == 1
    # Its old place is free for the second visit.
    assert appointment_replan(appointment=second, planned_start=local_dt(2, 8), actor=office).planned_start == (
        local_dt(2, 8)
    )


def test_re_ordering_onto_another_visit_is_refused_and_changes_nothing(technician, gas_check, office):
    first = book(technician, gas_check, office)
    book(technician, gas_check, office)  # 9:00-10:00

    with pytest.raises(AppointmentError) as refused:
        appointment_replan(appointment=first, planned_start=local_dt(2, 9, 30), actor=office)

    assert refused.value.code == "overlap"
    first.refresh_from_db()
    assert first.planned_start == local_dt(2, 8)


def test_re_ordering_outside_the_window_is_refused(technician, gas_check, office):
    visit = book(technician, gas_check, office)

    with pytest.raises(AppointmentError) as refused:
        appointment_replan(appointment=visit, planned_start=local_dt(2, 12), actor=office)

    assert refused.value.code == "planned_outside_window"


def test_a_board_move_inside_the_window_tells_nobody(technician, gas_check, office):
    visit = book(technician, gas_check, office)

    move = appointment_plan_move(appointment=visit, technician=technician, planned_start=local_dt(2, 10), actor=office)

    assert not move.customer_told
    assert move.appointment.version == 1
    assert not OutboxMessage.objects.filter(appointment=visit, kind="change").exists()


def test_a_board_move_to_another_window_reschedules_and_tells_the_customer(technician, gas_check, office):
    visit = book(technician, gas_check, office)

    move = appointment_plan_move(appointment=visit, technician=technician, planned_start=local_dt(2, 13), actor=office)

    assert move.customer_told
    assert (move.appointment.window_start, move.appointment.window_end) == (local_dt(2, 12), local_dt(2, 16))
    assert move.appointment.planned_start == local_dt(2, 13)
    assert move.appointment.version == 2
    assert OutboxMessage.objects.filter(appointment=visit, kind="change").count() == 1


def test_a_board_move_to_another_technician_is_a_reschedule(technician, gas_check, office):
    colleague = TechnicianFactory(service_types=[gas_check])
    visit = book(technician, gas_check, office)

    move = appointment_plan_move(appointment=visit, technician=colleague, planned_start=local_dt(2, 9), actor=office)

    assert move.customer_told
    assert move.appointment.technician == colleague
    assert (move.appointment.window_start, move.appointment.planned_start) == (local_dt(2, 8), local_dt(2, 9))


def test_a_longer_job_keeps_its_start_when_it_fits(technician, gas_check, office):
    visit = book(technician, gas_check, office)

    longer = appointment_change_duration(appointment=visit, expected_duration=timedelta(hours=2), actor=office)

    assert (longer.planned_start, longer.occupied_until) == (local_dt(2, 8), local_dt(2, 10, 15))
    assert longer.version == 1
    assert JournalEntry.objects.filter(appointment=visit, action="appointment.duration_changed").count() == 1


def test_a_longer_job_moves_later_in_its_window_when_the_next_visit_is_in_the_way(technician, gas_check, office):
    visit = book(technician, gas_check, office)  # 8:00-9:00
    book(technician, gas_check, office)  # 9:00-10:00

    longer = appointment_change_duration(appointment=visit, expected_duration=timedelta(hours=1), actor=office)

    assert (longer.planned_start, longer.occupied_until) == (local_dt(2, 10), local_dt(2, 11, 15))


def test_a_longer_job_that_fits_nowhere_is_refused_with_what_is_in_the_way(technician, gas_check, office):
    visits = [book(technician, gas_check, office) for _ in range(4)]

    with pytest.raises(AppointmentError) as refused:
        appointment_change_duration(appointment=visits[0], expected_duration=timedelta(hours=2), actor=office)

    assert visits[1].customer.full_name in refused.value.message
    visits[0].refresh_from_db()
    assert visits[0].expected_duration == timedelta(minutes=45)


def test_a_duration_of_nothing_or_of_days_is_refused(technician, gas_check, office):
    visit = book(technician, gas_check, office)

    for wrong in (timedelta(0), timedelta(hours=-1), timedelta(hours=13)):
        with pytest.raises(AppointmentError) as refused:
            appointment_change_duration(appointment=visit, expected_duration=wrong, actor=office)
        assert refused.value.code == "duration_range"


def test_availability_offers_a_window_while_a_visit_still_fits(technician, gas_check, office):
    def offered():
        [day] = free_windows(service_type=gas_check, first_day=local_dt(2, 8).date(), last_day=local_dt(2, 8).date())
        return [window.start for window in day.windows]

    for _ in range(3):
        book(technician, gas_check, office)
    assert local_dt(2, 8) in offered()

    book(technician, gas_check, office)
    assert offered() == [local_dt(2, 12)]


def test_a_reschedule_is_planned_at_the_earliest_free_start_of_the_new_window(technician, gas_check, office):
    book(technician, gas_check, office, hour=12)
    visit = book(technician, gas_check, office)

    moved = appointment_reschedule(appointment=visit, window_start=local_dt(2, 12), actor=office)

    assert moved.planned_start == local_dt(2, 13)
    assert moved.status == AppointmentStatus.SCHEDULED


def test_a_visit_being_moved_is_offered_only_windows_its_own_expected_duration_fits(technician, gas_check, office):
    # The office made this gas check a 3-hour job; 13:00-15:00 has room for a 45-minute one only.
    long_job = book(technician, gas_check, office, day=2, expected_duration=timedelta(hours=3))
    book(technician, gas_check, office, day=3, hour=12, planned_start=local_dt(3, 12))
    book(technician, gas_check, office, day=3, hour=12, planned_start=local_dt(3, 15))

    (day,) = free_windows(
        service_type=gas_check, first_day=local_dt(3, 0).date(), last_day=local_dt(3, 0).date(), ignoring=long_job
    )

    assert [(window.start, window.end) for window in day.windows] == [(local_dt(3, 8), local_dt(3, 12))]


def test_confirming_a_request_whose_planned_slot_was_taken_by_time_off_plans_it_later_in_its_window(
    technician, gas_check, office
):
    request = book(technician, gas_check, office, requested=True)
    TimeOff.objects.create(technician=technician, starts_at=local_dt(2, 8), ends_at=local_dt(2, 9), reason="Arzt")

    confirmed = appointment_confirm(appointment=request, actor=office)

    confirmed.refresh_from_db()
    assert confirmed.status == AppointmentStatus.SCHEDULED
    assert (confirmed.window_start, confirmed.planned_start) == (local_dt(2, 8), local_dt(2, 9))
    assert confirmed.occupied_until == local_dt(2, 10)


def test_confirming_a_request_whose_window_has_no_room_left_is_refused_with_what_is_in_the_way(
    technician, gas_check, office
):
    request = book(technician, gas_check, office, requested=True)
    TimeOff.objects.create(technician=technician, starts_at=local_dt(2, 8), ends_at=local_dt(2, 12), reason="Arzt")

    with pytest.raises(AppointmentError) as refused:
        appointment_confirm(appointment=request, actor=office)

    request.refresh_from_db()
    assert refused.value.code == "time_off"
    assert (request.status, request.planned_start) == (AppointmentStatus.REQUESTED, local_dt(2, 8))


@pytest.mark.parametrize("day", [date(2027, 3, 28), date(2027, 10, 31)])
def test_a_night_visit_on_a_dst_day_keeps_its_technician_busy_for_its_real_length(day, office):
    # A boiler emergency across the clock change: the technician works 3h30 and drives 30 minutes,
    # whatever the wall clock says meanwhile.
    emergency = ServiceTypeFactory(arrival_window=timedelta(hours=4))
    technician = TechnicianFactory(service_types=[emergency])

    visit = appointment_schedule(
        customer=CustomerFactory(),
        service_type=emergency,
        technician=technician,
        window_start=timezone.make_aware(datetime.combine(day, time(0))),
        planned_start=timezone.make_aware(datetime.combine(day, time(1))),
        actor=office,
    )

    visit.refresh_from_db()
    assert visit.occupied_until - visit.planned_start == timedelta(hours=4)


def test_a_visit_planned_at_the_start_of_working_hours_on_a_dst_night_is_busy_for_its_real_length(office):
    day = date(2027, 3, 28)
    emergency = ServiceTypeFactory(arrival_window=timedelta(hours=4))
    technician = TechnicianFactory(service_types=[emergency], weekdays=False)
    WorkingPeriod.objects.create(technician=technician, weekday=day.weekday(), starts=time(1), ends=time(23))

    visit = appointment_schedule(
        customer=CustomerFactory(),
        service_type=emergency,
        technician=technician,
        window_start=timezone.make_aware(datetime.combine(day, time(0))),
        actor=office,
    )

    visit.refresh_from_db()
    assert visit.planned_start == timezone.make_aware(datetime.combine(day, time(1)))
    assert visit.occupied_until - visit.planned_start == timedelta(hours=4)


def test_a_visit_waiting_for_a_new_time_can_be_put_back_into_its_window_on_the_board(technician, gas_check, office):
    # The technician was ill, the office asked the customer for a new time; now he is back after all.
    visit = book(technician, gas_check, office)
    visit = appointment_request_new_time(appointment=visit, actor=office, reason="Techniker krank")

    move = appointment_plan_move(appointment=visit, technician=technician, planned_start=local_dt(2, 9), actor=office)

    visit.refresh_from_db()
    assert move.customer_told
    assert (visit.status, visit.window_start, visit.planned_start) == (
        AppointmentStatus.SCHEDULED,
        local_dt(2, 8),
        local_dt(2, 9),
    )


def test_the_office_may_book_a_visit_waiting_for_a_new_time_back_into_its_own_window(technician, gas_check, office):
    visit = book(technician, gas_check, office)
    visit = appointment_request_new_time(appointment=visit, actor=office, reason="Techniker krank")

    moved = appointment_reschedule(appointment=visit, window_start=visit.window_start, actor=office)

    assert (moved.status, moved.window_start, moved.version) == (AppointmentStatus.SCHEDULED, local_dt(2, 8), 2)


@pytest.mark.parametrize("seed", range(40))
def test_a_day_searched_at_once_gives_each_window_the_start_a_search_of_its_own_gives(seed):
    # Minutes of one day: working periods with a break, busy stretches anywhere (some across a period's end,
    # some touching), windows of the service's length; a window may run past the working day.
    rng = random.Random(seed)
    morning_end = rng.randrange(600, 780, 15)
    periods = [
        (rng.randrange(420, 540, 15), morning_end),
        (morning_end + rng.choice([0, 30]), rng.randrange(900, 1080, 15)),
    ]
    busy = Busy(
        (start, start + rng.randrange(15, 180, 15))
        for start in (rng.randrange(360, 1080, 5) for _ in range(rng.randrange(0, 12)))
    )
    length = rng.choice([60, 120, 240])
    windows = [(start, start + length) for start in range(420, 1140 - length + 1, length)]
    needed = rng.choice([30, 60, 75, 120, 300])

    fits = first_fits(windows=windows, needed=needed, periods=periods, busy=busy)

    assert fits == [
        first_fit(window_start=start, window_end=end, needed=needed, periods=periods, busy=busy)
        for start, end in windows
    ]


def test_periods_out_of_order_are_searched_window_by_window():
    periods = [(600, 720), (480, 540)]
    busy = Busy([])

    assert first_fits(windows=[(480, 720)], needed=30, periods=periods, busy=busy) == [600]
