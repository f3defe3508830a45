"""What My desk shows: reads only, a fixed number of queries however many promises are open.

Every list is cut at SECTION_ROWS and comes with its full count from one aggregate, so 10,000 open
promises cost the same queries as ten (tests/desk/test_page.py, bench/desk_page.py).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from appointments.models import VisitAttempt, local_midnight
from desk.models import DeskVisit, Promise, PromiseKind, PromiseState
from journal.models import Channel, JournalEntry

# Enough to work through before looking again; the rest is counted, and one click away in the admin's lists.
SECTION_ROWS = 25

# The customer's own paths on the self-service pages (appointments/services/booking.py), journalled with
# channel "web": booking from an invitation, moving or cancelling from a mail's link, choosing a new time
# after the firm asked for one (a move), rebooking a missed visit.
ONLINE_CHANGE_ACTIONS = (
    "appointment.scheduled",
    "appointment.requested",
    "appointment.rescheduled",
    "appointment.cancelled",
    "appointment.new_time_requested",
    "visit.rebooked",
)
# Someone who never marked anything as seen gets the last week, not the firm's whole history.
FIRST_LOOK_BACK = timedelta(days=7)

REPLY_KINDS = (PromiseKind.REPLY_MAIL, PromiseKind.REPLY_FEEDBACK)


@dataclass(frozen=True)
class DeskCounts:
    """The navigation's "My desk (3 overdue · 5 today)": the signed-in person's open promises."""

    overdue: int = 0
    today: int = 0


@dataclass
class Section:
    rows: list
    count: int
    # The rows as HTML, built by the view (desk/page_html.py).
    html: str = ""

    @property
    def more(self) -> int:
        return self.count - len(self.rows)


@dataclass
class OwnerCounts:
    owner_id: int
    name: str
    overdue: int
    today: int
    this_week: int
    open: int


@dataclass
class Desk:
    now: datetime
    team: bool
    counts: DeskCounts
    overdue: Section
    today: Section
    this_week: Section
    callbacks: Section
    replies: Section
    follow_ups: Section
    changes: Section
    changes_since: datetime
    last_seen_at: datetime | None
    owners: list[OwnerCounts] = field(default_factory=list)


@dataclass(frozen=True)
class Bounds:
    now: datetime
    end_of_today: datetime
    end_of_week: datetime

    @classmethod
    def at(cls, now: datetime) -> "Bounds":
        today = timezone.localdate(now)
        monday_next = today + timedelta(days=7 - today.weekday())
        return cls(
            now=now, end_of_today=local_midnight(today + timedelta(days=1)), end_of_week=local_midnight(monday_next)
        )

    def overdue(self) -> Q:
        return Q(due_at__lt=self.now)

    def today(self) -> Q:
        return Q(due_at__gte=self.now, due_at__lt=self.end_of_today)

    def this_week(self) -> Q:
        return Q(due_at__gte=self.end_of_today, due_at__lt=self.end_of_week)


def open_promises() -> QuerySet:
    return Promise.objects.filter(state=PromiseState.OPEN)


def desk_counts(user, *, now: datetime | None = None) -> DeskCounts:
    """One query (conditional aggregates over the owner's open promises due by tonight)."""
    bounds = Bounds.at(now or timezone.now())
    counts = (
        open_promises()
        .filter(owner=user, due_at__lt=bounds.end_of_today)
        .aggregate(overdue=Count("id", filter=bounds.overdue()), today=Count("id", filter=bounds.today()))
    )
    return DeskCounts(overdue=counts["overdue"], today=counts["today"])


def is_desk_lead(user) -> bool:
    return user.is_superuser or user.groups.filter(name=settings.DESK_LEADS_GROUP).exists()


def _rows(queryset: QuerySet) -> list:
    return list(
        queryset.select_related("customer", "appointment__service_type", "owner").order_by("due_at", "id")[
            :SECTION_ROWS
        ]
    )


def my_desk(user, *, team: bool = False, with_owners: bool = False, now: datetime | None = None) -> Desk:
    """The signed-in office person's desk; `team` shows everyone's promises, `with_owners` the count per owner."""
    bounds = Bounds.at(now or timezone.now())
    mine = Q(owner=user)
    shown = Q() if team else mine
    promises = open_promises()
    counts = promises.aggregate(
        my_overdue=Count("id", filter=mine & bounds.overdue()),
        my_today=Count("id", filter=mine & bounds.today()),
        overdue=Count("id", filter=shown & bounds.overdue()),
        today=Count("id", filter=shown & bounds.today()),
        this_week=Count("id", filter=shown & bounds.this_week()),
        callbacks=Count("id", filter=Q(kind=PromiseKind.CALL_BACK)),
        replies=Count("id", filter=Q(kind__in=REPLY_KINDS)),
    )
    shown_promises = promises.filter(shown)
    last_seen_at = DeskVisit.objects.filter(user=user).values_list("last_seen_at", flat=True).first()
    changes_since = last_seen_at or bounds.now - FIRST_LOOK_BACK
    changes = JournalEntry.objects.filter(
        channel=Channel.WEB, action__in=ONLINE_CHANGE_ACTIONS, occurred_at__gt=changes_since
    )
    follow_ups = VisitAttempt.objects.follow_up_open()
    return Desk(
        now=bounds.now,
        team=team,
        counts=DeskCounts(overdue=counts["my_overdue"], today=counts["my_today"]),
        overdue=Section(_rows(shown_promises.filter(bounds.overdue())), counts["overdue"]),
        today=Section(_rows(shown_promises.filter(bounds.today())), counts["today"]),
        this_week=Section(_rows(shown_promises.filter(bounds.this_week())), counts["this_week"]),
        # The office's shared queues: whoever owns one, nobody may forget it.
        callbacks=Section(_rows(promises.filter(kind=PromiseKind.CALL_BACK)), counts["callbacks"]),
        replies=Section(_rows(promises.filter(kind__in=REPLY_KINDS)), counts["replies"]),
        follow_ups=Section(
            list(
                follow_ups.select_related("appointment__customer", "appointment__service_type", "technician").order_by(
                    "at", "id"
                )[:SECTION_ROWS]
            ),
            follow_ups.count(),
        ),
        changes=Section(
            list(changes.select_related("customer", "appointment").order_by("-occurred_at", "-id")[:SECTION_ROWS]),
            changes.count(),
        ),
        changes_since=changes_since,
        last_seen_at=last_seen_at,
        owners=owner_counts(bounds) if with_owners else [],
    )


def owner_counts(bounds: Bounds) -> list[OwnerCounts]:
    """Per office person: open promises overdue, due today, later this week, in all. One query."""
    rows = (
        open_promises()
        .values("owner_id", "owner__first_name", "owner__last_name", "owner__username")
        .annotate(
            overdue=Count("id", filter=bounds.overdue()),
            today=Count("id", filter=bounds.today()),
            this_week=Count("id", filter=bounds.this_week()),
            open=Count("id"),
        )
        .order_by("-overdue", "-today", "owner__last_name", "owner__first_name", "owner_id")
    )
    return [
        OwnerCounts(
            owner_id=row["owner_id"],
            name=f"{row['owner__first_name']} {row['owner__last_name']}".strip() or row["owner__username"],
            overdue=row["overdue"],
            today=row["today"],
            this_week=row["this_week"],
            open=row["open"],
        )
        for row in rows
    ]
