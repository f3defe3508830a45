"""Which arrival windows can still be offered. Read-only: nothing here writes.

A day's candidate windows are a grid of the service type's window length from
BOOKING_DAY_STARTS_AT, built in local wall-clock time so DST days keep their
08:00 and 12:00. A window is offered for a technician when

- the visit fits: some arrival time inside the window leaves room for the
  expected duration plus buffer within one of the technician's working periods
  that day, and
- the whole reserved range [window start, reserved until) is free of their time
  off and of their active appointments (the same range the overlap rule uses).

All data for the whole range comes from three queries, whatever the number of
appointments; the rest is arithmetic on sorted intervals.
"""

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone

from appointments.closed_days import closed_days
from appointments.models import (
    Appointment,
    AppointmentStatus,
    ServiceType,
    Technician,
    TimeOff,
    WorkingPeriod,
    local_midnight,
)
from appointments.services import reserved_until

# No visit reserves a technician for longer than this after its window opens.
RESERVATION_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    technician_ids: tuple[int, ...]


@dataclass
class Day:
    day: date
    windows: list[Window] = field(default_factory=list)


class Busy:
    """A technician's busy intervals, sorted, for fast overlap questions."""

    def __init__(self, intervals: Iterable[tuple[datetime, datetime]]):
        merged: list[list[datetime]] = []
        for start, end in sorted(intervals):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = [start for start, _end in merged]
        self.ends = [end for _start, end in merged]

    def is_free(self, start: datetime, end: datetime) -> bool:
        # The first busy interval ending after `start` is the only one that can overlap.
        index = bisect_left(self.ends, start)
        while index < len(self.ends) and self.ends[index] == start:
            index += 1  # half-open: ending exactly at `start` is fine
        return index >= len(self.starts) or self.starts[index] >= end


def booking_days(*, now: datetime | None = None) -> tuple[date, date]:
    """First and last bookable day: from the next day (minimum notice) to the horizon."""
    today = timezone.localdate(now or timezone.now())
    first = today + timedelta(days=settings.BOOKING_MIN_NOTICE_DAYS)
    return first, today + timedelta(weeks=settings.BOOKING_HORIZON_WEEKS)


def candidate_windows(day: date, service_type: ServiceType) -> list[tuple[datetime, datetime]]:
    day_start = datetime.combine(day, time.fromisoformat(settings.BOOKING_DAY_STARTS_AT))
    day_end = datetime.combine(day, time.fromisoformat(settings.BOOKING_DAY_ENDS_AT))
    windows = []
    start = day_start
    while start + service_type.arrival_window <= day_end:
        end = start + service_type.arrival_window
        # Wall-clock arithmetic first, then each end made aware on its own: correct on DST days.
        windows.append((timezone.make_aware(start), timezone.make_aware(end)))
        start = end
    return windows


def visit_fits(
    window_start: datetime, window_end: datetime, needed: timedelta, periods: list[tuple[datetime, datetime]]
) -> bool:
    """Can the technician arrive within the window and finish inside one working period?"""
    for period_start, period_end in periods:
        earliest_arrival = max(window_start, period_start)
        if earliest_arrival < window_end and earliest_arrival + needed <= period_end:
            return True
    return False


def working_periods_on(day: date, periods) -> list[tuple[datetime, datetime]]:
    """The technician's working periods (WorkingPeriod rows) that fall on `day`, as aware datetimes."""
    return [
        (
            timezone.make_aware(datetime.combine(day, period.starts)),
            timezone.make_aware(datetime.combine(day, period.ends)),
        )
        for period in periods
        if period.weekday == day.weekday()
    ]


def within_working_hours(appointment: Appointment) -> bool:
    """Does the visit, with its buffer, fit one of its technician's working periods that day?"""
    if appointment.technician is None:
        return True
    periods = working_periods_on(
        timezone.localdate(appointment.window_start), appointment.technician.working_periods.all()
    )
    needed = appointment.service_type.duration + appointment.service_type.buffer_after
    return visit_fits(appointment.window_start, appointment.window_end, needed, periods)


def free_windows(
    *,
    service_type: ServiceType,
    technician: Technician | None = None,
    first_day: date,
    last_day: date,
    ignoring: Appointment | None = None,
) -> list[Day]:
    """Offerable windows per day, for one technician or any technician who does the service.

    `ignoring` leaves one appointment out of the busy times: the visit being moved
    must not block its own new window.
    """
    technicians = Technician.objects.filter(is_active=True, service_types=service_type)
    if technician is not None:
        technicians = technicians.filter(pk=technician.pk)
    technicians = list(
        technicians.prefetch_related(Prefetch("working_periods", queryset=WorkingPeriod.objects.order_by("starts")))
    )
    if not technicians:
        return [Day(first_day + timedelta(days=offset)) for offset in range((last_day - first_day).days + 1)]
    range_start = local_midnight(first_day)
    range_end = local_midnight(last_day + timedelta(days=1))
    ids = [tech.pk for tech in technicians]
    busy_intervals: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    appointments = Appointment.objects.active().filter(
        technician_id__in=ids,
        # The lower bound lets the (technician, window_start) index skip the years of history.
        window_start__gte=range_start - RESERVATION_LOOKBACK,
        window_start__lt=range_end,
        occupied_until__gt=range_start,
    )
    if ignoring is not None:
        appointments = appointments.exclude(pk=ignoring.pk)
    for technician_id, start, end in appointments.values_list("technician_id", "window_start", "occupied_until"):
        busy_intervals[technician_id].append((start, end))
    for technician_id, start, end in TimeOff.objects.filter(
        technician_id__in=ids, starts_at__lt=range_end, ends_at__gt=range_start
    ).values_list("technician_id", "starts_at", "ends_at"):
        busy_intervals[technician_id].append((start, end))
    busy = {technician_id: Busy(busy_intervals[technician_id]) for technician_id in ids}
    needed = service_type.duration + service_type.buffer_after

    days = []
    # Public holidays and the firm's closures are never offered; the office books on them by hand.
    closed = closed_days(first_day, last_day)
    day = first_day
    while day <= last_day:
        offered = Day(day)
        periods_by_technician = {tech.pk: working_periods_on(day, tech.working_periods.all()) for tech in technicians}
        for window_start, window_end in [] if day in closed else candidate_windows(day, service_type):
            reserved = reserved_until(window_start=window_start, window_end=window_end, service_type=service_type)
            free = tuple(
                tech.pk
                for tech in technicians
                if visit_fits(window_start, window_end, needed, periods_by_technician[tech.pk])
                and busy[tech.pk].is_free(window_start, reserved)
            )
            if free:
                offered.windows.append(Window(window_start, window_end, free))
        days.append(offered)
        day += timedelta(days=1)
    return days


def without_given_up_window(days: list[Day], appointment: Appointment) -> list[Day]:
    """`days` without any window that meets the one the firm gave up for `appointment`, with any technician.

    The firm told the customer it cannot keep that time; a page that offered it (or an overlapping
    window) back would make that a lie. The visit no longer reserves its technician, so the free
    windows alone would offer it.
    """
    if appointment.status != AppointmentStatus.NEW_TIME:
        return days
    return [
        Day(
            day.day,
            [
                window
                for window in day.windows
                if not (window.start < appointment.window_end and appointment.window_start < window.end)
            ],
        )
        for day in days
    ]


def window_is_offered(
    *,
    service_type: ServiceType,
    window_start: datetime,
    technician: Technician | None = None,
    ignoring: Appointment | None = None,
) -> Window | None:
    """The Window if `window_start` is bookable right now (inside notice and horizon, still free), else None."""
    day = timezone.localdate(window_start)
    first, last = booking_days()
    if not first <= day <= last:
        return None
    days = free_windows(
        service_type=service_type, technician=technician, first_day=day, last_day=day, ignoring=ignoring
    )
    if ignoring is not None:
        days = without_given_up_window(days, ignoring)
    for window in days[0].windows:
        if window.start == window_start:
            return window
    return None
