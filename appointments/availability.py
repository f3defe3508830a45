"""Which arrival windows can still be offered. Read-only: nothing here writes.

A day's candidate windows are a grid of the service type's window length from
BOOKING_DAY_STARTS_AT, built in local wall-clock time so DST days keep their
08:00 and 12:00. A window is offered for a technician when

- a visit of that service still fits in it: some planned start inside the window
  leaves room for the expected duration plus buffer within one of the technician's
  working periods that day, clear of their time off and of the planned slots of
  their active visits (appointments.planning, the same rule the services book by).

All data for the whole range comes from a handful of queries (technicians, visits, time off, closed
days), whatever the number of appointments; the rest is arithmetic on sorted intervals.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Func, IntegerField
from django.utils import timezone

from appointments import plan_inputs
from appointments.closed_days import closed_days
from appointments.models import (
    Appointment,
    AppointmentStatus,
    ServiceType,
    Technician,
    TimeOff,
    local_midnight,
)
from appointments.planning import Busy, first_fits, fits_at, working_periods_on
from appointments.prebuilt import PrebuiltQuery

# No visit reserves a technician for longer than this after its window opens.
RESERVATION_LOOKBACK = timedelta(days=7)


class EpochSeconds(Func):
    """A datetime column as whole seconds since 1970 (UTC), worked out by the database.

    The busy times of a week are a few hundred values: turning each into an aware datetime (the
    driver's parse, Django's converter) cost more than the rest of the week's arithmetic. Rounded
    down, or up with `ceiling` (the end of something busy), so a fraction of a second never frees
    a moment that is taken. SQLite keeps UTC text (YYYY-MM-DD HH:MM:SS[.ffffff]): a value with a
    fraction sorts after its whole second.
    """

    output_field = IntegerField()

    def __init__(self, expression, *, ceiling: bool = False):
        super().__init__(expression)
        self.ceiling = ceiling

    def as_sqlite(self, compiler, connection, **extra_context):
        # %%%% becomes %% in the SQL text and % once the SQLite backend swaps its placeholders.
        template = "CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)"
        if self.ceiling:
            template += " + (%(expressions)s > datetime(%(expressions)s))"
        return self.as_sql(compiler, connection, template=template, **extra_context)

    def as_postgresql(self, compiler, connection, **extra_context):
        rounding = "CEIL" if self.ceiling else "FLOOR"
        template = f"{rounding}(EXTRACT(EPOCH FROM %(expressions)s))::bigint"
        return self.as_sql(compiler, connection, template=template, **extra_context)


def _busy_queryset(*, technician_ids, range_start, range_end, starts_from, ignoring_pk):
    """Visits and time off of [range_start, range_end) in one query, unordered (Busy sorts them anyway), as
    (technician id, start, end) in seconds since 1970. `starts_from` is range_start - RESERVATION_LOOKBACK."""
    appointments = Appointment.objects.active().filter(
        technician_id__in=technician_ids,
        # The lower bound lets the (technician, window_start) index skip the years of history.
        window_start__gte=starts_from,
        window_start__lt=range_end,
        occupied_until__gt=range_start,
    )
    if ignoring_pk is not None:
        appointments = appointments.exclude(pk=ignoring_pk)
    time_off = TimeOff.objects.filter(
        technician_id__in=technician_ids, starts_at__lt=range_end, ends_at__gt=range_start
    )
    return (
        appointments.order_by()
        .values_list("technician_id", EpochSeconds("planned_start"), EpochSeconds("occupied_until", ceiling=True))
        .union(
            time_off.order_by().values_list(
                "technician_id", EpochSeconds("starts_at"), EpochSeconds("ends_at", ceiling=True)
            ),
            all=True,
        )
        .order_by()
    )


# Built by the ORM once per process, not on every page (issue #11: building it cost the booking page several
# times what the database takes to answer it).
_busy_rows_query = PrebuiltQuery(Appointment, _busy_queryset)


def _busy_rows(*, technician_ids: list[int], range_start: datetime, range_end: datetime, ignoring_pk):
    return _busy_rows_query.driver_rows(
        technician_ids=technician_ids,
        range_start=range_start,
        range_end=range_end,
        starts_from=range_start - RESERVATION_LOOKBACK,
        ignoring_pk=ignoring_pk,
    )


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    technician_ids: tuple[int, ...]


@dataclass
class Day:
    day: date
    windows: list[Window] = field(default_factory=list)


def booking_days(*, now: datetime | None = None) -> tuple[date, date]:
    """First and last bookable day: from the next day (minimum notice) to the horizon."""
    today = timezone.localdate(now or timezone.now())
    first = today + timedelta(days=settings.BOOKING_MIN_NOTICE_DAYS)
    return first, today + timedelta(weeks=settings.BOOKING_HORIZON_WEEKS)


def candidate_windows(day: date, service_type: ServiceType) -> list[tuple[datetime, datetime]]:
    day_start = datetime.combine(day, time.fromisoformat(settings.BOOKING_DAY_STARTS_AT))
    day_end = datetime.combine(day, time.fromisoformat(settings.BOOKING_DAY_ENDS_AT))
    zone = timezone.get_current_timezone()
    windows = []
    start = day_start
    while start + service_type.arrival_window <= day_end:
        end = start + service_type.arrival_window
        # Wall-clock arithmetic first, then each end made aware on its own: correct on DST days.
        windows.append((timezone.make_aware(start, zone), timezone.make_aware(end, zone)))
        start = end
    return windows


def within_working_hours(appointment: Appointment) -> bool:
    """Does the visit's planned slot, with its buffer, lie inside one of its technician's working periods?"""
    if appointment.technician is None:
        return True
    periods = working_periods_on(
        timezone.localdate(appointment.planned_start), appointment.technician.working_periods.all()
    )
    return fits_at(
        start=appointment.planned_start,
        needed=appointment.occupied_until - appointment.planned_start,
        periods=periods,
        busy=Busy([]),
    )


class FreeWindows:
    """The offerable windows of [first_day, last_day], for one technician or any technician who does the service.

    The data for the whole range comes from a fixed handful of queries when this is built; each day's
    windows are worked out only when asked for, so a page that shows one week of a longer range
    pays the arithmetic of that week alone. `ignoring` leaves one appointment out of the busy
    times: the visit being moved must not block its own new window. `region` is the firm's, for a caller
    that has read the firm already (closed_days.firm_region): one query fewer.
    """

    def __init__(
        self,
        *,
        service_type: ServiceType,
        technician: Technician | None = None,
        first_day: date,
        last_day: date,
        ignoring: Appointment | None = None,
        region: tuple[str, str] | None = None,
    ):
        self.service_type = service_type
        self.first_day = first_day
        self.last_day = last_day
        self._days: dict[date, Day] = {}
        # The working hours of every active technician who does the service, by weekday, in order: read
        # once, not once per day, and kept across requests until one of them changes (plan_inputs).
        hours = plan_inputs.working_hours(service_type)
        if technician is not None:
            hours = {technician.pk: hours[technician.pk]} if technician.pk in hours else {}
        self._hours: dict[int, dict[int, list[tuple[time, time]]]] = hours
        self._technician_ids = list(self._hours)
        self._busy: dict[int, Busy] = {}
        self._closed: dict[date, str] = {}
        if not self._technician_ids:
            return
        range_start = local_midnight(first_day)
        range_end = local_midnight(last_day + timedelta(days=1))
        busy_intervals: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for technician_id, start, end in _busy_rows(
            technician_ids=self._technician_ids,
            range_start=range_start,
            range_end=range_end,
            ignoring_pk=ignoring.pk if ignoring is not None else None,
        ):
            busy_intervals[technician_id].append((start, end))
        self._busy = {technician_id: Busy(busy_intervals[technician_id]) for technician_id in self._technician_ids}
        # A visit being moved needs its own expected duration (the office may have changed it), as the
        # reschedule that follows plans it by; a new booking needs the service's.
        duration = ignoring.expected_duration if ignoring is not None else service_type.duration
        self._needed = (duration + service_type.buffer_after).total_seconds()
        # Public holidays and the firm's closures are never offered; the office books on them by hand.
        self._closed = closed_days(first_day, last_day, region=region)

    def day(self, day: date) -> Day:
        """The windows offered on `day`, which must lie inside the range."""
        if not self.first_day <= day <= self.last_day:
            raise ValueError(f"{day} is outside {self.first_day} … {self.last_day}")
        if day not in self._days:
            self._days[day] = self._offered_on(day)
        return self._days[day]

    def days(self) -> list[Day]:
        return [
            self.day(self.first_day + timedelta(days=offset))
            for offset in range((self.last_day - self.first_day).days + 1)
        ]

    def _offered_on(self, day: date) -> Day:
        offered = Day(day)
        if not self._technician_ids or day in self._closed:
            return offered
        # All arithmetic in seconds since 1970, as the busy times came from the database. The windows
        # themselves keep the local time zone the candidates were made in (the page posts their isoformat back).
        instants: dict[time, float] = {}
        zone = timezone.get_current_timezone()

        def instant(at: time) -> float:
            if at not in instants:
                instants[at] = timezone.make_aware(datetime.combine(day, at), zone).timestamp()
            return instants[at]

        periods = {
            technician_id: [(instant(starts), instant(ends)) for starts, ends in hours.get(day.weekday(), ())]
            for technician_id, hours in self._hours.items()
        }
        working = [technician_id for technician_id in self._technician_ids if periods[technician_id]]
        if not working:
            return offered
        candidates = candidate_windows(day, self.service_type)
        seconds = [(window_start.timestamp(), window_end.timestamp()) for window_start, window_end in candidates]
        fits = {
            technician_id: first_fits(
                windows=seconds, needed=self._needed, periods=periods[technician_id], busy=self._busy[technician_id]
            )
            for technician_id in working
        }
        for index, (window_start, window_end) in enumerate(candidates):
            free = tuple(technician_id for technician_id in working if fits[technician_id][index] is not None)
            if free:
                offered.windows.append(Window(window_start, window_end, free))
        return offered


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
    return FreeWindows(
        service_type=service_type, technician=technician, first_day=first_day, last_day=last_day, ignoring=ignoring
    ).days()


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
