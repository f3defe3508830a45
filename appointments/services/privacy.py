"""Personal data in visits, invitations and door attempts: erased on request, door locations after a while."""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from appointments.models import ACTIVE_STATUSES, Appointment, BookingInvitation, VisitAttempt
from journal.services import journal_data_forget

# Where a missed visit's journal entry kept the door's location before it kept only that one was taken.
JOURNAL_LOCATION_KEYS = ("latitude", "longitude")


def customer_has_active_visits(*, customer_id: int) -> bool:
    """Requested, scheduled, on the way or on site: a visit that still needs the address and the phone."""
    return Appointment.objects.filter(customer_id=customer_id, status__in=ACTIVE_STATUSES).exists()


@transaction.atomic
def appointments_anonymise(*, customer_id: int) -> dict[str, int]:
    """Remove the customer's personal data from their visits, invitations and door attempts.

    Kept: dates, statuses, service types, technicians, durations, versions, postcode and city (a region),
    the attempts' times and waits: the firm's statistics. Gone: street, notes, reasons, the invitations'
    personal notes and door locations. Open invitation links stop working (a new nonce).
    """
    visits = Appointment.objects.filter(customer_id=customer_id)
    attempts = VisitAttempt.objects.filter(appointment__customer_id=customer_id)
    counts = {"visits": visits.count(), "door_attempts": attempts.count()}
    visits.update(site_street="", notes="", cancel_reason="", new_time_reason="", updated_at=timezone.now())
    attempts.update(note="", follow_up_note="", latitude=None, longitude=None, location_accuracy_m=None)
    _journal_locations_forget(customer_id=customer_id)
    invitations = list(BookingInvitation.objects.filter(customer_id=customer_id).only("pk"))
    for invitation in invitations:
        invitation.message = ""
        invitation.nonce = secrets.token_hex(32)
    BookingInvitation.objects.bulk_update(invitations, ["message", "nonce"])
    counts["invitations"] = len(invitations)
    return counts


@transaction.atomic
def door_locations_expire(*, now: datetime | None = None) -> int:
    """Delete the location of every door attempt older than LOCATION_RETENTION_DAYS; returns how many.

    The attempt itself (time, wait, card left) stays: it is the firm's record that it was there. The place
    only mattered while someone might dispute that, and it tells where a person lives. Missed-visit journal
    entries written before the journal kept only that a location was taken lose their coordinates too.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.LOCATION_RETENTION_DAYS)
    _journal_locations_forget(occurred_before=cutoff)
    return VisitAttempt.objects.filter(at__lt=cutoff, latitude__isnull=False).update(
        latitude=None, longitude=None, location_accuracy_m=None
    )


def _journal_locations_forget(*, customer_id: int | None = None, occurred_before: datetime | None = None) -> int:
    """Remove the coordinates older missed-visit entries hold; each keeps that a location was taken."""
    return journal_data_forget(
        action="visit.missed",
        keys=JOURNAL_LOCATION_KEYS,
        noted_as="location_recorded",
        customer_id=customer_id,
        occurred_before=occurred_before,
    )
