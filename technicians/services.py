"""Issuing and revoking technicians' calendar links, and signing a lost phone out together with its link.

No journal entry: no customer is involved. Who issued or revoked a link, and when, stays on its row.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import sessions_end_all, sessions_end_others
from appointments.formatting import format_short_day, format_time
from appointments.models import Technician
from appointments.services import AppointmentError
from technicians.models import CalendarFeed, token_hash

# 256 random bits: 43 URL-safe characters.
TOKEN_BYTES = 32
# A phone polls every few minutes to hours; noting each fetch would be a write per poll.
FETCH_NOTED_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class IssuedFeed:
    feed: CalendarFeed
    token: str  # in clear only here, to be shown to the office once; never stored


def _issued(feed: CalendarFeed) -> str:
    return f"{format_short_day(feed.created_at)} {format_time(feed.created_at)}"


@transaction.atomic
def feed_issue(*, technician: Technician, actor, replacing: CalendarFeed | None = None) -> IssuedFeed:
    """A new calendar link for `technician`; the link it replaces stops working at once.

    `replacing` is the technician's active link as the office saw it (None: they saw none). If that is
    no longer so, nothing is issued: a form sent twice (a reload of the page that showed the new link)
    or two clerks at once must not silently kill the link that was just handed out.
    """
    # Locks the technician: two clerks issuing at once end with one active link, not an IntegrityError.
    technician = Technician.objects.select_for_update().get(pk=technician.pk)
    if not technician.is_active:
        raise AppointmentError(
            _("%(technician)s is no longer active; a calendar link would not work.") % {"technician": technician},
            code="technician_inactive",
        )
    current = CalendarFeed.objects.active().filter(technician=technician).first()
    if current is not None and replacing is None:
        raise AppointmentError(
            _(
                "%(technician)s already has a calendar link (issued %(issued)s). To replace it, select it in "
                "the list of calendar links and choose “Issue a new calendar link”."
            )
            % {"technician": technician, "issued": _issued(current)},
            code="feed_exists",
        )
    if replacing is not None and (current is None or current.pk != replacing.pk):
        raise AppointmentError(
            _(
                "The calendar link of %(technician)s issued %(issued)s was replaced or revoked meanwhile; "
                "no new link was issued."
            )
            % {"technician": technician, "issued": _issued(replacing)},
            code="feed_replaced",
        )
    now = timezone.now()
    if current is not None:
        CalendarFeed.objects.filter(pk=current.pk).update(revoked_at=now, revoked_by=actor)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed = CalendarFeed.objects.create(technician=technician, token_hash=token_hash(token), created_by=actor)
    return IssuedFeed(feed=feed, token=token)


@transaction.atomic
def feed_revoke(*, feed: CalendarFeed, actor) -> bool:
    """Stops the link working. False if it had been revoked already (then nothing changes)."""
    return bool(CalendarFeed.objects.active().filter(pk=feed.pk).update(revoked_at=timezone.now(), revoked_by=actor))


@transaction.atomic
def devices_sign_out(
    *, user: AbstractBaseUser, actor: AbstractBaseUser, keep_session: SessionBase | None = None
) -> bool:
    """A lost or stolen phone: every session of `user` ends (all but `keep_session`, the one asking, when given),
    and so does their calendar link, if they have one. True if a link was stopped.

    Signed out, the phone's calendar app would still fetch the link and with it customers' names and addresses
    for as long as the link lives; the office issues a new one for the new phone.
    """
    if keep_session is None:
        sessions_end_all(user=user, actor=actor)
    else:
        sessions_end_others(user=user, keep_session=keep_session, actor=actor)
    feed = CalendarFeed.objects.active().filter(technician__user=user).first()
    return feed is not None and feed_revoke(feed=feed, actor=actor)


def feed_note_fetch(*, feed: CalendarFeed, now: datetime | None = None) -> None:
    """Bookkeeping for the office ("does the phone still fetch?"), not a change of state: at most one
    write an hour, and a conditional one, so polls at the same moment write once."""
    now = now or timezone.now()
    if feed.last_fetched_at is not None and now - feed.last_fetched_at < FETCH_NOTED_EVERY:
        return
    stale = now - FETCH_NOTED_EVERY
    CalendarFeed.objects.filter(Q(last_fetched_at__isnull=True) | Q(last_fetched_at__lt=stale), pk=feed.pk).update(
        last_fetched_at=now
    )
