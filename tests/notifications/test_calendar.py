"""The .ics files, read back by a second, independent parser (vobject)."""

import email
import email.policy

import pytest
import vobject
from django.utils import timezone

from appointments.services import appointment_cancel, appointment_reschedule, appointment_schedule
from notifications.models import MessageKind, OutboxMessage
from notifications.rendering import render_message
from tests.factories import local_dt

pytestmark = pytest.mark.django_db


def calendar_of(message):
    parsed = email.message_from_bytes(render_message(message).message().as_bytes(), policy=email.policy.default)
    part = next(part for part in parsed.walk() if part.get_content_type() == "text/calendar")
    return part.get_param("method"), vobject.readOne(part.get_payload(decode=True).decode())


def test_create_change_cancel_share_one_uid_with_rising_sequence(customer, service_type, technician, office):
    appointment = appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(3, 8), actor=office
    )
    calendars = [calendar_of(OutboxMessage.objects.get(kind=MessageKind.CONFIRMATION))]
    appointment_reschedule(appointment=appointment, window_start=local_dt(4, 12), actor=office)
    calendars.append(calendar_of(OutboxMessage.objects.get(kind=MessageKind.CHANGE)))
    appointment_cancel(appointment=appointment, reason="Kunde verreist", actor=office)
    calendars.append(calendar_of(OutboxMessage.objects.get(kind=MessageKind.CANCELLATION)))

    uids = {calendar.vevent.uid.value for _method, calendar in calendars}
    sequences = [int(calendar.vevent.sequence.value) for _method, calendar in calendars]
    methods = [(mime_method, calendar.method.value) for mime_method, calendar in calendars]
    assert uids == {f"appointment-{appointment.pk}@localhost"}
    assert sequences == [1, 2, 3]
    assert methods == [("REQUEST", "REQUEST"), ("REQUEST", "REQUEST"), ("CANCEL", "CANCEL")]


def test_event_has_stamp_end_timezone_and_no_organizer_or_link(customer, service_type, technician, office):
    appointment = appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(3, 8), actor=office
    )

    _method, calendar = calendar_of(OutboxMessage.objects.get(appointment=appointment))
    event = calendar.vevent

    assert event.dtstamp.value is not None
    assert event.dtstart.value == appointment.window_start
    assert event.dtend.value == appointment.window_end
    assert event.dtstart.value.utcoffset() == timezone.localtime(appointment.window_start).utcoffset()
    assert "DTSTART;TZID=Europe/Berlin:" in calendar.serialize()
    assert calendar.vtimezone.tzid.value == "Europe/Berlin"
    assert not hasattr(event, "organizer")
    assert "http" not in event.description.value
    assert "Jan Verhaag" in event.description.value
