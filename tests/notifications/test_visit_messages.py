"""The two mails sent from the doorstep: "on my way" and "we were at your door"."""

import email
import email.policy
from datetime import UTC
from urllib.parse import urlsplit

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from appointments.formatting import format_day
from appointments.models import AppointmentStatus
from appointments.services import (
    appointment_reschedule,
    appointment_schedule,
    visit_arrive,
    visit_mark_missed,
    visit_start_trip,
)
from notifications.models import MessageKind, MessageStatus, OutboxMessage
from notifications.rendering import render_message
from notifications.services import message_deliver
from tests.factories import CustomerFactory, TechnicianFactory, local_dt

pytestmark = pytest.mark.django_db

GREETING = {"de": "Guten Tag", "nl": "Beste", "en": "Hello"}


def visit_day() -> int:
    """Days from today to the next working day (Mon–Fri) at least one day ahead."""
    offset = 1
    while local_dt(offset, 8).weekday() >= 5:
        offset += 1
    return offset


@pytest.fixture
def day():
    return visit_day()


@pytest.fixture
def book(customer, service_type, technician, office, day):
    def book(**kwargs):
        return appointment_schedule(
            customer=kwargs.pop("customer", customer),
            service_type=service_type,
            technician=kwargs.pop("technician", technician),
            window_start=local_dt(day, 8),
            actor=office,
        )

    return book


def at_local(day, hour, minute):
    """Freeze the clock at a local wall-clock time on the visit day."""
    return time_machine.travel(local_dt(day, hour, minute), tick=False)


def start_trip(appointment, office, day, *, eta=(10, 15)):
    expected_arrival = local_dt(day, *eta) if eta else None  # before travelling: local_dt counts from today
    with at_local(day, 9, 40):
        return visit_start_trip(appointment=appointment, actor=office, expected_arrival=expected_arrival)


def mark_missed(appointment, office, day, *, card_left=True, waited_minutes=10):
    with at_local(day, 10, 2):
        return visit_mark_missed(
            appointment=appointment, actor=office, waited_minutes=waited_minutes, card_left=card_left
        )


def deliver(message, day, hour, minute):
    """The worker's turn, a minute or so after the message was queued on the visit day."""
    with at_local(day, hour, minute):
        return message_deliver(message_id=message.pk)


def html_of(mail):
    return mail.alternatives[0][0]


def has_calendar_part(mail):
    parsed = email.message_from_bytes(mail.message().as_bytes(), policy=email.policy.default)
    return any(part.get_content_type() == "text/calendar" for part in parsed.walk())


# On my way ---------------------------------------------------------------------


def test_trip_with_an_eta_sends_one_on_my_way_mail_with_the_time(book, office, firm, day, mailoutbox):
    appointment = start_trip(book(), office, day, eta=(10, 15))

    message = OutboxMessage.objects.get(kind=MessageKind.ON_MY_WAY)
    assert message.appointment_id == appointment.pk
    assert deliver(message, day, 9, 41) == MessageStatus.SENT

    mail = mailoutbox[-1]
    assert "10:15" in mail.subject
    assert "Jan Verhaag" in mail.subject
    assert not has_calendar_part(mail)
    for body in (mail.body, html_of(mail)):
        assert "Jan Verhaag" in body
        assert "Haustechnik Test GmbH" in body
        assert "10:15" in body
        assert "Sandra Brinkmann" in body
        assert "+49 2821 123456" in body  # the responsible person's direct line
        assert "s.brinkmann@firm.example" in body
        assert "Heizungswartung" in body
        # The visit is under way: no link to change or cancel it.
        assert "/booking/l/" not in body


def test_trip_without_an_eta_names_the_window(book, office, firm, day, mailoutbox, customer):
    customer.preferred_language = "en"
    customer.save()
    start_trip(book(), office, day, eta=None)

    message = OutboxMessage.objects.get(kind=MessageKind.ON_MY_WAY)
    assert deliver(message, day, 9, 41) == MessageStatus.SENT

    mail = mailoutbox[-1]
    assert "08:00–12:00" in mail.subject
    for body in (mail.body, html_of(mail)):
        assert "Jan Verhaag from Haustechnik Test GmbH is on the way to you" in body
        assert "within your window" in body
        assert "08:00–12:00" in body
        assert "Sandra Brinkmann" in body
        assert "around" not in body


def test_on_my_way_is_not_sent_once_the_technician_has_arrived(book, office, firm, day, mailoutbox):
    appointment = start_trip(book(), office, day)
    with at_local(day, 10, 10):
        visit_arrive(appointment=appointment, actor=office)

    message = OutboxMessage.objects.get(kind=MessageKind.ON_MY_WAY)
    assert deliver(message, day, 10, 11) == MessageStatus.SUPERSEDED

    message.refresh_from_db()
    assert message.status == MessageStatus.SUPERSEDED
    assert AppointmentStatus.ON_SITE in message.last_error
    assert not [mail for mail in mailoutbox if "10:15" in mail.subject]


# Missed visit ---------------------------------------------------------------------


def test_missed_visit_mail_gives_the_facts_and_a_link_to_choose_a_new_time(
    book, office, firm, day, mailoutbox, customer, client
):
    customer.preferred_language = "en"
    customer.save()
    appointment = mark_missed(book(), office, day, card_left=True, waited_minutes=10)

    message = OutboxMessage.objects.get(kind=MessageKind.MISSED_VISIT)
    assert message.appointment_id == appointment.pk
    assert deliver(message, day, 10, 3) == MessageStatus.SENT

    mail = mailoutbox[-1]
    assert "10:02" in mail.subject
    assert "choose a new time" in mail.subject
    assert "\n" not in mail.subject
    assert not has_calendar_part(mail)
    html = html_of(mail)
    for body in (mail.body, html):
        assert "Jan Verhaag was at your door on" in body
        assert "at 10:02" in body
        assert "waited 10 minutes" in body
        assert "We left a card at your door." in body
        assert "sorry we missed you" in body
        assert "08:00–12:00" in body  # the window it was booked for
        assert "Sandra Brinkmann" in body
        assert "+49 2821 123456" in body
        assert "s.brinkmann@firm.example" in body
    assert "Choose a new time" in html

    links = [word for word in mail.body.split() if "/booking/l/" in word]
    assert len(links) == 1
    assert f'href="{links[0]}"' in html
    response = client.get(urlsplit(links[0]).path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("selfservice:page"))
    page = client.get(response["Location"])
    assert page.status_code == 200


def test_missed_visit_without_a_card_says_nothing_about_one(book, office, firm, day, mailoutbox, customer):
    customer.preferred_language = "en"
    customer.save()
    mark_missed(book(), office, day, card_left=False, waited_minutes=1)

    deliver(OutboxMessage.objects.get(kind=MessageKind.MISSED_VISIT), day, 10, 3)

    mail = mailoutbox[-1]
    for body in (mail.body, html_of(mail)):
        assert "card" not in body.lower()
        assert "waited 1 minute." in body


def test_missed_visit_mail_uses_the_attempts_local_time_across_the_zone(book, office, firm, day, customer):
    """10:02 in Berlin is 08:02 or 09:02 UTC: the mail shows the wall-clock time at the door."""
    appointment = mark_missed(book(), office, day)
    assert appointment.attempts.get().at.astimezone(UTC).hour != 10

    mail = render_message(OutboxMessage.objects.get(kind=MessageKind.MISSED_VISIT))

    assert "10:02" in mail.subject and "10:02" in mail.body


def test_missed_visit_mail_is_superseded_when_the_customer_has_already_rebooked(book, office, firm, day, mailoutbox):
    appointment = mark_missed(book(), office, day)
    new_start = local_dt(day + 7, 12)
    with at_local(day, 10, 30):  # the customer picks a new time before the worker got to the mail
        appointment_reschedule(appointment=appointment, window_start=new_start, actor=office)

    message = OutboxMessage.objects.get(kind=MessageKind.MISSED_VISIT)
    assert deliver(message, day, 10, 31) == MessageStatus.SUPERSEDED
    message.refresh_from_db()
    assert message.status == MessageStatus.SUPERSEDED
    assert not [mail for mail in mailoutbox if "10:02" in mail.subject]


# Both kinds ----------------------------------------------------------------------


def queue(kind, appointment, office, day):
    if kind == MessageKind.ON_MY_WAY:
        start_trip(appointment, office, day)
    else:
        mark_missed(appointment, office, day)
    return OutboxMessage.objects.get(kind=kind)


@pytest.mark.parametrize("kind", [MessageKind.ON_MY_WAY, MessageKind.MISSED_VISIT])
def test_customer_and_technician_names_are_escaped_and_kept_on_one_line(kind, book, office, firm, day, service_type):
    hostile = "Eve <script>alert(1)</script>\r\nBcc: victim@example.com"
    customer = CustomerFactory(full_name=hostile, preferred_language="en", responsible=office)
    technician = TechnicianFactory(service_types=[service_type], display_name=hostile)
    message = queue(kind, book(customer=customer, technician=technician), office, day)

    mail = render_message(message)
    parsed = email.message_from_bytes(mail.message().as_bytes(), policy=email.policy.default)
    html = html_of(mail)

    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert parsed["Bcc"] is None
    assert "\n" not in mail.subject and "\r" not in mail.subject
    # The name's CR/LF never starts a line of its own in the text part.
    assert not any(line.lstrip().startswith("Bcc:") for line in mail.body.splitlines())
    assert parsed["To"] == customer.email


@pytest.mark.parametrize("language", ["de", "nl", "en"])
@pytest.mark.parametrize("kind", [MessageKind.ON_MY_WAY, MessageKind.MISSED_VISIT])
def test_both_kinds_render_in_every_language(kind, language, book, office, firm, day, customer, service_type):
    customer.preferred_language = language
    customer.save()
    message = queue(kind, book(), office, day)

    mail = render_message(message)
    html = html_of(mail)

    assert mail.subject.strip()
    assert ("10:15" if kind == MessageKind.ON_MY_WAY else "10:02") in mail.subject
    assert mail.reply_to == ["s.brinkmann@firm.example"]
    assert not has_calendar_part(mail)
    for body in (mail.body, html):
        assert GREETING[language] in body
        assert "Jan Verhaag" in body
        assert "Sandra Brinkmann" in body
        assert service_type.localized_name(language) in body
        assert "{%" not in body and "{{" not in body
    assert ("/booking/l/" in mail.body) is (kind == MessageKind.MISSED_VISIT)


@pytest.mark.parametrize("language", ["de", "nl", "en"])
@pytest.mark.parametrize("kind", [MessageKind.ON_MY_WAY, MessageKind.MISSED_VISIT])
def test_html_declares_the_mails_language_and_its_day_follows_it_whatever_is_active(
    kind, language, book, office, firm, day, customer
):
    customer.preferred_language = language
    customer.save()
    appointment = book()
    message = queue(kind, appointment, office, day)

    with translation.override("en" if language == "de" else "de"):
        mail = render_message(message)
    html = html_of(mail)

    assert f'<html lang="{language}" dir="ltr">' in html
    if kind == MessageKind.MISSED_VISIT:  # "on my way" names only times: it is about today
        with translation.override(language):
            visit_day = format_day(appointment.window_start)
        for body in (mail.body, html):
            assert visit_day in body
