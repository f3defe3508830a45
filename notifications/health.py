"""Is mail going out? One query, read by the readiness endpoint and by the office's banner."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from notifications.models import MessageStatus, OutboxMessage


@dataclass(frozen=True)
class OutboxHealth:
    checked_at: datetime
    # Given up after the last attempt, within OUTBOX_ALERT_FAILED_HOURS.
    failed: int
    # Waiting for another attempt after an error: the mail server refuses or cannot be reached now.
    retrying: int
    # The oldest message that should have gone out by now (queued and due, or claimed by a sender).
    oldest_due_since: datetime | None

    @property
    def oldest_wait(self) -> timedelta | None:
        return None if self.oldest_due_since is None else self.checked_at - self.oldest_due_since

    @property
    def stuck(self) -> bool:
        wait = self.oldest_wait
        return wait is not None and wait > settings.OUTBOX_STUCK_AFTER

    @property
    def failing(self) -> bool:
        return self.failed > 0 or self.retrying > 0

    @property
    def healthy(self) -> bool:
        return not (self.failing or self.stuck)


def outbox_health(*, now: datetime | None = None) -> OutboxHealth:
    now = now or timezone.now()
    due = Q(status=MessageStatus.QUEUED) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    figures = (
        OutboxMessage.objects.alias(
            # claimed_at is stamped at each attempt and kept when it fails: a message sent again days after
            # it was written, that fails again, is a failure of now.
            last_attempt=Coalesce("claimed_at", "created_at"),
        )
        .filter(
            Q(status__in=[MessageStatus.QUEUED, MessageStatus.SENDING])
            | Q(status=MessageStatus.FAILED, last_attempt__gte=now - settings.OUTBOX_ALERT_FAILED_WITHIN)
        )
        .aggregate(
            failed=Count("pk", filter=Q(status=MessageStatus.FAILED)),
            retrying=Count("pk", filter=Q(status=MessageStatus.QUEUED, attempts__gt=0)),
            oldest_queued=Min(Coalesce("next_attempt_at", "created_at"), filter=due),
            oldest_sending=Min("claimed_at", filter=Q(status=MessageStatus.SENDING)),
        )
    )
    oldest = [moment for moment in (figures["oldest_queued"], figures["oldest_sending"]) if moment is not None]
    return OutboxHealth(
        checked_at=now,
        failed=figures["failed"],
        retrying=figures["retrying"],
        oldest_due_since=min(oldest, default=None),
    )
