from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from appointments.availability import booking_days
from appointments.closed_days import closed_days
from appointments.models import (
    Appointment,
    AppointmentStatus,
    Closure,
    ServiceType,
    Technician,
    TimeOff,
    WorkingPeriod,
)
from customers.models import Customer, Firm, OfficeProfile
from journal.models import JournalEntry

BERLIN = ZoneInfo("Europe/Berlin")
# A Wednesday morning: yesterday's visits are done, this morning's are under way.
WEDNESDAY_MORNING = datetime(2026, 3, 4, 10, 15, tzinfo=BERLIN)

MODELS = [
    Firm,
    get_user_model(),
    OfficeProfile,
    ServiceType,
    Technician,
    Technician.service_types.through,
    WorkingPeriod,
    TimeOff,
    Closure,
    Customer,
    Appointment,
    JournalEntry,
]


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in MODELS}


def appointment_story() -> list[tuple]:
    return list(
        Appointment.objects.order_by("window_start", "customer__email").values_list(
            "customer__email",
            "service_type__name",
            "technician__user__username",
            "window_start",
            "window_end",
            "status",
            "version",
            "notes",
            "cancel_reason",
            "trip_started_at",
            "arrived_at",
            "completed_at",
            "missed_at",
        )
    )


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing():
    first_output = seed()
    after_first = counts()
    last_journal_id = JournalEntry.objects.order_by("-id").values_list("id", flat=True).first()

    second_output = seed()

    assert counts() == after_first
    assert JournalEntry.objects.filter(id__gt=last_journal_id).count() == 0
    assert "nothing changed" not in first_output
    assert "already present, nothing changed" in second_output
    assert "office / doorstep-office" in second_output


@pytest.mark.django_db
def test_seed_demo_on_a_later_day_changes_nothing():
    with time_machine.travel(WEDNESDAY_MORNING, tick=False):
        seed()
    after_first = counts()

    with time_machine.travel(WEDNESDAY_MORNING + timedelta(days=3), tick=False):
        output = seed()

    assert counts() == after_first
    assert "nothing changed" in output


@pytest.mark.django_db
def test_seed_demo_creates_the_firm_logins_and_technicians():
    output = seed()

    assert Firm.objects.count() == 1
    User = get_user_model()
    office = User.objects.get(username="office")
    assert office.is_staff and office.is_superuser
    assert office.check_password("doorstep-office")
    assert office.office_profile.direct_phone.is_valid()
    technicians = Technician.objects.select_related("user")
    assert technicians.count() == 2
    for technician in technicians:
        assert technician.user.is_staff and not technician.user.is_superuser
        assert technician.user.check_password("doorstep-tech")
        assert technician.mobile_phone.is_valid()
        assert technician.working_periods.count() == 10
        assert technician.service_types.exists()
    assert TimeOff.objects.count() == 1
    assert ServiceType.objects.count() == 3
    assert all(st.name_de and st.name_nl for st in ServiceType.objects.all())
    assert "Office login: office / doorstep-office" in output
    assert "tech.jan / doorstep-tech" in output and "tech.mia / doorstep-tech" in output


@pytest.mark.django_db
def test_seed_demo_shows_closed_days_a_state_and_a_training_day_no_customer_is_offered():
    with time_machine.travel(WEDNESDAY_MORNING, tick=False):
        seed()
        closed = closed_days(*booking_days())

    assert Firm.objects.get().holiday_subdivision == "NW"
    closure = Closure.objects.get()
    assert closure.first_day == closure.last_day == date(2026, 3, 13)  # the Friday after the planned visits
    assert closed[closure.first_day] == closure.reason
    assert not Appointment.objects.filter(window_start__date=closure.first_day).exists()


@pytest.mark.django_db
def test_seed_demo_creates_forty_reachable_customers_with_a_journal():
    seed()

    customers = Customer.objects.all()
    assert customers.count() == 40
    assert len({customer.email for customer in customers}) == 40
    assert all(customer.phone.is_valid() for customer in customers)
    assert {customer.preferred_language for customer in customers} == {"de", "nl", "en"}
    assert {customer.country for customer in customers} == {"DE", "NL"}
    office = get_user_model().objects.get(username="office")
    assert all(customer.responsible_id == office.pk for customer in customers)
    created = JournalEntry.objects.filter(action="customer.created")
    assert created.count() == 40 and created.filter(actor=office).count() == 40


@pytest.mark.django_db
def test_seed_demo_fills_two_weeks_with_visits_in_many_states():
    output = seed()

    assert "Skipped" not in output  # every planned visit got through the services' rules
    appointments = Appointment.objects.all()
    statuses = set(appointments.values_list("status", flat=True))
    assert len(statuses) >= 5
    assert {AppointmentStatus.COMPLETED, AppointmentStatus.MISSED, AppointmentStatus.CANCELLED} <= statuses
    assert {AppointmentStatus.SCHEDULED, AppointmentStatus.REQUESTED} <= statuses
    assert appointments.filter(version__gt=1).exists()
    assert JournalEntry.objects.filter(action="appointment.rescheduled").exists()
    assert all(a.journal_entries.filter(action__startswith="appointment.").exists() for a in appointments)
    for appointment in appointments.filter(status=AppointmentStatus.COMPLETED):
        assert appointment.window_start <= appointment.arrived_at <= appointment.window_end + timedelta(minutes=30)
        assert appointment.arrived_at < appointment.completed_at


@pytest.mark.django_db
def test_seed_demo_shows_visits_under_way_during_working_hours():
    with time_machine.travel(WEDNESDAY_MORNING, tick=False):
        seed()

    statuses = set(Appointment.objects.values_list("status", flat=True))
    assert {AppointmentStatus.EN_ROUTE, AppointmentStatus.ON_SITE} <= statuses
    assert len(statuses) == 7
    now = WEDNESDAY_MORNING
    assert not Appointment.objects.filter(trip_started_at__gt=now).exists()
    assert not Appointment.objects.filter(completed_at__gt=now).exists()
    past = Appointment.objects.filter(window_end__lte=now)
    assert not past.filter(status__in=[AppointmentStatus.SCHEDULED, AppointmentStatus.REQUESTED]).exists()


@pytest.mark.django_db
def test_seed_demo_gives_the_same_visits_for_the_same_moment():
    stories = []
    for _ in range(2):
        with transaction.atomic():
            with time_machine.travel(WEDNESDAY_MORNING, tick=False):
                seed()
            stories.append(appointment_story())
            transaction.set_rollback(True)

    assert stories[0] and stories[0] == stories[1]


@pytest.mark.django_db
def test_seed_demo_gives_the_office_a_live_desk():
    from desk.models import Promise
    from desk.selectors import desk_counts

    with time_machine.travel(WEDNESDAY_MORNING, tick=False):
        seed()
        office = get_user_model().objects.get(username="office")
        counts = desk_counts(office)
        tied = Promise.objects.get(appointment__isnull=False)

        assert (counts.overdue, counts.today) == (1, 2)
        assert Promise.objects.filter(due_at__gt=WEDNESDAY_MORNING + timedelta(days=6)).exists()
        assert tied.kind == "call_before_visit" and tied.due_at < tied.appointment.window_start


@pytest.mark.django_db
@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 2, 7, 29, tzinfo=BERLIN),  # Monday, before the office opens
        datetime(2026, 3, 4, 10, 15, tzinfo=BERLIN),
        datetime(2026, 3, 4, 16, 50, tzinfo=BERLIN),  # ten minutes before closing
        datetime(2026, 3, 4, 19, 29, tzinfo=BERLIN),  # Wednesday evening
        datetime(2026, 3, 7, 12, 0, tzinfo=BERLIN),  # Saturday
    ],
    ids=["monday-0729", "wednesday-1015", "wednesday-1650", "wednesday-1929", "saturday"],
)
def test_seed_demo_promises_are_due_on_a_quarter_hour_in_office_hours(moment):
    from desk.models import Promise
    from desk.working_time import office_hours

    with time_machine.travel(moment, tick=False):
        seed()

    promises = list(Promise.objects.all())
    assert len(promises) == 5
    hours = office_hours()
    for promise in promises:
        due = promise.due_at.astimezone(BERLIN)
        assert (due.minute % 15, due.second, due.microsecond) == (0, 0, 0), due
        assert hours[due.weekday()] is not None, due
        opens, closes = hours[due.weekday()]
        assert opens <= due.time() < closes, due
    assert sum(promise.due_at < moment for promise in promises) == 1
