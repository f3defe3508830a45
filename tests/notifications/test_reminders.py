from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from appointments.services import appointment_cancel, appointment_reschedule, appointment_schedule
from customers.services import customer_update
from journal.models import JournalEntry
from notifications.models import MessageKind, MessageStatus, OutboxMessage
from notifications.services import STALE_NEW_TIME_REQUESTED, message_deliver, reminder_due_at, reminders_sweep
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")


def berlin(*args):
    return datetime(*args, tzinfo=BERLIN)


def reminders():
    return OutboxMessage.objects.filter(kind=MessageKind.REMINDER)


@pytest.mark.parametrize(
    ("window_start", "expected_due_utc"),
    [
        # 29 March 2026: clocks go forward at 02:00; the reminder still goes out at 18:00 local (CEST, UTC+2).
        (berlin(2026, 3, 30, 10, 0), datetime(2026, 3, 29, 16, 0, tzinfo=UTC)),
        # A visit on the morning of the change itself: reminder the evening before, still CET (UTC+1).
        (berlin(2026, 3, 29, 9, 0), datetime(2026, 3, 28, 17, 0, tzinfo=UTC)),
        # 25 October 2026: clocks go back at 03:00; 18:00 local on the 25th is CET (UTC+1).
        (berlin(2026, 10, 26, 9, 0), datetime(2026, 10, 25, 17, 0, tzinfo=UTC)),
        (berlin(2026, 10, 25, 9, 0), datetime(2026, 10, 24, 16, 0, tzinfo=UTC)),
    ],
)
def test_day_before_reminder_keeps_the_local_wall_clock_time_across_dst(window_start, expected_due_utc, settings):
    settings.REMINDER_DAY_BEFORE_AT = "18:00"
    settings.REMINDER_HOURS_BEFORE = None

    due = reminder_due_at(window_start)

    assert due == expected_due_utc
    assert timezone.localtime(due).hour == 18


def test_hours_before_reminder_counts_real_hours_across_dst(settings):
    settings.REMINDER_DAY_BEFORE_AT = ""
    settings.REMINDER_HOURS_BEFORE = 24

    due = reminder_due_at(berlin(2026, 3, 29, 10, 0))

    assert due == berlin(2026, 3, 28, 9, 0)  # 24 real hours back across the lost hour: 09:00, not 10:00


def book(customer, service_type, technician, office, start):
    return appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=start, actor=office
    )


@pytest.mark.parametrize("day", [berlin(2026, 3, 30, 10, 0), berlin(2026, 10, 26, 9, 0)])
def test_sweep_queues_the_reminder_when_due_and_only_once(day, customer, service_type, technician, office, settings):
    settings.REMINDER_DAY_BEFORE_AT = "18:00"
    with time_machine.travel(day - timedelta(days=5), tick=False):
        book(customer, service_type, technician, office, day)

    with time_machine.travel(timezone.localtime(day - timedelta(days=1)).replace(hour=17, minute=55), tick=False):
        assert reminders_sweep() == 0
    with time_machine.travel(timezone.localtime(day - timedelta(days=1)).replace(hour=18, minute=1), tick=False):
        assert reminders_sweep() == 1
        assert reminders_sweep() == 0

    assert reminders().count() == 1


def test_cancelled_visit_never_gets_a_reminder(customer, service_type, technician, office, mailoutbox):
    start = berlin(2026, 6, 10, 8, 0)
    with time_machine.travel(start - timedelta(days=5), tick=False):
        appointment = book(customer, service_type, technician, office, start)
        appointment_cancel(appointment=appointment, reason="abgesagt", actor=office)

    with time_machine.travel(start - timedelta(hours=6), tick=False):
        reminders_sweep()

    assert not reminders().exists()


def test_moved_visit_gets_exactly_one_reminder_showing_the_new_window(
    customer, service_type, technician, office, mailoutbox
):
    start = berlin(2026, 6, 10, 8, 0)
    new_start = berlin(2026, 6, 12, 12, 0)
    with time_machine.travel(start - timedelta(days=5), tick=False):
        appointment = book(customer, service_type, technician, office, start)
    with time_machine.travel(start - timedelta(hours=10), tick=False):
        reminders_sweep()  # the old window's reminder is queued …
        old_reminder = reminders().get()
        appointment_reschedule(appointment=appointment, window_start=new_start, actor=office)
        assert message_deliver(message_id=old_reminder.pk) == MessageStatus.SUPERSEDED  # … and never sent
    with time_machine.travel(new_start - timedelta(hours=10), tick=False):
        reminders_sweep()
        reminders_sweep()
        new_reminder = reminders().get(appointment_version=2)
        assert message_deliver(message_id=new_reminder.pk) == MessageStatus.SENT

    reminder_mails = [mail for mail in mailoutbox if "12:00–16:00" in mail.subject and "Erinnerung" in mail.subject]
    assert len(reminder_mails) == 1
    assert "08:00–12:00" not in reminder_mails[0].body


def test_visit_booked_after_its_reminder_time_gets_no_separate_reminder(customer, service_type, technician, office):
    start = berlin(2026, 6, 10, 8, 0)
    with time_machine.travel(berlin(2026, 6, 9, 20, 0), tick=False):
        book(customer, service_type, technician, office, start)
        assert reminders_sweep() == 0


def test_customer_without_email_gets_one_journal_note_not_one_per_sweep(service_type, technician, office):
    customer = CustomerFactory(email="", responsible=office)
    start = berlin(2026, 6, 10, 8, 0)
    with time_machine.travel(start - timedelta(days=5), tick=False):
        book(customer, service_type, technician, office, start)

    for minutes in (0, 5, 10, 60):
        with time_machine.travel(start - timedelta(hours=10) + timedelta(minutes=minutes), tick=False):
            reminders_sweep()

    assert not reminders().exists()
    assert JournalEntry.objects.filter(customer=customer, action="message.reminder.no_email").count() == 1


def test_reminder_goes_out_once_the_office_adds_the_missing_email(service_type, technician, office, mailoutbox):
    customer = CustomerFactory(email="", responsible=office)
    start = berlin(2026, 6, 10, 8, 0)
    with time_machine.travel(start - timedelta(days=5), tick=False):
        book(customer, service_type, technician, office, start)
    with time_machine.travel(start - timedelta(hours=10), tick=False):
        reminders_sweep()

    customer_update(customer=customer, changes={"email": "late.address@example.de"}, actor=office)
    with time_machine.travel(start - timedelta(hours=9, minutes=55), tick=False):
        assert reminders_sweep() == 1
        assert message_deliver(message_id=reminders().get().pk) == MessageStatus.SENT

    assert [mail.to for mail in mailoutbox] == [["late.address@example.de"]]


def test_visit_awaiting_a_new_time_gets_no_reminder(customer, service_type, technician, office):
    from appointments.services.booking import appointment_request_new_time

    start = berlin(2026, 6, 10, 8, 0)
    with time_machine.travel(start - timedelta(days=5), tick=False):
        appointment = book(customer, service_type, technician, office, start)
        appointment_request_new_time(appointment=appointment, actor=office, reason="Monteur erkrankt.")

    with time_machine.travel(start - timedelta(hours=10), tick=False):
        assert reminders_sweep() == 0

    assert not reminders().exists()


def test_queued_reminder_is_superseded_when_the_firm_asks_for_a_new_time(
    customer, service_type, technician, office, mailoutbox
):
    from appointments.services.booking import appointment_request_new_time

    start = berlin(2026, 6, 10, 8, 0)
    with time_machine.travel(start - timedelta(days=5), tick=False):
        appointment = book(customer, service_type, technician, office, start)
    with time_machine.travel(start - timedelta(hours=10), tick=False):
        reminders_sweep()
        reminder = reminders().get()
        appointment_request_new_time(appointment=appointment, actor=office, reason="Monteur erkrankt.")

        assert message_deliver(message_id=reminder.pk) in (MessageStatus.SUPERSEDED, "not claimed")

    reminder.refresh_from_db()
    assert reminder.status == MessageStatus.SUPERSEDED
    assert reminder.last_error == STALE_NEW_TIME_REQUESTED
    assert not [mail for mail in mailoutbox if "Erinnerung" in mail.subject]
