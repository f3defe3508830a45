"""Feedback: one request per completed visit, an owner and a deadline for every feedback, the reply keeps it."""

import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone, translation

from appointments.formatting import format_day, format_time
from appointments.models import AppointmentStatus
from desk.admin.feedback import answered_in_time_share
from desk.feedback_setup import render_received, render_replied
from desk.models import Feedback, FeedbackChannel, FeedbackRequest, FeedbackState, Promise, PromiseKind, PromiseState
from desk.services import FeedbackError, feedback_receive, feedback_reply, promise_move, promise_reassign
from desk.services.feedback import feedback_request_token, feedback_requests_opt_out, feedback_requests_queue
from desk.working_time import add_working_time
from journal.models import JournalEntry
from notifications.models import MessageKind, MessageStatus, OutboxMessage
from notifications.services import message_deliver
from tests.factories import (
    AppointmentFactory,
    CustomerFactory,
    FeedbackFactory,
    FirmFactory,
    OfficeUserFactory,
    local_dt,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def firm():
    return FirmFactory()


@pytest.fixture
def office():
    return OfficeUserFactory(first_name="Sandra", last_name="Brinkmann", email="s.brinkmann@firm.example")


@pytest.fixture
def customer(office, firm):
    return CustomerFactory(full_name="Anna Schmitz", email="anna@example.com", responsible=office)


def completed_visit(customer, *, completed_at, status=AppointmentStatus.COMPLETED):
    return AppointmentFactory(
        customer=customer,
        window_start=completed_at - timedelta(hours=2),
        status=status,
        completed_at=completed_at if status == AppointmentStatus.COMPLETED else None,
    )


def requests_of(kind=MessageKind.FEEDBACK_REQUEST):
    return OutboxMessage.objects.filter(kind=kind)


# Asking -------------------------------------------------------------------------------------


def test_a_completed_visit_gets_one_request_two_hours_after_completion_and_never_a_second(customer):
    done = local_dt(-1, 11)
    visit = completed_visit(customer, completed_at=done)

    with time_machine.travel(done + timedelta(hours=1, minutes=59), tick=False):
        assert feedback_requests_queue() == 0
    with time_machine.travel(done + timedelta(hours=2), tick=False):
        assert feedback_requests_queue() == 1
    with time_machine.travel(done + timedelta(hours=2, minutes=15), tick=False):
        assert feedback_requests_queue() == 0
    with time_machine.travel(done + timedelta(days=3), tick=False):
        assert feedback_requests_queue() == 0

    message = requests_of().get()
    assert message.appointment == visit and message.customer == customer
    assert FeedbackRequest.objects.get().appointment == visit


def test_the_delay_is_a_setting(customer, settings):
    settings.FEEDBACK_REQUEST_DELAY = timedelta(minutes=30)
    done = local_dt(-1, 11)
    completed_visit(customer, completed_at=done)
    with time_machine.travel(done + timedelta(minutes=31), tick=False):
        assert feedback_requests_queue() == 1


def test_no_request_for_a_visit_completed_more_than_a_week_ago(customer):
    done = local_dt(-1, 11)
    completed_visit(customer, completed_at=done)
    with time_machine.travel(done + timedelta(days=8), tick=False):
        assert feedback_requests_queue() == 0
    assert not requests_of().exists()


@pytest.mark.parametrize(
    "status",
    [AppointmentStatus.CANCELLED, AppointmentStatus.MISSED, AppointmentStatus.SCHEDULED, AppointmentStatus.ON_SITE],
)
def test_no_request_for_a_visit_that_was_not_completed(customer, status):
    visit = completed_visit(customer, completed_at=local_dt(-1, 11), status=status)
    # Even with a completion time on record (a visit corrected afterwards), only the status counts.
    type(visit).objects.filter(pk=visit.pk).update(completed_at=local_dt(-1, 11))
    with time_machine.travel(local_dt(-1, 15), tick=False):
        assert feedback_requests_queue() == 0
    assert not requests_of().exists() and not FeedbackRequest.objects.exists()


def test_no_request_for_a_customer_who_opted_out(customer):
    customer.feedback_requests = False
    customer.save()
    completed_visit(customer, completed_at=local_dt(-1, 11))
    with time_machine.travel(local_dt(-1, 15), tick=False):
        assert feedback_requests_queue() == 0
    assert not requests_of().exists()


def test_a_customer_without_email_is_noted_once_and_not_asked_again(customer):
    customer.email = ""
    customer.save()
    visit = completed_visit(customer, completed_at=local_dt(-1, 11))
    for minutes in (0, 15, 30):
        with time_machine.travel(local_dt(-1, 13, minutes), tick=False):
            feedback_requests_queue()
    assert not requests_of().exists()
    assert JournalEntry.objects.filter(appointment=visit, action="message.feedback_request.no_email").count() == 1


def test_a_request_is_not_sent_once_the_customer_opted_out_meanwhile(customer):
    completed_visit(customer, completed_at=local_dt(-1, 11))
    with time_machine.travel(local_dt(-1, 13, 5), tick=False):
        feedback_requests_queue()
        feedback_requests_opt_out(customer=customer)
        assert message_deliver(message_id=requests_of().get().pk) == MessageStatus.SUPERSEDED
    assert "feedback_opted_out" in requests_of().get().last_error


def test_a_request_is_not_sent_for_a_visit_no_longer_completed(customer):
    visit = completed_visit(customer, completed_at=local_dt(-1, 11))
    with time_machine.travel(local_dt(-1, 13, 5), tick=False):
        feedback_requests_queue()
        type(visit).objects.filter(pk=visit.pk).update(status=AppointmentStatus.MISSED)
        assert message_deliver(message_id=requests_of().get().pk) == MessageStatus.SUPERSEDED


@pytest.mark.parametrize("language", ["de", "nl", "en"])
def test_the_request_mail_carries_the_link_in_the_customers_language(customer, language, mailoutbox, settings):
    customer.preferred_language = language
    customer.save()
    completed_visit(customer, completed_at=local_dt(-1, 11))
    with time_machine.travel(local_dt(-1, 13, 5), tick=False):
        feedback_requests_queue()
        assert message_deliver(message_id=requests_of().get().pk) == MessageStatus.SENT
    token = feedback_request_token(FeedbackRequest.objects.get())
    mail = mailoutbox[0]
    assert f"{settings.SITE_URL}/feedback/{token}/" in mail.body
    assert f"{settings.SITE_URL}/feedback/{token}/" in mail.alternatives[0][0]
    expected = {"de": "Wie war unser Besuch", "nl": "Hoe was ons bezoek", "en": "How was our visit"}[language]
    assert expected in mail.subject


# Receiving --------------------------------------------------------------------------------------


def test_feedback_gets_an_owner_a_deadline_a_promise_and_a_journal_entry(customer, office):
    visit = completed_visit(customer, completed_at=local_dt(-1, 11))
    received = local_dt(-1, 14)
    with time_machine.travel(received, tick=False):
        feedback = feedback_receive(
            customer=customer,
            appointment=visit,
            channel=FeedbackChannel.PHONE,
            rating=2,
            comment="Late.",
            actor=office,
        )
    due = add_working_time(received, timedelta(hours=18))
    assert feedback.owner == office and feedback.reply_due_at == due and feedback.state == FeedbackState.OPEN
    promise = feedback.promise
    assert promise.kind == PromiseKind.REPLY_FEEDBACK and promise.owner == office and promise.due_at == due
    assert promise.state == PromiseState.OPEN and promise.appointment == visit
    entry = JournalEntry.objects.get(action="feedback.received")
    assert entry.channel == "phone" and entry.direction == "in" and entry.data["rating"] == 2
    assert promise.made_in == entry


def test_the_reply_deadline_the_customer_is_told_is_on_a_quarter_hour(customer, office):
    # The acknowledgement says "by Wednesday, 14:15", not "by Wednesday, 14:07" (as the request's reply does).
    # A Tuesday afternoon, inside office hours.
    received = timezone.make_aware(datetime(2026, 12, 1, 14, 7, 31))
    with time_machine.travel(received, tick=False):
        feedback = feedback_receive(customer=customer, channel=FeedbackChannel.PHONE, rating=4, actor=office)
    due = timezone.localtime(feedback.reply_due_at)
    assert (due.minute, due.second, due.microsecond) == (15, 0, 0)
    exact = add_working_time(received, timedelta(hours=18))
    assert exact < due <= exact + timedelta(minutes=15)
    assert feedback.promise.due_at == feedback.reply_due_at


def test_the_office_may_log_feedback_without_a_rating_but_not_empty(customer, office):
    feedback_receive(customer=customer, channel=FeedbackChannel.LETTER, comment="Very tidy work.", actor=office)
    with pytest.raises(FeedbackError):
        feedback_receive(customer=customer, channel=FeedbackChannel.LETTER, comment="  ", actor=office)
    assert Feedback.objects.count() == 1


@pytest.mark.parametrize("rating", [0, 6, "x", "", None, True, 4.5])
def test_a_link_feedback_needs_a_rating_from_1_to_5(customer, rating):
    with pytest.raises(FeedbackError) as error:
        feedback_receive(customer=customer, channel=FeedbackChannel.LINK, rating=rating, comment="ok")
    assert error.value.code == "rating"
    assert not Feedback.objects.exists() and not Promise.objects.exists() and not OutboxMessage.objects.exists()


def test_feedback_about_another_customers_visit_is_refused(customer):
    with pytest.raises(FeedbackError):
        feedback_receive(customer=customer, appointment=AppointmentFactory(), channel=FeedbackChannel.PHONE, rating=3)
    assert not Feedback.objects.exists()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        # After "Guten Tag …," the sentence goes on in lower case, as in every other mail.
        ("de", ["vielen Dank für Ihre Rückmeldung. Wir", "antwortet Ihnen spätestens"]),
        ("nl", ["hartelijk dank voor uw feedback. Wij", "uiterlijk"]),
        ("en", ["thank you for your feedback. We", "at the latest"]),
    ],
)
def test_the_acknowledgement_names_the_owner_and_when_they_will_answer(customer, office, mailoutbox, language, words):
    customer.preferred_language = language
    customer.save()
    received = local_dt(-1, 14)
    with time_machine.travel(received, tick=False):
        feedback = feedback_receive(customer=customer, channel=FeedbackChannel.EMAIL, rating=4, comment="Fine")
        ack = OutboxMessage.objects.get(kind=MessageKind.FEEDBACK_ACK)
        assert message_deliver(message_id=ack.pk) == MessageStatus.SENT
    mail = mailoutbox[0]
    text, html = mail.body, mail.alternatives[0][0]
    for body in (text, html):
        assert "Sandra Brinkmann" in body
        assert "+49 2821 123456" in body  # the owner's direct phone
        assert "s.brinkmann@firm.example" in body
        for word in words:
            assert word in body, (word, body)
    with translation.override(language):
        assert f"{format_day(feedback.reply_due_at)}, {format_time(feedback.reply_due_at)}" in text
    assert mail.reply_to == ["s.brinkmann@firm.example"]
    assert "Sandra Brinkmann" in mail.subject


# Replying ---------------------------------------------------------------------------------------


def test_the_reply_goes_out_escaped_and_keeps_the_promise(customer, office, mailoutbox):
    feedback = FeedbackFactory(customer=customer)
    text = "Dear Ms Schmitz,\n\nsorry – <b>we</b> will do better & call you.\n"
    feedback_reply(feedback=feedback, text=text, actor=office)

    feedback.refresh_from_db()
    assert feedback.state == FeedbackState.ANSWERED and feedback.replied_by == office
    promise = feedback.promise
    promise.refresh_from_db()
    entry = JournalEntry.objects.get(action="feedback.replied")
    assert promise.state == PromiseState.DONE and promise.kept_by == entry

    reply = OutboxMessage.objects.get(kind=MessageKind.FEEDBACK_REPLY)
    assert message_deliver(message_id=reply.pk) == MessageStatus.SENT
    mail = mailoutbox[-1]
    assert "sorry – <b>we</b> will do better & call you." in mail.body
    html = mail.alternatives[0][0]
    assert "&lt;b&gt;we&lt;/b&gt; will do better &amp; call you." in html and "<b>we</b>" not in html
    # The greeting's sentence goes on in lower case, as in every other mail.
    assert re.search(r",\n\n(nochmals vielen Dank|nogmaals dank|thank you again) ", mail.body), mail.body


def test_a_reply_cannot_be_sent_twice_nor_empty(customer, office):
    feedback = FeedbackFactory(customer=customer)
    with pytest.raises(FeedbackError):
        feedback_reply(feedback=feedback, text="   ", actor=office)
    feedback_reply(feedback=feedback, text="Thank you.", actor=office)
    with pytest.raises(FeedbackError):
        feedback_reply(feedback=feedback, text="Again.", actor=office)
    assert OutboxMessage.objects.filter(kind=MessageKind.FEEDBACK_REPLY).count() == 1


def test_a_reply_keeps_the_promise_after_it_was_moved(customer, office):
    feedback = FeedbackFactory(customer=customer)
    moved = promise_move(promise=feedback.promise, due_at=local_dt(3, 12), actor=office)
    # The feedback names the promise that stands (its admin page shows it), not the one moved away from.
    feedback.refresh_from_db()
    assert feedback.promise == moved
    feedback_reply(feedback=feedback, text="Thank you.", actor=office)
    moved.refresh_from_db()
    assert moved.state == PromiseState.DONE


def test_handing_the_feedbacks_promise_over_makes_the_colleague_its_owner_at_once(customer, office):
    # The link page (opened again) and the office's lists name the owner before anyone replies.
    feedback = FeedbackFactory(customer=customer)
    colleague = OfficeUserFactory(first_name="Jonas", last_name="Verbeek")
    promise_reassign(promise=feedback.promise, owner=colleague, actor=office)
    feedback.refresh_from_db()
    assert feedback.owner == colleague


def test_a_reply_names_whoever_owns_the_promise_now(customer, office, mailoutbox):
    feedback = FeedbackFactory(customer=customer)
    colleague = OfficeUserFactory(first_name="Jonas", last_name="Verbeek")
    promise_reassign(promise=feedback.promise, owner=colleague, actor=office)
    feedback_reply(feedback=feedback, text="Thank you.", actor=colleague)
    feedback.refresh_from_db()
    assert feedback.owner == colleague
    message_deliver(message_id=OutboxMessage.objects.get(kind=MessageKind.FEEDBACK_REPLY).pk)
    assert "Jonas Verbeek" in mailoutbox[-1].body and "Sandra Brinkmann" not in mailoutbox[-1].body


def test_unanswered_feedback_is_an_open_promise_that_the_escalation_sees(customer):
    feedback = FeedbackFactory(customer=customer)
    # The promise sweep (H3) reads open promises by due time; feedback needs nothing of its own.
    assert Promise.objects.filter(state=PromiseState.OPEN, due_at=feedback.reply_due_at).get() == feedback.promise


# The share answered in time -------------------------------------------------------------------


def test_the_share_counts_answered_in_time_of_those_decided_recent_and_all_time(customer, office):
    now = timezone.now()

    def feedback(received_days_ago, *, due_in_hours, replied_hours_after_receipt=None):
        received = now - timedelta(days=received_days_ago)
        due = received + timedelta(hours=due_in_hours)
        replied = received + timedelta(hours=replied_hours_after_receipt) if replied_hours_after_receipt else None
        return Feedback.objects.create(
            customer=customer,
            channel=FeedbackChannel.PHONE,
            rating=3,
            received_at=received,
            owner=office,
            reply_due_at=due,
            state=FeedbackState.ANSWERED if replied else FeedbackState.OPEN,
            replied_at=replied,
        )

    feedback(5, due_in_hours=18, replied_hours_after_receipt=2)  # recent, in time
    feedback(5, due_in_hours=18, replied_hours_after_receipt=40)  # recent, late
    feedback(5, due_in_hours=18)  # recent, overdue unanswered
    feedback(0, due_in_hours=18)  # recent, not yet due: not decided
    feedback(200, due_in_hours=18, replied_hours_after_receipt=1)  # old, in time
    feedback(200, due_in_hours=18, replied_hours_after_receipt=3)  # old, in time

    share = answered_in_time_share(now=now)

    assert share["recent"] == {"in_time": 1, "decided": 3, "percent": 33}
    assert share["all"] == {"in_time": 3, "decided": 5, "percent": 60}


def test_the_share_is_one_query_and_none_without_feedback(django_assert_num_queries):
    with django_assert_num_queries(1):
        share = answered_in_time_share()
    assert share["all"]["percent"] is None and share["recent"]["percent"] is None


def test_journal_entries_of_feedback_carry_what_a_renderer_needs(customer, office):
    feedback = feedback_receive(customer=customer, channel=FeedbackChannel.IN_PERSON, rating=5, actor=office)
    feedback_reply(feedback=feedback, text="Thanks!", actor=office)
    received = JournalEntry.objects.get(action="feedback.received")
    replied = JournalEntry.objects.get(action="feedback.replied")
    assert set(received.data) >= {"channel", "rating", "comment", "owner_id"}
    assert set(replied.data) >= {"feedback_id", "reply", "in_time", "due_at"}
    assert re.search(r"\d/5", received.summary)


@pytest.mark.parametrize(
    ("language", "words"), [("de", "Rückmeldung per"), ("nl", "Feedback via"), ("en", "Feedback by")]
)
def test_the_journal_sentences_render_in_the_readers_language(customer, office, language, words):
    feedback = feedback_receive(
        customer=customer, channel=FeedbackChannel.PHONE, rating=4, comment="Prima", actor=office
    )
    feedback_reply(feedback=feedback, text="Danke", actor=office)
    with translation.override(language):
        received = render_received(JournalEntry.objects.get(action="feedback.received"))
        replied = render_replied(JournalEntry.objects.get(action="feedback.replied"))
    assert words in received and "Sandra Brinkmann" in received and "4/5" in received and "Prima" in received
    assert replied


def test_beat_runs_the_request_sweep_every_quarter_hour(settings, customer):
    import desk.tasks
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["feedback-requests"]
    assert entry["schedule"] == 900.0 and entry["task"] in app.tasks
    completed_visit(customer, completed_at=timezone.now() - timedelta(hours=3))
    assert desk.tasks.queue_feedback_requests() == 1
