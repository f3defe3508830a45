"""The office's feedback pages: the list with the share answered in time, logging feedback, replying."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from desk.models import Feedback, FeedbackState, PromiseState
from journal.models import JournalEntry
from notifications.models import MessageKind, OutboxMessage
from tests.factories import CustomerFactory, FeedbackFactory, FirmFactory

pytestmark = pytest.mark.django_db

LIST = reverse("admin:desk_feedback_changelist")
ADD = reverse("admin:desk_feedback_add")


@pytest.fixture
def customer(office_user):
    FirmFactory()
    return CustomerFactory(full_name="Anna Schmitz", responsible=office_user)


def test_the_list_shows_stars_owner_and_the_share_answered_in_time(admin_client_office, customer, office_user):
    FeedbackFactory(customer=customer, rating=4, comment="Freundlich, aber spät")
    late = FeedbackFactory(customer=customer, rating=2, reply_due_at=timezone.now() - timedelta(hours=1))
    Feedback.objects.filter(pk=late.pk).update(received_at=timezone.now() - timedelta(days=2))

    response = admin_client_office.get(LIST)

    assert response.status_code == 200
    page = response.content.decode()
    assert "★★★★☆" in page and "4/5" in page and "Freundlich, aber spät" in page
    assert office_user.get_full_name() in page
    assert 'id="feedback-share"' in page and "0 % (0 of 1)" in page.replace("0 % (0 von 1)", "0 % (0 of 1)")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("answered=no", {"open", "overdue"}),
        ("answered=yes", {"answered"}),
        ("deadline=overdue", {"overdue"}),
        ("rating=2", {"overdue"}),
    ],
)
def test_the_list_filters(admin_client_office, customer, office_user, query, expected):
    named = {
        "open": FeedbackFactory(customer=customer, rating=5),
        "answered": FeedbackFactory(
            customer=customer, rating=4, state=FeedbackState.ANSWERED, replied_at=timezone.now(), reply_text="Danke"
        ),
        "overdue": FeedbackFactory(customer=customer, rating=2, reply_due_at=timezone.now() - timedelta(hours=2)),
    }
    response = admin_client_office.get(f"{LIST}?{query}")
    assert response.status_code == 200
    shown = {name for name, feedback in named.items() if feedback in response.context["cl"].result_list}
    assert shown == expected


def test_the_office_logs_feedback_from_a_call_without_a_rating(admin_client_office, customer, office_user):
    response = admin_client_office.post(
        ADD, {"customer": customer.pk, "channel": "phone", "rating": "", "comment": "Hat angerufen: sehr zufrieden."}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    feedback = Feedback.objects.get()
    assert feedback.channel == "phone" and feedback.rating is None and feedback.created_by == office_user
    assert feedback.promise.state == PromiseState.OPEN
    assert OutboxMessage.objects.filter(kind=MessageKind.FEEDBACK_ACK).count() == 1


def test_logging_empty_feedback_is_refused_with_a_message_and_nothing_stored(admin_client_office, customer):
    response = admin_client_office.post(
        ADD, {"customer": customer.pk, "channel": "letter", "rating": "", "comment": ""}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Feedback.objects.exists() and not JournalEntry.objects.filter(action="feedback.received").exists()


def test_the_office_cannot_log_a_link_feedback(admin_client_office, customer):
    response = admin_client_office.post(ADD, {"customer": customer.pk, "channel": "link", "rating": "3"})
    assert response.status_code == 200 and not Feedback.objects.exists()


def test_replying_from_the_change_page_sends_the_reply_and_keeps_the_promise(admin_client_office, customer):
    feedback = FeedbackFactory(customer=customer)
    change = reverse("admin:desk_feedback_change", args=[feedback.pk])
    page = admin_client_office.get(change)
    assert page.status_code == 200 and 'name="reply"' in page.content.decode()

    response = admin_client_office.post(change, {"reply": "Liebe Frau Schmitz,\n\nvielen Dank!"})

    assert response.status_code == 302
    feedback.refresh_from_db()
    feedback.promise.refresh_from_db()
    assert feedback.state == FeedbackState.ANSWERED and feedback.promise.state == PromiseState.DONE
    assert OutboxMessage.objects.filter(kind=MessageKind.FEEDBACK_REPLY).count() == 1
    after = admin_client_office.get(change).content.decode()
    assert 'name="reply"' not in after and "vielen Dank!" in after


def test_a_too_long_reply_is_refused_and_nothing_sent(admin_client_office, customer):
    feedback = FeedbackFactory(customer=customer)
    change = reverse("admin:desk_feedback_change", args=[feedback.pk])
    response = admin_client_office.post(change, {"reply": "x" * 10_001})
    assert response.status_code == 200
    feedback.refresh_from_db()
    assert feedback.state == FeedbackState.OPEN and not OutboxMessage.objects.exists()


def test_the_customer_admin_offers_the_opt_out(admin_client_office, customer):
    page = admin_client_office.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    assert 'name="feedback_requests"' in page


@pytest.mark.parametrize(("language", "plural"), [("de", "Rückmeldungen"), ("nl", "Feedback"), ("en", "Feedback")])
def test_the_admin_sidebar_names_the_feedback_list_in_the_plural(admin_client_office, customer, language, plural):
    with translation.override(language):
        page = admin_client_office.get(LIST, headers={"accept-language": language}).content.decode()
    assert f'<a href="{LIST}"' in page
    assert re.search(rf'<a href="{re.escape(LIST)}"[^>]*>\s*{plural}\s*</a>', page), page[:200]


def test_the_change_page_names_people_by_name_not_by_login(admin_client_office, customer, office_user):
    office_user.first_name, office_user.last_name = "Sandra", "Brinkmann"
    office_user.save(update_fields=["first_name", "last_name"])
    feedback = FeedbackFactory(customer=customer, owner=office_user)
    page = admin_client_office.get(reverse("admin:desk_feedback_change", args=[feedback.pk])).content.decode()
    assert "Sandra Brinkmann" in page and f">{office_user.get_username()}</a>" not in page
