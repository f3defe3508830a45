"""The customer's feedback page: GET shows, POST stores once; bad input gets a clear message and changes nothing."""

import secrets

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from appointments.models import AppointmentStatus
from desk.models import Feedback, FeedbackRequest, Promise
from desk.services.feedback import feedback_request_token
from journal.models import JournalEntry
from notifications.models import MessageKind, OutboxMessage
from tests.factories import AppointmentFactory, CustomerFactory, FirmFactory, OfficeUserFactory, local_dt

pytestmark = pytest.mark.django_db


def _(message: str, language: str = "de") -> str:
    with translation.override(language):
        return gettext(message)


@pytest.fixture
def feedback_request():
    FirmFactory()
    office = OfficeUserFactory(first_name="Sandra", last_name="Brinkmann")
    customer = CustomerFactory(full_name="Anna Schmitz", responsible=office, preferred_language="de")
    visit = AppointmentFactory(
        customer=customer,
        window_start=local_dt(-1, 8),
        status=AppointmentStatus.COMPLETED,
        completed_at=local_dt(-1, 11),
    )
    return FeedbackRequest.objects.create(appointment=visit, customer=customer, secret=secrets.token_urlsafe(24))


def url(feedback_request) -> str:
    return reverse("feedback:open", args=[feedback_request_token(feedback_request)])


def nothing_stored():
    return (
        not Feedback.objects.exists()
        and not Promise.objects.exists()
        and not OutboxMessage.objects.exists()
        and not JournalEntry.objects.filter(action__startswith="feedback.").exists()
    )


def test_the_page_shows_the_form_in_the_customers_language_and_a_get_changes_nothing(client, feedback_request):
    response = client.get(url(feedback_request))
    assert response.status_code == 200
    page = response.content.decode()
    assert _("How would you rate our visit?") in page and _("5 stars – excellent") in page
    assert 'type="radio"' in page and "<fieldset" in page and "<legend" in page
    assert response["Referrer-Policy"] == "same-origin" and "no-store" in response["Cache-Control"]
    assert nothing_stored()
    feedback_request.customer.refresh_from_db()
    assert feedback_request.customer.feedback_requests


@pytest.mark.parametrize("token", ["nonsense", "1-", "-abc", "99999-abc", "1-" + "x" * 500, "٣-abc"])
def test_a_bad_token_shows_a_clear_page_and_changes_nothing(client, feedback_request, token):
    response = client.get(reverse("feedback:open", args=[token]))
    assert response.status_code == 404
    assert _("This link is not valid") in response.content.decode()
    assert client.post(reverse("feedback:open", args=[token]), {"rating": "4"}).status_code == 404
    assert nothing_stored()


def test_the_right_id_with_a_wrong_secret_is_refused(client, feedback_request):
    token = f"{feedback_request.pk}-{feedback_request.secret[:-1]}x"
    assert client.post(reverse("feedback:open", args=[token]), {"rating": "4"}).status_code == 404
    assert nothing_stored()


def test_many_bad_tokens_from_one_address_are_limited(client, feedback_request, settings):
    settings.RATELIMIT_BAD_LINKS = 3
    statuses = [client.get(reverse("feedback:open", args=[f"1-wrong{n}"])).status_code for n in range(5)]
    assert statuses[-1] == 429


@pytest.mark.parametrize("rating", ["0", "6", "x", "", "4.5", "-1"])
def test_a_rating_outside_1_to_5_is_refused_with_a_message(client, feedback_request, rating):
    response = client.post(url(feedback_request), {"rating": rating, "comment": "Gut"})
    assert response.status_code == 400
    assert _("Please choose a rating from 1 to 5 stars.") in response.content.decode()
    assert nothing_stored()


def test_a_missing_rating_is_refused_and_the_comment_kept_in_the_form(client, feedback_request):
    response = client.post(url(feedback_request), {"comment": "Pünktlich & freundlich"})
    assert response.status_code == 400
    assert "Pünktlich &amp; freundlich" in response.content.decode()
    assert nothing_stored()


def test_a_10000_character_comment_is_refused_with_a_message(client, feedback_request):
    response = client.post(url(feedback_request), {"rating": "4", "comment": "a" * 10_000})
    assert response.status_code == 400
    page = response.content.decode()
    assert "2000" in page and "10000" in page
    assert nothing_stored()


def test_a_comment_of_2000_characters_with_line_breaks_as_browsers_send_them_is_accepted(client, feedback_request):
    comment = ("a" * 99 + "\r\n") * 20  # 2000 characters as the textarea counts them, 2020 as sent
    response = client.post(url(feedback_request), {"rating": "3", "comment": comment})
    assert response.status_code == 200
    assert Feedback.objects.get().comment == comment.replace("\r\n", "\n").strip()


def test_feedback_is_stored_once_with_its_promise_and_acknowledgement(client, feedback_request):
    response = client.post(url(feedback_request), {"rating": "4", "comment": "<script>x</script> Sehr gut"})
    assert response.status_code == 200
    page = response.content.decode()
    assert _("Thank you for your feedback") in page and "Sandra Brinkmann" in page
    assert "&lt;script&gt;x&lt;/script&gt; Sehr gut" in page and "<script>x" not in page

    feedback = Feedback.objects.get()
    assert feedback.rating == 4 and feedback.channel == "link" and feedback.appointment == feedback_request.appointment
    feedback_request.refresh_from_db()
    assert feedback_request.feedback == feedback
    assert OutboxMessage.objects.filter(kind=MessageKind.FEEDBACK_ACK).count() == 1

    again = client.post(url(feedback_request), {"rating": "1", "comment": "changed my mind"})
    assert again.status_code == 409
    assert _("Thank you – we already have your feedback") in again.content.decode()
    assert Feedback.objects.get().rating == 4 and Promise.objects.count() == 1
    assert client.get(url(feedback_request)).status_code == 200


def test_the_form_can_say_dont_ask_me_again(client, feedback_request):
    client.post(url(feedback_request), {"rating": "5", "no_more_requests": "on"})
    feedback_request.customer.refresh_from_db()
    assert not feedback_request.customer.feedback_requests


def test_dont_ask_me_again_works_without_rating(client, feedback_request):
    response = client.post(url(feedback_request), {"action": "opt_out"})
    assert response.status_code == 200
    assert _("We won't ask again") in response.content.decode()
    feedback_request.customer.refresh_from_db()
    assert not feedback_request.customer.feedback_requests
    assert not Feedback.objects.exists()


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_page_speaks_the_customers_language(client, feedback_request, language):
    customer = feedback_request.customer
    customer.preferred_language = language
    customer.save()
    page = client.get(url(feedback_request)).content.decode()
    assert _("How would you rate our visit?", language) in page
    assert f'lang="{language}"' in page
