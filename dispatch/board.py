"""What the day view shows: one lane per technician, the day's visits placed on a time axis, and the
work nobody has planned yet. Read-only; moving a visit goes through appointments.services.

A fixed number of queries whatever the number of technicians and visits (tests/dispatch/test_day.py
keeps it so): everything is loaded in bulk and laid out in Python.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape

from django.db.models import Exists, OuterRef, Prefetch
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from appointments.closed_days import closed_reason
from appointments.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    ServiceType,
    Technician,
    TimeOff,
    VisitAttempt,
    local_midnight,
)
from appointments.planning import working_periods_on

Status = AppointmentStatus
# The axis shows at least the usual working day; it widens to hold a visit planned outside it.
AXIS_FIRST_HOUR = 7
AXIS_LAST_HOUR = 17
# Done or missed visits of the day stay in their lane, muted: the planner sees what the day held.
HISTORY_STATUSES = (Status.COMPLETED, Status.MISSED)
# The side panel lists the oldest first; the admin's lists hold the rest.
# The side panel shows the oldest few of each list and links to the rest: a panel of thirty requests is
# read by nobody, and each costs the office's most opened page time.
UNPLANNED_SHOWN = 10
SNAP_MINUTES = 5
BLOCK_FIELDS = (
    "status",
    "version",
    "technician_id",
    "planned_start",
    "occupied_until",
    "expected_duration",
    "window_start",
    "window_end",
    "site_postcode",
    "site_city",
    "customer__full_name",
    "service_type__name",
    "service_type__name_de",
    "service_type__name_nl",
)
# No visit runs longer than this (a job plus buffer); one from the day before may reach into the morning.
LONGEST_VISIT = timedelta(days=1)


@dataclass
class Span:
    """A stretch of the axis in percent of its width, for CSS left/width."""

    left: float
    width: float

    @property
    def style(self) -> str:
        return f"left:{self.left:.3f}%;width:{self.width:.3f}%"


@dataclass
class Block:
    appointment: "BlockVisit"
    job: Span
    buffer: Span
    window: Span
    muted: bool
    other_service: bool
    movable: bool
    # Wall-clock minutes of the board's day, for the drag and drop: where it starts, how long the job is,
    # and the promised window (a drop inside it with the same technician only re-orders the day).
    start_minute: int = 0
    duration_minutes: int = 0
    window_minutes: tuple[int, int] = (0, 0)

    @property
    def reference(self) -> str:
        return f"D-{self.appointment.pk}"

    def html(self, texts: "Texts") -> SafeString:
        visit = self.appointment
        hhmm = texts.hhmm
        classes = f"status-{visit.status}" + (" is-muted" if self.muted else "")
        block_classes = classes + (" is-other" if self.other_service else "") + (" is-movable" if self.movable else "")
        name = _e(visit.customer_name)
        place = _e(f"{visit.site_postcode} {visit.site_city}")
        service = _e(visit.service_name(texts.language))
        status = _e(texts.statuses.get(visit.status, visit.status))
        title = " · ".join(
            [
                self.reference,
                name,
                place,
                service,
                f"{hhmm(visit.planned_start)}–{hhmm(visit.planned_end)}",
                f"{texts.window} {hhmm(visit.window_start)}–{hhmm(visit.window_end)}",
                status,
            ]
        )
        move = f'<a class="block-move" href="{texts.move_url(visit.pk)}">{texts.move}</a>' if self.movable else ""
        # Escaped piece by piece with the standard library's escape: format_html's lazy-aware escaping,
        # thirty times per block, was most of a busy day's rendering time.
        return SafeString(
            f'<div class="buffer {classes}" style="{self.buffer.style}" data-for="{visit.pk}"></div>'
            f'<div class="block {block_classes}" style="{self.job.style}" id="visit-{visit.pk}"'
            f' data-appointment="{visit.pk}" data-version="{visit.version}" data-technician="{visit.technician_id}"'
            f' data-start="{self.start_minute}" data-duration="{self.duration_minutes}"'
            f' data-window-from="{self.window_minutes[0]}" data-window-until="{self.window_minutes[1]}"'
            f' title="{title}"><a class="block-customer" href="{texts.change_url(visit.pk)}">{name}</a>'
            f'<span class="block-place">{place}</span><span class="block-service">{service}</span>'
            f'<span class="block-status">{status}</span>{move}</div>'
        )


@dataclass(slots=True)
class BlockVisit:
    """What a block shows of a visit, read as plain values: a busy day is a hundred and forty visits, and
    building a model instance with its customer and service for each was a good part of the page's time."""

    pk: int
    status: str
    version: int
    technician_id: int
    service_type_id: int
    planned_start: datetime
    occupied_until: datetime
    expected_duration: timedelta
    window_start: datetime
    window_end: datetime
    site_postcode: str
    site_city: str
    customer_name: str
    service_names: tuple[str, str, str]  # English, German, Dutch

    @property
    def planned_end(self) -> datetime:
        return self.planned_start + self.expected_duration

    def service_name(self, language: str) -> str:
        english, german, dutch = self.service_names
        return {"de": german, "nl": dutch}.get(language) or english


BLOCK_VALUES = (
    "pk",
    "status",
    "version",
    "technician_id",
    "service_type_id",
    "planned_start",
    "occupied_until",
    "expected_duration",
    "window_start",
    "window_end",
    "site_postcode",
    "site_city",
    "customer__full_name",
    "service_type__name",
    "service_type__name_de",
    "service_type__name_nl",
)


def _block_visit(row: tuple) -> BlockVisit:
    return BlockVisit(*row[:13], service_names=row[13:])


def _e(text) -> str:
    return escape(str(text), quote=True)


class Texts:
    """What every block says the same way, translated and reversed once per page rather than once per block."""

    def __init__(self, back_to: str, zone):
        # timezone.localtime() looks the zone up through asgiref's Local on every call: thousands of
        # calls on a busy day, for a zone that does not change within a page.
        self.zone = zone
        self.language = (translation.get_language() or "en")[:2]
        self.window = _e(gettext("window"))
        self.move = _e(gettext("Move…"))
        self.plan = _e(gettext("Plan…"))
        self.statuses = {value: str(label) for value, label in Status.choices}
        # Reversed once with a stand-in id: reverse() for each of a hundred blocks shows in the page's time.
        self._change = _e(reverse("admin:appointments_appointment_change", args=[0]).replace("/0/", "/{}/"))
        self._move = _e(
            reverse("dispatch:move_form", args=[0]).replace("/0/", "/{}/") + "?" + urlencode({"next": back_to})
        )

    def hhmm(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%H:%M")

    def change_url(self, pk: int) -> str:
        return self._change.format(pk)

    def move_url(self, pk: int) -> str:
        return self._move.format(pk)


def unplanned_html(visit: Appointment, texts: "Texts") -> SafeString:
    """One piece of unplanned work in the side panel: draggable onto a lane, with its admin page and move page."""
    start = visit.window_start.astimezone(texts.zone)
    technician = f" · {_e(visit.technician.display_name)}" if visit.technician_id else ""
    duration = round(visit.expected_duration.total_seconds() / 60)
    return SafeString(
        f'<li class="unplanned-item status-{visit.status}" data-appointment="{visit.pk}"'
        f' data-version="{visit.version}" data-duration="{duration}">'
        f'<a href="{texts.change_url(visit.pk)}">{_e(visit.customer.full_name)}</a>'
        f'<span class="unplanned-place">{_e(visit.site_postcode)} {_e(visit.site_city)}'
        f" · {_e(visit.service_type.localized_name())}</span>"
        f'<span class="unplanned-window">{_e(formats.date_format(start, "D j.n."))}'
        f" {texts.hhmm(visit.window_start)}–{texts.hhmm(visit.window_end)}{technician}</span>"
        f'<a class="unplanned-move" href="{texts.move_url(visit.pk)}">{texts.plan}</a></li>'
    )


@dataclass
class Unplanned:
    visits: list[Appointment]
    texts: "Texts"
    # The appointment list filtered to this kind of work, for when there is more than the panel shows.
    more_url: str = ""

    def __len__(self) -> int:
        return min(len(self.visits), UNPLANNED_SHOWN)

    @property
    def more(self) -> bool:
        return len(self.visits) > UNPLANNED_SHOWN

    def html(self) -> SafeString:
        return SafeString("".join(unplanned_html(visit, self.texts) for visit in self.visits[:UNPLANNED_SHOWN]))


@dataclass
class Lane:
    technician: Technician
    blocks: list[Block] = field(default_factory=list)
    # Outside working hours, time off and closed days: greyed.
    off: list[tuple[Span, str]] = field(default_factory=list)
    texts: Texts | None = None

    def html(self) -> SafeString:
        """The lane's greyed hours, the promised windows behind the blocks, then the blocks with their buffers."""
        off = format_html_join(
            "",
            '<div class="off" style="{}"{}></div>',
            ((span.style, format_html(' title="{}"', reason) if reason else "") for span, reason in self.off),
        )
        windows = format_html_join(
            "",
            '<div class="window-band" style="{}" data-for="{}"></div>',
            ((block.window.style, block.appointment.pk) for block in self.blocks),
        )
        blocks = SafeString("".join(block.html(self.texts) for block in self.blocks))
        return off + windows + blocks


@dataclass
class Axis:
    day: date
    first_minute: int
    last_minute: int
    zone: object = None

    @property
    def minutes(self) -> int:
        return self.last_minute - self.first_minute

    @property
    def hour_count(self) -> int:
        return self.minutes // 60

    def minute_of(self, moment: datetime) -> int:
        """Wall-clock minutes since the day's local midnight (past midnight counts on: 24:30 is 1470)."""
        local = moment.astimezone(self.zone)
        return (local.date() - self.day).days * 1440 + local.hour * 60 + local.minute

    def span(self, start: datetime, end: datetime) -> Span:
        first = min(max(self.minute_of(start), self.first_minute), self.last_minute)
        last = min(max(self.minute_of(end), self.first_minute), self.last_minute)
        return Span(left=(first - self.first_minute) * 100 / self.minutes, width=(last - first) * 100 / self.minutes)

    def hours(self) -> list[tuple[str, float]]:
        return [
            (f"{(minute // 60) % 24:02d}:00", (minute - self.first_minute) * 100 / self.minutes)
            for minute in range(self.first_minute, self.last_minute, 60)
        ]


@dataclass
class Day:
    day: date
    axis: Axis
    lanes: list[Lane]
    closed: str | None
    now: Span | None
    technicians: list[Technician]
    service_types: list[ServiceType]
    unassigned: Unplanned
    rebooking: Unplanned
    new_time: Unplanned


def build_day(
    day: date, *, technician_ids: list[int] | None = None, service_type_id: int | None = None, back_to: str = ""
) -> Day:
    day_start = local_midnight(day)
    day_end = local_midnight(day + timedelta(days=1))
    technicians = list(
        Technician.objects.filter(is_active=True)
        .select_related("user")
        .prefetch_related(
            "working_periods",
            Prefetch(
                "time_off",
                queryset=TimeOff.objects.filter(starts_at__lt=day_end, ends_at__gt=day_start),
                to_attr="day_time_off",
            ),
        )
    )
    # Who does the filtered service: asked only when the clerk filters by one.
    doing_service = (
        set(
            Technician.service_types.through.objects.filter(servicetype_id=service_type_id).values_list(
                "technician_id", flat=True
            )
        )
        if service_type_id
        else None
    )
    shown = [
        technician
        for technician in technicians
        if (not technician_ids or technician.pk in technician_ids)
        and (doing_service is None or technician.pk in doing_service)
    ]
    visits = list(
        Appointment.objects.filter(
            technician_id__in=[technician.pk for technician in shown],
            status__in=[*ACTIVE_STATUSES, *HISTORY_STATUSES],
            planned_start__lt=day_end,
            # A bound the index on (technician, planned_start) can use: without it the database reads
            # every visit ever planned before the day to find the few still busy at its start.
            planned_start__gte=day_start - LONGEST_VISIT,
            occupied_until__gt=day_start,
        )
        # Only what a block shows: a busy day is a hundred rows of some forty columns each otherwise.
        .order_by("planned_start", "id")
        .values_list(*BLOCK_VALUES)
    )
    visits = [_block_visit(row) for row in visits]
    axis = _axis(day, visits)
    closed = closed_reason(day)
    texts = Texts(back_to, axis.zone)
    lanes = {technician.pk: Lane(technician=technician, texts=texts) for technician in shown}
    for technician in shown:
        lanes[technician.pk].off = _off_spans(axis, technician, closed)
    for visit in visits:
        history = visit.status in HISTORY_STATUSES
        lanes[visit.technician_id].blocks.append(
            Block(
                appointment=visit,
                job=axis.span(visit.planned_start, visit.planned_end),
                buffer=axis.span(visit.planned_end, visit.occupied_until),
                window=axis.span(visit.window_start, visit.window_end),
                muted=history,
                other_service=bool(service_type_id) and visit.service_type_id != service_type_id,
                movable=visit.status in (Status.REQUESTED, Status.SCHEDULED),
                start_minute=axis.minute_of(visit.planned_start),
                duration_minutes=round(visit.expected_duration.total_seconds() / 60),
                window_minutes=(axis.minute_of(visit.window_start), axis.minute_of(visit.window_end)),
            )
        )
    now = timezone.now()
    return Day(
        day=day,
        axis=axis,
        lanes=list(lanes.values()),
        closed=closed,
        now=axis.span(now, now) if timezone.localdate(now) == day else None,
        technicians=technicians,
        service_types=list(ServiceType.objects.filter(is_active=True)),
        **{name: Unplanned(visits, texts, more_url=_more_url(name)) for name, visits in _unplanned(now).items()},
    )


def _axis(day: date, visits: list[Appointment]) -> Axis:
    axis = Axis(
        day=day,
        first_minute=AXIS_FIRST_HOUR * 60,
        last_minute=AXIS_LAST_HOUR * 60,
        zone=timezone.get_current_timezone(),
    )
    for visit in visits:
        axis.first_minute = min(axis.first_minute, axis.minute_of(visit.planned_start) // 60 * 60)
        axis.last_minute = max(axis.last_minute, -(-axis.minute_of(visit.occupied_until) // 60) * 60)
    # A visit running over midnight from the day before (or into the next) shows its part of this day.
    axis.first_minute = max(axis.first_minute, 0)
    axis.last_minute = min(axis.last_minute, 1440)
    return axis


def _off_spans(axis: Axis, technician: Technician, closed: str | None) -> list[tuple[Span, str]]:
    day_start = local_midnight(axis.day)
    day_end = local_midnight(axis.day + timedelta(days=1))
    if closed:
        return [(axis.span(day_start, day_end), closed)]
    spans = []
    edge = day_start
    for period_start, period_end in working_periods_on(axis.day, technician.working_periods.all()):
        if period_start > edge:
            spans.append((axis.span(edge, period_start), ""))
        edge = max(edge, period_end)
    if edge < day_end:
        spans.append((axis.span(edge, day_end), ""))
    for time_off in technician.day_time_off:
        spans.append((axis.span(time_off.starts_at, time_off.ends_at), time_off.reason))
    return [(span, reason) for span, reason in spans if span.width > 0]


def _more_url(name: str) -> str:
    if name == "rebooking":
        return reverse("admin:appointments_missedvisitfollowup_changelist")
    status = {"unassigned": Status.REQUESTED, "new_time": Status.NEW_TIME}[name]
    return f"{reverse('admin:appointments_appointment_changelist')}?status__exact={status}"


def _unplanned(now: datetime) -> dict[str, list[Appointment]]:
    """Work the office still has to place: requests nobody took, missed visits to rebook, and visits whose
    customer was asked to choose a new time."""
    base = Appointment.objects.select_related("customer", "service_type", "technician").only(
        *BLOCK_FIELDS, "technician__display_name"
    )
    open_attempt = VisitAttempt.objects.filter(
        appointment=OuterRef("pk"),
        appointment_version=OuterRef("version"),
        rebooked_at__isnull=True,
        follow_up_closed_at__isnull=True,
    )
    return {
        "unassigned": list(
            base.filter(status=Status.REQUESTED, technician__isnull=True, window_end__gt=now).order_by(
                "window_start", "id"
            )[: UNPLANNED_SHOWN + 1]
        ),
        "rebooking": list(
            base.filter(Exists(open_attempt), status=Status.MISSED).order_by("window_start", "id")[
                : UNPLANNED_SHOWN + 1
            ]
        ),
        "new_time": list(
            base.filter(status=Status.NEW_TIME).order_by("new_time_requested_at", "id")[: UNPLANNED_SHOWN + 1]
        ),
    }
