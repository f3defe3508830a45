from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from appointments.models import Closure
from desk.working_time import (
    add_working_time,
    office_day_length,
    office_quarter_at_or_after,
    office_quarter_at_or_before,
    working_time_between,
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


# Monday 30 November 2026 to Friday 4 December; 5 and 6 December are a weekend.
MONDAY = date(2026, 11, 30)
FRIDAY = date(2026, 12, 4)
NEXT_MONDAY = date(2026, 12, 7)


def test_one_working_day_from_friday_afternoon_is_monday_afternoon(db):
    assert add_working_time(at(FRIDAY, 16, 30), office_day_length()) == at(NEXT_MONDAY, 16, 30)


def test_time_counted_from_a_saturday_starts_when_the_office_opens_on_monday(db):
    assert add_working_time(at(date(2026, 12, 5), 11), timedelta(hours=2)) == at(NEXT_MONDAY, 10)


def test_a_closure_of_the_firm_does_not_count(db):
    Closure.objects.create(first_day=NEXT_MONDAY, last_day=NEXT_MONDAY, reason="Training")
    assert add_working_time(at(FRIDAY, 16), timedelta(hours=2)) == at(date(2026, 12, 8), 9)


@pytest.mark.public_holidays
def test_christmas_does_not_count(db):
    assert add_working_time(at(date(2026, 12, 24), 16), timedelta(hours=2)) == at(date(2026, 12, 28), 9)


def test_office_time_between_counts_only_office_hours(db):
    assert working_time_between(at(FRIDAY, 16), at(NEXT_MONDAY, 9)) == timedelta(hours=2)
    assert working_time_between(at(MONDAY, 9), at(MONDAY, 8)) == timedelta(0)


def test_the_office_hours_setting_decides_what_counts(db, settings):
    settings.OFFICE_HOURS = ["07:00-12:00"] * 5 + ["09:00-12:00", ""]
    assert office_day_length() == timedelta(hours=5)
    assert add_working_time(at(FRIDAY, 11), timedelta(hours=2)) == at(date(2026, 12, 5), 10)


def test_the_next_office_quarter_hour_is_in_office_hours_never_at_closing_time(db):
    assert office_quarter_at_or_after(at(MONDAY, 10, 1)) == at(MONDAY, 10, 15)
    assert office_quarter_at_or_after(at(MONDAY, 10, 15)) == at(MONDAY, 10, 15)
    assert office_quarter_at_or_after(at(MONDAY, 7, 29)) == at(MONDAY, 8)
    assert office_quarter_at_or_after(at(MONDAY, 16, 50)) == at(date(2026, 12, 1), 8)
    assert office_quarter_at_or_after(at(FRIDAY, 19, 29)) == at(NEXT_MONDAY, 8)


def test_the_last_office_quarter_hour_is_in_office_hours_never_at_closing_time(db):
    assert office_quarter_at_or_before(at(MONDAY, 10, 14)) == at(MONDAY, 10)
    assert office_quarter_at_or_before(at(MONDAY, 19, 29)) == at(MONDAY, 16, 45)
    assert office_quarter_at_or_before(at(NEXT_MONDAY, 7, 29)) == at(FRIDAY, 16, 45)
