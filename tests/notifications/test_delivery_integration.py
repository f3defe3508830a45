"""Booking confirmations through the real chain: commit → Redis → Celery worker → SMTP server.

Each test runs a real `celery worker` subprocess against this test's database,
a real Redis and a real SMTP server (aiosmtpd) inside the test, and checks what
arrives there: every message exactly once, or, after a worker dies mid-send, at
least once and twice only for the messages it was sending at that moment.
"""

import logging
import time
import uuid
from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from django.db.models import Count
from django.utils import timezone

from appointments.services import appointment_schedule
from journal.models import Channel, Direction, JournalEntry
from notifications.models import MessageKind, MessageStatus, OutboxMessage
from notifications.services import DELIVERY_BATCH, RELAY_GRACE, SENDING_TIMEOUT, outbox_relay
from tests.factories import (
    CustomerFactory,
    FirmFactory,
    OfficeUserFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    local_dt,
)
from tests.notifications.worker_harness import (
    SmtpSink,
    Worker,
    forget_queue,
    publishing_to,
    wait_until,
)

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

DEADLINE = 90  # seconds; generous for 2 slow cores, reached only when something is broken


# Fixtures ---------------------------------------------------------------------------


@pytest.fixture
def smtp_sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def start_worker(tmp_path, smtp_sink):
    """Start `celery worker` subprocesses that deliver to the sink; all are stopped before the database is flushed."""
    started: list[Worker] = []

    def start(redis_url: str, *, pool: str = "solo", concurrency: int = 1, queue: str | None = None) -> Worker:
        worker = Worker(
            name=f"worker{len(started) + 1}",
            redis_url=redis_url,
            smtp_port=smtp_sink.port,
            var_dir=tmp_path,
            pool=pool,
            concurrency=concurrency,
            queue=queue,
        )
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def booking_setup():
    """What a confirmation needs: the firm, an office person with a profile, a technician for the service."""
    FirmFactory()
    actor = OfficeUserFactory()
    service_type = ServiceTypeFactory()
    technician = TechnicianFactory(service_types=[service_type])
    return {"actor": actor, "service_type": service_type, "technician": technician}


def book(booking_setup, django_capture_on_commit_callbacks, *, day: int, customer=None):
    """Book through the service, running the on-commit hand-over to Celery as a real request would."""
    customer = customer or CustomerFactory(responsible=booking_setup["actor"])
    with django_capture_on_commit_callbacks(execute=True):
        return appointment_schedule(
            customer=customer,
            service_type=booking_setup["service_type"],
            technician=booking_setup["technician"],
            window_start=local_dt(day, 8),
            actor=booking_setup["actor"],
        )


def statuses() -> Counter:
    return Counter(OutboxMessage.objects.values_list("status", flat=True))


def all_sent(expected: int):
    return lambda: OutboxMessage.objects.filter(status=MessageStatus.SENT).count() == expected


def diagnosis(*workers: Worker):
    return lambda: f"outbox: {dict(statuses())}\n" + "\n".join(worker.log_tail() for worker in workers)


def confirmation_entries_per_message() -> Counter:
    entries = JournalEntry.objects.filter(
        action=f"message.{MessageKind.CONFIRMATION}", channel=Channel.EMAIL, direction=Direction.OUTBOUND
    )
    return Counter(entry.data["outbox_id"] for entry in entries)


def assert_journalled_once(messages) -> None:
    per_message = confirmation_entries_per_message()
    assert per_message == {message.pk: 1 for message in messages}
    per_appointment = (
        JournalEntry.objects.filter(action="message.confirmation", channel="email", direction="out")
        .values("appointment")
        .annotate(entries=Count("id"))
    )
    assert {row["appointment"]: row["entries"] for row in per_appointment} == {
        message.appointment_id: 1 for message in messages
    }


# Tests ------------------------------------------------------------------------------


def test_200_confirmations_reach_the_smtp_server_exactly_once(
    redis_url, booking_setup, smtp_sink, start_worker, django_capture_on_commit_callbacks
):
    # A queue of this test alone, so no other worker on the shared Redis takes its tasks.
    queue = f"doorstep-test-{uuid.uuid4().hex[:12]}"
    customers = CustomerFactory.create_batch(200, responsible=booking_setup["actor"])
    try:
        with publishing_to(redis_url, queue=queue):
            worker = start_worker(redis_url, pool="prefork", concurrency=2, queue=queue)
            for day, customer in enumerate(customers, start=1):
                book(booking_setup, django_capture_on_commit_callbacks, day=day, customer=customer)

            wait_until(all_sent(200), timeout=DEADLINE, what="200 messages sent", diagnose=diagnosis(worker))
            worker.stop()  # lets anything in flight finish, so a late duplicate would be in the sink now
    finally:
        forget_queue(redis_url, queue)

    messages = list(OutboxMessage.objects.all())
    assert len(messages) == 200
    assert {message.status for message in messages} == {MessageStatus.SENT}
    # One claim each, all from the on-commit hand-over: nothing in this test runs the relay.
    assert {message.attempts for message in messages} == {1}

    mails = smtp_sink.mails
    assert len(mails) == 200
    assert len({mail.message_id for mail in mails}) == 200
    assert smtp_sink.per_recipient() == {customer.email.lower(): 1 for customer in customers}
    # The Message-ID recorded on each row is the one the customer received.
    assert {mail.message_id for mail in mails} == {message.provider_message_id for message in messages}
    assert_journalled_once(messages)


def test_booking_while_redis_is_down_is_fast_and_the_relay_delivers_later(
    private_redis, booking_setup, smtp_sink, start_worker, django_capture_on_commit_callbacks, caplog
):
    with publishing_to(private_redis.url):
        # Handed to Redis, then lost with it: the restart below comes back empty (no persistence).
        swallowed = book(booking_setup, django_capture_on_commit_callbacks, day=1)
        swallowed_message = OutboxMessage.objects.get(appointment=swallowed)
        assert swallowed_message.handed_at is not None

        private_redis.stop()
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="notifications.services"):
            appointment = book(booking_setup, django_capture_on_commit_callbacks, day=2)
        elapsed = time.monotonic() - started

        assert elapsed < 5, f"booking took {elapsed:.1f} s with Redis down"
        appointment.refresh_from_db()
        message = OutboxMessage.objects.get(appointment=appointment, kind=MessageKind.CONFIRMATION)
        assert message.status == MessageStatus.QUEUED
        assert message.handed_at is None
        assert f"outbox messages [{message.pk}] wait for the relay" in caplog.text

        private_redis.start()
        worker = start_worker(private_redis.url)

        # Never handed over: the next relay run hands it at once.
        assert outbox_relay() == 1
        wait_until(
            lambda: OutboxMessage.objects.get(pk=message.pk).status == MessageStatus.SENT,
            timeout=DEADLINE,
            what="the message booked while Redis was down to be sent",
            diagnose=diagnosis(worker),
        )
        # Handed over but lost in Redis: the relay hands it again once RELAY_GRACE has passed.
        assert outbox_relay() == 0
        assert outbox_relay(now=timezone.now() + RELAY_GRACE + timedelta(seconds=1)) == 1
        wait_until(all_sent(2), timeout=DEADLINE, what="both messages sent", diagnose=diagnosis(worker))
        worker.stop()

    assert smtp_sink.per_recipient() == {
        appointment.customer.email.lower(): 1,
        swallowed.customer.email.lower(): 1,
    }
    assert_journalled_once([message, swallowed_message])


def test_booking_while_redis_hangs_gives_up_within_the_socket_timeout(
    private_redis, booking_setup, smtp_sink, start_worker, django_capture_on_commit_callbacks
):
    """A frozen Redis accepts the connection and never answers: only the broker timeouts keep the booking fast."""
    with publishing_to(private_redis.url):
        private_redis.freeze()
        started = time.monotonic()
        try:
            appointment = book(booking_setup, django_capture_on_commit_callbacks, day=1)
        finally:
            elapsed = time.monotonic() - started
            private_redis.thaw()

        assert elapsed < 5, f"booking took {elapsed:.1f} s with Redis not answering"
        message = OutboxMessage.objects.get(appointment=appointment, kind=MessageKind.CONFIRMATION)
        assert (message.status, message.handed_at) == (MessageStatus.QUEUED, None)

        # The timed-out publish may still have reached Redis; the relay hands the message over regardless.
        worker = start_worker(private_redis.url)
        outbox_relay()
        wait_until(all_sent(1), timeout=DEADLINE, what="the message to be sent", diagnose=diagnosis(worker))
        worker.stop()

    assert smtp_sink.per_recipient() == {appointment.customer.email.lower(): 1}
    assert_journalled_once([message])


def test_a_worker_killed_mid_batch_loses_no_message(
    private_redis, booking_setup, smtp_sink, start_worker, django_capture_on_commit_callbacks
):
    total = 2 * DELIVERY_BATCH
    customers = CustomerFactory.create_batch(total, responsible=booking_setup["actor"])
    with publishing_to(private_redis.url):
        # Queued without a hand-over, then handed over by the relay as a sweep does: full batches, one per
        # worker process, so the kill lands in the middle of batches.
        with mock.patch("notifications.services.hand_to_worker"):
            for day, customer in enumerate(customers, start=1):
                book(booking_setup, django_capture_on_commit_callbacks, day=day, customer=customer)
        assert outbox_relay() == total
        assert OutboxMessage.objects.filter(status=MessageStatus.QUEUED, handed_at__isnull=False).count() == total

        first = start_worker(private_redis.url, pool="prefork", concurrency=2)
        wait_until(lambda: smtp_sink.count() >= 15, timeout=DEADLINE, what="15 mails", diagnose=diagnosis(first))
        first.kill()
        in_flight = set(
            OutboxMessage.objects.filter(status=MessageStatus.SENDING).values_list("customer__email", flat=True)
        )
        sent_before_relay = OutboxMessage.objects.filter(status=MessageStatus.SENT).count()
        assert sent_before_relay < total, "the worker finished before it was killed; the test proved nothing"

        # Ten minutes later the relay frees what the dead worker held and hands over what it never took.
        assert outbox_relay(now=timezone.now() + SENDING_TIMEOUT + timedelta(minutes=1)) == total - sent_before_relay
        second = start_worker(private_redis.url, pool="prefork", concurrency=2)
        wait_until(all_sent(total), timeout=DEADLINE, what=f"{total} messages sent", diagnose=diagnosis(first, second))
        second.stop()

    per_recipient = smtp_sink.per_recipient()
    assert set(per_recipient) == {customer.email.lower() for customer in customers}
    twice = {recipient for recipient, count in per_recipient.items() if count > 1}
    assert twice <= {email.lower() for email in in_flight}, f"sent twice but not in flight at the kill: {twice}"
    # A claimed batch is all "sending"; only the one message each process was sending may go twice.
    assert len(twice) <= 2, f"more messages sent twice than the two processes could have been sending: {twice}"
    assert max(per_recipient.values()) <= 2
    messages = list(OutboxMessage.objects.all())
    assert {message.status for message in messages} == {MessageStatus.SENT}
    assert_journalled_once(messages)
