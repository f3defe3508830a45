"""Querysets whose SQL is built once per process (issue #11): each run gives what the queryset would give."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import Appointment
from appointments.prebuilt import PrebuiltQuery
from tests.factories import AppointmentFactory, TechnicianFactory

pytestmark = pytest.mark.django_db


class Counted:
    """A queryset builder that counts how often the ORM had to build it."""

    def __init__(self, build):
        self.build, self.calls = build, 0

    def __call__(self, **values):
        self.calls += 1
        return self.build(**values)


def test_a_prebuilt_read_gives_each_row_with_its_related_rows_and_builds_the_sql_once():
    first, second = AppointmentFactory(), AppointmentFactory()
    build = Counted(lambda *, pk: Appointment.objects.select_related("customer", "technician__user").filter(pk=pk))
    read = PrebuiltQuery(Appointment, build)

    assert read.first(pk=first.pk) == first
    with CaptureQueriesContext(connection) as queries:
        found = read.first(pk=second.pk)
        assert (found.customer, found.technician.user) == (second.customer, second.technician.user)
    assert len(queries) == 1
    assert read.first(pk=second.pk + 1000) is None
    assert build.calls == 1


def test_each_run_asks_the_database():
    appointment = AppointmentFactory()
    read = PrebuiltQuery(Appointment, lambda *, pk: Appointment.objects.filter(pk=pk))
    assert read.first(pk=appointment.pk).status == "scheduled"

    Appointment.objects.filter(pk=appointment.pk).update(status="cancelled")

    assert read.first(pk=appointment.pk).status == "cancelled"


def test_lists_datetimes_and_none_are_put_in_per_shape():
    jan, piet = TechnicianFactory(), TechnicianFactory()
    early = AppointmentFactory(technician=jan)
    late = AppointmentFactory(technician=piet, window_start=early.window_start + timedelta(days=3))
    unplanned = AppointmentFactory(
        technician=None, status="requested", window_start=early.window_start + timedelta(days=1)
    )
    build = Counted(
        lambda *, technician_ids, technician_id, after: (
            Appointment.objects.order_by()
            .filter(technician_id__in=technician_ids, window_start__gte=after)
            .union(Appointment.objects.order_by().filter(technician_id=technician_id, window_start__gte=after))
        )
    )
    read = PrebuiltQuery(Appointment, build)

    def pks(**values):
        return sorted(appointment.pk for appointment in read(**values))

    assert pks(technician_ids=[jan.pk, piet.pk], technician_id=None, after=early.window_start) == sorted(
        [early.pk, late.pk, unplanned.pk]
    )
    assert pks(technician_ids=[piet.pk, jan.pk], technician_id=None, after=late.window_start) == [late.pk]
    assert build.calls == 1
    # Another length of list, or None where there was an id: another SQL, each built once.
    assert pks(technician_ids=[jan.pk], technician_id=piet.pk, after=early.window_start) == sorted([early.pk, late.pk])
    assert pks(technician_ids=[piet.pk], technician_id=jan.pk, after=early.window_start) == sorted([early.pk, late.pk])
    assert build.calls == 2


def test_driver_rows_are_the_values_as_the_database_returns_them():
    appointment = AppointmentFactory()
    read = PrebuiltQuery(Appointment, lambda *, pk: Appointment.objects.filter(pk=pk).values_list("pk", "version"))

    assert read.driver_rows(pk=appointment.pk) == [(appointment.pk, appointment.version)]
    assert read(pk=appointment.pk) == [(appointment.pk, appointment.version)]


def test_a_value_the_orm_changes_on_the_way_is_built_each_time_and_still_right():
    appointment = AppointmentFactory()
    # The stand-in never reaches the SQL as it is (pk + 1): running that SQL would find nothing, or a stranger.
    build = Counted(lambda *, pk: Appointment.objects.filter(pk=pk + 1))
    read = PrebuiltQuery(Appointment, build)

    assert read.first(pk=appointment.pk - 1) == appointment
    assert read.first(pk=appointment.pk - 1) == appointment
    assert build.calls == 3  # once to try, then each run


def test_an_empty_list_needs_no_sql():
    AppointmentFactory()
    read = PrebuiltQuery(Appointment, lambda *, pks: Appointment.objects.filter(pk__in=pks))

    with CaptureQueriesContext(connection) as queries:
        assert read(pks=[]) == []
        assert read.driver_rows(pks=[]) == []
    assert len(queries) == 0
