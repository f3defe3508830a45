"""My desk: what an office person has seen of the customers' online changes."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from desk.models import DeskVisit


@transaction.atomic
def desk_mark_seen(*, user: AbstractBaseUser, seen_until: datetime) -> DeskVisit:
    """The online changes up to `seen_until` (when the page was shown) are seen; later ones stay new.

    Never in the future, never backwards: a second tab opened earlier must not bring old changes back,
    nor hide one that came in after its page was drawn.
    """
    seen_until = min(seen_until, timezone.now())
    visit, created = DeskVisit.objects.select_for_update().get_or_create(
        user=user, defaults={"last_seen_at": seen_until}
    )
    if not created and seen_until > visit.last_seen_at:
        visit.last_seen_at = seen_until
        visit.save(update_fields=["last_seen_at"])
    return visit
