"""Changing the plan of a technician's day without changing what the customer was promised.

Re-ordering visits inside their windows, or a job that will take longer, changes only the
planned slots: no mail, no new version, every link in the customer's mails keeps working.
A move to another window or another technician is a reschedule (the customer is told).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from appointments.availability import candidate_windows
from appointments.formatting import format_duration, format_time, format_window
from appointments.models import ACTIVE_STATUSES, Appointment, Technician
from appointments.planning import Busy, fits_at, working_periods_on
from appointments.services.rules import (
    AppointmentError,
    Status,
    _check_duration,
    _ensure_unchanged_since,
    _ensure_window_ahead,
    _journal,
    _lock_technician,
    _locked,
    _plan_slot,
    _save_guarded,
)
from appointments.services.scheduling import appointment_reschedule

REPLANNABLE = frozenset({Status.REQUESTED, Status.SCHEDULED})


@dataclass(frozen=True)
class PlanMove:
    appointment: Appointment
    # True when the window or technician changed: a reschedule, and the customer is told.
    customer_told: bool


@transaction.atomic
def appointment_replan(
    *,
    appointment: Appointment,
    planned_start: datetime,
    actor: AbstractBaseUser | None,
    expected_version: int | None = None,
) -> Appointment:
    """A new planned start inside the visit's own window, with the same technician (re-ordering the day)."""
    if timezone.is_naive(planned_start):
        raise ValueError("Planned starts must be aware datetimes.")
    appointment = _locked(appointment)
    _ensure_unchanged_since(appointment, expected_version)
    if appointment.status not in REPLANNABLE or appointment.technician is None:
        raise AppointmentError(
            _("Only a requested or scheduled visit with a technician can be re-planned; this one is %(status)s.")
            % {"status": appointment.get_status_display()},
            code="illegal_transition",
        )
    _ensure_window_ahead(appointment.window_end, timezone.now())
    if planned_start == appointment.planned_start:
        raise AppointmentError(
            _("The visit is already planned at %(time)s.") % {"time": format_time(planned_start)}, code="unchanged"
        )
    slot = _plan_slot(
        technician=_lock_technician(appointment.technician),
        service_type=appointment.service_type,
        window_start=appointment.window_start,
        window_end=appointment.window_end,
        duration=appointment.expected_duration,
        planned_start=planned_start,
        exclude_pk=appointment.pk,
    )
    previous = appointment.planned_start
    appointment.planned_start = slot.planned_start
    appointment.occupied_until = slot.occupied_until
    _save_guarded(appointment, update_fields=["planned_start", "occupied_until", "updated_at"])
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Planned start changed from %(old)s to %(new)s; the promised window %(window)s stays.") % {
            "old": format_time(previous),
            "new": format_time(slot.planned_start),
            "window": format_window(appointment.window_start, appointment.window_end),
        }
    _journal(
        appointment,
        action="appointment.replanned",
        summary=summary,
        actor=actor,
        data={"previous_planned_start": previous.isoformat(), "planned_start": slot.planned_start.isoformat()},
    )
    return appointment


def promise_window_for(appointment: Appointment, planned_start: datetime) -> tuple[datetime, datetime]:
    """The arrival window to promise for a visit planned at `planned_start`: its own window if that
    holds the start, else the window of the day's grid that does, else one of the same length from then."""
    if appointment.window_start <= planned_start < appointment.window_end:
        return appointment.window_start, appointment.window_end
    for window_start, window_end in candidate_windows(timezone.localdate(planned_start), appointment.service_type):
        if window_start <= planned_start < window_end:
            return window_start, window_end
    return planned_start, planned_start + (appointment.window_end - appointment.window_start)


@transaction.atomic
def appointment_plan_move(
    *,
    appointment: Appointment,
    technician: Technician,
    planned_start: datetime,
    actor: AbstractBaseUser | None,
    expected_version: int | None = None,
) -> PlanMove:
    """The dispatch board's move: inside the window with the same technician it re-orders the day;
    to another window or technician it reschedules the visit and the customer is told."""
    if (
        technician.pk == appointment.technician_id
        and appointment.window_start <= planned_start < appointment.window_end
        # A visit waiting for a new time (or missed) no longer has its window: putting it back is a booking.
        and appointment.status in REPLANNABLE
    ):
        return PlanMove(
            appointment_replan(
                appointment=appointment, planned_start=planned_start, actor=actor, expected_version=expected_version
            ),
            customer_told=False,
        )
    window_start, window_end = promise_window_for(appointment, planned_start)
    with translation.override(settings.LANGUAGE_CODE):
        reason = _("Re-planned on the dispatch board.")
    moved = appointment_reschedule(
        appointment=appointment,
        window_start=window_start,
        window_end=window_end,
        technician=technician,
        planned_start=planned_start,
        actor=actor,
        reason=reason,
        expected_version=expected_version,
    )
    return PlanMove(moved, customer_told=moved.status != Status.REQUESTED)


@transaction.atomic
def appointment_change_duration(
    *,
    appointment: Appointment,
    expected_duration: timedelta,
    actor: AbstractBaseUser | None,
    expected_version: int | None = None,
) -> Appointment:
    """The job will take longer (or shorter) than planned: the plan follows, inside the window.

    The visit keeps its planned start where the new length fits; otherwise it moves to the
    earliest start in its window where it does. Refused, with what is in the way, where it fits nowhere.
    """
    _check_duration(expected_duration)
    appointment = _locked(appointment)
    _ensure_unchanged_since(appointment, expected_version)
    if appointment.status in (Status.COMPLETED, Status.CANCELLED):
        raise AppointmentError(
            _("A visit that is %(status)s keeps its duration.") % {"status": appointment.get_status_display()},
            code="illegal_transition",
        )
    previous = appointment.expected_duration
    if expected_duration == previous:
        raise AppointmentError(_("The visit already has this expected duration."), code="unchanged")
    appointment.expected_duration = expected_duration
    fields = ["expected_duration", "updated_at"]
    if appointment.status in ACTIVE_STATUSES and appointment.technician is not None:
        technician = _lock_technician(appointment.technician)
        periods = working_periods_on(timezone.localdate(appointment.planned_start), technician.working_periods.all())
        # Planned inside the working day, it stays inside: the longer job must not run into the evening.
        was_within_hours = fits_at(
            start=appointment.planned_start,
            needed=previous + appointment.service_type.buffer_after,
            periods=periods,
            busy=Busy([]),
        )
        plan = {
            "technician": technician,
            "service_type": appointment.service_type,
            "window_start": appointment.window_start,
            "window_end": appointment.window_end,
            "duration": expected_duration,
            "exclude_pk": appointment.pk,
            "require_working_hours": was_within_hours,
        }
        try:
            slot = _plan_slot(**plan, planned_start=appointment.planned_start)
        except AppointmentError as refused:
            if appointment.status not in REPLANNABLE or refused.code not in ("overlap", "time_off", "outside_hours"):
                raise
            try:
                slot = _plan_slot(**plan)
            except AppointmentError:
                raise AppointmentError(
                    _("With %(duration)s the visit no longer fits its window: %(reason)s")
                    % {"duration": format_duration(expected_duration), "reason": refused.message},
                    code=refused.code,
                ) from refused
        appointment.planned_start = slot.planned_start
        appointment.occupied_until = slot.occupied_until
        fields += ["planned_start", "occupied_until"]
    _save_guarded(appointment, update_fields=fields)
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Expected duration changed from %(old)s to %(new)s; planned %(time)s.") % {
            "old": format_duration(previous),
            "new": format_duration(expected_duration),
            "time": format_time(appointment.planned_start),
        }
    _journal(
        appointment,
        action="appointment.duration_changed",
        summary=summary,
        actor=actor,
        data={
            "previous_duration_minutes": previous.total_seconds() / 60,
            "duration_minutes": expected_duration.total_seconds() / 60,
            "planned_start": appointment.planned_start.isoformat(),
        },
    )
    return appointment
