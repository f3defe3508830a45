"""The office's "find a time": the next free windows for a service, with who is free and when they would start.

Read-only. The windows come from appointments.availability.free_windows (the same rule customers
are offered by, closed days left out); the planned start each technician would give the visit is
appointments.planning.earliest_start on the same data, so "Book" places it exactly there.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Prefetch
from django.utils import timezone

from appointments.availability import RESERVATION_LOOKBACK, free_windows
from appointments.models import Appointment, ServiceType, Technician, TimeOff, WorkingPeriod, local_midnight
from appointments.planning import Busy, earliest_start, working_periods_on

# How far ahead the office looks, and how many windows it is shown: enough to offer a caller a choice.
FIND_WEEKS = 6
MAX_OFFERS = 10
# The first look covers this many days; most services have ten free windows well within it.
FIRST_LOOK_DAYS = 14


@dataclass(frozen=True)
class Option:
    technician: Technician
    planned_start: datetime


@dataclass(frozen=True)
class Offer:
    start: datetime
    end: datetime
    options: tuple[Option, ...]


def find_offers(
    *,
    service_type: ServiceType,
    first_day: date,
    technician: Technician | None = None,
    now: datetime | None = None,
    limit: int = MAX_OFFERS,
) -> list[Offer]:
    """The next `limit` windows from `first_day` (within FIND_WEEKS) where someone who does the service is
    free, earliest first; a window that has begun is never offered (half the promise would be gone)."""
    now = now or timezone.now()
    last_day = first_day + timedelta(weeks=FIND_WEEKS) - timedelta(days=1)
    windows = []
    # Two looks at most: a short one that usually suffices, then the rest of the range.
    for look_first, look_last in (
        (first_day, min(last_day, first_day + timedelta(days=FIRST_LOOK_DAYS - 1))),
        (first_day + timedelta(days=FIRST_LOOK_DAYS), last_day),
    ):
        if look_first > look_last:
            break
        for day in free_windows(
            service_type=service_type, technician=technician, first_day=look_first, last_day=look_last
        ):
            windows += [window for window in day.windows if window.start > now]
        if len(windows) >= limit:
            break
    windows = windows[:limit]
    if not windows:
        return []
    return _with_planned_starts(service_type, windows)


def _with_planned_starts(service_type: ServiceType, windows) -> list[Offer]:
    """Each window's technicians with the start the booking service would plan for them (three queries)."""
    ids = sorted({technician_id for window in windows for technician_id in window.technician_ids})
    technicians = {
        technician.pk: technician
        for technician in Technician.objects.filter(pk__in=ids).prefetch_related(
            Prefetch("working_periods", queryset=WorkingPeriod.objects.order_by("starts"))
        )
    }
    needed = service_type.duration + service_type.buffer_after
    range_start = local_midnight(timezone.localdate(windows[0].start))
    range_end = local_midnight(timezone.localdate(windows[-1].end) + timedelta(days=1))
    intervals: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for technician_id, start, end in (
        Appointment.objects.active()
        .filter(
            technician_id__in=ids,
            window_start__gte=range_start - RESERVATION_LOOKBACK,
            window_start__lt=range_end + needed,
            occupied_until__gt=range_start,
        )
        .values_list("technician_id", "planned_start", "occupied_until")
    ):
        intervals[technician_id].append((start, end))
    for technician_id, start, end in TimeOff.objects.filter(
        technician_id__in=ids, starts_at__lt=range_end + needed, ends_at__gt=range_start
    ).values_list("technician_id", "starts_at", "ends_at"):
        intervals[technician_id].append((start, end))
    busy = {technician_id: Busy(intervals[technician_id]) for technician_id in ids}

    offers = []
    for window in windows:
        day = timezone.localdate(window.start)
        options = []
        for technician_id in window.technician_ids:
            technician = technicians[technician_id]
            start = earliest_start(
                window_start=window.start,
                window_end=window.end,
                needed=needed,
                periods=working_periods_on(day, technician.working_periods.all()),
                busy=busy[technician_id],
            )
            if start is not None:
                options.append(Option(technician, start))
        options.sort(key=lambda option: (option.planned_start, option.technician.display_name))
        offers.append(Offer(window.start, window.end, tuple(options)))
    return offers
