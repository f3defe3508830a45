"""Voiding is not answering: the office closes feedback without a reply only on purpose, with a reason; a
reply promise voided any other way leaves the feedback with a new promise, never silently awaiting."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from appointments.services import appointment_cancel
from desk.admin.feedback import answered_in_time_share
from desk.models import Feedback, FeedbackState, Promise, PromiseKind, PromiseState
from desk.services.feedback import FeedbackError, feedback_close, feedback_receive, feedback_reply
from desk.services.promises import promise_move, promise_void
from journal.models import JournalEntry
from notifications.models import MessageKind, OutboxMessage
from tests.factories import AppointmentFactory, CustomerFactory, FeedbackFactory, OfficeUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def feedback(office):
    return FeedbackFactory(customer=CustomerFactory(full_name="Anna Schmitz", responsible=office), owner=office)


def open_promises(feedback) -> list[Promise]:
    return list(Promise.objects.filter(customer=feedback.customer, state=PromiseState.OPEN))


@pytest.mark.parametrize("reason", ["", "   "])
def test_closing_without_reply_needs_a_reason_and_changes_nothing_without_one(feedback, office, reason):
    with pytest.raises(FeedbackError) as error:
        feedback_close(feedback=feedback, reason=reason, actor=office)
    assert error.value.code == "reason"
    feedback.refresh_from_db()
    assert feedback.state == FeedbackState.OPEN and open_promises(feedback) == [feedback.promise]


def test_closing_without_reply_voids_the_promise_and_journals_the_reason(feedback, office):
    feedback_close(feedback=feedback, reason="Kunde hat die Beschwerde zurückgezogen.", actor=office)

    feedback.refresh_from_db()
    assert feedback.state == FeedbackState.CLOSED and feedback.closed_by == office
    assert feedback.closed_reason == "Kunde hat die Beschwerde zurückgezogen." and feedback.replied_at is None
    assert Promise.objects.get(pk=feedback.promise_id).state == PromiseState.VOIDED
    # Closing on purpose is the one way that leaves no promise behind.
    assert open_promises(feedback) == []
    entry = JournalEntry.objects.get(action="feedback.closed")
    assert entry.actor == office and entry.data["reason"] == "Kunde hat die Beschwerde zurückgezogen."
    assert not OutboxMessage.objects.filter(kind=MessageKind.FEEDBACK_REPLY).exists()


def test_closed_feedback_can_be_neither_replied_to_nor_closed_again(feedback, office):
    feedback_close(feedback=feedback, reason="Doppelt erfasst.", actor=office)
    with pytest.raises(FeedbackError):
        feedback_reply(feedback=feedback, text="Danke!", actor=office)
    with pytest.raises(FeedbackError):
        feedback_close(feedback=feedback, reason="Noch einmal.", actor=office)


def test_closing_a_moved_reply_promise_voids_the_one_that_is_open(feedback, office):
    moved = promise_move(promise=feedback.promise, due_at=timezone.now() + timedelta(days=4))
    feedback_close(feedback=feedback, reason="Im Laden geklärt.", actor=office)
    assert Promise.objects.get(pk=moved.pk).state == PromiseState.VOIDED and open_promises(feedback) == []


def test_feedback_closed_before_its_deadline_is_neither_awaiting_nor_late(feedback, office):
    feedback_close(feedback=feedback, reason="Doppelt erfasst.", actor=office)
    with time_machine.travel(timezone.now() + timedelta(days=5)):
        assert answered_in_time_share()["all"] == {"in_time": 0, "decided": 0, "percent": None}
        assert Feedback.objects.get(pk=feedback.pk).answered_in_time is None


def test_feedback_closed_after_its_deadline_still_counts_as_late(feedback, office):
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        feedback_close(feedback=feedback, reason="Kunde nicht erreichbar.", actor=office)
    assert answered_in_time_share()["all"] == {"in_time": 0, "decided": 1, "percent": 0}
    assert Feedback.objects.get(pk=feedback.pk).answered_in_time is False
    assert JournalEntry.objects.get(action="feedback.closed").data["late"] is True


def test_a_reply_promise_voided_in_the_promise_list_gets_a_new_one_for_the_owner(feedback, office):
    promise_void(promise=feedback.promise, reason="Aufgeräumt.", actor=office, code="office")

    feedback.refresh_from_db()
    assert feedback.state == FeedbackState.OPEN
    (renewed,) = open_promises(feedback)
    assert renewed.kind == PromiseKind.REPLY_FEEDBACK and renewed.owner == office
    assert renewed.due_at == feedback.reply_due_at and renewed.replaces_id is not None
    assert feedback.promise == renewed and "Aufgeräumt." in renewed.note

    # The renewed promise is the reply's: answering keeps it.
    feedback_reply(feedback=feedback, text="Danke!", actor=office)
    renewed.refresh_from_db()
    assert renewed.state == PromiseState.DONE and open_promises(feedback) == []


def test_a_reply_promise_voided_because_its_visit_was_cancelled_is_renewed(office):
    customer = CustomerFactory(full_name="Anna Schmitz", responsible=office)
    visit = AppointmentFactory(customer=customer)
    feedback = feedback_receive(
        customer=customer, appointment=visit, channel="phone", comment="Termin zu spät bestätigt.", actor=office
    )

    appointment_cancel(appointment=visit, reason="Kunde verzieht.", actor=office)

    feedback.refresh_from_db()
    assert feedback.state == FeedbackState.OPEN
    assert [promise.pk for promise in open_promises(feedback)] == [feedback.promise_id]
    assert Promise.objects.get(pk=feedback.promise.replaces_id).state == PromiseState.VOIDED


def test_a_renewed_promise_for_an_owner_who_left_goes_to_whoever_owns_the_customer_now(feedback, office):
    colleague = OfficeUserFactory(first_name="Jan", last_name="de Vries")
    feedback.customer.responsible = colleague
    feedback.customer.save(update_fields=["responsible"])
    office.is_active = False
    office.save(update_fields=["is_active"])

    promise_void(promise=feedback.promise, reason="Mitarbeiterin ausgeschieden.", code="office")

    feedback.refresh_from_db()
    assert feedback.owner == colleague and feedback.promise.owner == colleague


# In the admin ------------------------------------------------------------------------------------


def test_the_office_closes_feedback_without_reply_from_its_page(client, feedback, office):
    client.force_login(office)
    change = reverse("admin:desk_feedback_change", args=[feedback.pk])
    assert 'name="close_reason"' in client.get(change).content.decode()

    response = client.post(change, {"reply": "", "close_reason": "Kunde hat im Laden alles geklärt."})

    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.state == FeedbackState.CLOSED and feedback.closed_by == office
    page = client.get(change).content.decode()
    assert "Kunde hat im Laden alles geklärt." in page and 'name="close_reason"' not in page
    listed = client.get(reverse("admin:desk_feedback_changelist") + "?answered=closed")
    assert list(listed.context["cl"].result_list) == [feedback]


def test_a_reply_and_a_reason_to_close_at_once_are_refused(client, feedback, office):
    client.force_login(office)
    change = reverse("admin:desk_feedback_change", args=[feedback.pk])
    response = client.post(change, {"reply": "Danke!", "close_reason": "Doppelt."})
    assert response.status_code == 200 and response.context["adminform"].form.errors
    feedback.refresh_from_db()
    assert feedback.state == FeedbackState.OPEN and not OutboxMessage.objects.exists()
