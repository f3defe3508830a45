"""The public request page, its thank-you page and the customer's page to move the call."""

import html
import re
import time
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.csp import build_policy

from customers.models import Customer
from desk.forms_requests import shown_at_stamp
from desk.models import Promise, PromiseState, WebRequest
from desk.services import promise_report_no_answer, request_submit
from journal.models import JournalEntry
from notifications.models import OutboxMessage
from tests.factories import request_fields, request_fields_on_file

URL = "/request/"
MONDAY = date(2026, 11, 30)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


def form(**changes):
    return {
        **request_fields(),
        "language": "nl",
        "website": "",
        # Shown ten seconds ago: a person's pace.
        "shown_at": shown_at_stamp(time.time() - 10),
        **changes,
    }


def assert_nothing_stored():
    assert not Customer.objects.exists()
    assert not WebRequest.objects.exists()
    assert not Promise.objects.exists()
    assert not OutboxMessage.objects.exists()
    assert not JournalEntry.objects.exists()


def test_the_page_shows_the_form_in_the_language_asked_for(client, office):
    response = client.get(URL + "?lang=de")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="de">' in body and "Ihre Anfrage" in body
    # The reply's language defaults to the page's.
    assert response.context["form"].initial["language"] == "de"
    assert "<script" not in body


def test_a_request_is_stored_and_the_browser_is_sent_to_the_thank_you_page(client, office):
    response = client.post(URL + "?lang=en", form())
    assert response.status_code == 302
    thanks = client.get(response.url)
    web_request = WebRequest.objects.get()
    assert thanks.status_code == 200
    body = thanks.content.decode()
    # In the customer's chosen language (nl), naming the owner and the time.
    assert "Sandra Brinkmann" in body and timezone.localtime(web_request.promise.due_at).strftime("%H:%M") in body
    assert "eva@example.nl" in body


def test_without_email_the_thank_you_page_says_who_calls_when(client, office):
    response = client.post(URL, form(email="", language="en"))
    body = client.get(response.url).content.decode()
    assert "Sandra Brinkmann will call you on" in body
    assert "You gave us no email address" in body
    assert not OutboxMessage.objects.exists()


def test_a_forged_thank_you_link_is_not_found(client, office):
    assert client.get(reverse("requests:thanks", args=["1:forged"])).status_code == 404


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "", "phone": ""}, "Please give an email address or a phone number"),
        ({"phone": "0151 2345678901234"}, "This is not a valid phone number in Netherlands"),
        ({"about": "x" * 10_000}, "Please shorten your message to at most 2000 characters (it has 10000)"),
        ({"full_name": ""}, "This field is required"),
        ({"email": "not-an-email"}, "Enter a valid email address"),
    ],
)
def test_bad_input_gets_a_clear_message_and_stores_nothing(client, office, changes, message):
    response = client.post(URL + "?lang=en", form(language="en", **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert_nothing_stored()


def test_a_dutch_mobile_is_valid_in_the_netherlands_but_not_in_germany(client, office):
    response = client.post(URL + "?lang=en", form(phone="06 49123456", country="DE"))
    assert response.status_code == 400 and "not a valid phone number in Germany" in response.content.decode()
    assert_nothing_stored()
    response = client.post(URL + "?lang=en", form(phone="06 49123456", country="NL"))
    assert response.status_code == 302
    assert WebRequest.objects.get().phone.as_e164 == "+31649123456"


def test_the_message_is_refused_in_german_too(client, office):
    response = client.post(URL + "?lang=de", form(about="x" * 10_000))
    assert "Bitte kürzen Sie Ihre Nachricht" in response.content.decode()


def test_html_in_the_text_is_stored_as_text_and_shown_escaped(client, office, admin_client_office):
    about = '<script>alert("x")</script><b>Heizung</b>'
    client.post(URL, form(about=about))
    web_request = WebRequest.objects.get()
    assert web_request.about == about
    page = admin_client_office.get(reverse("admin:desk_webrequest_change", args=[web_request.pk])).content.decode()
    assert "&lt;script&gt;" in page and '<script>alert("x")' not in page
    listing = admin_client_office.get(reverse("admin:desk_webrequest_changelist")).content.decode()
    assert '<script>alert("x")' not in listing


def test_a_filled_honeypot_is_refused_politely_and_nothing_is_stored(client, office):
    response = client.post(URL + "?lang=en", form(website="http://spam.example"))
    assert response.status_code == 400
    assert "Your request was not sent" in response.content.decode()
    assert_nothing_stored()


def test_the_honeypot_is_hidden_from_people_and_screen_readers(client, office):
    body = client.get(URL).content.decode()
    assert re.search(r'class="hp-field"\s+aria-hidden="true"', body)
    assert 'name="website"' in body and 'tabindex="-1"' in body


@pytest.mark.parametrize("stamp", ["now", "forged", "missing"])
def test_a_form_sent_too_fast_or_without_a_genuine_stamp_is_refused_and_nothing_stored(client, office, stamp):
    shown_at = {"now": shown_at_stamp(), "forged": "1700000000:abc", "missing": ""}[stamp]
    response = client.post(URL + "?lang=en", form(shown_at=shown_at))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Please check your details and send it again" in body
    # What was typed stays, with a fresh stamp, so the person only sends again.
    assert "Our boiler makes a noise." in body
    assert_nothing_stored()


def test_too_many_requests_from_one_address_are_refused_and_not_stored(client, office, settings):
    settings.RATELIMIT_REQUEST_POSTS = 2
    for _ in range(2):
        client.post(URL, form(email="", phone="", language="en"))  # refused as incomplete, but counted
    response = client.post(URL + "?lang=en", form(language="en"))
    assert response.status_code == 429
    assert "too many requests came from your connection" in response.content.decode()
    assert_nothing_stored()


# Framing -----------------------------------------------------------------------------------


def test_without_configured_origins_the_page_may_not_be_framed(client, office, settings):
    settings.REQUEST_FRAME_ORIGINS = []
    response = client.get(URL)
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_configured_origins_may_frame_the_page_and_its_thank_you_page(client, office, settings):
    settings.REQUEST_FRAME_ORIGINS = ["https://www.firm.example", "https://firm.example"]
    # The whole policy, only its frame-ancestors widened.
    expected = build_policy(
        {**settings.SECURE_CSP, "frame-ancestors": ["'self'", "https://www.firm.example", "https://firm.example"]}
    )
    response = client.get(URL)
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["Content-Security-Policy"] == expected
    assert "X-Frame-Options" not in response
    posted = client.post(URL, form())
    assert posted["Content-Security-Policy"] == expected
    thanks = client.get(posted.url)
    assert thanks["Content-Security-Policy"] == expected and "X-Frame-Options" not in thanks


def test_other_pages_stay_unframable_when_origins_are_configured(client, office, settings):
    settings.REQUEST_FRAME_ORIGINS = ["https://www.firm.example"]
    response = client.get("/booking/")
    assert response["X-Frame-Options"] == "DENY"


def test_the_form_works_without_cookies_as_in_a_cross_site_iframe(office, settings):
    from django.test import Client

    settings.REQUEST_FRAME_ORIGINS = ["https://www.firm.example"]
    browser = Client(enforce_csrf_checks=True)
    browser.get(URL)
    browser.cookies.clear()
    response = browser.post(URL, form())
    assert response.status_code == 302 and WebRequest.objects.exists()


# The page to move the call ------------------------------------------------------------------


@pytest.fixture
def web_request(office):
    return request_submit(
        fields=request_fields(phone="", about="Boiler"),
        language="en",
        now=at(MONDAY, 10),
    )


def call_url(web_request, secret=None):
    return reverse("requests:call", args=[web_request.pk, secret or web_request.link_secret])


@time_machine.travel(at(MONDAY, 10, 5), tick=False)
def test_the_call_page_shows_the_time_and_a_get_changes_nothing(client, web_request):
    response = client.get(call_url(web_request))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Sandra Brinkmann will call you on" in body and "10:00" in body
    assert 'name="slot"' in body and "Answer me by email instead" in body
    assert Promise.objects.get().state == PromiseState.OPEN
    assert list(JournalEntry.objects.filter(action__startswith="request.").values_list("action", flat=True)) == [
        "request.received"
    ]


@time_machine.travel(at(MONDAY, 10, 5), tick=False)
def test_a_wrong_secret_or_unknown_request_shows_that_the_link_does_not_work(client, web_request):
    assert client.get(call_url(web_request, "x" * 43)).status_code == 404
    assert client.get(reverse("requests:call", args=[web_request.pk + 1, web_request.link_secret])).status_code == 404
    assert client.get(f"/request/call/{10**30}/{web_request.link_secret}/").status_code == 404
    response = client.post(call_url(web_request, "wrong"), {"slot": at(date(2026, 12, 2), 14).isoformat()})
    assert response.status_code == 404
    assert Promise.objects.get().due_at == web_request.promise.due_at


def test_the_link_no_longer_changes_a_call_whose_time_has_passed(client, web_request):
    with time_machine.travel(at(date(2026, 12, 2), 9), tick=False):
        response = client.get(call_url(web_request))
        assert "can no longer be changed online" in response.content.decode()
        response = client.post(call_url(web_request), {"slot": at(date(2026, 12, 3), 10).isoformat()})
    assert response.status_code == 400
    assert Promise.objects.get().state == PromiseState.OPEN


@time_machine.travel(at(MONDAY, 10, 5), tick=False)
def test_moving_the_call_on_the_page(client, web_request):
    new_time = at(date(2026, 12, 2), 14)
    response = client.post(call_url(web_request), {"action": "move", "slot": new_time.isoformat()})
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "the call has been moved" in page and "14:00" in page
    assert Promise.objects.get(state=PromiseState.OPEN).due_at == new_time


@time_machine.travel(at(MONDAY, 10, 5), tick=False)
@pytest.mark.parametrize("slot", ["2026-12-01T19:00:00+01:00", "2026-12-05T10:00:00+01:00", "tomorrow", ""])
def test_a_time_outside_office_hours_is_refused_on_the_page(client, web_request, slot):
    response = client.post(call_url(web_request), {"action": "move", "slot": slot})
    assert response.status_code == 400
    assert "alert-danger" in response.content.decode()
    assert Promise.objects.get().state == PromiseState.OPEN


@time_machine.travel(at(MONDAY, 10, 5), tick=False)
def test_asking_for_email_instead_on_the_page(client, web_request):
    response = client.post(call_url(web_request), {"action": "email"})
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "we will answer you by email instead" in page
    assert Promise.objects.get(state=PromiseState.OPEN).kind == "send_information"
    # No call any more: the page is about the request, not "Your call".
    assert '<h1 class="h3">Your request</h1>' in page and "Your call" not in page


def test_the_call_page_is_never_framed(client, web_request, settings):
    settings.REQUEST_FRAME_ORIGINS = ["https://www.firm.example"]
    assert client.get(call_url(web_request))["X-Frame-Options"] == "DENY"


# The office's list --------------------------------------------------------------------------


def test_the_office_filters_possible_duplicates_and_follows_the_links(admin_client_office, office):
    from tests.factories import CustomerFactory

    existing = CustomerFactory(full_name="Piet de Vries", email="eva@example.nl")
    duplicate = request_submit(
        fields={**_service_fields(), "email": "eva@example.nl"}, language="nl", now=at(MONDAY, 10)
    )
    plain = request_submit(
        fields={**_service_fields(), "email": "jan@example.nl", "full_name": "Jan Smit"},
        language="nl",
        now=at(MONDAY, 10),
    )
    url = reverse("admin:desk_webrequest_changelist")

    everything = admin_client_office.get(url).content.decode()
    flagged = admin_client_office.get(url + "?duplicate=yes").content.decode()

    assert "Jan Smit" in everything and "Eva Janssen" in everything
    assert "Jan Smit" not in flagged and "Eva Janssen" in flagged
    assert reverse("admin:customers_customer_change", args=[existing.pk]) in flagged
    assert reverse("admin:customers_customer_change", args=[duplicate.customer.pk]) in flagged
    assert plain.customer.full_name == "Jan Smit"


def _service_fields():
    return request_fields(email="", phone="", about="Boiler")


@time_machine.travel(at(MONDAY, 10, 5), tick=False)
def test_the_call_page_speaks_the_language_chosen_on_the_form_not_the_one_on_file(client, office):
    request_fields_on_file(preferred_language="de", responsible=office, phone="")
    web_request = request_submit(
        fields=request_fields(phone="", about="Boiler"),
        language="en",
        now=at(MONDAY, 10),
    )
    body = client.get(call_url(web_request)).content.decode()
    assert '<html lang="en"' in body and "will call you on" in body


@time_machine.travel(at(MONDAY, 10, 5), tick=False)
def test_when_the_office_moves_the_call_the_customers_link_shows_the_new_time_and_still_works(client, web_request):
    # "No answer yet": the office moves the promise; the customer's page must not name the old time.
    promise_report_no_answer(
        promise=web_request.promise,
        waiting_for="the manufacturer",
        next_contact_at=at(date(2026, 12, 3), 11),
        actor=web_request.promise.owner,
    )
    web_request.refresh_from_db()
    assert web_request.promise.state == PromiseState.OPEN and web_request.promise.due_at == at(date(2026, 12, 3), 11)
    body = client.get(call_url(web_request)).content.decode()
    assert "Thu, Dec. 3, 2026" in body and "11:00" in body and "can no longer be changed" not in body

    new_time = at(date(2026, 12, 4), 9)
    response = client.post(call_url(web_request), {"action": "move", "slot": new_time.isoformat()})
    assert response.status_code == 302
    assert Promise.objects.get(state=PromiseState.OPEN).due_at == new_time


@time_machine.travel(at(MONDAY, 10, 5), tick=False)
def test_asking_for_email_twice_by_a_double_click_shows_the_success_not_an_error(client, web_request):
    first = client.post(call_url(web_request), {"action": "email"})
    second = client.post(call_url(web_request), {"action": "email"})
    assert first.status_code == second.status_code == 302
    assert "we will answer you by email instead" in client.get(second.url).content.decode()
    assert Promise.objects.filter(state=PromiseState.OPEN).count() == 1
    assert JournalEntry.objects.filter(action="request.email_instead").count() == 1


@time_machine.travel(at(date(2026, 12, 4), 15), tick=False)
def test_the_thank_you_page_names_the_preferred_morning_inside_the_promise(client, office):
    # Friday 15:00, one working day: the promise ends Monday 15:00, so Monday morning, not Tuesday's.
    response = client.post(URL + "?lang=de", form(reachable="mornings", language="de"))
    body = client.get(response.url).content.decode()
    assert "Sandra Brinkmann ruft Sie am Mo, 7. Dezember 2026 um 08:00 an." in body
    assert "lieber vormittags" not in body


@time_machine.travel(at(MONDAY, 13), tick=False)
@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("de", "Sie möchten lieber vormittags angerufen werden. Der nächste Vormittag wäre später, als wir"),
        ("nl", "U wordt liever 's ochtends gebeld. De eerstvolgende ochtend valt later dan we u"),
        ("en", "You would rather be called in the morning. The next morning would be later than we promised"),
    ],
)
def test_the_thank_you_page_says_the_promise_came_first(client, office, settings, language, said):
    settings.REQUEST_CALLBACK_WITHIN = timedelta(hours=3)
    response = client.post(URL + f"?lang={language}", form(reachable="mornings", language=language))
    body = html.unescape(client.get(response.url).content.decode())
    assert "16:00" in body and said in body


@pytest.mark.parametrize(
    ("outside_reach", "said"),
    [
        ("mornings", "Sie möchten lieber vormittags angerufen werden."),
        ("afternoons", "Sie möchten lieber nachmittags angerufen werden."),
        ("", None),
    ],
)
def test_the_reply_mail_says_when_the_promise_came_before_the_preferred_time(outside_reach, said):
    context = {"owner": {"name": "Sandra Brinkmann"}, "call_day": "Mo", "call_time": "16:00"}
    with translation.override("de"):
        bodies = [
            render_to_string(f"emails/request_reply/{name}", {**context, "outside_reach": outside_reach})
            for name in ("body.txt", "body.html")
        ]
    for body in bodies:
        if said:
            assert said in html.unescape(body)
        else:
            assert "lieber" not in body


@time_machine.travel(at(MONDAY, 13), tick=False)
def test_the_call_page_says_the_promise_came_first_until_the_call_is_moved(client, office, settings):
    settings.REQUEST_CALLBACK_WITHIN = timedelta(hours=3)
    web_request = request_submit(
        fields={
            **{k: v for k, v in form().items() if k not in ("language", "website", "shown_at")},
            "reachable": "mornings",
        },
        language="en",
        now=timezone.now(),
    )
    url = reverse("requests:call", args=[web_request.pk, web_request.link_secret])
    assert "You would rather be called in the morning." in html.unescape(client.get(url).content.decode())

    client.post(url, {"action": "move", "slot": at(date(2026, 12, 1), 9).isoformat()})
    assert "You would rather be called" not in html.unescape(client.get(url).content.decode())
