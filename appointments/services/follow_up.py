"""The office's follow-up of missed visits: flagged when nobody rebooked in time, closed by a person."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from appointments.models import AppointmentStatus, VisitAttempt
from journal.models import Channel, Direction
from journal.services import journal_record, recorded_actor


class FollowUpError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def missed_follow_ups_flag(*, now: datetime | None = None) -> int:
    """Flag every missed visit still not rebooked N days after the attempt. Idempotent; returns how many."""
    now = now or timezone.now()
    flagged = 0
    due = VisitAttempt.objects.filter(
        at__lte=now - timedelta(days=settings.MISSED_FOLLOW_UP_AFTER_DAYS),
        follow_up_flagged_at__isnull=True,
        rebooked_at__isnull=True,
        follow_up_closed_at__isnull=True,
        # Only the attempt at the visit's current version, while the visit is still missed.
        appointment__status=AppointmentStatus.MISSED,
        appointment_version=F("appointment__version"),
    )
    for attempt in due.select_related("appointment__customer").order_by("at"):
        with transaction.atomic():
            # The same conditions again, in the UPDATE: a concurrent run may have flagged it, or the
            # customer rebooked it, since the list was read.
            if not due.filter(pk=attempt.pk).update(follow_up_flagged_at=now):
                continue
            with translation.override(settings.LANGUAGE_CODE):
                summary = _(
                    "Missed visit of %(date)s not rebooked within %(days)s days: the office follows up by phone."
                ) % {
                    "date": formats.date_format(timezone.localtime(attempt.at), "SHORT_DATE_FORMAT"),
                    "days": settings.MISSED_FOLLOW_UP_AFTER_DAYS,
                }
            journal_record(
                customer=attempt.appointment.customer,
                appointment=attempt.appointment,
                action="visit.follow_up_flagged",
                summary=summary,
                channel=Channel.SYSTEM,
                direction=Direction.INTERNAL,
                data={
                    "attempt_id": attempt.pk,
                    "attempt_at": attempt.at.isoformat(),
                    "days": settings.MISSED_FOLLOW_UP_AFTER_DAYS,
                },
                occurred_at=now,
            )
            flagged += 1
    return flagged


@transaction.atomic
def follow_up_close(*, attempt: VisitAttempt, actor: AbstractBaseUser | None, note: str) -> VisitAttempt:
    """The office has dealt with a missed visit (called, left a message, customer declined): say how."""
    note = note.strip()
    if not note:
        raise FollowUpError(_("Please note what was agreed with the customer."))
    attempt = VisitAttempt.objects.select_for_update().select_related("appointment__customer").get(pk=attempt.pk)
    if attempt.follow_up_closed_at is not None:
        raise FollowUpError(_("This follow-up was already closed."))
    attempt.follow_up_closed_at = timezone.now()
    attempt.follow_up_closed_by = recorded_actor(actor)
    attempt.follow_up_note = note
    attempt.save(update_fields=["follow_up_closed_at", "follow_up_closed_by", "follow_up_note"])
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Follow-up of the missed visit closed: %(note)s") % {"note": note}
    journal_record(
        customer=attempt.appointment.customer,
        appointment=attempt.appointment,
        action="visit.follow_up_closed",
        summary=summary,
        actor=actor,
        data={"attempt_id": attempt.pk, "note": note},
    )
    return attempt
