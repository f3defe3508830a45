"""What the journal says about the outbox's mails is built from the entry's data, in the reader's language."""

import pytest

from appointments.services import appointment_schedule
from journal.models import JournalEntry
from notifications.models import OutboxMessage
from notifications.services import message_deliver, message_resend
from tests.factories import CustomerFactory, local_dt
from tests.journal.reading import as_read_in

pytestmark = pytest.mark.django_db


def test_a_sent_mail_names_its_kind_in_the_readers_language_and_its_subject_as_sent(
    customer, service_type, technician, office, mailoutbox
):
    appointment = appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(3, 8), actor=office
    )
    message = OutboxMessage.objects.get(appointment=appointment)
    message_deliver(message_id=message.pk)
    message_resend(message=message, actor=office)

    sent = JournalEntry.objects.get(action="message.confirmation")
    subject = mailoutbox[0].subject
    assert sent.data["subject"] == subject and sent.data["kind"] == "confirmation"
    assert as_read_in("nl", sent) == f"E-mail verzonden (afspraakbevestiging): {subject}"
    assert as_read_in("en", sent) == f"Email sent (booking confirmation): {subject}"
    assert as_read_in("de", sent).startswith("E-Mail gesendet (")
    resent = JournalEntry.objects.get(action="message.resend_requested")
    assert as_read_in("nl", resent) == "E-mail door kantoor opnieuw in de wachtrij gezet: afspraakbevestiging."
    assert as_read_in("en", resent) == "Email queued again by the office: booking confirmation."


def test_a_mail_not_sent_for_want_of_an_address_says_so_in_the_readers_language(
    service_type, technician, office, firm
):
    customer = CustomerFactory(email="", responsible=office)

    appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(3, 8), actor=office
    )

    entry = JournalEntry.objects.get(action="message.confirmation.no_email")
    assert as_read_in("nl", entry) == "Niet per e-mail verzonden (geen adres bekend): afspraakbevestiging."
    assert as_read_in("en", entry) == "Not sent by email (no address on file): booking confirmation."
    assert as_read_in("de", entry).startswith("Nicht per E-Mail gesendet")
