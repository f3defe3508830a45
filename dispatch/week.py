"""The board's week: every technician's days as counts per arrival window and how full each day is.

Read-only. The whole week comes from a fixed number of queries (technicians with their hours, the
week's visits, their time off, the closed days), whatever the number of visits; the rest is
arithmetic here, so the page costs the same at 10 visits a week as at 100.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext

from appointments.closed_days import closed_days
from appointments.formatting import format_duration
from appointments.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    ServiceType,
    Technician,
    TimeOff,
    WorkingPeriod,
    local_midnight,
)
from appointments.planning import working_periods_on

# The office's usual promise when no service is chosen: the grid customers are offered for a 4-hour window.
DEFAULT_WINDOW = timedelta(hours=4)
# What one technician's week lists: what is planned and what happened, not what was called off.
LISTED_STATUSES = (*ACTIVE_STATUSES, AppointmentStatus.COMPLETED, AppointmentStatus.MISSED)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def window_grid(day: date, length: timedelta) -> list[tuple[datetime, datetime]]:
    """The day's arrival windows of `length` from BOOKING_DAY_STARTS_AT, as availability.candidate_windows
    builds them (wall-clock first, so a DST day keeps its 08:00 and 12:00)."""
    start = datetime.combine(day, time.fromisoformat(settings.BOOKING_DAY_STARTS_AT))
    day_end = datetime.combine(day, time.fromisoformat(settings.BOOKING_DAY_ENDS_AT))
    windows = []
    while start + length <= day_end:
        windows.append((timezone.make_aware(start), timezone.make_aware(start + length)))
        start += length
    return windows


# What the grid reads of a visit (an Appointment has the same attributes).
GRID_FIELDS = ("technician_id", "window_start", "window_end", "planned_start", "occupied_until", "status")


@dataclass
class WindowCount:
    start: datetime
    end: datetime
    count: int = 0

    @property
    def label(self) -> str:
        """'08:00–12:00' in the firm's zone; made here once rather than by two template filters per window."""
        return f"{timezone.localtime(self.start):%H:%M}–{timezone.localtime(self.end):%H:%M}"


@dataclass
class TimeOffSpan:
    starts_at: datetime
    ends_at: datetime
    reason: str
    whole_day: bool


@dataclass
class Cell:
    day: date
    closed: str | None
    windows: list[WindowCount]
    time_off: list[TimeOffSpan] = field(default_factory=list)
    visits: list[Appointment] = field(default_factory=list)
    working: timedelta = timedelta(0)
    available: timedelta = timedelta(0)
    planned: timedelta = timedelta(0)

    @property
    def active_count(self) -> int:
        return sum(window.count for window in self.windows)

    @property
    def percent(self) -> int | None:
        """Planned time (job plus buffer) over the working time left after time off; None on a day off."""
        if self.available <= timedelta(0):
            return None
        return round(100 * self.planned / self.available)

    @property
    def fullness(self) -> str:
        """'3 h 30 min / 8 h (44 %)': planned against the working time left after time off."""
        if self.percent is None:
            return gettext("%(planned)s planned, no working hours") % {"planned": format_duration(self.planned)}
        return gettext("%(planned)s / %(available)s (%(percent)s %%)") % {
            "planned": format_duration(self.planned),
            "available": format_duration(self.available),
            "percent": self.percent,
        }

    @property
    def level(self) -> str:
        """A word for the stylesheet: how the clerk should read the day at a glance."""
        percent = self.percent
        if percent is None:
            return "off"
        if percent >= 90:
            return "full"
        if percent >= 50:
            return "busy"
        return "free"


@dataclass
class Row:
    technician: Technician
    cells: list[Cell]


@dataclass
class Week:
    monday: date
    days: list[date]
    closed: dict[date, str]
    rows: list[Row]

    @property
    def columns(self) -> list[tuple[date, str | None]]:
        """Each day with why the firm is closed on it (None on a working day), for the table's head."""
        return [(day, self.closed.get(day)) for day in self.days]

    @property
    def previous(self) -> date:
        return self.monday - timedelta(days=7)

    @property
    def next(self) -> date:
        return self.monday + timedelta(days=7)


def _overlap(start: datetime, end: datetime, other_start: datetime, other_end: datetime) -> timedelta:
    return max(timedelta(0), min(end, other_end) - max(start, other_start))


def week_plan(*, monday: date, technician: Technician | None = None, service_type: ServiceType | None = None) -> Week:
    """The week from `monday` for every active technician (those who do `service_type`, if given) or one.

    A technician no longer active still has a row while they have visits that week: the office must see
    the visits someone has to take over.
    """
    days = [monday + timedelta(days=offset) for offset in range(7)]
    week_start, week_end = local_midnight(monday), local_midnight(monday + timedelta(days=7))
    length = service_type.arrival_window if service_type else DEFAULT_WINDOW

    technicians = Technician.objects.all()
    if technician is not None:
        technicians = technicians.filter(pk=technician.pk)
    else:
        busy_this_week = Appointment.objects.filter(
            technician=OuterRef("pk"),
            status__in=ACTIVE_STATUSES,
            planned_start__gte=week_start,
            planned_start__lt=week_end,
        )
        technicians = technicians.filter(Q(is_active=True) | Exists(busy_this_week))
    if service_type is not None:
        technicians = technicians.filter(service_types=service_type)
    technicians = list(
        technicians.order_by("display_name", "pk").prefetch_related(
            Prefetch("working_periods", queryset=WorkingPeriod.objects.order_by("weekday", "starts"))
        )
    )
    ids = [tech.pk for tech in technicians]

    visits_by_technician_day: dict[tuple[int, date], list] = defaultdict(list)
    visits = Appointment.objects.filter(
        technician_id__in=ids,
        status__in=LISTED_STATUSES if technician is not None else ACTIVE_STATUSES,
        planned_start__gte=week_start,
        planned_start__lt=week_end,
    ).order_by("planned_start", "pk")
    if technician is not None:
        visits = visits.select_related("customer", "service_type")
    else:
        # The grid needs only times: a thousand full rows with their customers would cost ten times as much.
        visits = visits.values_list(*GRID_FIELDS, named=True)
    for visit in visits:
        visits_by_technician_day[visit.technician_id, timezone.localdate(visit.planned_start)].append(visit)

    time_off_by_technician: dict[int, list[TimeOff]] = defaultdict(list)
    for absence in TimeOff.objects.filter(
        technician_id__in=ids, starts_at__lt=week_end, ends_at__gt=week_start
    ).order_by("starts_at"):
        time_off_by_technician[absence.technician_id].append(absence)

    closed = closed_days(days[0], days[-1])
    grids = {day: window_grid(day, length) for day in days}
    rows = []
    for tech in technicians:
        cells = []
        for day in days:
            cells.append(
                _cell(
                    day=day,
                    closed=closed.get(day),
                    grid=grids[day],
                    periods=working_periods_on(day, tech.working_periods.all()),
                    visits=visits_by_technician_day[tech.pk, day],
                    absences=time_off_by_technician[tech.pk],
                )
            )
        rows.append(Row(tech, cells))
    return Week(monday=monday, days=days, closed=closed, rows=rows)


def _cell(*, day, closed, grid, periods, visits, absences) -> Cell:
    day_start, day_end = local_midnight(day), local_midnight(day + timedelta(days=1))
    windows = [WindowCount(start, end) for start, end in grid]
    cell = Cell(day=day, closed=closed, windows=windows, visits=visits)
    cell.working = sum((end - start for start, end in periods), timedelta(0))
    cell.available = cell.working
    for absence in absences:
        if absence.starts_at >= day_end or absence.ends_at <= day_start:
            continue
        taken = sum((_overlap(start, end, absence.starts_at, absence.ends_at) for start, end in periods), timedelta(0))
        cell.available -= taken
        # All day, or all of that day's working hours: either way nobody can be booked.
        whole_day = (absence.starts_at <= day_start and absence.ends_at >= day_end) or (
            bool(periods) and taken == cell.working
        )
        cell.time_off.append(TimeOffSpan(absence.starts_at, absence.ends_at, absence.reason, whole_day))
    cell.available = max(cell.available, timedelta(0))
    extra: dict[tuple[datetime, datetime], WindowCount] = {}
    for visit in visits:
        if visit.status not in ACTIVE_STATUSES:
            continue
        cell.planned += visit.occupied_until - visit.planned_start
        home = next((window for window in windows if window.start <= visit.window_start < window.end), None)
        if home is None:
            # A window off the grid (an agreed evening, another length): shown with its own times.
            home = extra.setdefault(
                (visit.window_start, visit.window_end), WindowCount(visit.window_start, visit.window_end)
            )
        home.count += 1
    cell.windows = sorted([*windows, *extra.values()], key=lambda window: (window.start, window.end))
    return cell
