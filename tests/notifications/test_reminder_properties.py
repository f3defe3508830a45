"""Whatever the office does in whatever order, reminders are never stale, never doubled, and not left unsent."""

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone, translation
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from appointments.formatting import format_window
from appointments.models import Appointment, AppointmentStatus
from appointments.services import AppointmentError, appointment_cancel, appointment_reschedule, appointment_schedule
from notifications.models import MessageKind, MessageStatus, OutboxMessage
from notifications.services import message_deliver, reminder_due_at, reminders_sweep
from tests.factories import local_dt

START = datetime(2026, 3, 25, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # the run crosses the 29 March change

schedule = st.tuples(st.just("schedule"), st.integers(0, 3), st.sampled_from([8, 12]))
reschedule = st.tuples(st.just("reschedule"), st.integers(0, 4), st.integers(0, 3), st.sampled_from([8, 12]))
cancel = st.tuples(st.just("cancel"), st.integers(0, 4))
time_passes = st.tuples(st.just("time_passes"), st.integers(1, 30))
# The worker runs separately from the sweep: a queued reminder may wait while the office changes the visit.
worker_runs = st.tuples(st.just("worker_runs"), st.integers(1, 5))
operations = st.lists(st.one_of(schedule, reschedule, cancel, time_passes, worker_runs), min_size=1, max_size=30)


class Rollback(Exception):
    pass


def deliver_queued(sent_reminders, limit=None):
    for message in OutboxMessage.objects.filter(status=MessageStatus.QUEUED).order_by("pk")[:limit]:
        if message_deliver(message_id=message.pk) != MessageStatus.SENT or message.kind != MessageKind.REMINDER:
            continue
        appointment = Appointment.objects.get(pk=message.appointment_id)
        # At the moment it went out, the reminder described the visit as it then was.
        assert appointment.status == AppointmentStatus.SCHEDULED
        assert appointment.version == message.appointment_version
        assert appointment.window_start > timezone.now()
        with translation.override(message.language):
            assert format_window(appointment.window_start, appointment.window_end) in mail.outbox[-1].subject
        sent_reminders.append((appointment.pk, message.appointment_version))


def due_and_current(now) -> set[tuple[int, int]]:
    """(visit, version) of every scheduled visit still ahead whose reminder is due and was booked before it was."""
    due = set()
    for appointment in Appointment.objects.filter(status=AppointmentStatus.SCHEDULED, window_start__gt=now):
        # The policy itself is tested on its own (test_reminders.py, DST dates included).
        due_at = reminder_due_at(appointment.window_start)
        if due_at <= now and appointment.scheduled_at <= due_at:
            due.add((appointment.pk, appointment.version))
    return due


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
# The two races that bit other schedulers: a reminder already queued when the visit moves or is cancelled.
@example(
    steps=[("schedule", 1, 8), ("time_passes", 30), ("time_passes", 4), ("reschedule", 0, 3, 12), ("worker_runs", 5)]
)
@example(steps=[("schedule", 1, 8), ("time_passes", 34), ("cancel", 0), ("worker_runs", 5)])
def test_reminders_are_never_stale_at_most_one_per_version_and_sent_when_due(
    steps, customer, service_type, technician, office
):
    mail.outbox = []
    sent_reminders: list[tuple[int, int]] = []
    try:
        with time_machine.travel(START, tick=False) as clock, transaction.atomic():
            booked: list[Appointment] = []
            for step in steps:
                try:
                    if step[0] == "schedule":
                        _, day, hour = step
                        start = local_dt(day + 1, hour)
                        booked.append(
                            appointment_schedule(
                                customer=customer,
                                service_type=service_type,
                                technician=technician,
                                window_start=start,
                                actor=office,
                            )
                        )
                    elif step[0] == "reschedule" and booked:
                        _, index, day, hour = step
                        start = local_dt(day + 1, hour)
                        appointment_reschedule(
                            appointment=booked[index % len(booked)], window_start=start, actor=office
                        )
                    elif step[0] == "cancel" and booked:
                        appointment_cancel(appointment=booked[step[1] % len(booked)], reason="Test", actor=office)
                    elif step[0] == "time_passes":
                        clock.shift(timedelta(hours=step[1]))
                        reminders_sweep()
                    elif step[0] == "worker_runs":
                        deliver_queued(sent_reminders, limit=step[1])
                except AppointmentError:
                    continue
            # Liveness: what the sweep found due, the worker sends, for the visit as it is now.
            reminders_sweep()
            deliver_queued(sent_reminders)
            assert due_and_current(timezone.now()) <= set(sent_reminders)
            clock.shift(timedelta(days=9))
            reminders_sweep()
            deliver_queued(sent_reminders)
            raise Rollback
    except Rollback:
        pass

    assert max(Counter(sent_reminders).values(), default=0) <= 1
