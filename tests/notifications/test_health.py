"""The outbox's health: what counts as mail failing or stuck."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.health import outbox_health
from notifications.models import MessageStatus, OutboxMessage
from tests.factories import OutboxMessageFactory

pytestmark = pytest.mark.django_db


def backdate(message, **fields):
    OutboxMessage.objects.filter(pk=message.pk).update(**fields)


def test_sent_and_superseded_messages_and_retries_not_yet_due_are_healthy():
    OutboxMessageFactory(status=MessageStatus.SENT)
    OutboxMessageFactory(status=MessageStatus.SUPERSEDED)
    OutboxMessageFactory(status=MessageStatus.QUEUED, next_attempt_at=timezone.now() + timedelta(hours=2))

    health = outbox_health()

    assert health.healthy
    assert health.oldest_due_since is None


def test_a_message_given_up_within_the_alert_window_counts_as_failed_and_an_older_one_does_not(settings):
    settings.OUTBOX_ALERT_FAILED_WITHIN = timedelta(hours=24)
    OutboxMessageFactory(status=MessageStatus.FAILED)
    old = OutboxMessageFactory(status=MessageStatus.FAILED)
    backdate(old, created_at=timezone.now() - timedelta(hours=25))

    health = outbox_health()

    assert health.failed == 1
    assert health.failing and not health.healthy


def test_a_message_sent_again_long_after_it_was_written_that_fails_again_counts(settings):
    settings.OUTBOX_ALERT_FAILED_WITHIN = timedelta(hours=24)
    message = OutboxMessageFactory(status=MessageStatus.FAILED)
    backdate(message, created_at=timezone.now() - timedelta(days=5), claimed_at=timezone.now() - timedelta(minutes=3))

    assert outbox_health().failed == 1


def test_a_queued_message_that_had_an_error_counts_as_retrying():
    OutboxMessageFactory(
        status=MessageStatus.QUEUED, attempts=2, next_attempt_at=timezone.now() + timedelta(minutes=5)
    )

    health = outbox_health()

    assert health.retrying == 1
    assert not health.stuck


def test_a_due_message_waiting_longer_than_the_stuck_limit_is_stuck_and_a_fresh_one_is_not(settings):
    settings.OUTBOX_STUCK_AFTER = timedelta(minutes=15)
    fresh = OutboxMessageFactory(status=MessageStatus.QUEUED)
    assert not outbox_health().stuck

    backdate(fresh, created_at=timezone.now() - timedelta(minutes=40))
    health = outbox_health()

    assert health.stuck
    assert timedelta(minutes=39) < health.oldest_wait < timedelta(minutes=41)


def test_a_message_claimed_by_a_sender_long_ago_counts_as_stuck(settings):
    settings.OUTBOX_STUCK_AFTER = timedelta(minutes=15)
    OutboxMessageFactory(status=MessageStatus.SENDING, claimed_at=timezone.now() - timedelta(minutes=30))

    assert outbox_health().stuck


def test_health_is_read_in_one_query(django_assert_num_queries):
    OutboxMessageFactory(status=MessageStatus.FAILED)
    OutboxMessageFactory(status=MessageStatus.QUEUED)

    with django_assert_num_queries(1):
        outbox_health()
