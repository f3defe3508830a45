"""Whose mail it is: only what we signed (the reply address, our Message-IDs) names one of our mails; a forged
References header or delivery report names nothing. Our own mail coming back is known by our markers, not by
the From address: a colleague forwarding from the office address is a person, and goes to triage."""

import pytest

from desk.models import InboundKind, InboundStatus, Promise
from desk.services import inbound_receive
from journal.models import JournalEntry
from notifications.models import MessageKind, MessageStatus, OutboxMessage
from notifications.replies import new_message_id
from notifications.services import message_resend
from tests.desk.inbound_samples import replace, sample
from tests.factories import AppointmentFactory, CustomerFactory, OfficeUserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

# Where the samples quote our mail.
QUOTED = "<176450.11.2@doorstep.example>"
REPORTED = "<176452.13.4@doorstep.example>"


@pytest.fixture
def anna(firm):
    return CustomerFactory(full_name="Anna Schmitz", email="anna@example.com")


def sent(customer, *, message_id=None, appointment=None) -> OutboxMessage:
    """Our mail to `customer`: with a signed Message-ID, or `message_id` as mails before signing had."""
    message = OutboxMessage.objects.create(
        kind=MessageKind.CONFIRMATION,
        status=MessageStatus.SENT,
        dedupe_key=f"test:{OutboxMessage.objects.count()}",
        customer=customer,
        appointment=appointment or AppointmentFactory(customer=customer),
        to_email=customer.email,
        language="de",
        subject="Ihr Termin am Donnerstag",
    )
    message.provider_message_id = message_id or new_message_id(message, domain="doorstep.example")
    message.save(update_fields=["provider_message_id"])
    return message


def forged(message: OutboxMessage) -> str:
    """A Message-ID shaped like ours, naming `message`, with a signature its writer could only guess."""
    outbox_part, nonce, signature = message.provider_message_id.strip("<>").split("@")[0].split(".")
    return f"<{outbox_part}.{nonce}.{'a' * len(signature)}@doorstep.example>"


def test_a_references_header_naming_an_unsigned_id_of_ours_falls_back_to_the_sender(juergen, anna):
    # Sent before our ids were signed: such an id proves nothing, whoever quotes it.
    annas = sent(anna, message_id=QUOTED)

    mail = inbound_receive(raw=sample("reply_de_quoted.eml"), source="pipe")

    assert mail.outbox_message is None and mail.matched_by == "sender"
    assert (mail.customer, mail.appointment) == (juergen, None)
    assert not JournalEntry.objects.filter(customer=anna).exists()
    assert annas.inbound_mails.count() == 0


def test_a_forged_signature_in_references_names_no_mail_and_an_unknown_sender_goes_to_triage(anna):
    raw = replace(sample("reply_de_quoted.eml"), QUOTED, forged(sent(anna)))
    raw = replace(raw, "Juergen.Mueller@Example.DE", "mallory@example.net")

    mail = inbound_receive(raw=raw, source="pipe")

    assert mail.status == InboundStatus.TRIAGE and mail.customer is None and mail.outbox_message is None
    assert not JournalEntry.objects.exists() and not Promise.objects.exists()


def test_a_signed_id_of_ours_in_references_finds_the_mail_whoever_writes(juergen, anna):
    annas = sent(anna)
    # Anna's landlord answers the mail she passed on: it belongs with Anna and her visit.
    raw = replace(sample("reply_de_quoted.eml"), QUOTED, annas.provider_message_id)

    mail = inbound_receive(raw=raw, source="pipe")

    assert (mail.customer, mail.appointment, mail.outbox_message) == (anna, annas.appointment, annas)
    assert mail.matched_by == "references"


def test_a_delivery_report_naming_an_unsigned_or_forged_id_waits_in_triage_and_marks_nothing(anna):
    unsigned = sent(anna, message_id=REPORTED)
    signed = sent(anna)

    by_unsigned = inbound_receive(raw=sample("dsn_bounce.eml"), source="pipe")
    by_forged = inbound_receive(
        raw=replace(replace(sample("dsn_bounce.eml"), REPORTED, forged(signed)), "6A1B2C3D4E@mx", "6A1B2C3D4F@mx"),
        source="pipe",
    )

    assert by_unsigned.status == by_forged.status == InboundStatus.TRIAGE
    unsigned.refresh_from_db()
    signed.refresh_from_db()
    assert unsigned.bounced_at is None and signed.bounced_at is None


def test_a_delivery_report_on_a_send_before_send_again_does_not_mark_the_new_attempt(anna):
    message = sent(anna)
    earlier = message.provider_message_id
    message_resend(message=message, actor=OfficeUserFactory())
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENT, provider_message_id=new_message_id(message, domain="doorstep.example")
    )

    mail = inbound_receive(raw=replace(sample("dsn_bounce.eml"), REPORTED, earlier), source="pipe")

    message.refresh_from_db()
    assert message.bounced_at is None and mail.status == InboundStatus.TRIAGE


def test_a_colleague_forwarding_from_the_office_address_goes_to_triage(juergen):
    ours = sent(juergen)
    raw = (
        "From: Petra Büro <office@heizung-beispiel.de>\r\nTo: office@heizung-beispiel.de\r\n"
        f"Subject: WG: Ihr Termin am Donnerstag\r\nMessage-ID: <fwd-1@heizung-beispiel.de>\r\n"
        f"References: {ours.provider_message_id}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Bitte Herrn Müller zurückrufen.\r\n"
    ).encode()

    mail = inbound_receive(raw=raw, source="pipe")

    assert mail.kind == InboundKind.MAIL and mail.status == InboundStatus.TRIAGE
    assert "eigenen Adresse" in mail.status_reason
    assert mail.customer is None and not Promise.objects.exists()


@pytest.mark.parametrize(
    "marker",
    [
        "X-Doorstep: outbox\r\nMessage-ID: <redirected@mx.example.de>",
        "Auto-Submitted: auto-generated\r\nMessage-ID: <autoreply@heizung-beispiel.de>",
    ],
    ids=["our header", "automatic mail from our address"],
)
def test_our_markers_make_a_loop_whatever_else_the_mail_says(juergen, marker):
    raw = (
        f"From: Heizung Beispiel <office@heizung-beispiel.de>\r\nTo: {juergen.email}\r\n{marker}\r\n"
        "Subject: Ihr Termin\r\n\r\nText\r\n"
    ).encode()

    mail = inbound_receive(raw=raw, source="pipe")

    assert mail.kind == InboundKind.LOOP and mail.status == InboundStatus.IGNORED
    assert not JournalEntry.objects.exists() and not Promise.objects.exists()
