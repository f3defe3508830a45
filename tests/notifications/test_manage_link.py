"""The "change or cancel online" block of a mail tells the truth about the cut-off when it is sent."""

from datetime import timedelta

import pytest
import time_machine

from appointments.services import appointment_schedule
from appointments.services.booking import appointment_request_new_time
from notifications.models import MessageKind, OutboxMessage
from notifications.rendering import render_message
from notifications.services import message_queue
from tests.factories import local_dt

pytestmark = pytest.mark.django_db


@pytest.fixture
def appointment(customer, service_type, technician, office):
    return appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(3, 8), actor=office
    )


def bodies(mail):
    return mail.body, mail.alternatives[0][0]


def test_the_reminder_names_the_last_moment_to_change_online(appointment):
    message_queue(kind=MessageKind.REMINDER, appointment=appointment)

    # The day-before reminder at 18:00, two hours before the cut-off of an 08:00 visit.
    with time_machine.travel(appointment.window_start - timedelta(hours=14), tick=False):
        mail = render_message(OutboxMessage.objects.get(kind=MessageKind.REMINDER))

    for body in bodies(mail):
        assert "/booking/l/" in body
        assert "20:00" in body and "Sandra Brinkmann" in body  # "online bis …, 20:00; danach rufen Sie … an"


@pytest.mark.parametrize("language", ["de", "nl", "en"])
def test_a_mail_sent_after_the_cutoff_gives_the_phone_instead_of_a_link_that_no_longer_works(appointment, language):
    appointment.customer.preferred_language = language
    appointment.customer.save()
    message_queue(kind=MessageKind.REMINDER, appointment=appointment)

    with time_machine.travel(appointment.window_start - timedelta(hours=2), tick=False):
        mail = render_message(OutboxMessage.objects.get(kind=MessageKind.REMINDER))

    words = {"de": "nicht mehr online", "nl": "niet meer online", "en": "no longer be changed online"}[language]
    for body in bodies(mail):
        assert "/booking/l/" not in body
        assert words in body and "+49 2821 123456" in body


def test_a_request_to_choose_a_new_time_keeps_its_link_after_the_cutoff(appointment, office):
    with time_machine.travel(appointment.window_start - timedelta(hours=2), tick=False):
        appointment_request_new_time(appointment=appointment, actor=office, reason="Our technician is ill that day.")
        mail = render_message(OutboxMessage.objects.get(kind=MessageKind.RESCHEDULE_REQUEST))

    for body in bodies(mail):
        assert "/booking/l/" in body
