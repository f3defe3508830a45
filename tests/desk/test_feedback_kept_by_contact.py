"""Feedback answered by a call: keeping its reply promise with a logged contact answers the feedback, as
replying by email does, so it no longer waits for a reply nor counts as answered late."""

from datetime import timedelta

import pytest
from django.utils import timezone

from desk.admin.feedback import answered_in_time_share
from desk.models import Feedback, FeedbackState, Promise
from desk.services.feedback import feedback_reply
from desk.services.promises import promise_keep, promise_move
from journal.services import contact_record
from tests.factories import CustomerFactory, FeedbackFactory, FirmFactory, OfficeUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def feedback(db):
    FirmFactory()
    office = OfficeUserFactory(first_name="Sandra", last_name="Brinkmann")
    return FeedbackFactory(customer=CustomerFactory(full_name="Anna Schmitz", responsible=office), owner=office)


def call(feedback, keeps=None):
    # As the log-a-contact form does: the desk's fields arrive as extension data (desk.forms_contact).
    return contact_record(
        customer=feedback.customer,
        contact="phone_out",
        note="Angerufen, Beschwerde geklärt.",
        actor=feedback.owner,
        extension_data={"keeps_promise": keeps} if keeps else None,
    )


def test_a_call_logged_as_keeping_the_feedbacks_promise_answers_the_feedback(feedback):
    entry = call(feedback, keeps=feedback.promise)

    feedback.refresh_from_db()
    assert feedback.state == FeedbackState.ANSWERED
    assert feedback.replied_at is not None and feedback.replied_by == feedback.owner
    assert feedback.answered_in_time is True
    assert Promise.objects.get(pk=feedback.promise_id).kept_by == entry
    assert answered_in_time_share()["all"] == {"in_time": 1, "decided": 1, "percent": 100}


def test_a_moved_feedback_promise_kept_by_a_call_answers_the_feedback(feedback):
    moved = promise_move(promise=feedback.promise, due_at=timezone.now() + timedelta(days=5))

    promise_keep(promise=moved, entry=call(feedback))

    assert Feedback.objects.get(pk=feedback.pk).state == FeedbackState.ANSWERED


def test_replying_by_email_still_answers_once(feedback):
    feedback_reply(feedback=feedback, text="Danke für Ihre Rückmeldung.", actor=feedback.owner)

    feedback.refresh_from_db()
    assert feedback.state == FeedbackState.ANSWERED and feedback.reply_text == "Danke für Ihre Rückmeldung."
