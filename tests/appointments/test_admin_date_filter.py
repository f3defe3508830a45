"""The appointment list's date filter: the days the office plans by, each one indexed range of window_start."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appointments.models import AppointmentStatus
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db
LIST = reverse("admin:appointments_appointment_changelist")
# A Wednesday in winter time; its week runs from Monday 30 November to Sunday 6 December 2026.
WEDNESDAY = datetime(2026, 12, 2, 10, 0)


def at(day_offset: int, hour: int = 8) -> datetime:
    day = WEDNESDAY.date() + timedelta(days=day_offset)
    return timezone.make_aware(datetime.combine(day, time(hour)))


def listed(client, **params) -> set[str]:
    response = client.get(LIST, params)
    assert response.status_code == 200
    return {appointment.notes for appointment in response.context["cl"].queryset}


@pytest.fixture
def diary(db):
    with time_machine.travel(timezone.make_aware(WEDNESDAY), tick=False):
        for name, offset in [
            ("last week", -7),
            ("monday", -2),
            ("yesterday", -1),
            ("today", 0),
            ("tomorrow", 1),
            ("sunday", 4),
            ("next monday", 5),
            ("next sunday", 11),
            ("in three weeks", 21),
        ]:
            past = offset < 0
            AppointmentFactory(
                window_start=at(offset),
                notes=name,
                status=AppointmentStatus.COMPLETED if past else AppointmentStatus.SCHEDULED,
            )
        yield


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("today", {"today"}),
        ("tomorrow", {"tomorrow"}),
        ("this-week", {"monday", "yesterday", "today", "tomorrow", "sunday"}),
        ("next-week", {"next monday", "next sunday"}),
        ("upcoming", {"today", "tomorrow", "sunday", "next monday", "next sunday", "in three weeks"}),
        ("past", {"last week", "monday", "yesterday"}),
        ("2026-12-07", {"next monday"}),
    ],
)
def test_the_date_filter_lists_the_visits_of_the_chosen_days(admin_client_office, diary, choice, expected):
    with time_machine.travel(timezone.make_aware(WEDNESDAY), tick=False):
        assert listed(admin_client_office, day=choice) == expected


def test_a_single_days_link_shows_the_day_as_the_chosen_filter(admin_client_office, diary):
    with time_machine.travel(timezone.make_aware(WEDNESDAY), tick=False):
        page = admin_client_office.get(LIST, {"day": "2026-12-07"}).content.decode()

    assert 'class="selected"' in page and "07.12.2026" in page


def test_the_list_converts_no_rows_time_zone_and_costs_the_same_queries_at_any_size(admin_client_office):
    # Django's date hierarchy listed the years by converting every row's window to the firm's zone
    # (a Python function per row on SQLite): 600-800 ms at 100,000 visits.
    def queries_of_the_list() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client_office.get(LIST).status_code == 200
        return [query["sql"] for query in captured.captured_queries]

    AppointmentFactory(window_start=at(-400))
    one = queries_of_the_list()
    for offset in range(-800, 400, 40):
        AppointmentFactory(window_start=at(offset))
    many = queries_of_the_list()

    assert len(one) == len(many)
    per_row_functions = ("django_datetime_trunc", "django_datetime_cast", "DATE_TRUNC", "AT TIME ZONE")
    assert [sql for sql in many if any(function in sql for function in per_row_functions)] == []


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "2026-02-30", "next tuesday", "2026-12-07T08:00"])
def test_a_day_the_list_cannot_show_lists_every_visit_and_says_why(admin_client_office, diary, day):
    with time_machine.travel(timezone.make_aware(WEDNESDAY), tick=False):
        response = admin_client_office.get(LIST, {"day": day})

    assert response.status_code == 200
    assert len(response.context["cl"].queryset) == 9
    assert [str(message) for message in response.context["messages"]] == [
        f"„{day}“ ist kein Tag, den die Liste zeigen kann (bitte als JJJJ-MM-TT). Es werden alle Termine gezeigt."
    ]
