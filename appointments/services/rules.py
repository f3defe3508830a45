"""The rules every change of an appointment is checked against, and the helpers the services share.

Bookings of one technician are serialised: on PostgreSQL by locking the
technician's row (the exclusion constraint is the last line of defence), on
SQLite by the IMMEDIATE transaction every write starts with. Under that lock the
overlap is re-checked, so a conflict is always a readable AppointmentError.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appointments.formatting import format_day, format_time, format_window
from appointments.models import (
    Appointment,
    AppointmentStatus,
    ServiceType,
    Technician,
    TimeOff,
)
from appointments.planning import Busy, anywhere_in, earliest_start, fits_at, in_utc, working_periods_on
from journal.models import Channel, Direction
from journal.services import journal_record

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


def _window_data(appointment: Appointment) -> dict[str, Any]:
    return {
        "window_start": appointment.window_start.isoformat(),
        "window_end": appointment.window_end.isoformat(),
        "planned_start": appointment.planned_start.isoformat(),
        "technician_id": appointment.technician_id,
        "version": appointment.version,
    }


def service_type_names(service_type: ServiceType) -> dict[str, str]:
    """The service's name in each language, for journal data: the entry is read later in any of them."""
    return {
        language: name
        for language, name in (("en", service_type.name), ("de", service_type.name_de), ("nl", service_type.name_nl))
        if name
    }


def _visit_journal_data(appointment: Appointment) -> dict[str, Any]:
    return {
        **_window_data(appointment),
        "status": appointment.status,
        "service_type_id": appointment.service_type_id,
        "service": service_type_names(appointment.service_type),
        "technician": appointment.technician.display_name if appointment.technician_id else "",
    }


def _check_window(window_start: datetime, window_end: datetime) -> None:
    if timezone.is_naive(window_start) or timezone.is_naive(window_end):
        raise ValueError("Appointment windows must be aware datetimes.")
    if window_end <= window_start:
        raise AppointmentError(_("The arrival window must end after it starts."), code="window_order")


# Longer than any single visit a trades firm plans: more is a typo (minutes typed as hours).
LONGEST_VISIT = timedelta(hours=12)


def _check_duration(duration: timedelta) -> None:
    if not timedelta(0) < duration <= LONGEST_VISIT:
        raise AppointmentError(
            _("The expected duration must be more than 0 and at most %(hours)s hours.")
            % {"hours": int(LONGEST_VISIT.total_seconds() // 3600)},
            code="duration_range",
        )


def _ensure_window_ahead(window_end: datetime, moment: datetime) -> None:
    """A visit is moved or confirmed only into a window that has not passed: a date typo must not
    send a mail for last week, nor take a missed visit off the follow-up list with nothing booked."""
    if window_end <= moment:
        raise AppointmentError(_("This window has already passed; choose a time still ahead."), code="window_past")


def _ensure_confirmable(appointment: Appointment, moment: datetime) -> None:
    """A request may wait days for its confirmation: meanwhile its time may pass, or its technician
    may have taken time off or stopped doing the service."""
    _ensure_window_ahead(appointment.window_end, moment)
    plan = {
        "technician": _lock_technician(appointment.technician),
        "service_type": appointment.service_type,
        "window_start": appointment.window_start,
        "window_end": appointment.window_end,
        "duration": appointment.expected_duration,
        "exclude_pk": appointment.pk,
    }
    try:
        _plan_slot(**plan, planned_start=appointment.planned_start)
    except AppointmentError as refused:
        if refused.code not in ("overlap", "time_off"):
            raise
        # Time off entered since took the planned slot: the window (the promise) still holds while it
        # has room elsewhere, so the request is planned there, within working hours, rather than refused.
        try:
            slot = _plan_slot(**plan, require_working_hours=True)
        except AppointmentError:
            raise refused from None
        appointment.planned_start = slot.planned_start
        appointment.occupied_until = slot.occupied_until


def _lock_technician(technician: Technician) -> Technician:
    return Technician.objects.select_for_update().get(pk=technician.pk)


@dataclass(frozen=True)
class Slot:
    """Where a visit goes in its technician's day: busy over [planned_start, occupied_until)."""

    planned_start: datetime
    occupied_until: datetime


def _ensure_can_do(technician: Technician, service_type: ServiceType) -> None:
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


def _plan_slot(
    *,
    technician: Technician,
    service_type: ServiceType,
    window_start: datetime,
    window_end: datetime,
    duration: timedelta,
    planned_start: datetime | None = None,
    exclude_pk: int | None = None,
    require_working_hours: bool = False,
) -> Slot:
    """Place a visit in the technician's day: at `planned_start` if given (the office chose it), else
    at the earliest start inside the window where the job and its buffer fit.

    Called with the technician's row locked, so what is read here stays true until the commit.
    Customers' bookings `require_working_hours`; the office may plan outside them (the admin warns),
    but within the hours first where the window allows.
    """
    _ensure_can_do(technician, service_type)
    needed = duration + service_type.buffer_after
    # The busy range is a real length of time, also across a DST change (see planning.in_utc).
    window_start, window_end = in_utc(window_start), in_utc(window_end)
    if planned_start is not None:
        planned_start = in_utc(planned_start)
    # Whatever can meet a visit starting inside the window.
    reach_end = window_end + needed
    others = list(
        Appointment.objects.overlapping(technician_id=technician.pk, starts_at=window_start, ends_at=reach_end)
        .exclude(pk=exclude_pk)
        .select_related("customer")
        .order_by("planned_start")
    )
    absences = list(
        TimeOff.objects.filter(technician=technician, starts_at__lt=reach_end, ends_at__gt=window_start).order_by(
            "starts_at"
        )
    )
    busy = Busy(
        [(other.planned_start, other.occupied_until) for other in others]
        + [(absence.starts_at, absence.ends_at) for absence in absences]
    )
    periods = working_periods_on(timezone.localdate(window_start), technician.working_periods.all())
    if planned_start is not None:
        if not window_start <= planned_start < window_end:
            raise AppointmentError(
                _("The planned start must lie inside the arrival window (%(window)s).")
                % {"window": format_window(window_start, window_end)},
                code="planned_outside_window",
            )
        if not busy.is_free(planned_start, planned_start + needed):
            _refuse_busy(technician, others, absences, planned_start, planned_start + needed)
        if require_working_hours and not fits_at(start=planned_start, needed=needed, periods=periods, busy=busy):
            _refuse_outside_hours(technician)
        return Slot(planned_start, planned_start + needed)
    start = earliest_start(window_start=window_start, window_end=window_end, needed=needed, periods=periods, busy=busy)
    if start is None and not require_working_hours:
        start = earliest_start(
            window_start=window_start,
            window_end=window_end,
            needed=needed,
            periods=anywhere_in(window_start),
            busy=busy,
        )
    if start is None:
        if others or absences:
            _refuse_busy(technician, others, absences, window_start, window_end)
        _refuse_outside_hours(technician)
    return Slot(start, start + needed)


def _refuse_busy(
    technician: Technician, others: list[Appointment], absences: list[TimeOff], starts: datetime, ends: datetime
) -> NoReturn:
    """Name what is in the way: time off before visits, and what meets [starts, ends) before the rest."""

    def meets(begin: datetime, end: datetime) -> bool:
        return begin < ends and end > starts

    absence = next((absence for absence in absences if meets(absence.starts_at, absence.ends_at)), None)
    conflict = next((other for other in others if meets(other.planned_start, other.occupied_until)), None)
    if absence is None and conflict is None:
        absence = absences[0] if absences else None
        conflict = others[0] if others else None
    if absence is not None:
        raise AppointmentError(
            _("%(technician)s is not working then (time off: %(window)s).")
            % {"technician": technician, "window": format_window(absence.starts_at, absence.ends_at)},
            code="time_off",
        )
    assert conflict is not None, "called only when something is in the way"
    raise AppointmentError(
        _("%(technician)s is already booked then: %(window)s (%(customer)s).")
        % {
            "technician": technician,
            "window": format_window(conflict.planned_start, conflict.occupied_until),
            "customer": conflict.customer.full_name,
        },
        code="overlap",
    )


def _refuse_outside_hours(technician: Technician) -> NoReturn:
    raise AppointmentError(
        _("The visit does not fit into %(technician)s's working hours in this window.") % {"technician": technician},
        code="outside_hours",
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
        data={**_visit_journal_data(appointment), **(data or {})},
        occurred_at=occurred_at,
    )
