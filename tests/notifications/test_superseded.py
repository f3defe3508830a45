"""Why a message was not sent is shown in the office's language, also for rows stored before the codes."""

import pytest
from django.urls import reverse

from appointments.services import appointment_cancel, appointment_schedule
from notifications.models import MessageKind, MessageStatus, OutboxMessage
from notifications.services import message_deliver
from tests.factories import local_dt

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:notifications_outboxmessage_changelist")


def superseded(customer, last_error):
    return OutboxMessage.objects.create(
        kind=MessageKind.REMINDER,
        status=MessageStatus.SUPERSEDED,
        dedupe_key=f"legacy:{last_error}",
        customer=customer,
        to_email=customer.email,
        language="de",
        last_error=last_error,
    )


def page(client, url, language):
    return client.get(url, headers={"accept-language": language}).content.decode()


def test_a_message_cancelled_before_sending_says_why_in_the_office_language(
    admin_client_office, customer, service_type, technician, office, firm
):
    appointment = appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(2, 8), actor=office
    )
    appointment_cancel(appointment=appointment, reason="Kunde verreist", actor=office)
    confirmation = OutboxMessage.objects.get(kind=MessageKind.CONFIRMATION)

    assert message_deliver(message_id=confirmation.pk) == MessageStatus.SUPERSEDED

    change = reverse("admin:notifications_outboxmessage_change", args=[confirmation.pk])
    for url in (CHANGELIST, change):
        german, dutch = page(admin_client_office, url, "de"), page(admin_client_office, url, "nl")
        assert "Nicht gesendet: Der Termin ist jetzt „storniert“." in german
        assert "Niet verzonden: de afspraak is nu “geannuleerd”." in dutch
        assert "appointment is" not in german + dutch
        assert "superseded:" not in german + dutch


@pytest.mark.parametrize(
    ("stored", "german", "dutch"),
    [
        ("appointment is cancelled", "Nicht gesendet: Der Termin ist jetzt „storniert“.", "nu “geannuleerd”"),
        (
            "appointment is at version 2, message was for 1",
            "(jetzt Version 2, die Nachricht galt Version 1)",
            "(nu versie 2, het bericht was voor versie 1)",
        ),
        (
            "superseded:version current=3 queued=2",
            "(jetzt Version 3, die Nachricht galt Version 2)",
            "(nu versie 3, het bericht was voor versie 2)",
        ),
        ("the invitation has expired", "Nicht gesendet: Die Einladung ist abgelaufen.", "de uitnodiging is verlopen"),
        (
            "the visit's time has passed",
            "Nicht gesendet: Die Zeit des Besuchs war vorbei.",
            "het bezoek was al voorbij",
        ),
    ],
)
def test_reasons_stored_in_english_before_are_shown_translated(admin_client_office, customer, stored, german, dutch):
    message = superseded(customer, stored)
    change = reverse("admin:notifications_outboxmessage_change", args=[message.pk])

    assert german in page(admin_client_office, change, "de")
    assert dutch in page(admin_client_office, change, "nl")
    assert stored not in page(admin_client_office, CHANGELIST, "de")


def test_a_delivery_error_is_shown_as_stored(admin_client_office, customer):
    message = superseded(customer, "SMTP 550: b'5.1.1 mailbox unavailable'")

    response = page(admin_client_office, reverse("admin:notifications_outboxmessage_change", args=[message.pk]), "de")

    assert "mailbox unavailable" in response
