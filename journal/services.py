from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from journal.models import Channel, Direction, JournalEntry


def recorded_actor(actor: AbstractBaseUser | None) -> AbstractBaseUser | None:
    """The user to store as the one who acted: None for the system, a customer's link or an anonymous request."""
    return actor if actor is not None and actor.is_authenticated else None


# One INSERT is atomic by itself; inside a caller's transaction a savepoint would only add two round trips.
@transaction.atomic(savepoint=False)
def journal_record(
    *,
    customer,
    action: str,
    summary: str = "",
    channel: str = Channel.SYSTEM,
    direction: str = Direction.INTERNAL,
    appointment=None,
    actor: AbstractBaseUser | None = None,
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> JournalEntry:
    """Append one entry to the customer's contact journal.

    `action` and `data` say what happened; the text a reader sees is built from them in the reader's
    language (journal.rendering). `summary` is an optional fixed text, the fallback where no renderer fits.
    """
    return JournalEntry.objects.create(
        customer=customer,
        appointment=appointment,
        channel=channel,
        direction=direction,
        action=action,
        summary=summary,
        data=data or {},
        actor=recorded_actor(actor),
        occurred_at=occurred_at or timezone.now(),
    )
