from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatus, TimeOff, VisitAttempt
from appointments.services import (
    TRANSITIONS,
    AppointmentError,
    appointment_cancel,
    appointment_confirm,
    appointment_reschedule,
    appointment_schedule,
    appointment_update_details,
    visit_arrive,
    visit_complete,
    visit_mark_missed,
    visit_start_trip,
)
from appointments.services.booking import appointment_request_new_time
from journal.models import JournalEntry
from tests.factories import (
    AppointmentFactory,
    CustomerFactory,
    OfficeUserFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    local_dt,
)

pytestmark = pytest.mark.django_db
Status = AppointmentStatus


@pytest.fixture
def service_type():
    return ServiceTypeFactory(duration=timedelta(hours=1), arrival_window=timedelta(hours=4))


@pytest.fixture
def technician(service_type):
    return TechnicianFactory(service_types=[service_type])


@pytest.fixture
def actor():
    return OfficeUserFactory()


def schedule(technician, service_type, actor, *, day=2, hour=8, **kwargs):
    return appointment_schedule(
        customer=kwargs.pop("customer", None) or CustomerFactory(),
        service_type=service_type,
        technician=technician,
        window_start=local_dt(day, hour),
        actor=actor,
        **kwargs,
    )


# Scheduling -------------------------------------------------------------------


def test_schedule_creates_scheduled_appointment_with_journal_entry(technician, service_type, actor):
    appointment = schedule(technician, service_type, actor)

    assert appointment.status == Status.SCHEDULED
    assert appointment.version == 1
    assert appointment.scheduled_at is not None
    entry = JournalEntry.objects.get(appointment=appointment)
    assert entry.action == "appointment.scheduled"
    assert entry.actor == actor
    assert entry.customer == appointment.customer
    assert entry.data["version"] == 1


def test_schedule_defaults_window_end_to_service_types_window(technician, service_type, actor):
    appointment = schedule(technician, service_type, actor)

    assert appointment.window_end - appointment.window_start == timedelta(hours=4)
    assert appointment.expected_duration == timedelta(hours=1)


def test_schedule_uses_customer_address_as_site_unless_given(technician, service_type, actor):
    customer = CustomerFactory(street="Hafenstraße 3", postcode="47533", city="Kleve")
    at_home = schedule(technician, service_type, actor, customer=customer)
    elsewhere = schedule(
        technician,
        service_type,
        actor,
        customer=customer,
        day=3,
        site={"street": "Gartenweg 1", "postcode": "46446", "city": "Emmerich"},
    )

    assert at_home.site_address == "Hafenstraße 3, 47533 Kleve"
    assert elsewhere.site_address == "Gartenweg 1, 46446 Emmerich"


def test_schedule_as_request_records_requested_status(technician, service_type, actor):
    appointment = schedule(technician, service_type, actor, requested=True)

    assert appointment.status == Status.REQUESTED
    assert appointment.requested_at is not None
    assert JournalEntry.objects.get(appointment=appointment).action == "appointment.requested"


def test_schedule_refuses_a_full_window_with_a_clear_message(technician, service_type, actor):
    # 90 minutes with the buffer: 8:00, 9:30 and 11:00 fill the 8-12 window.
    first, *_others = [schedule(technician, service_type, actor, hour=8) for _ in range(3)]

    with pytest.raises(AppointmentError) as error:
        schedule(technician, service_type, actor, hour=8)

    assert error.value.code == "overlap"
    assert first.customer.full_name in error.value.message
    assert Appointment.objects.count() == 3


def test_back_to_back_windows_are_allowed(technician, service_type, actor):
    schedule(technician, service_type, actor, hour=8)
    schedule(technician, service_type, actor, hour=12)

    assert Appointment.objects.count() == 2


def test_job_longer_than_its_window_reserves_the_technician_until_done(technician, actor):
    installation = ServiceTypeFactory(
        name="Heat pump installation",
        duration=timedelta(hours=6),
        arrival_window=timedelta(hours=2),
        buffer_after=timedelta(minutes=30),
    )
    technician.service_types.add(installation)
    appointment = schedule(technician, installation, actor, hour=8)

    assert appointment.occupied_until == local_dt(2, 14, 30)
    with pytest.raises(AppointmentError):
        schedule(technician, installation, actor, hour=12)


def test_other_technicians_are_not_blocked(technician, service_type, actor):
    colleague = TechnicianFactory(service_types=[service_type])
    schedule(technician, service_type, actor, hour=8)
    schedule(colleague, service_type, actor, hour=8)

    assert Appointment.objects.count() == 2


def test_schedule_refuses_technician_who_does_not_do_the_service(service_type, actor):
    technician = TechnicianFactory(service_types=[])

    with pytest.raises(AppointmentError) as error:
        schedule(technician, service_type, actor)

    assert error.value.code == "technician_unqualified"


def test_schedule_refuses_time_off(technician, service_type, actor):
    TimeOff.objects.create(technician=technician, starts_at=local_dt(2, 7), ends_at=local_dt(2, 12), reason="Arzt")

    with pytest.raises(AppointmentError) as error:
        schedule(technician, service_type, actor, hour=8)

    assert error.value.code == "time_off"
    schedule(technician, service_type, actor, hour=12)


def test_schedule_refuses_window_ending_before_it_starts(technician, service_type, actor):
    with pytest.raises(AppointmentError):
        appointment_schedule(
            customer=CustomerFactory(),
            service_type=service_type,
            technician=technician,
            window_start=local_dt(2, 12),
            window_end=local_dt(2, 8),
            actor=actor,
        )


def test_cancelled_appointment_frees_its_time(technician, service_type, actor):
    first = schedule(technician, service_type, actor, hour=8)
    appointment_cancel(appointment=first, reason="Kunde verreist", actor=actor)

    schedule(technician, service_type, actor, hour=8)

    assert Appointment.objects.active().count() == 1


# Rescheduling -----------------------------------------------------------------


def test_reschedule_bumps_version_and_journals_old_and_new_window(technician, service_type, actor):
    appointment = schedule(technician, service_type, actor, hour=8)

    moved = appointment_reschedule(
        appointment=appointment, window_start=local_dt(3, 12), actor=actor, reason="Kunde bittet um Nachmittag"
    )

    assert moved.version == 2
    assert moved.window_start == local_dt(3, 12)
    assert moved.window_end == local_dt(3, 16)
    entry = JournalEntry.objects.filter(appointment=appointment, action="appointment.rescheduled").get()
    assert entry.data["previous"]["version"] == 1
    assert entry.data["version"] == 2
    assert entry.data["reason"] == "Kunde bittet um Nachmittag"


def test_reschedule_to_another_technician_bumps_version(technician, service_type, actor):
    colleague = TechnicianFactory(service_types=[service_type])
    appointment = schedule(technician, service_type, actor)

    moved = appointment_reschedule(
        appointment=appointment, window_start=appointment.window_start, technician=colleague, actor=actor
    )

    assert moved.technician == colleague
    assert moved.version == 2


def test_reschedule_into_a_full_window_changes_nothing(technician, service_type, actor):
    for _ in range(3):
        schedule(technician, service_type, actor, hour=12)
    appointment = schedule(technician, service_type, actor, hour=8)
    entries_before = JournalEntry.objects.count()

    with pytest.raises(AppointmentError):
        appointment_reschedule(appointment=appointment, window_start=local_dt(2, 12), actor=actor)

    appointment.refresh_from_db()
    assert appointment.window_start == local_dt(2, 8)
    assert appointment.version == 1
    assert JournalEntry.objects.count() == entries_before


def test_reschedule_within_its_own_time_does_not_conflict_with_itself(technician, service_type, actor):
    appointment = schedule(technician, service_type, actor, hour=8)

    moved = appointment_reschedule(appointment=appointment, window_start=local_dt(2, 9), actor=actor)

    assert moved.window_start == local_dt(2, 9)


def test_reschedule_of_missed_visit_books_it_again(technician, service_type, actor):
    appointment = schedule(technician, service_type, actor, day=-1)
    visit_mark_missed(appointment=appointment, actor=actor, at=local_dt(-1, 10))

    moved = appointment_reschedule(appointment=appointment, window_start=local_dt(3, 8), actor=actor)

    assert moved.status == Status.SCHEDULED
    assert moved.version == 2


def test_rebooking_a_missed_visit_into_the_past_is_refused_and_keeps_the_follow_up(technician, service_type, actor):
    appointment = schedule(technician, service_type, actor, day=-1)
    visit_mark_missed(appointment=appointment, actor=actor, at=local_dt(-1, 10))

    with pytest.raises(AppointmentError) as refused:
        appointment_reschedule(appointment=appointment, window_start=local_dt(-7, 8), actor=actor)

    appointment.refresh_from_db()
    assert refused.value.code == "window_past"
    assert (appointment.status, appointment.version) == (Status.MISSED, 1)
    assert VisitAttempt.objects.get().rebooked_at is None


def test_confirming_a_request_whose_time_has_passed_is_refused(technician, service_type, actor):
    request = schedule(technician, service_type, actor, day=-2, requested=True)

    with pytest.raises(AppointmentError) as refused:
        appointment_confirm(appointment=request, actor=actor)

    request.refresh_from_db()
    assert refused.value.code == "window_past"
    assert request.status == Status.REQUESTED


def test_confirming_a_request_refuses_a_technician_who_has_since_taken_time_off(technician, service_type, actor):
    request = schedule(technician, service_type, actor, day=3, requested=True)
    TimeOff.objects.create(technician=technician, starts_at=local_dt(3, 0), ends_at=local_dt(4, 0), reason="Urlaub")

    with pytest.raises(AppointmentError) as refused:
        appointment_confirm(appointment=request, actor=actor)

    request.refresh_from_db()
    assert refused.value.code == "time_off"
    assert request.status == Status.REQUESTED


def test_reschedule_to_the_same_time_is_refused(technician, service_type, actor):
    appointment = schedule(technician, service_type, actor)

    with pytest.raises(AppointmentError) as error:
        appointment_reschedule(appointment=appointment, window_start=appointment.window_start, actor=actor)

    assert error.value.code == "unchanged"


@pytest.mark.parametrize("status", [Status.ON_SITE, Status.COMPLETED, Status.CANCELLED])
def test_reschedule_refused_once_the_visit_is_underway_or_over(status, technician, service_type, actor):
    appointment = AppointmentFactory(technician=technician, service_type=service_type, status=status)

    with pytest.raises(AppointmentError) as error:
        appointment_reschedule(appointment=appointment, window_start=local_dt(9, 8), actor=actor)

    assert error.value.code == "illegal_transition"


def test_update_details_keeps_version_and_journals_the_change(technician, service_type, actor):
    appointment = schedule(technician, service_type, actor)

    updated = appointment_update_details(appointment=appointment, changes={"notes": "Hund im Garten"}, actor=actor)

    assert updated.notes == "Hund im Garten"
    assert updated.version == 1
    assert JournalEntry.objects.filter(appointment=appointment, action="appointment.updated").count() == 1


def test_update_details_without_change_writes_nothing(technician, service_type, actor):
    appointment = schedule(technician, service_type, actor, notes="Klingel defekt")
    entries_before = JournalEntry.objects.count()

    appointment_update_details(appointment=appointment, changes={"notes": "Klingel defekt"}, actor=actor)

    assert JournalEntry.objects.count() == entries_before


# Visit transitions --------------------------------------------------------------

SERVICES = {
    "confirm": lambda appointment, actor: appointment_confirm(appointment=appointment, actor=actor),
    "start_trip": lambda appointment, actor: visit_start_trip(appointment=appointment, actor=actor),
    "arrive": lambda appointment, actor: visit_arrive(appointment=appointment, actor=actor),
    "complete": lambda appointment, actor: visit_complete(
        appointment=appointment, actor=actor, report="Brenner gereinigt"
    ),
    "mark_missed": lambda appointment, actor: visit_mark_missed(appointment=appointment, actor=actor),
    "cancel": lambda appointment, actor: appointment_cancel(
        appointment=appointment, reason="Auftrag storniert", actor=actor
    ),
    "request_new_time": lambda appointment, actor: appointment_request_new_time(
        appointment=appointment, actor=actor, reason="Monteur krank"
    ),
}
LEGAL = [(name, source) for name, transition in TRANSITIONS.items() for source in sorted(transition.sources)]
ILLEGAL = [
    (name, source)
    for name, transition in TRANSITIONS.items()
    for source in Status.values
    if source not in transition.sources
]


def test_arrival_belongs_to_the_visits_own_day(technician, service_type, actor):
    appointment = AppointmentFactory(technician=technician, service_type=service_type, window_start=local_dt(1, 8))

    with time_machine.travel(local_dt(0, 9), tick=False), pytest.raises(AppointmentError) as refused:
        visit_arrive(appointment=appointment, actor=actor)

    assert refused.value.code == "not_visit_day"
    appointment.refresh_from_db()
    assert appointment.status == Status.SCHEDULED


def test_every_transition_has_a_service():
    assert set(SERVICES) == set(TRANSITIONS)


@pytest.mark.parametrize(("name", "source"), LEGAL)
def test_legal_transition_sets_status_timestamp_and_journal_entry(name, source, technician, service_type, actor):
    appointment = AppointmentFactory(
        technician=technician, service_type=service_type, status=source, window_start=local_dt(0, 0)
    )
    transition = TRANSITIONS[name]

    # Half an hour into the window: a trip or "not home" belongs to the visit's day and window.
    with time_machine.travel(local_dt(0, 0) + timedelta(minutes=30), tick=False):
        result = SERVICES[name](appointment, actor)

    assert result.status == transition.target
    assert getattr(result, transition.timestamp_field) is not None
    assert result.version == appointment.version
    entry = JournalEntry.objects.get(appointment=appointment)
    assert entry.action == transition.action
    assert entry.data["status"] == transition.target


@pytest.mark.parametrize(("name", "source"), ILLEGAL)
def test_illegal_transition_is_refused_and_changes_nothing(name, source, technician, service_type, actor):
    appointment = AppointmentFactory(technician=technician, service_type=service_type, status=source)

    with pytest.raises(AppointmentError) as error:
        SERVICES[name](appointment, actor)

    assert error.value.code == "illegal_transition"
    appointment.refresh_from_db()
    assert appointment.status == source
    assert not JournalEntry.objects.exists()


def test_cancel_needs_a_reason(technician, service_type, actor):
    appointment = schedule(technician, service_type, actor)

    with pytest.raises(AppointmentError) as error:
        appointment_cancel(appointment=appointment, reason="  ", actor=actor)

    assert error.value.code == "reason_missing"
    appointment.refresh_from_db()
    assert appointment.status == Status.SCHEDULED


def test_cancel_keeps_the_reason(technician, service_type, actor):
    appointment = schedule(technician, service_type, actor)

    cancelled = appointment_cancel(appointment=appointment, reason="Heizung getauscht", actor=actor)

    assert cancelled.cancel_reason == "Heizung getauscht"
    assert cancelled.cancelled_at is not None


def test_mark_missed_records_the_technicians_own_timestamp(technician, service_type, actor):
    appointment = schedule(technician, service_type, actor, day=0, hour=0)
    at_the_door = timezone.now() - timedelta(minutes=20)

    missed = visit_mark_missed(appointment=appointment, actor=actor, at=at_the_door, note="Zweimal geklingelt")

    assert missed.missed_at == at_the_door
    entry = JournalEntry.objects.get(appointment=appointment, action="visit.missed")
    assert entry.occurred_at == at_the_door
    assert entry.channel == "visit"
    assert "Zweimal geklingelt" in entry.summary


def test_mark_missed_a_minute_before_the_window_opens_is_refused(technician, service_type, actor):
    # The clock-skew allowance is for times a phone sends, not for the server's own clock: the
    # customer was promised 13:00-17:00, so nobody had to be home at 12:59.
    appointment = schedule(technician, service_type, actor, day=0, hour=13)

    with time_machine.travel(local_dt(0, 12, 59), tick=False), pytest.raises(AppointmentError) as error:
        visit_mark_missed(appointment=appointment, actor=actor)

    assert error.value.code == "window_not_started"
    appointment.refresh_from_db()
    assert appointment.status == Status.SCHEDULED
    assert not VisitAttempt.objects.exists()


def test_mark_missed_with_a_fast_phones_time_is_refused_before_the_window_opens(technician, service_type, actor):
    # A phone running four minutes fast says 13:02; on the firm's clock it is 12:58.
    appointment = schedule(technician, service_type, actor, day=0, hour=13)

    with time_machine.travel(local_dt(0, 12, 58), tick=False), pytest.raises(AppointmentError) as error:
        visit_mark_missed(appointment=appointment, actor=actor, at=local_dt(0, 13, 2))

    assert error.value.code == "window_not_started"
    assert not VisitAttempt.objects.exists()


def test_mark_missed_as_the_window_opens_is_recorded(technician, service_type, actor):
    appointment = schedule(technician, service_type, actor, day=0, hour=13)

    with time_machine.travel(local_dt(0, 13), tick=False):
        missed = visit_mark_missed(appointment=appointment, actor=actor)

    assert missed.status == Status.MISSED
    assert missed.missed_at == local_dt(0, 13)


def test_transition_time_in_the_future_is_refused(technician, service_type, actor):
    appointment = schedule(technician, service_type, actor)

    with pytest.raises(AppointmentError) as error:
        visit_arrive(appointment=appointment, actor=actor, at=timezone.now() + timedelta(hours=2))

    assert error.value.code == "future_time"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("de", "Mi, 4. März 2026, 13:00–17:00"),
        ("nl", "wo, 4 maart 2026, 13:00–17:00"),
        ("en", "Wed, March 4, 2026, 13:00–17:00"),
    ],
)
def test_windows_read_naturally_in_each_language(language, expected):
    from django.utils import translation

    from appointments.formatting import format_window

    start = timezone.make_aware(timezone.datetime(2026, 3, 4, 13, 0))
    with translation.override(language):
        assert format_window(start, start + timedelta(hours=4)) == expected
