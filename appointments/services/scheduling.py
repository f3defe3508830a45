"""Booking, moving and editing visits: the office's and the customers' way to change a visit's time."""

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from appointments.formatting import format_window
from appointments.journal_texts import INVITATION_BOOKED_OTHERWISE, INVITATION_CLOSE_REASONS
from appointments.models import (
    Appointment,
    BookingInvitation,
    ServiceType,
    Technician,
    VisitAttempt,
)
from appointments.services.rules import (
    AppointmentError,
    Status,
    _check_duration,
    _check_window,
    _ensure_unchanged_since,
    _ensure_window_ahead,
    _journal,
    _lock_technician,
    _locked,
    _plan_slot,
    _save_guarded,
    _window_data,
    service_type_names,
)
from customers.models import Customer
from journal.models import Channel
from journal.services import journal_record, recorded_actor
from notifications.models import MessageKind
from notifications.services import message_queue

RESCHEDULABLE = frozenset({Status.REQUESTED, Status.SCHEDULED, Status.EN_ROUTE, Status.MISSED, Status.NEW_TIME})
DETAIL_FIELDS = ("notes", "site_street", "site_postcode", "site_city", "site_country")


# Services ---------------------------------------------------------------------


@transaction.atomic
def appointment_schedule(
    *,
    customer: Customer,
    service_type: ServiceType,
    technician: Technician,
    window_start: datetime,
    window_end: datetime | None = None,
    actor: AbstractBaseUser | None,
    notes: str = "",
    site: Mapping[str, str] | None = None,
    requested: bool = False,
    channel: str = Channel.SYSTEM,
    invitation: BookingInvitation | None = None,
    planned_start: datetime | None = None,
    expected_duration: timedelta | None = None,
    require_working_hours: bool = False,
) -> Appointment:
    """Book a visit. `requested=True` records a customer's wish the office has yet to confirm.

    The visit is planned at `planned_start`, or at the earliest start in the window where it fits
    the technician's day (see `_plan_slot`); `expected_duration` defaults to the service's.

    `invitation`: the invitation the customer booked this from. Any other open invitation of the
    customer for this service is closed: a link from an old "maintenance due" mail must not book a
    second visit after the office booked one on the phone.
    """
    window_end = window_end or window_start + service_type.arrival_window
    _check_window(window_start, window_end)
    if not service_type.is_active:
        raise AppointmentError(_("“%(service)s” is no longer offered.") % {"service": service_type})
    expected_duration = expected_duration or service_type.duration
    _check_duration(expected_duration)
    technician = _lock_technician(technician)
    slot = _plan_slot(
        technician=technician,
        service_type=service_type,
        window_start=window_start,
        window_end=window_end,
        duration=expected_duration,
        planned_start=planned_start,
        require_working_hours=require_working_hours,
    )
    site = site or {}
    now = timezone.now()
    appointment = Appointment(
        customer=customer,
        technician=technician,
        service_type=service_type,
        site_street=site.get("street") or customer.street,
        site_postcode=site.get("postcode") or customer.postcode,
        site_city=site.get("city") or customer.city,
        site_country=site.get("country") or customer.country,
        window_start=window_start,
        window_end=window_end,
        expected_duration=expected_duration,
        planned_start=slot.planned_start,
        occupied_until=slot.occupied_until,
        status=Status.REQUESTED if requested else Status.SCHEDULED,
        notes=notes,
        created_by=recorded_actor(actor),
        requested_at=now if requested else None,
        scheduled_at=None if requested else now,
    )
    _save_guarded(appointment)
    with translation.override(settings.LANGUAGE_CODE):
        summary = (
            _("Visit requested: %(service)s, %(window)s with %(technician)s.")
            if requested
            else _("Visit scheduled: %(service)s, %(window)s with %(technician)s.")
        ) % {
            "service": service_type.localized_name(),
            "window": format_window(window_start, window_end),
            "technician": technician,
        }
    _journal(
        appointment,
        action="appointment.requested" if requested else "appointment.scheduled",
        summary=summary,
        actor=actor,
        channel=channel,
    )
    if invitation is not None:
        invitation.appointment = appointment
        invitation.save(update_fields=["appointment"])
    if not requested:
        _missed_visits_rebooked(rebooked_as=appointment, actor=actor)
    for other in BookingInvitation.objects.open().filter(customer=customer, service_type=service_type):
        invitation_close(invitation=other, actor=actor, reason=INVITATION_BOOKED_OTHERWISE)
    if not requested:
        message_queue(kind=MessageKind.CONFIRMATION, appointment=appointment)
    return appointment


def _missed_visits_rebooked(*, rebooked_as: Appointment, actor: AbstractBaseUser | None) -> None:
    """A new visit for the same service at the same site answers the customer's missed ones: off the
    follow-up list, and their links and cards no longer offer a second booking. The missed visits stay
    on record as they were. (A mere request does not count until the office confirms it.)"""
    open_attempts = VisitAttempt.objects.filter(
        appointment__customer=rebooked_as.customer,
        appointment__service_type=rebooked_as.service_type,
        appointment__site_street=rebooked_as.site_street,
        appointment__site_postcode=rebooked_as.site_postcode,
        appointment__status=Status.MISSED,
        appointment_version=F("appointment__version"),
        rebooked_at__isnull=True,
    )
    for attempt in open_attempts.select_related("appointment"):
        # The same conditions in the UPDATE: the customer may be rebooking that very visit right now.
        if not open_attempts.filter(pk=attempt.pk).update(rebooked_at=timezone.now()):
            continue
        with translation.override(settings.LANGUAGE_CODE):
            summary = _("Missed visit of %(window)s rebooked as D-%(new)s.") % {
                "window": format_window(attempt.window_start, attempt.window_end),
                "new": rebooked_as.pk,
            }
        _journal(
            attempt.appointment,
            action="visit.rebooked",
            summary=summary,
            actor=actor,
            data={
                "attempt_id": attempt.pk,
                "attempt_window_start": attempt.window_start.isoformat(),
                "attempt_window_end": attempt.window_end.isoformat(),
                "rebooked_as": rebooked_as.pk,
            },
        )


@transaction.atomic
def invitation_close(*, invitation: BookingInvitation, actor: AbstractBaseUser | None, reason: str) -> None:
    """The link stops working (it counts as expired now); the journal says why (`reason`: a code of
    INVITATION_CLOSE_REASONS)."""
    if reason not in INVITATION_CLOSE_REASONS:
        raise ValueError(f"Unknown reason for closing an invitation: {reason!r}")
    BookingInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Invitation to book online (%(service)s) closed: %(reason)s.") % {
            "service": invitation.service_type.localized_name(),
            "reason": INVITATION_CLOSE_REASONS[reason],
        }
    journal_record(
        customer=invitation.customer,
        action="booking.invitation_closed",
        summary=summary,
        actor=actor,
        data={
            "invitation_id": invitation.pk,
            "service_type_id": invitation.service_type_id,
            "service": service_type_names(invitation.service_type),
            "reason": reason,
        },
    )


@transaction.atomic
def appointment_reschedule(
    *,
    appointment: Appointment,
    window_start: datetime,
    window_end: datetime | None = None,
    technician: Technician | None = None,
    actor: AbstractBaseUser | None,
    reason: str = "",
    channel: str = Channel.SYSTEM,
    expected_version: int | None = None,
    planned_start: datetime | None = None,
    require_working_hours: bool = False,
) -> Appointment:
    """Move a visit to a new window and/or technician. Bumps the version, so older reminders and links die.

    `expected_version`: the version the person moving it saw; a visit moved since is refused, not moved back.
    The visit is planned at `planned_start` or the earliest start in the new window where it fits.
    Moving it inside its own window with the same technician is `appointment_replan`, not this.
    """
    appointment = _locked(appointment)
    _ensure_unchanged_since(appointment, expected_version)
    if appointment.status not in RESCHEDULABLE:
        raise AppointmentError(
            _("A visit that is %(status)s cannot be moved.") % {"status": appointment.get_status_display()},
            code="illegal_transition",
        )
    service_type = appointment.service_type
    window_end = window_end or window_start + (appointment.window_end - appointment.window_start)
    _check_window(window_start, window_end)
    _ensure_window_ahead(window_end, timezone.now())
    technician = technician or appointment.technician
    if technician is None:
        raise AppointmentError(_("Choose a technician."), code="technician_missing")
    if (
        # The firm gave up a new-time visit's window: booking it back into that window is a change.
        appointment.status != Status.NEW_TIME
        and window_start == appointment.window_start
        and window_end == appointment.window_end
        and technician.pk == appointment.technician_id
    ):
        raise AppointmentError(_("The visit already has this time and technician."), code="unchanged")
    technician = _lock_technician(technician)
    slot = _plan_slot(
        technician=technician,
        service_type=service_type,
        window_start=window_start,
        window_end=window_end,
        duration=appointment.expected_duration,
        planned_start=planned_start,
        exclude_pk=appointment.pk,
        require_working_hours=require_working_hours,
    )
    previous = _window_data(appointment)
    previous_status = appointment.status
    previous_technician_name = appointment.technician.display_name if appointment.technician else ""
    appointment.window_start = window_start
    appointment.window_end = window_end
    appointment.planned_start = slot.planned_start
    appointment.occupied_until = slot.occupied_until
    appointment.technician = technician
    appointment.version += 1
    if previous_status in (Status.EN_ROUTE, Status.MISSED, Status.NEW_TIME):
        # The trip, the missed attempt or the firm's request belongs to the old time; the new one is a fresh booking.
        appointment.status = Status.SCHEDULED
    if previous_status == Status.MISSED:
        # The attempt stays on record; rebooking takes it off the office's follow-up list.
        VisitAttempt.objects.filter(appointment=appointment, rebooked_at__isnull=True).update(
            rebooked_at=timezone.now()
        )
    if appointment.status == Status.SCHEDULED:
        # When the current time was agreed: reminders due before that are not sent.
        appointment.scheduled_at = timezone.now()
    _save_guarded(appointment)
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Visit moved from %(old)s to %(new)s with %(technician)s.") % {
            "old": format_window(
                datetime.fromisoformat(previous["window_start"]), datetime.fromisoformat(previous["window_end"])
            ),
            "new": format_window(window_start, window_end),
            "technician": technician,
        }
        if reason:
            summary += " " + _("Reason: %(reason)s") % {"reason": reason}
    _journal(
        appointment,
        action="appointment.rescheduled",
        summary=summary,
        actor=actor,
        channel=channel,
        data={
            "previous": previous,
            "previous_status": previous_status,
            "previous_technician": previous_technician_name,
            "reason": reason,
        },
    )
    if appointment.status != Status.REQUESTED:
        message_queue(
            kind=MessageKind.CHANGE,
            appointment=appointment,
            context={"previous": previous, "previous_technician_name": previous_technician_name},
        )
    return appointment


@transaction.atomic
def appointment_update_details(
    *,
    appointment: Appointment,
    changes: Mapping[str, str],
    actor: AbstractBaseUser | None,
    expected_version: int | None = None,
) -> Appointment:
    """Notes and site address; the time and technician change only through appointment_reschedule."""
    unknown = set(changes) - set(DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"Not appointment detail fields: {sorted(unknown)}")
    appointment = _locked(appointment)
    _ensure_unchanged_since(appointment, expected_version)
    changed = {name: value for name, value in changes.items() if getattr(appointment, name) != value}
    if not changed:
        return appointment
    for name, value in changed.items():
        setattr(appointment, name, value)
    appointment.save(update_fields=[*changed, "updated_at"])
    with translation.override(settings.LANGUAGE_CODE):
        labels = ", ".join(str(Appointment._meta.get_field(name).verbose_name) for name in changed)
        summary = _("Visit details changed: %(fields)s.") % {"fields": labels}
    _journal(
        appointment,
        action="appointment.updated",
        summary=summary,
        actor=actor,
        data={"changes": changed, "fields": list(changed)},
    )
    return appointment
