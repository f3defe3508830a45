"""A promise tied to a visit follows it: every way a visit's time changes moves, voids or keeps its open
promises by their kind's rule, journalled, in the move's own transaction. Never left due at the old time."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone, translation

from appointments.formatting import format_window
from appointments.models import AppointmentStatus
from appointments.services import (
    AppointmentError,
    appointment_cancel,
    appointment_plan_move,
    appointment_replan,
    appointment_reschedule,
    appointment_schedule,
    visit_mark_missed,
)
from appointments.services.booking import (
    appointment_cancel_online,
    appointment_move_online,
    appointment_request_new_time,
)
from desk.models import Promise, PromiseKind, PromiseState
from desk.services import promise_keep, promise_make
from journal.models import JournalEntry
from journal.services import journal_record
from tests.factories import CustomerFactory, FirmFactory, OfficeUserFactory, ServiceTypeFactory, TechnicianFactory

pytestmark = pytest.mark.django_db


def next_weekday(days_ahead: int, weekday: int = 2):
    day = timezone.localdate() + timedelta(days=days_ahead)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def at(day, hour, minute=0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.fixture
def setup(db):
    FirmFactory()
    office = OfficeUserFactory(first_name="Sandra", last_name="Brinkmann")
    service_type = ServiceTypeFactory(name="Boiler maintenance")
    technician = TechnicianFactory(service_types=[service_type], display_name="Jan Verhaag")
    customer = CustomerFactory(full_name="Anna Schmitz", responsible=office, email="anna@example.com")
    return {"office": office, "service_type": service_type, "technician": technician, "customer": customer}


@pytest.fixture
def day():
    return next_weekday(3)


@pytest.fixture
def visit(setup, day):
    return appointment_schedule(
        customer=setup["customer"],
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=at(day, 8),
        window_end=at(day, 12),
        actor=setup["office"],
    )


def promise(setup, visit, kind, due_at):
    return promise_make(customer=setup["customer"], kind=kind, owner=setup["office"], due_at=due_at, appointment=visit)


@pytest.fixture
def promises(setup, visit, day):
    """One of each rule: call the day before (moves), confirm the time (voided), send a quote (stays)."""
    return {
        "call": promise(setup, visit, PromiseKind.CALL_BEFORE_VISIT, at(day - timedelta(days=1), 15)),
        "confirm": promise(setup, visit, PromiseKind.CONFIRM_TIME, at(day - timedelta(days=2), 12)),
        "quote": promise(setup, visit, PromiseKind.SEND_QUOTE, at(day + timedelta(days=7), 12)),
    }


def open_promises(visit):
    return {p.kind: p for p in Promise.objects.filter(appointment=visit, state=PromiseState.OPEN)}


def assert_followed(promises, visit, shift):
    """The call moved by `shift`, the confirmation is voided, the quote is untouched; all journalled."""
    now_open = open_promises(visit)
    assert set(now_open) == {PromiseKind.CALL_BEFORE_VISIT, PromiseKind.SEND_QUOTE}
    moved = now_open[PromiseKind.CALL_BEFORE_VISIT]
    assert moved.due_at == promises["call"].due_at + shift
    assert moved.replaces_id == promises["call"].pk
    assert Promise.objects.get(pk=promises["call"].pk).state == PromiseState.MOVED
    assert Promise.objects.get(pk=promises["confirm"].pk).state == PromiseState.VOIDED
    assert now_open[PromiseKind.SEND_QUOTE].pk == promises["quote"].pk
    assert now_open[PromiseKind.SEND_QUOTE].due_at == promises["quote"].due_at
    actions = list(
        JournalEntry.objects.filter(appointment=visit, action__startswith="promise.")
        .exclude(action="promise.made")
        .values_list("action", "data__reason_code")
    )
    assert sorted(actions) == [
        ("promise.moved", "visit_moved"),
        ("promise.unchanged", "visit_moved"),
        ("promise.voided", "visit_moved"),
    ]


# Each way a visit gets another time --------------------------------------------------------------------


def test_the_office_moving_the_visit_moves_the_call_before_it_voids_the_confirmation_and_keeps_the_quote(
    setup, visit, promises, day
):
    appointment_reschedule(appointment=visit, window_start=at(day + timedelta(days=1), 12), actor=setup["office"])

    assert_followed(promises, visit, timedelta(days=1, hours=4))


def test_the_journal_says_why_each_promise_moved_was_voided_or_stayed(setup, visit, promises, day):
    appointment_reschedule(appointment=visit, window_start=at(day + timedelta(days=1), 12), actor=setup["office"])

    with translation.override(settings.LANGUAGE_CODE):
        new_window = format_window(at(day + timedelta(days=1), 12), at(day + timedelta(days=1), 16))
    entries = JournalEntry.objects.filter(data__reason_code="visit_moved")
    assert entries.count() == 3
    for entry in entries:
        assert new_window in entry.data["reason"] and new_window in entry.summary
        assert entry.actor == setup["office"]


def test_a_board_move_to_another_window_moves_the_promises(setup, visit, promises, day):
    result = appointment_plan_move(
        appointment=visit, technician=setup["technician"], planned_start=at(day, 12), actor=setup["office"]
    )

    assert result.customer_told
    assert_followed(promises, visit, timedelta(hours=4))


def test_a_re_order_inside_the_window_changes_no_promise(setup, visit, promises, day):
    appointment_plan_move(
        appointment=visit, technician=setup["technician"], planned_start=at(day, 8, 30), actor=setup["office"]
    )
    appointment_replan(appointment=visit, planned_start=at(day, 8), actor=setup["office"])

    assert {p.pk for p in open_promises(visit).values()} == {p.pk for p in promises.values()}
    assert not JournalEntry.objects.filter(action__in=["promise.moved", "promise.voided", "promise.unchanged"])


def test_another_technician_at_the_same_time_changes_no_promise(setup, visit, promises, day):
    colleague = TechnicianFactory(service_types=[setup["service_type"]])

    appointment_reschedule(appointment=visit, window_start=visit.window_start, technician=colleague, actor=None)

    assert {p.pk for p in open_promises(visit).values()} == {p.pk for p in promises.values()}


def test_the_customer_moving_the_visit_from_their_link_moves_the_promises(setup, visit, promises, day):
    appointment_move_online(appointment=visit, window_start=at(day + timedelta(days=1), 8))

    assert_followed(promises, visit, timedelta(days=1))


def test_a_missed_visit_rebooked_from_the_link_takes_its_promises_along(setup):
    # At the door now: the window opened an hour ago.
    start = max(timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1), at(timezone.localdate(), 0))
    visit = appointment_schedule(
        customer=setup["customer"],
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=start,
        actor=setup["office"],
    )
    follow_up = promise(setup, visit, PromiseKind.CALL_BEFORE_VISIT, start + timedelta(days=1))
    visit_mark_missed(appointment=visit, actor=setup["technician"].user, waited_minutes=10, card_left=True)
    new_day = next_weekday(3)

    appointment_move_online(appointment=visit, window_start=at(new_day, 8))

    moved = open_promises(visit)[PromiseKind.CALL_BEFORE_VISIT]
    assert moved.replaces_id == follow_up.pk
    assert moved.due_at == follow_up.due_at + (at(new_day, 8) - start)


def test_a_missed_visit_answered_by_a_new_booking_hands_its_promises_to_the_new_visit(setup):
    start = max(timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1), at(timezone.localdate(), 0))
    missed = appointment_schedule(
        customer=setup["customer"],
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=start,
        actor=setup["office"],
    )
    call = promise(setup, missed, PromiseKind.CALL_BEFORE_VISIT, start + timedelta(days=1))
    confirm = promise(setup, missed, PromiseKind.CONFIRM_TIME, start + timedelta(days=1))
    visit_mark_missed(appointment=missed, actor=setup["technician"].user, waited_minutes=10, card_left=True)
    new_day = next_weekday(3)

    new_visit = appointment_schedule(
        customer=setup["customer"],
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=at(new_day, 8),
        actor=setup["office"],
    )

    assert not open_promises(missed)
    moved = open_promises(new_visit)[PromiseKind.CALL_BEFORE_VISIT]
    assert moved.replaces_id == call.pk and moved.due_at == call.due_at + (at(new_day, 8) - start)
    assert Promise.objects.get(pk=confirm.pk).state == PromiseState.VOIDED


def test_asking_for_a_new_time_voids_the_promises_of_the_old_time_and_the_customers_choice_brings_the_call_back(
    setup, visit, promises, day
):
    appointment_request_new_time(appointment=visit, actor=setup["office"], reason="Schulung.")

    assert set(open_promises(visit)) == {PromiseKind.SEND_QUOTE}
    for name in ("call", "confirm"):
        voided = Promise.objects.get(pk=promises[name].pk)
        assert voided.state == PromiseState.VOIDED and voided.closed_reason
        assert JournalEntry.objects.get(
            action="promise.voided", data__promise_id=voided.pk, data__reason_code="visit_time_withdrawn"
        )

    appointment_move_online(appointment=visit, window_start=at(day + timedelta(days=2), 12))

    now_open = open_promises(visit)
    assert set(now_open) == {PromiseKind.CALL_BEFORE_VISIT, PromiseKind.SEND_QUOTE}
    back = now_open[PromiseKind.CALL_BEFORE_VISIT]
    assert back.replaces_id == promises["call"].pk
    assert back.due_at == promises["call"].due_at + timedelta(days=2, hours=4)
    assert Promise.objects.get(pk=promises["confirm"].pk).state == PromiseState.VOIDED


def test_cancelling_the_visit_voids_every_open_promise_with_the_reason(setup, visit, promises):
    appointment_cancel(appointment=visit, reason="Kunde verkauft das Haus", actor=setup["office"])

    assert not open_promises(visit)
    for voided in Promise.objects.filter(appointment=visit):
        assert voided.state == PromiseState.VOIDED
        assert "Kunde verkauft das Haus" in voided.closed_reason
    assert JournalEntry.objects.filter(action="promise.voided", data__reason_code="visit_cancelled").count() == 3


def test_the_customer_cancelling_online_voids_the_promises_too(setup, visit, promises):
    appointment_cancel_online(appointment=visit, reason="")

    assert not open_promises(visit)


def test_a_kept_promise_is_not_touched_by_a_move(setup, visit, promises, day):
    entry = journal_record(customer=setup["customer"], action="contact.recorded", summary="Called.")
    promise_keep(promise=promises["call"], entry=entry)

    appointment_reschedule(appointment=visit, window_start=at(day + timedelta(days=1), 12), actor=setup["office"])

    kept = Promise.objects.get(pk=promises["call"].pk)
    assert kept.state == PromiseState.DONE and kept.due_at == promises["call"].due_at
    assert not Promise.objects.filter(replaces=kept).exists()


def test_a_visit_brought_forward_makes_the_call_due_now_not_in_the_past(setup):
    monday = next_weekday(7, weekday=0)
    with time_machine.travel(at(monday, 10), tick=False):
        visit = appointment_schedule(
            customer=setup["customer"],
            service_type=setup["service_type"],
            technician=setup["technician"],
            window_start=at(monday + timedelta(days=2), 8),
            actor=setup["office"],
        )
        promise(setup, visit, PromiseKind.CALL_BEFORE_VISIT, at(monday + timedelta(days=1), 15))

        # Two days earlier: "the afternoon before" would be Sunday evening, already past.
        appointment_reschedule(appointment=visit, window_start=at(monday, 12), actor=setup["office"])

        assert open_promises(visit)[PromiseKind.CALL_BEFORE_VISIT].due_at == at(monday, 10)


def test_a_failing_promise_rule_undoes_the_move_so_nothing_is_left_half_done(setup, visit, promises, day, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("desk.services.promises.promise_move", broken)
    before = (visit.window_start, visit.version)

    with pytest.raises(RuntimeError):
        appointment_reschedule(appointment=visit, window_start=at(day + timedelta(days=1), 12), actor=None)

    visit.refresh_from_db()
    assert (visit.window_start, visit.version) == before
    assert {p.pk for p in open_promises(visit).values()} == {p.pk for p in promises.values()}


def test_a_refused_move_leaves_the_promises_alone(setup, visit, promises):
    with pytest.raises(AppointmentError):
        appointment_reschedule(appointment=visit, window_start=visit.window_start, actor=None)

    assert {p.pk for p in open_promises(visit).values()} == {p.pk for p in promises.values()}
    assert visit.status == AppointmentStatus.SCHEDULED
