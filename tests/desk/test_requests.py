"""Requests from the website: which customer a request becomes, its callback promise, the customer's changes."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from appointments.models import Closure
from customers.models import Customer
from desk.models import MatchOutcome, Promise, PromiseKind, PromiseState, RequestStatus, WebRequest
from desk.requests import call_outside_reach, call_slots, callback_deadline
from desk.services import RequestError, request_email_instead, request_move_call, request_submit
from journal.models import JournalEntry
from notifications.models import MessageKind, OutboxMessage
from tests.factories import CustomerFactory, OfficeUserFactory, request_fields

# Monday 30 November 2026; Friday 4 December; the weekend 5–6 December; Monday 7 December.
MONDAY = date(2026, 11, 30)
FRIDAY = date(2026, 12, 4)
NEXT_MONDAY = date(2026, 12, 7)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


def submit(**changes):
    return request_submit(fields=request_fields(**changes), language="nl", now=at(MONDAY, 10))


def test_a_request_from_someone_unknown_becomes_a_new_customer_with_a_callback_promise(office):
    web_request = submit()

    customer = web_request.customer
    assert web_request.match == MatchOutcome.NEW and web_request.possible_duplicate_of is None
    assert (customer.full_name, customer.email, customer.phone.as_e164) == (
        "Eva Janssen",
        "eva@example.nl",
        "+31649123456",
    )
    assert customer.preferred_language == "nl" and customer.responsible == office
    promise = web_request.promise
    assert (promise.kind, promise.owner, promise.state) == (PromiseKind.CALL_BACK, office, PromiseState.OPEN)
    assert promise.made_in.action == "request.received"
    assert (promise.made_in.channel, promise.made_in.direction) == ("web", "in")
    assert promise.made_in.data["about"] == "Our boiler makes a noise."
    created = JournalEntry.objects.get(customer=customer, action="customer.created")
    assert created.data == {"source": "website"} and "Website" in created.summary


def test_the_call_is_due_one_working_day_later(office):
    # The office is open 08:00–17:00: nine hours, one working day.
    assert submit().promise.due_at == at(date(2026, 12, 1), 10)


def test_the_call_time_is_rounded_down_to_the_quarter_hour_so_it_stays_inside_the_promise(office):
    web_request = request_submit(fields=request_fields(), language="nl", now=at(MONDAY, 10, 7))
    assert web_request.promise.due_at == at(date(2026, 12, 1), 10)


def test_a_request_on_friday_afternoon_is_due_on_monday_not_over_the_weekend(office):
    web_request = request_submit(fields=request_fields(), language="nl", now=at(FRIDAY, 15))
    assert web_request.promise.due_at == at(NEXT_MONDAY, 15)


def test_a_request_on_saturday_is_due_at_the_end_of_the_next_working_day(office):
    web_request = request_submit(fields=request_fields(), language="nl", now=at(date(2026, 12, 5), 11))
    # The customer is told a time to be called: the last quarter hour before closing, not the closing time.
    assert web_request.promise.due_at == at(NEXT_MONDAY, 16, 45)


@pytest.mark.parametrize(
    ("sent", "call"),
    [
        (at(MONDAY, 7), at(MONDAY, 16, 45)),  # before opening: a whole office day is the rest of today
        (at(MONDAY, 8), at(MONDAY, 16, 45)),
        (at(MONDAY, 16, 53), at(date(2026, 12, 1), 16, 45)),  # 16:53 rounds up to 17:00, the closing time
        (at(date(2026, 11, 29), 21, 30), at(MONDAY, 16, 45)),  # a Sunday evening, as people do
    ],
)
def test_the_call_is_never_at_the_offices_closing_time(office, sent, call):
    web_request = request_submit(fields=request_fields(), language="nl", now=sent)
    assert web_request.promise.due_at == call


@pytest.mark.parametrize(
    ("sent", "reachable", "call"),
    [
        # Friday 15:00, one working day: by Monday 15:00. Monday morning, not Tuesday's (past the promise).
        (at(FRIDAY, 15), "mornings", at(NEXT_MONDAY, 8)),
        # The earliest afternoon time an hour from now: still on Friday.
        (at(FRIDAY, 15), "afternoons", at(FRIDAY, 16)),
        (at(FRIDAY, 15, 50), "afternoons", at(NEXT_MONDAY, 12)),
        # Near closing: the next morning, not the morning after the deadline.
        (at(MONDAY, 16), "mornings", at(date(2026, 12, 1), 8)),
        (at(MONDAY, 16, 10), "afternoons", at(date(2026, 12, 1), 12)),
        # Before opening: the same day's morning an hour ahead, or its afternoon.
        (at(MONDAY, 7), "mornings", at(MONDAY, 8)),
        (at(MONDAY, 7), "afternoons", at(MONDAY, 12)),
        # The last morning quarter hour is 11:45; from 10:50 on, the next morning is the first.
        (at(MONDAY, 10, 40), "mornings", at(MONDAY, 11, 45)),
        (at(MONDAY, 10, 50), "mornings", at(date(2026, 12, 1), 8)),
    ],
)
def test_the_call_is_the_earliest_preferred_time_inside_the_promise(office, sent, reachable, call):
    web_request = request_submit(fields=request_fields(reachable=reachable), language="nl", now=sent)
    assert web_request.promise.due_at == call
    assert web_request.promise.due_at <= callback_deadline(sent)
    assert call_outside_reach(web_request) == ""


@pytest.mark.public_holidays
def test_a_preferred_morning_skips_christmas_and_stays_inside_the_promise(office):
    # Christmas Eve 15:00: the 25th and 26th are holidays, then the weekend; the promise ends Monday 28th 15:00.
    web_request = request_submit(
        fields=request_fields(reachable="mornings"), language="nl", now=at(date(2026, 12, 24), 15)
    )
    assert web_request.promise.due_at == at(date(2026, 12, 28), 8)


def test_a_preferred_afternoon_skips_a_closure_of_the_firm(office):
    Closure.objects.create(first_day=NEXT_MONDAY, last_day=NEXT_MONDAY, reason="Training")
    web_request = request_submit(fields=request_fields(reachable="afternoons"), language="nl", now=at(FRIDAY, 16, 30))
    assert web_request.promise.due_at == at(date(2026, 12, 8), 12)


@override_settings(REQUEST_CALLBACK_WITHIN=timedelta(hours=3))
@pytest.mark.parametrize(
    ("sent", "reachable", "call"),
    [
        (at(MONDAY, 13), "mornings", at(MONDAY, 16)),
        (at(MONDAY, 8), "afternoons", at(MONDAY, 11)),
        (at(FRIDAY, 16), "afternoons", at(NEXT_MONDAY, 10)),
    ],
)
def test_without_a_preferred_time_inside_the_promise_the_call_keeps_the_promise(office, sent, reachable, call):
    web_request = request_submit(fields=request_fields(reachable=reachable), language="nl", now=sent)
    assert web_request.promise.due_at == call
    assert call_outside_reach(web_request) == reachable


def test_the_reply_mail_is_queued_at_once_for_the_new_customer(office):
    web_request = submit()
    message = OutboxMessage.objects.get()
    assert (message.kind, message.customer, message.to_email) == (
        MessageKind.REQUEST_REPLY,
        web_request.customer,
        "eva@example.nl",
    )
    assert message.language == "nl"


def test_without_an_email_address_no_mail_is_queued(office):
    web_request = submit(email="")
    assert web_request.promise.state == PromiseState.OPEN
    assert not OutboxMessage.objects.exists()


def test_a_request_needs_an_email_or_a_phone_and_stores_nothing_without(office):
    with pytest.raises(RequestError):
        submit(email="", phone="")
    assert not (WebRequest.objects.exists() or Customer.objects.exists() or Promise.objects.exists())


def test_the_same_email_and_person_links_the_request_to_the_existing_customer_untouched(office):
    colleague = OfficeUserFactory()
    existing = CustomerFactory(
        full_name="Eva Janssen",
        email="Eva@Example.NL",
        phone="+31612000000",
        street="Hoogstraat 5",
        postcode="6511AB",
        city="Nijmegen",
        country="NL",
        responsible=colleague,
        notes="Dog in the garden.",
    )
    web_request = submit()
    existing.refresh_from_db()
    assert web_request.customer == existing and web_request.match == MatchOutcome.MATCHED
    assert Customer.objects.count() == 1
    assert existing.phone.as_e164 == "+31612000000" and existing.notes == "Dog in the garden."
    # The owner is the customer's responsible person; the promise notes the number typed.
    assert web_request.promise.owner == colleague
    assert "+31649123456" in web_request.promise.note


def test_the_same_phone_finds_the_customer_when_no_email_is_given(office):
    existing = CustomerFactory(
        full_name="Eva Janssen",
        email="",
        phone="+31649123456",
        street="Hoogstraat 5",
        postcode="6511 AB",
        country="NL",
    )
    web_request = submit(email="")
    assert web_request.customer == existing and web_request.match == MatchOutcome.MATCHED


def test_a_different_name_with_the_same_email_is_a_possible_duplicate_not_merged(office):
    colleague = OfficeUserFactory()
    existing = CustomerFactory(
        full_name="Piet de Vries",
        email="eva@example.nl",
        street="Hoogstraat 5",
        postcode="6511 AB",
        responsible=colleague,
    )
    web_request = submit()
    existing.refresh_from_db()
    assert web_request.match == MatchOutcome.POSSIBLE_DUPLICATE
    assert web_request.possible_duplicate_of == existing and web_request.customer != existing
    assert existing.full_name == "Piet de Vries"
    assert web_request.customer.full_name == "Eva Janssen"
    # The person who knows the existing customer owns both, and decides about merging.
    assert web_request.customer.responsible == colleague and web_request.promise.owner == colleague


def test_a_different_address_with_the_same_phone_is_a_possible_duplicate(office):
    existing = CustomerFactory(
        full_name="Eva Janssen", email="", phone="+31649123456", street="Kerkstraat 1", postcode="6811 AA"
    )
    web_request = submit()
    existing.refresh_from_db()
    assert web_request.possible_duplicate_of == existing and existing.street == "Kerkstraat 1"


def test_a_middle_name_and_straße_written_out_still_match(office):
    existing = CustomerFactory(
        full_name="Anna Müller", email="anna@example.de", street="Hauptstraße 3", postcode="47533", country="DE"
    )
    web_request = request_submit(
        fields=request_fields(
            full_name="anna maria MÜLLER",
            email="ANNA@example.de",
            phone="",
            street="Hauptstr. 3",
            postcode="47533",
            city="Kleve",
            country="DE",
        ),
        language="de",
        now=at(MONDAY, 10),
    )
    assert web_request.customer == existing and web_request.match == MatchOutcome.MATCHED


def test_a_wrong_phone_for_the_country_stores_nothing(office):
    with pytest.raises(RequestError):
        submit(phone="12")
    assert not Customer.objects.exists()


# The customer's changes -------------------------------------------------------------------


@time_machine.travel(at(MONDAY, 10), tick=False)
def test_moving_the_call_strikes_the_old_time_and_mails_the_new_one(office):
    web_request = submit()
    old = web_request.promise
    new_time = at(date(2026, 12, 2), 14)

    web_request = request_move_call(web_request=web_request, due_at=new_time, now=timezone.now())

    old.refresh_from_db()
    assert old.state == PromiseState.MOVED
    open_calls = Promise.objects.filter(customer=web_request.customer, state=PromiseState.OPEN)
    assert [(p.due_at, p.replaces_id) for p in open_calls] == [(new_time, old.pk)]
    assert web_request.promise == open_calls.get()
    moved = JournalEntry.objects.get(action="request.call_moved")
    assert (moved.channel, moved.direction) == ("web", "in")
    assert OutboxMessage.objects.filter(kind=MessageKind.CALL_TIME_CHANGED).count() == 1


@time_machine.travel(at(MONDAY, 10), tick=False)
def test_a_call_time_outside_office_hours_is_refused(office):
    web_request = submit()
    for refused in (at(date(2026, 12, 1), 19), at(date(2026, 12, 5), 10), at(date(2026, 12, 1), 10, 30)):
        with pytest.raises(RequestError):
            request_move_call(web_request=web_request, due_at=refused, now=timezone.now())
    web_request.promise.refresh_from_db()
    assert web_request.promise.state == PromiseState.OPEN
    assert not OutboxMessage.objects.filter(kind=MessageKind.CALL_TIME_CHANGED).exists()


@time_machine.travel(at(MONDAY, 10), tick=False)
def test_the_offered_times_are_on_the_hour_in_office_hours_over_five_office_days(office):
    slots = call_slots(now=timezone.now())
    local = [timezone.localtime(slot) for slot in slots]
    assert local[0] == at(MONDAY, 11) and local[-1] == at(FRIDAY, 16)
    assert all(8 <= slot.hour < 17 and slot.minute == 0 and slot.weekday() < 5 for slot in local)


@time_machine.travel(at(MONDAY, 10), tick=False)
def test_asking_for_email_instead_voids_the_call_and_promises_an_email_answer(office):
    web_request = submit()
    call = web_request.promise

    web_request = request_email_instead(web_request=web_request, now=timezone.now())

    call.refresh_from_db()
    assert call.state == PromiseState.VOIDED
    answer = web_request.promise
    assert (answer.kind, answer.state, answer.replaces) == (PromiseKind.SEND_INFORMATION, PromiseState.OPEN, call)
    assert "eva@example.nl" in answer.note and answer.due_at == call.due_at
    assert web_request.status == RequestStatus.EMAIL_INSTEAD
    assert JournalEntry.objects.filter(action="request.email_instead", channel="web", direction="in").exists()
    with pytest.raises(RequestError):
        request_move_call(web_request=web_request, due_at=at(date(2026, 12, 2), 14), now=timezone.now())


def test_a_call_already_made_cannot_be_moved(office):
    web_request = submit()
    with pytest.raises(RequestError):
        request_move_call(
            web_request=web_request, due_at=at(date(2026, 12, 2), 14), now=at(date(2026, 12, 2), 9) + timedelta(days=1)
        )


# The journal, as the office reads it ----------------------------------------------------------


@time_machine.travel(at(MONDAY, 10), tick=False)
def test_the_requests_journal_entries_read_in_german_dutch_and_english(office):
    from tests.journal.reading import as_read_in

    CustomerFactory(full_name="Piet de Vries", email="eva@example.nl")
    web_request = submit()
    request_move_call(web_request=web_request, due_at=at(date(2026, 12, 2), 14), now=timezone.now())
    request_email_instead(web_request=web_request, now=timezone.now())
    customer = web_request.customer

    def read(action, language):
        return as_read_in(language, JournalEntry.objects.get(customer=customer, action=action))

    assert read("customer.created", "de") == "Kundendaten aus einer Anfrage über die Website angelegt."
    assert read("request.received", "nl").startswith("Aanvraag via de website: Our boiler makes a noise.")
    assert "Mogelijk dubbel van klant nr." in read("request.received", "nl")
    assert read("request.call_moved", "de") == "Der Kunde hat den Anruf auf Mi, 2. Dezember 2026, 14:00 verschoben."
    assert read("request.call_moved", "en") == "The customer moved the call to Wed, Dec. 2, 2026, 14:00."
    assert read("request.email_instead", "en") == (
        "The customer asked for an answer by email to eva@example.nl instead of a call."
    )
