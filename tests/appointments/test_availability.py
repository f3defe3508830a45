from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from appointments.availability import booking_days, free_windows
from appointments.models import TimeOff, WorkingPeriod
from tests.factories import AppointmentFactory, ServiceTypeFactory, TechnicianFactory

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 6, 8)


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


@pytest.fixture
def service_type():
    return ServiceTypeFactory(
        duration=timedelta(hours=1), arrival_window=timedelta(hours=4), buffer_after=timedelta(minutes=30)
    )


@pytest.fixture
def technician(service_type):
    technician = TechnicianFactory(service_types=[service_type], weekdays=False)
    for weekday in range(5):
        WorkingPeriod.objects.create(technician=technician, weekday=weekday, starts=time(7, 30), ends=time(12, 0))
        WorkingPeriod.objects.create(technician=technician, weekday=weekday, starts=time(12, 30), ends=time(16, 30))
    return technician


def windows_on(day, service_type, technician=None):
    [offered] = free_windows(service_type=service_type, technician=technician, first_day=day, last_day=day)
    return [
        (window.start.astimezone(BERLIN).strftime("%H:%M"), window.end.astimezone(BERLIN).strftime("%H:%M"))
        for window in offered.windows
    ]


def test_a_working_day_offers_morning_and_afternoon(service_type, technician):
    assert windows_on(MONDAY, service_type) == [("08:00", "12:00"), ("12:00", "16:00")]


def test_weekends_without_working_hours_offer_nothing(service_type, technician):
    assert windows_on(MONDAY + timedelta(days=5), service_type) == []


def test_a_window_with_room_for_another_visit_is_still_offered(service_type, technician):
    AppointmentFactory(technician=technician, service_type=service_type, window_start=at(MONDAY, 8))  # 8:00-9:30

    assert windows_on(MONDAY, service_type) == [("08:00", "12:00"), ("12:00", "16:00")]


def test_a_full_window_is_not_offered_again(service_type, technician):
    # 8:00-9:30 and 9:30-11:00: a third visit would run past the morning period's 12:00.
    AppointmentFactory(technician=technician, service_type=service_type, window_start=at(MONDAY, 8))
    AppointmentFactory(
        technician=technician, service_type=service_type, window_start=at(MONDAY, 8), planned_start=at(MONDAY, 9, 30)
    )

    assert windows_on(MONDAY, service_type) == [("12:00", "16:00")]


def test_a_job_running_into_the_next_window_blocks_it(service_type, technician):
    long_job = ServiceTypeFactory(
        duration=timedelta(hours=7), arrival_window=timedelta(hours=2), buffer_after=timedelta(minutes=30)
    )
    technician.service_types.add(long_job)
    # Busy until 15:30: a 90-minute visit from then would end after the working day's 16:30.
    AppointmentFactory(technician=technician, service_type=long_job, window_start=at(MONDAY, 8))

    assert windows_on(MONDAY, service_type) == []


def test_time_off_removes_the_windows_it_touches(service_type, technician):
    TimeOff.objects.create(technician=technician, starts_at=at(MONDAY, 12), ends_at=at(MONDAY, 17), reason="Arzt")

    assert windows_on(MONDAY, service_type) == [("08:00", "12:00")]


def test_time_off_ending_half_a_second_after_the_last_start_still_blocks_it(service_type, technician):
    # The visit needs 1.5 h: from 15:00:00.5 it would end half a second after the 16:30 end of the day.
    TimeOff.objects.create(
        technician=technician,
        starts_at=at(MONDAY, 12, 30),
        ends_at=at(MONDAY, 15) + timedelta(milliseconds=500),
        reason="Arzt",
    )

    assert windows_on(MONDAY, service_type) == [("08:00", "12:00")]


def test_time_off_starting_half_a_second_before_a_visit_would_end_blocks_it(service_type, technician):
    # From 9:29:59.5 the morning has no 1.5 h left in it: a visit at 8:00 would meet the time off.
    TimeOff.objects.create(
        technician=technician,
        starts_at=at(MONDAY, 9, 30) - timedelta(milliseconds=500),
        ends_at=at(MONDAY, 12),
        reason="Arzt",
    )

    assert windows_on(MONDAY, service_type) == [("12:00", "16:00")]


def test_a_visit_that_cannot_finish_in_working_hours_is_not_offered(technician):
    long_job = ServiceTypeFactory(duration=timedelta(hours=5), arrival_window=timedelta(hours=2))
    technician.service_types.add(long_job)

    # Periods are 07:30–12:00 and 12:30–16:30: five hours plus buffer fit in neither.
    assert windows_on(MONDAY, long_job) == []


def test_buffer_counts_towards_fitting_the_visit(technician):
    tight = ServiceTypeFactory(
        duration=timedelta(hours=4), arrival_window=timedelta(hours=2), buffer_after=timedelta(minutes=0)
    )
    with_buffer = ServiceTypeFactory(
        duration=timedelta(hours=4), arrival_window=timedelta(hours=2), buffer_after=timedelta(minutes=30)
    )
    technician.service_types.add(tight, with_buffer)

    assert ("08:00", "10:00") in windows_on(MONDAY, tight)
    assert ("12:00", "14:00") in windows_on(MONDAY, tight)  # arrive 12:30, done 16:30
    assert ("12:00", "14:00") not in windows_on(MONDAY, with_buffer)


def test_minimum_notice_and_horizon(settings):
    settings.BOOKING_MIN_NOTICE_DAYS = 1
    settings.BOOKING_HORIZON_WEEKS = 6
    with time_machine.travel(at(MONDAY, 15), tick=False):
        first, last = booking_days()

    assert first == MONDAY + timedelta(days=1)
    assert last == MONDAY + timedelta(weeks=6)


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25)])
def test_dst_days_keep_their_wall_clock_windows(day, service_type):
    technician = TechnicianFactory(service_types=[service_type], weekdays=False)
    WorkingPeriod.objects.create(technician=technician, weekday=day.weekday(), starts=time(0, 0), ends=time(23, 59))
    service_type.arrival_window = timedelta(hours=2)
    service_type.save()

    windows = windows_on(day, service_type)

    assert windows == [
        ("08:00", "10:00"),
        ("10:00", "12:00"),
        ("12:00", "14:00"),
        ("14:00", "16:00"),
        ("16:00", "18:00"),
    ]
    [offered] = free_windows(service_type=service_type, first_day=day, last_day=day)
    assert all(window.end - window.start == timedelta(hours=2) for window in offered.windows)
    assert len({window.start for window in offered.windows}) == len(offered.windows)


def test_any_technician_merges_windows_and_names_who_is_free(service_type, technician):
    colleague = TechnicianFactory(service_types=[service_type])
    AppointmentFactory(technician=technician, service_type=service_type, window_start=at(MONDAY, 8))
    AppointmentFactory(
        technician=technician, service_type=service_type, window_start=at(MONDAY, 8), planned_start=at(MONDAY, 9, 30)
    )

    [offered] = free_windows(service_type=service_type, first_day=MONDAY, last_day=MONDAY)

    by_start = {window.start.astimezone(BERLIN).hour: set(window.technician_ids) for window in offered.windows}
    assert by_start[8] == {colleague.pk}
    assert by_start[12] == {technician.pk, colleague.pk}


def test_technicians_who_do_not_do_the_service_are_not_offered(service_type):
    TechnicianFactory(service_types=[])

    assert windows_on(MONDAY, service_type) == []


def test_query_count_for_six_weeks_does_not_depend_on_appointments(
    service_type, technician, django_assert_max_num_queries
):
    colleague = TechnicianFactory(service_types=[service_type])
    for offset in range(40):
        AppointmentFactory(
            technician=colleague, service_type=service_type, window_start=at(MONDAY + timedelta(days=offset), 8)
        )

    # Technicians, their working periods, appointments, time off; the firm's region and its closures.
    with django_assert_max_num_queries(6):
        days = free_windows(service_type=service_type, first_day=MONDAY, last_day=MONDAY + timedelta(weeks=6))

    assert len(days) == 43


def test_a_visit_being_moved_does_not_block_its_own_new_window():
    long_job = ServiceTypeFactory(
        duration=timedelta(hours=3), arrival_window=timedelta(hours=2), buffer_after=timedelta(minutes=30)
    )
    technician = TechnicianFactory(service_types=[long_job], weekdays=False)
    WorkingPeriod.objects.create(technician=technician, weekday=MONDAY.weekday(), starts=time(7), ends=time(19))
    # Planned 10:00-13:30: nothing else starts in the 10-12 window.
    visit = AppointmentFactory(technician=technician, service_type=long_job, window_start=at(MONDAY, 10))

    [blocked] = free_windows(service_type=long_job, first_day=MONDAY, last_day=MONDAY)
    [moving] = free_windows(service_type=long_job, first_day=MONDAY, last_day=MONDAY, ignoring=visit)

    assert at(MONDAY, 10) not in [window.start for window in blocked.windows]
    assert at(MONDAY, 10) in [window.start for window in moving.windows]
