"""Every change of an appointment goes through here: validated, atomic, journalled.

Bookings of one technician are serialised: on PostgreSQL by locking the
technician's row (the exclusion constraint is the last line of defence), on
SQLite by the IMMEDIATE transaction every write starts with. Under that lock the
overlap is re-checked, so a conflict is always a readable AppointmentError.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import formats, timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from appointments.formatting import format_day, format_time, format_window
from appointments.models import (
    Appointment,
    AppointmentStatus,
    BookingInvitation,
    ServiceType,
    Technician,
    TimeOff,
    VisitAttempt,
)
from customers.models import Customer
from journal.models import Channel, Direction
from journal.services import journal_record, recorded_actor
from notifications.models import MessageKind
from notifications.services import message_queue

OVERLAP_CONSTRAINT = "appointment_technician_no_overlap"
# A technician's phone may run a little fast; anything further ahead is a typo.
CLOCK_SKEW_ALLOWED = timedelta(minutes=5)
# Longer than any drive between two jobs: an arrival further ahead is a typo.
LONGEST_ETA = timedelta(hours=8)
LONGEST_WAIT_MINUTES = 240
Status = AppointmentStatus


class AppointmentError(Exception):
    """A domain rule said no. `message` is translated and safe to show to the user."""

    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    timestamp_field: str
    action: str


TRANSITIONS = {
    "confirm": Transition(frozenset({Status.REQUESTED}), Status.SCHEDULED, "scheduled_at", "appointment.confirmed"),
    "start_trip": Transition(frozenset({Status.SCHEDULED}), Status.EN_ROUTE, "trip_started_at", "visit.trip_started"),
    "arrive": Transition(
        frozenset({Status.SCHEDULED, Status.EN_ROUTE}), Status.ON_SITE, "arrived_at", "visit.arrived"
    ),
    "complete": Transition(frozenset({Status.ON_SITE}), Status.COMPLETED, "completed_at", "visit.completed"),
    "mark_missed": Transition(
        frozenset({Status.SCHEDULED, Status.EN_ROUTE}), Status.MISSED, "missed_at", "visit.missed"
    ),
    "request_new_time": Transition(
        frozenset({Status.SCHEDULED}), Status.NEW_TIME, "new_time_requested_at", "appointment.new_time_requested"
    ),
    "cancel": Transition(
        frozenset({Status.REQUESTED, Status.SCHEDULED, Status.EN_ROUTE, Status.NEW_TIME}),
        Status.CANCELLED,
        "cancelled_at",
        "appointment.cancelled",
    ),
}
RESCHEDULABLE = frozenset({Status.REQUESTED, Status.SCHEDULED, Status.EN_ROUTE, Status.MISSED, Status.NEW_TIME})
DETAIL_FIELDS = ("notes", "site_street", "site_postcode", "site_city", "site_country")


def _window_data(appointment: Appointment) -> dict[str, Any]:
    return {
        "window_start": appointment.window_start.isoformat(),
        "window_end": appointment.window_end.isoformat(),
        "technician_id": appointment.technician_id,
        "version": appointment.version,
    }


# Rules ------------------------------------------------------------------------


def reserved_until(*, window_start: datetime, window_end: datetime, service_type: ServiceType) -> datetime:
    """The technician is held for the promised window, or longer if the job and buffer run past it."""
    return max(window_end, window_start + service_type.duration + service_type.buffer_after)


def _check_window(window_start: datetime, window_end: datetime) -> None:
    if timezone.is_naive(window_start) or timezone.is_naive(window_end):
        raise ValueError("Appointment windows must be aware datetimes.")
    if window_end <= window_start:
        raise AppointmentError(_("The arrival window must end after it starts."), code="window_order")


def _ensure_window_ahead(window_end: datetime, moment: datetime) -> None:
    """A visit is moved or confirmed only into a window that has not passed: a date typo must not
    send a mail for last week, nor take a missed visit off the follow-up list with nothing booked."""
    if window_end <= moment:
        raise AppointmentError(_("This window has already passed; choose a time still ahead."), code="window_past")


def _ensure_confirmable(appointment: Appointment, moment: datetime) -> None:
    """A request may wait days for its confirmation: meanwhile its time may pass, or its technician
    may have taken time off or stopped doing the service."""
    _ensure_window_ahead(appointment.window_end, moment)
    _ensure_technician_free(
        technician=_lock_technician(appointment.technician),
        service_type=appointment.service_type,
        window_start=appointment.window_start,
        occupied_until=appointment.occupied_until,
        exclude_pk=appointment.pk,
    )


def _lock_technician(technician: Technician) -> Technician:
    return Technician.objects.select_for_update().get(pk=technician.pk)


def _ensure_technician_free(
    *,
    technician: Technician,
    service_type: ServiceType,
    window_start: datetime,
    occupied_until: datetime,
    exclude_pk: int | None = None,
) -> None:
    if not technician.is_active:
        raise AppointmentError(
            _("%(technician)s is no longer active.") % {"technician": technician}, code="technician_inactive"
        )
    if not technician.service_types.filter(pk=service_type.pk).exists():
        raise AppointmentError(
            _("%(technician)s is not qualified for “%(service)s”.")
            % {"technician": technician, "service": service_type},
            code="technician_unqualified",
        )
    conflict = (
        Appointment.objects.overlapping(technician_id=technician.pk, starts_at=window_start, ends_at=occupied_until)
        .exclude(pk=exclude_pk)
        .select_related("customer")
        .order_by("window_start")
        .first()
    )
    if conflict is not None:
        raise AppointmentError(
            _("%(technician)s is already booked then: %(window)s (%(customer)s).")
            % {
                "technician": technician,
                "window": format_window(conflict.window_start, conflict.occupied_until),
                "customer": conflict.customer.full_name,
            },
            code="overlap",
        )
    absence = (
        TimeOff.objects.filter(technician=technician, starts_at__lt=occupied_until, ends_at__gt=window_start)
        .order_by("starts_at")
        .first()
    )
    if absence is not None:
        raise AppointmentError(
            _("%(technician)s is not working then (time off: %(window)s).")
            % {"technician": technician, "window": format_window(absence.starts_at, absence.ends_at)},
            code="time_off",
        )


def _save_guarded(appointment: Appointment, **save_kwargs: Any) -> None:
    """Save, turning the database's overlap verdict into a readable error."""
    try:
        with transaction.atomic():
            appointment.save(**save_kwargs)
    except IntegrityError as exc:
        if OVERLAP_CONSTRAINT in str(exc):
            raise AppointmentError(
                _("%(technician)s was booked for this time a moment ago. Please choose another time.")
                % {"technician": appointment.technician},
                code="overlap",
            ) from exc
        raise


def _locked(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("customer", "technician", "service_type")
        .get(pk=appointment.pk)
    )


def _ensure_unchanged_since(appointment: Appointment, expected_version: int | None) -> None:
    """Refuse to act on a visit that was moved after the person acting last saw it."""
    if expected_version is not None and appointment.version != expected_version:
        raise AppointmentError(
            _("This visit was moved in the meantime (now %(window)s). Reload it and check before changing it.")
            % {"window": format_window(appointment.window_start, appointment.window_end)},
            code="changed_meanwhile",
        )


def is_visit_day(appointment: Appointment, moment: datetime) -> bool:
    """A trip or an attempt at the door belongs to the visit's own day, not to one a tap away in the list."""
    return timezone.localdate(moment) == timezone.localdate(appointment.window_start)


def has_window_opened(appointment: Appointment, moment: datetime) -> bool:
    """Before the window nobody had to be home: "not home" then would be no proof, and would free the slot.

    No clock-skew allowance: that is for times a phone sends, and the customer was promised the
    window itself, not five minutes before it.
    """
    return moment >= appointment.window_start


def _ensure_visit_day(appointment: Appointment, moment: datetime) -> None:
    if not is_visit_day(appointment, moment):
        raise AppointmentError(
            _("This visit is on %(day)s, not today.") % {"day": format_day(appointment.window_start)},
            code="not_visit_day",
        )


def _ensure_window_started(appointment: Appointment, moment: datetime) -> None:
    _ensure_visit_day(appointment, moment)
    # Both clocks: a phone running fast may send a time already inside the window while, on the
    # firm's own clock, the window has not opened yet.
    if not (has_window_opened(appointment, moment) and has_window_opened(appointment, timezone.now())):
        raise AppointmentError(
            _("The window starts at %(time)s; “not home” can be recorded from then on.")
            % {"time": format_time(appointment.window_start)},
            code="window_not_started",
        )


def _moment(at: datetime | None) -> datetime:
    now = timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at):
        raise ValueError("Transition times must be aware datetimes.")
    if at > now + CLOCK_SKEW_ALLOWED:
        raise AppointmentError(_("That time lies in the future."), code="future_time")
    return at


def _journal(
    appointment: Appointment,
    *,
    action: str,
    summary: str,
    actor: AbstractBaseUser | None,
    channel: str = Channel.SYSTEM,
    direction: str = Direction.INTERNAL,
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> None:
    if channel == Channel.WEB:
        # Only customers act on the web pages: whatever they did there came in from them.
        direction = Direction.INBOUND
    journal_record(
        customer=appointment.customer,
        appointment=appointment,
        action=action,
        summary=summary,
        channel=channel,
        direction=direction,
        actor=actor,
        data={**_window_data(appointment), "status": appointment.status, **(data or {})},
        occurred_at=occurred_at,
    )


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
) -> Appointment:
    """Book a visit. `requested=True` records a customer's wish the office has yet to confirm.

    `invitation`: the invitation the customer booked this from. Any other open invitation of the
    customer for this service is closed: a link from an old "maintenance due" mail must not book a
    second visit after the office booked one on the phone.
    """
    window_end = window_end or window_start + service_type.arrival_window
    _check_window(window_start, window_end)
    if not service_type.is_active:
        raise AppointmentError(_("“%(service)s” is no longer offered.") % {"service": service_type})
    technician = _lock_technician(technician)
    occupied_until = reserved_until(window_start=window_start, window_end=window_end, service_type=service_type)
    _ensure_technician_free(
        technician=technician, service_type=service_type, window_start=window_start, occupied_until=occupied_until
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
        expected_duration=service_type.duration,
        occupied_until=occupied_until,
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
        invitation_close(invitation=other, actor=actor, reason=gettext_lazy("a visit was booked otherwise"))
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
        _journal(attempt.appointment, action="visit.rebooked", summary=summary, actor=actor)


@transaction.atomic
def invitation_close(*, invitation: BookingInvitation, actor: AbstractBaseUser | None, reason: Promise) -> None:
    """The link stops working (it counts as expired now); the journal says why (`reason`: a lazy text)."""
    BookingInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Invitation to book online (%(service)s) closed: %(reason)s.") % {
            "service": invitation.service_type.localized_name(),
            "reason": reason,
        }
    journal_record(
        customer=invitation.customer,
        action="booking.invitation_closed",
        summary=summary,
        actor=actor,
        data={"invitation_id": invitation.pk},
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
) -> Appointment:
    """Move a visit to a new window and/or technician. Bumps the version, so older reminders and links die.

    `expected_version`: the version the person moving it saw; a visit moved since is refused, not moved back.
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
        window_start == appointment.window_start
        and window_end == appointment.window_end
        and technician.pk == appointment.technician_id
    ):
        raise AppointmentError(_("The visit already has this time and technician."), code="unchanged")
    technician = _lock_technician(technician)
    occupied_until = reserved_until(window_start=window_start, window_end=window_end, service_type=service_type)
    _ensure_technician_free(
        technician=technician,
        service_type=service_type,
        window_start=window_start,
        occupied_until=occupied_until,
        exclude_pk=appointment.pk,
    )
    previous = _window_data(appointment)
    previous_status = appointment.status
    previous_technician_name = appointment.technician.display_name if appointment.technician else ""
    appointment.window_start = window_start
    appointment.window_end = window_end
    appointment.occupied_until = occupied_until
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
        data={"previous": previous, "previous_status": previous_status, "reason": reason},
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
    _journal(appointment, action="appointment.updated", summary=summary, actor=actor, data={"changes": changed})
    return appointment


def _transition(
    name: str,
    *,
    appointment: Appointment,
    actor: AbstractBaseUser | None,
    summary: str,
    at: datetime | None = None,
    channel: str = Channel.SYSTEM,
    direction: str = Direction.INTERNAL,
    data: dict[str, Any] | None = None,
    extra_fields: Mapping[str, Any] | None = None,
    when_allowed: Callable[[Appointment, datetime], None] | None = None,
) -> Appointment:
    """`when_allowed(locked visit, moment)` raises AppointmentError if the moment does not suit the visit."""
    transition = TRANSITIONS[name]
    appointment = _locked(appointment)
    if appointment.status not in transition.sources:
        raise AppointmentError(
            _("This visit is %(status)s; it cannot be set to “%(target)s”.")
            % {"status": appointment.get_status_display(), "target": Status(transition.target).label},
            code="illegal_transition",
        )
    moment = _moment(at)
    if when_allowed is not None:
        when_allowed(appointment, moment)
    appointment.status = transition.target
    setattr(appointment, transition.timestamp_field, moment)
    for field, value in (extra_fields or {}).items():
        setattr(appointment, field, value)
    appointment.save()
    _journal(
        appointment,
        action=transition.action,
        summary=summary,
        actor=actor,
        channel=channel,
        direction=direction,
        data=data,
        occurred_at=moment,
    )
    return appointment


@transaction.atomic
def appointment_confirm(*, appointment: Appointment, actor: AbstractBaseUser | None) -> Appointment:
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Requested visit confirmed.")
    appointment = _transition(
        "confirm",
        appointment=appointment,
        actor=actor,
        summary=summary,
        when_allowed=_ensure_confirmable,
    )
    _missed_visits_rebooked(rebooked_as=appointment, actor=actor)
    message_queue(kind=MessageKind.CONFIRMATION, appointment=appointment)
    return appointment


@transaction.atomic
def appointment_cancel(
    *,
    appointment: Appointment,
    reason: str,
    actor: AbstractBaseUser | None,
    channel: str = Channel.SYSTEM,
    direction: str = Direction.INTERNAL,
) -> Appointment:
    reason = reason.strip()
    if not reason:
        raise AppointmentError(_("Please give a reason for the cancellation."), code="reason_missing")
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Visit cancelled. Reason: %(reason)s") % {"reason": reason}
    appointment = _transition(
        "cancel",
        appointment=appointment,
        actor=actor,
        summary=summary,
        channel=channel,
        direction=direction,
        data={"reason": reason},
        extra_fields={"cancel_reason": reason},
    )
    message_queue(kind=MessageKind.CANCELLATION, appointment=appointment)
    return appointment


@transaction.atomic
def visit_start_trip(
    *,
    appointment: Appointment,
    actor: AbstractBaseUser | None,
    at: datetime | None = None,
    expected_arrival: datetime | None = None,
):
    """The technician sets off; the customer hears it first, with the expected arrival if one was given."""
    moment = _moment(at)
    if expected_arrival is not None and not moment - CLOCK_SKEW_ALLOWED <= expected_arrival <= moment + LONGEST_ETA:
        raise AppointmentError(_("The expected arrival must lie within the next eight hours."), code="eta_range")
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Technician on the way.")
        if expected_arrival is not None:
            summary += " " + _("Expected around %(time)s.") % {
                "time": formats.time_format(timezone.localtime(expected_arrival), "H:i")
            }
    appointment = _transition(
        "start_trip",
        when_allowed=_ensure_visit_day,
        appointment=appointment,
        actor=actor,
        summary=summary,
        at=moment,
        channel=Channel.VISIT,
        data={"expected_arrival": expected_arrival.isoformat() if expected_arrival else None},
    )
    message_queue(
        kind=MessageKind.ON_MY_WAY,
        appointment=appointment,
        context={"expected_arrival": expected_arrival.isoformat() if expected_arrival else None},
    )
    return appointment


@transaction.atomic
def visit_arrive(*, appointment: Appointment, actor: AbstractBaseUser | None, at: datetime | None = None):
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Technician arrived on site.")
    # Like the trip: on the visit's own day, so a tap on the wrong row cannot start another day's visit.
    return _transition(
        "arrive",
        when_allowed=_ensure_visit_day,
        appointment=appointment,
        actor=actor,
        summary=summary,
        at=at,
        channel=Channel.VISIT,
    )


@transaction.atomic
def visit_complete(
    *, appointment: Appointment, actor: AbstractBaseUser | None, at: datetime | None = None, report: str = ""
):
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Visit completed.") + (" " + report.strip() if report.strip() else "")
    return _transition(
        "complete",
        appointment=appointment,
        actor=actor,
        summary=summary,
        at=at,
        channel=Channel.VISIT,
        data={"report": report.strip()},
    )


@transaction.atomic
def visit_mark_missed(
    *,
    appointment: Appointment,
    actor: AbstractBaseUser | None,
    at: datetime | None = None,
    waited_minutes: int = 0,
    note: str = "",
    card_left: bool = False,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    location_accuracy_m: int | None = None,
) -> Appointment:
    """Nobody opened. The attempt (`appointment.attempts`), with the server's time, is the firm's proof.

    The customer gets a mail ("we were at your door at 10:02") with a link to
    choose a new time; nobody rebooking within a few days puts the attempt on
    the office's follow-up list.
    """
    if not 0 <= waited_minutes <= LONGEST_WAIT_MINUTES:
        raise AppointmentError(
            _("Waiting time must be between 0 and %(most)s minutes.") % {"most": LONGEST_WAIT_MINUTES},
            code="wait_range",
        )
    if (latitude is None) != (longitude is None) or (latitude is None and location_accuracy_m is not None):
        raise AppointmentError(_("The location needs both latitude and longitude."), code="location_incomplete")
    if latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise AppointmentError(_("The location is not a valid position."), code="location_range")
    note = note.strip()
    moment = _moment(at)
    with translation.override(settings.LANGUAGE_CODE):
        facts = [
            _("Technician was at the door at %(time)s; nobody was home.")
            % {"time": formats.time_format(timezone.localtime(moment), "H:i")},
            ngettext("Waited %(minutes)s minute.", "Waited %(minutes)s minutes.", waited_minutes)
            % {"minutes": waited_minutes},
            _("Card left at the door.") if card_left else _("No card left."),
        ]
        if latitude is not None:
            facts.append(_("Location recorded by the phone."))
        if note:
            facts.append(note)
        summary = " ".join(facts)
    appointment = _transition(
        "mark_missed",
        when_allowed=_ensure_window_started,
        appointment=appointment,
        actor=actor,
        summary=summary,
        at=moment,
        channel=Channel.VISIT,
        data={
            "waited_minutes": waited_minutes,
            "card_left": card_left,
            "note": note,
            "latitude": str(latitude) if latitude is not None else None,
            "longitude": str(longitude) if longitude is not None else None,
            "location_accuracy_m": location_accuracy_m,
        },
    )
    attempt = VisitAttempt.objects.create(
        appointment=appointment,
        technician=appointment.technician,
        recorded_by=recorded_actor(actor),
        at=moment,
        window_start=appointment.window_start,
        window_end=appointment.window_end,
        appointment_version=appointment.version,
        waited_minutes=waited_minutes,
        note=note,
        card_left=card_left,
        latitude=latitude,
        longitude=longitude,
        location_accuracy_m=location_accuracy_m,
    )
    message_queue(kind=MessageKind.MISSED_VISIT, appointment=appointment, context={"attempt_id": attempt.pk})
    return appointment
