"""A visit's life after booking: confirmed, on the way, on site, done, missed or cancelled."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from appointments.models import (
    Appointment,
    VisitAttempt,
)
from appointments.services.rules import (
    CLOCK_SKEW_ALLOWED,
    LONGEST_ETA,
    LONGEST_WAIT_MINUTES,
    AppointmentError,
    Status,
    _ensure_confirmable,
    _ensure_visit_day,
    _ensure_window_started,
    _journal,
    _locked,
    _moment,
)
from appointments.services.scheduling import _missed_visits_rebooked
from appointments.signals import visit_cancelled
from journal.models import Channel, Direction
from journal.services import recorded_actor
from notifications.models import MessageKind
from notifications.services import message_queue


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
    journal_data: Mapping[str, Any] | None = None,
) -> Appointment:
    """`journal_data`: what the journal needs beyond the reason to say it (e.g. a reason code, see
    appointment_cancel_online)."""
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
        data={"reason": reason, **(journal_data or {})},
        extra_fields={"cancel_reason": reason},
    )
    visit_cancelled.send(sender=Appointment, appointment=appointment, reason=reason, actor=actor)
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
            # That the phone gave a place, never where: the journal is kept for good, a location only for
            # LOCATION_RETENTION_DAYS (on the attempt), and it tells where a person lives.
            "location_recorded": latitude is not None,
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
