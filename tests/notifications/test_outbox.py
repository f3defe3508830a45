import email.policy
import hashlib
import smtplib
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from appointments.services import appointment_cancel, appointment_reschedule, appointment_schedule
from journal.models import JournalEntry
from notifications.models import MessageKind, MessageStatus, OutboxMessage
from notifications.services import (
    RELAY_GRACE,
    RETRY_BASE,
    RETRY_CAP,
    SENDING_TIMEOUT,
    message_deliver,
    message_queue,
    message_resend,
    messages_claim,
    messages_deliver,
    outbox_relay,
    retry_delay,
)
from tests.factories import CustomerFactory, local_dt

pytestmark = pytest.mark.django_db

# The test settings' mail backend; the worker hands it each message in turn.
SMTP_SEND = "django.core.mail.backends.locmem.EmailBackend.send_messages"


@pytest.fixture
def book(customer, service_type, technician, office):
    def book(day=3, hour=8, **kwargs):
        return appointment_schedule(
            customer=kwargs.pop("customer", customer),
            service_type=service_type,
            technician=technician,
            window_start=local_dt(day, hour),
            actor=office,
            **kwargs,
        )

    return book


def sent_journal(kind):
    return JournalEntry.objects.filter(action=f"message.{kind}", channel="email", direction="out")


def test_booking_sends_one_confirmation_after_commit(book, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book()

    message = OutboxMessage.objects.get()
    assert message.kind == MessageKind.CONFIRMATION
    assert message.status == MessageStatus.SENT
    assert message.appointment_version == appointment.version
    assert len(mailoutbox) == 1
    assert sent_journal("confirmation").count() == 1


def test_nothing_is_queued_or_sent_when_the_booking_rolls_back(book, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        with transaction.atomic():
            book()
            raise RuntimeError("something later in the request failed")

    assert not OutboxMessage.objects.exists()
    assert callbacks == []
    assert mailoutbox == []


def test_queueing_the_same_message_twice_is_a_no_op(book):
    appointment = book()

    assert message_queue(kind=MessageKind.CONFIRMATION, appointment=appointment) is None
    assert OutboxMessage.objects.count() == 1


def claim(message: OutboxMessage) -> bool:
    """Claim one message as a worker does; True if this call won it."""
    token = messages_claim(message_ids=[message.pk])
    return OutboxMessage.objects.filter(pk=message.pk, status=MessageStatus.SENDING, claim_token=token).exists()


def test_only_one_caller_claims_a_message(book):
    message = OutboxMessage.objects.get(appointment=book())

    assert claim(message) is True
    assert claim(message) is False


def test_delivering_twice_sends_once(book, mailoutbox):
    message = OutboxMessage.objects.get(appointment=book())

    message_deliver(message_id=message.pk)
    message_deliver(message_id=message.pk)

    assert len(mailoutbox) == 1
    assert sent_journal("confirmation").count() == 1


def test_reschedule_supersedes_the_unsent_confirmation_and_sends_a_change(book, office, mailoutbox):
    appointment = book()
    confirmation = OutboxMessage.objects.get(kind=MessageKind.CONFIRMATION)
    appointment_reschedule(appointment=appointment, window_start=local_dt(4, 12), actor=office)
    change = OutboxMessage.objects.get(kind=MessageKind.CHANGE)

    assert message_deliver(message_id=confirmation.pk) == MessageStatus.SUPERSEDED
    assert message_deliver(message_id=change.pk) == MessageStatus.SENT
    assert len(mailoutbox) == 1
    assert change.appointment_version == 2


def test_cancellation_is_sent_and_stale_messages_are_not(book, office, mailoutbox):
    appointment = book()
    appointment_cancel(appointment=appointment, reason="Kunde hat abgesagt", actor=office)

    results = {message.kind: message_deliver(message_id=message.pk) for message in OutboxMessage.objects.all()}

    assert results == {
        MessageKind.CONFIRMATION: MessageStatus.SUPERSEDED,
        MessageKind.CANCELLATION: MessageStatus.SENT,
    }
    assert len(mailoutbox) == 1


def test_transient_smtp_error_requeues_with_backoff(book, mailoutbox):
    message = OutboxMessage.objects.get(appointment=book())

    with mock.patch(SMTP_SEND, side_effect=smtplib.SMTPServerDisconnected("gone")):
        status = message_deliver(message_id=message.pk)

    message.refresh_from_db()
    assert status == MessageStatus.QUEUED
    assert message.attempts == 1
    assert "gone" in message.last_error
    assert message.next_attempt_at > timezone.now() + timedelta(seconds=10)
    assert claim(message) is False  # not due yet


def test_retry_delays_double_with_each_attempt_up_to_the_cap_with_jitter():
    for attempts, ceiling in [(1, RETRY_BASE), (2, 2 * RETRY_BASE), (3, 4 * RETRY_BASE), (12, RETRY_CAP)]:
        delays = {retry_delay(attempts) for _ in range(50)}
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays), (attempts, min(delays), max(delays))
        assert len(delays) > 1, "no jitter: every message retrying at once would retry at the same instant"


def test_transient_errors_give_up_after_the_last_attempt(book, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    message = OutboxMessage.objects.get(appointment=book())

    with mock.patch(SMTP_SEND, side_effect=TimeoutError("slow")):
        for _attempt in range(3):
            OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
            message_deliver(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == 3
    assert "slow" in message.last_error
    assert not sent_journal("confirmation").exists()


def test_a_refused_recipient_fails_at_once(book):
    message = OutboxMessage.objects.get(appointment=book())
    refused = smtplib.SMTPRecipientsRefused({"anna@example.com": (550, b"no such user")})

    with mock.patch(SMTP_SEND, side_effect=refused):
        status = message_deliver(message_id=message.pk)

    assert status == MessageStatus.FAILED


def test_relay_hands_over_messages_whose_handover_was_lost(book):
    message = OutboxMessage.objects.get(appointment=book())

    with mock.patch("notifications.services.hand_to_worker") as hand:
        assert outbox_relay(now=timezone.now() + RELAY_GRACE) == 1
    hand.assert_called_once_with([message.pk])


def test_relay_frees_a_message_a_dead_worker_held(book, mailoutbox):
    message = OutboxMessage.objects.get(appointment=book())
    claim(message)  # the worker died right after claiming

    outbox_relay(now=timezone.now() + SENDING_TIMEOUT + timedelta(minutes=1))

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(mailoutbox) == 1


def rendering_that_meanwhile(first_message: OutboxMessage, meanwhile):
    """The real rendering, with `meanwhile()` run while the batch renders its first message."""
    from notifications import rendering

    real_render = rendering.render_message

    def render(message, **kwargs):
        if message.pk == first_message.pk:
            meanwhile()
        return real_render(message, **kwargs)

    return mock.patch("notifications.rendering.render_message", side_effect=render)


def test_a_batch_slower_than_the_sending_timeout_leaves_a_retaken_message_to_its_new_worker(
    book, customer, mailoutbox
):
    first = OutboxMessage.objects.get(appointment=book(hour=8))
    second = OutboxMessage.objects.get(appointment=book(hour=14, customer=CustomerFactory(email="zweite@example.de")))

    def relay_retakes_the_second():
        # The batch has been sending for longer than SENDING_TIMEOUT: the relay frees the row it has
        # not reached yet, and another worker (eager here) sends it.
        OutboxMessage.objects.filter(pk=second.pk).update(
            claimed_at=timezone.now() - SENDING_TIMEOUT - timedelta(minutes=1)
        )
        outbox_relay()

    with rendering_that_meanwhile(first, relay_retakes_the_second):
        outcomes = messages_deliver(message_ids=[first.pk, second.pk])

    assert outcomes == {first.pk: MessageStatus.SENT}
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted([customer.email, "zweite@example.de"])
    assert sent_journal("confirmation").count() == 2
    second.refresh_from_db()
    assert second.status == MessageStatus.SENT


def test_a_visit_moved_while_its_batch_is_sending_gets_no_stale_mail(book, office, mailoutbox):
    first = OutboxMessage.objects.get(appointment=book(hour=8))
    moved = book(hour=14, customer=CustomerFactory())
    stale = OutboxMessage.objects.get(appointment=moved)

    with rendering_that_meanwhile(
        first, lambda: appointment_reschedule(appointment=moved, window_start=local_dt(5, 8), actor=office)
    ):
        outcomes = messages_deliver(message_ids=[first.pk, stale.pk])

    assert outcomes == {first.pk: MessageStatus.SENT, stale.pk: MessageStatus.SUPERSEDED}
    assert len(mailoutbox) == 1


def test_relay_leaves_freshly_handed_messages_alone(book, django_capture_on_commit_callbacks):
    with mock.patch("notifications.tasks.send_messages.apply_async"), django_capture_on_commit_callbacks(execute=True):
        book()

    with mock.patch("notifications.services.hand_to_worker") as hand:
        assert outbox_relay() == 0
    hand.assert_not_called()


def test_broker_failure_leaves_the_message_queued_for_the_relay(book, django_capture_on_commit_callbacks):
    with (
        mock.patch("notifications.tasks.send_messages.apply_async", side_effect=ConnectionError("redis down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        appointment = book()

    message = OutboxMessage.objects.get(appointment=appointment)
    assert message.status == MessageStatus.QUEUED
    assert message.handed_at is None


def test_send_again_goes_through_the_same_path(book, office, mailoutbox):
    message = OutboxMessage.objects.get(appointment=book())
    message_deliver(message_id=message.pk)

    assert message_resend(message=message, actor=office) is True
    message_deliver(message_id=message.pk)

    assert len(mailoutbox) == 2
    assert sent_journal("confirmation").count() == 2
    assert JournalEntry.objects.filter(action="message.resend_requested", actor=office).count() == 1


def test_customer_without_email_gets_a_journal_note_instead(service_type, technician, office, firm):
    customer = CustomerFactory(email="", responsible=office)

    appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(3, 8), actor=office
    )

    assert not OutboxMessage.objects.exists()
    assert JournalEntry.objects.filter(customer=customer, action="message.confirmation.no_email").exists()


def test_a_confirmation_still_queued_when_the_window_has_passed_is_not_sent(book, mailoutbox):
    message = OutboxMessage.objects.get(appointment=book(day=3))

    with time_machine.travel(local_dt(4, 0)):
        assert message_deliver(message_id=message.pk) == MessageStatus.SUPERSEDED

    assert mailoutbox == []


def test_cancelling_a_visit_whose_time_has_passed_sends_no_mail(
    customer, service_type, technician, office, mailoutbox
):
    appointment = appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(-2, 8), actor=office
    )
    appointment_cancel(appointment=appointment, reason="Nachträglich erfasst", actor=office)

    message = OutboxMessage.objects.get(kind=MessageKind.CANCELLATION)
    assert message_deliver(message_id=message.pk) == MessageStatus.SUPERSEDED
    assert mailoutbox == []


def test_an_unencodable_address_fails_for_good_instead_of_hanging_in_sending(book):
    message = OutboxMessage.objects.get(appointment=book())

    with mock.patch(SMTP_SEND, side_effect=ValueError("non-ASCII local part")):
        status = message_deliver(message_id=message.pk)

    message.refresh_from_db()
    assert status == MessageStatus.FAILED
    assert "non-ASCII" in message.last_error


def test_a_message_whose_worker_died_every_time_ends_failed(book, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    message = OutboxMessage.objects.get(appointment=book())
    claim(message)

    with mock.patch("notifications.services.hand_to_worker"):
        outbox_relay(now=timezone.now() + SENDING_TIMEOUT + timedelta(minutes=1))

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED


def test_the_mail_is_kept_exactly_as_the_mail_server_received_it(book, office):
    """What the SMTP backend writes to the wire (message(policy=SMTP).as_bytes()) is what the row keeps."""
    wire = []

    def smtp_like_send(backend, messages):
        wire.extend(message.message(policy=email.policy.SMTP).as_bytes() for message in messages)
        return len(messages)

    message = OutboxMessage.objects.get(appointment=book())
    with mock.patch(SMTP_SEND, smtp_like_send):
        message_deliver(message_id=message.pk)

    message.refresh_from_db()
    assert len(wire) == 1
    assert message.sent_mime_bytes() == wire[0]
    assert len(message.sent_mime) < len(wire[0]) / 2  # kept compressed
    kept = message.sent_mail()
    assert kept["Subject"] == message.subject
    assert "08:00–12:00" in kept.get_body(("plain",)).get_content()
    entry = sent_journal("confirmation").get()
    assert entry.data["sha256"] == hashlib.sha256(wire[0]).hexdigest()


def test_a_message_not_sent_keeps_no_content(book, office):
    appointment = book()
    message = OutboxMessage.objects.get(appointment=appointment)
    appointment_cancel(appointment=appointment, reason="Kunde hat abgesagt", actor=office)

    message_deliver(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == MessageStatus.SUPERSEDED
    assert message.sent_mime is None and message.sent_mail() is None


def test_the_kept_mail_is_byte_for_byte_what_a_real_smtp_server_received(book, settings):
    from aiosmtpd.controller import Controller

    from tests.notifications.worker_harness import free_port

    received = []

    class Keep:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            received.append(envelope.original_content)
            return "250 OK"

    controller = Controller(Keep(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 5},
            }
        }
        message = OutboxMessage.objects.get(appointment=book())
        assert message_deliver(message_id=message.pk) == MessageStatus.SENT
    finally:
        controller.stop()

    message.refresh_from_db()
    assert len(received) == 1
    assert message.sent_mime_bytes() == received[0]


def test_a_message_about_no_visit_is_queued_once_per_its_own_dedupe_key(django_capture_on_commit_callbacks):
    customer = CustomerFactory(email="anna@example.org")
    with django_capture_on_commit_callbacks():
        first = message_queue(kind=MessageKind.CONFIRMATION, customer=customer, dedupe="request-7")
        again = message_queue(kind=MessageKind.CONFIRMATION, customer=customer, dedupe="request-7")
    assert first is not None and again is None
    assert OutboxMessage.objects.get().dedupe_key == "confirmation:request-7"


def test_a_message_about_no_visit_without_a_dedupe_key_is_refused():
    with pytest.raises(ValueError):
        message_queue(kind=MessageKind.CONFIRMATION, customer=CustomerFactory(email="anna@example.org"))
    assert not OutboxMessage.objects.exists()
