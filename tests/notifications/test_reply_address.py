"""A customer's reply names the message it answers: by a signed reply address, or by our Message-ID."""

import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils.http import int_to_base36

from appointments.services import appointment_schedule
from notifications.models import MessageStatus, OutboxMessage
from notifications.replies import (
    message_for_references,
    message_for_reply_address,
    outbox_id_of,
    reply_address,
    reply_token,
)
from notifications.services import message_deliver, message_resend
from tests.factories import local_dt

pytestmark = pytest.mark.django_db

PATTERN = "office+{token}@mail.firm.example"


@pytest.fixture
def sent(customer, service_type, technician, office, firm, mailoutbox, django_capture_on_commit_callbacks):
    """A confirmation as the customer received it: (outbox row, the mail)."""

    def send():
        with django_capture_on_commit_callbacks(execute=True):
            appointment_schedule(
                customer=customer,
                service_type=service_type,
                technician=technician,
                window_start=local_dt(3 + len(mailoutbox), 8),
                actor=office,
            )
        message = OutboxMessage.objects.order_by("-pk").first()
        message.refresh_from_db()
        assert message.status == MessageStatus.SENT
        return message, mailoutbox[-1]

    return send


def test_without_an_inbound_address_replies_go_to_the_contact_person_as_before(sent, settings):
    settings.INBOUND_REPLY_ADDRESS = ""
    message, mail = sent()

    assert mail.reply_to == ["s.brinkmann@firm.example"]
    assert reply_address(message) is None
    assert message_for_reply_address("office+abc@mail.firm.example") is None


def test_with_an_inbound_address_each_mail_gets_a_reply_to_naming_it_and_the_contact_person(sent, settings):
    settings.INBOUND_REPLY_ADDRESS = PATTERN
    message, mail = sent()

    [reply_to] = mail.reply_to
    assert reply_to == f"Sandra Brinkmann <office+{reply_token(message)}@mail.firm.example>"
    assert f"Reply-To: Sandra Brinkmann <office+{reply_token(message)}@mail.firm.example>" in (
        message.sent_mime_bytes().decode()
    )
    assert message_for_reply_address(reply_to) == message


def test_a_contact_person_with_umlauts_survives_the_reply_to_header(sent, settings, office):
    settings.INBOUND_REPLY_ADDRESS = PATTERN
    office.first_name, office.last_name = "Jürgen", "Weiß, Sohn"
    office.save()
    message, _mail = sent()

    kept = message.sent_mail()

    assert kept["Reply-To"].addresses[0].display_name == "Jürgen Weiß, Sohn"
    assert message_for_reply_address(str(kept["Reply-To"])) == message


def test_the_token_is_short_lower_case_letters_and_digits(sent, settings):
    settings.INBOUND_REPLY_ADDRESS = PATTERN
    message, _mail = sent()

    assert re.fullmatch(r"[0-9a-z]{17,30}", reply_token(message))


def test_a_reply_address_is_found_whatever_case_the_mail_server_gave_it(sent, settings):
    settings.INBOUND_REPLY_ADDRESS = PATTERN
    message, _mail = sent()
    address = reply_address(message)

    assert message_for_reply_address(address.upper()) == message
    assert message_for_reply_address(f'"Anna Schmitz" <{address}>') == message


def test_a_tampered_or_foreign_reply_address_names_no_message(sent, settings):
    settings.INBOUND_REPLY_ADDRESS = PATTERN
    first, _mail = sent()
    second, _mail = sent()
    token = reply_token(first)
    # The first message's signature on the second message's id.
    forged = int_to_base36(second.pk) + token[len(int_to_base36(first.pk)) :]
    flipped = token[:-1] + ("a" if token[-1] != "a" else "b")

    for address in [
        f"office+{flipped}@mail.firm.example",
        f"office+{forged}@mail.firm.example",
        f"office+{token}@other.example",
        f"sales+{token}@mail.firm.example",
        "office@mail.firm.example",
        f"office+{token}@mail.firm.example, second@example.com",
        "",
        "<<<>>>",
        f"office+{'9' * 40}@mail.firm.example",
    ]:
        assert message_for_reply_address(address) is None, address


def test_a_reply_address_of_a_message_that_no_longer_exists_names_none(sent, settings):
    settings.INBOUND_REPLY_ADDRESS = PATTERN
    message, _mail = sent()
    address = reply_address(OutboxMessage(pk=message.pk + 1000))

    assert message_for_reply_address(address) is None


def test_a_pattern_without_its_token_is_refused_clearly(sent, settings):
    message, _mail = sent()
    settings.INBOUND_REPLY_ADDRESS = "office@mail.firm.example"

    with pytest.raises(ImproperlyConfigured, match=r"\{token\}"):
        reply_address(message)


def test_a_reply_is_matched_by_our_message_id_in_in_reply_to_or_references(sent):
    message, mail = sent()
    ours = mail.extra_headers["Message-ID"]

    assert message.provider_message_id == ours
    assert message_for_references([ours]) == message
    assert message_for_references(["<thread-start@customer.example>", ours]) == message
    assert message_for_references([f"<thread-start@customer.example>\r\n {ours} <later@customer.example>"]) == message
    assert message_for_references([ours.strip("<>")]) == message


def test_the_most_recent_of_our_messages_in_a_thread_wins(sent):
    first, _mail = sent()
    second, _mail = sent()

    assert message_for_references([first.provider_message_id, second.provider_message_id]) == second
    assert message_for_references([second.provider_message_id, first.provider_message_id]) == first


def test_unknown_or_empty_references_name_no_message(sent):
    sent()

    assert message_for_references([]) is None
    assert message_for_references(["<someone-else@example.com>"]) is None
    assert message_for_references(["not a message id at all", "", None]) is None


def test_a_reply_to_a_mail_sent_again_is_still_found_by_the_earlier_message_id(sent, office):
    message, _mail = sent()
    earlier = message.provider_message_id
    message_resend(message=message, actor=office)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()

    assert message.provider_message_id != earlier
    assert message_for_references([earlier]) == message
    assert message_for_references([message.provider_message_id]) == message


def test_our_message_ids_are_signed_and_differ_for_every_send(sent):
    first, _mail = sent()
    second, _mail = sent()

    assert (
        outbox_id_of(first.provider_message_id) == first.pk and outbox_id_of(second.provider_message_id) == second.pk
    )
    assert first.provider_message_id != second.provider_message_id


def test_a_message_id_shaped_like_ours_without_our_signature_names_no_message(sent):
    message, _mail = sent()
    other, _mail = sent()
    local, domain = message.provider_message_id.strip("<>").split("@")
    outbox_part, nonce, signature = local.split(".")
    flipped = signature[:-1] + ("a" if signature[-1] != "a" else "b")
    other_part = other.provider_message_id.strip("<>").split(".")[0]

    for forged in [
        f"<{outbox_part}.{nonce}.{flipped}@{domain}>",
        # Another message's id with this one's nonce and signature: the signature covers the id.
        f"<{other_part}.{nonce}.{signature}@{domain}>",
        f"<{outbox_part}.{'0' * 16}.{signature}@{domain}>",
    ]:
        assert outbox_id_of(forged) is None, forged
        assert message_for_references([forged]) is None, forged


def test_an_unsigned_message_id_kept_from_before_names_no_message(sent):
    message, _mail = sent()
    OutboxMessage.objects.filter(pk=message.pk).update(provider_message_id="<176450.11.2@firm.example>")

    assert message_for_references(["<176450.11.2@firm.example>"]) is None


def test_a_reply_to_a_mail_sent_before_a_key_rotation_still_finds_its_message(sent, settings):
    settings.INBOUND_REPLY_ADDRESS = PATTERN
    message, mail = sent()
    address, message_id = reply_address(message), message.provider_message_id
    old_key = settings.SECRET_KEY

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-after-rotation-" + "x" * 40, [old_key]

    assert message_for_reply_address(address) == message
    assert message_for_references([message_id]) == message
    # New mails are signed with the new key.
    assert reply_address(message) != address


def test_a_reply_signed_with_a_key_no_longer_in_the_fallbacks_names_no_message(sent, settings):
    settings.INBOUND_REPLY_ADDRESS = PATTERN
    message, mail = sent()
    address, message_id = reply_address(message), message.provider_message_id

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-after-rotation-" + "x" * 40, []

    assert message_for_reply_address(address) is None
    assert message_for_references([message_id]) is None
