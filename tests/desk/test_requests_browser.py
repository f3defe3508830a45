"""Through Chromium on a phone: a request from the public page, the thank-you page, and moving the call."""

import os
import re

import pytest

from desk.models import PromiseState, WebRequest
from tests.conftest import inject_axe
from tests.factories import FirmFactory, OfficeUserFactory, request_fields
from tests.selfservice.test_quality import format_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_WIDTH = 375
# Set to a directory to keep screenshots of the pages (for a look by eye; nothing compares them).
SCREENSHOTS = os.environ.get("REQUEST_SCREENSHOTS", "")


def check_page(page, axe_script, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/request-{name}.png", full_page=True)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE_WIDTH, f"{name} is {scroll_width}px wide on a {PHONE_WIDTH}px phone"
    inject_axe(page, axe_script)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    assert not result["violations"], format_violations(result["violations"])


def test_a_customer_sends_a_request_from_a_phone_and_moves_the_call(
    live_server, page, settings, mailoutbox, axe_script
):
    settings.SITE_URL = live_server.url
    # The browser fills the form in far less than a person would; the fill time is tested elsewhere.
    settings.REQUEST_MIN_FILL_SECONDS = 0
    FirmFactory(name="Haustechnik Verhaag")
    OfficeUserFactory(first_name="Sandra", last_name="Brinkmann")
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})

    page.goto(f"{live_server.url}/request/?lang=en")
    page.get_by_label("Your name").fill("Eva Janssen")
    page.get_by_label("Email").fill("eva@example.nl")
    page.get_by_label("Phone").fill("06 49123456")
    page.get_by_label("Street and number").fill("Hoogstraat 5")
    page.get_by_label("Postcode").fill("6511 AB")
    page.get_by_label("City").fill("Nijmegen")
    page.get_by_label("Country").select_option("NL")
    page.get_by_label("What is it about?").fill("Our boiler makes a noise when it starts.")
    page.get_by_label("mornings").check()
    page.get_by_label("Language for our reply").select_option("en")
    check_page(page, axe_script, "form")
    # The honeypot is there for programs, not for people: nobody sees it.
    assert not page.get_by_label("Leave this field empty").is_visible() or page.evaluate(
        "document.querySelector('.hp-field').getBoundingClientRect().right <= 0"
    )
    page.get_by_role("button", name="Send request").click()

    page.wait_for_url(re.compile(r"/request/thanks/"))
    web_request = WebRequest.objects.get()
    assert page.get_by_text("Sandra Brinkmann will call you on").is_visible()
    check_page(page, axe_script, "thanks")

    # The link in the reply mail opens the page to move the call.
    link = re.search(re.escape(live_server.url) + r"/request/call/\S+/", mailoutbox[0].body).group(0)
    page.goto(link)
    check_page(page, axe_script, "call")
    old_due = web_request.promise.due_at
    # A time that is not the current one: the fourth offered may be it (a morning call at 08:00 the next day).
    page.locator(".window-option").filter(has_not=page.locator("input:checked")).nth(3).click()
    page.get_by_role("button", name="Move the call").click()
    page.wait_for_url(re.compile(r"done=moved"))
    assert page.get_by_text("the call has been moved").is_visible()
    check_page(page, axe_script, "moved")
    web_request.refresh_from_db()
    assert web_request.promise.due_at != old_due and web_request.promise.state == PromiseState.OPEN
    assert web_request.promise.replaces.state == PromiseState.MOVED


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["request_reply", "email_instead"])
def test_a_long_word_in_the_question_does_not_widen_the_mail_on_a_phone(page, settings, kind):
    from django.utils import timezone

    from desk.services import request_email_instead, request_submit
    from notifications.models import MessageKind, OutboxMessage
    from notifications.rendering import render_message

    settings.SITE_URL = "https://doorstep.example"
    FirmFactory(name="Haustechnik Verhaag")
    OfficeUserFactory(first_name="Sandra", last_name="Brinkmann")
    fields = request_fields(
        phone="", about="Die Donaudampfschifffahrtsgesellschaftskapitänsmützenherstellungsbetriebsanleitung fehlt."
    )
    web_request = request_submit(fields=fields, language="de", now=timezone.now())
    if kind == "email_instead":
        request_email_instead(web_request=web_request, now=timezone.now())
    message = OutboxMessage.objects.filter(
        kind=MessageKind.CALL_TIME_CHANGED if kind == "email_instead" else MessageKind.REQUEST_REPLY
    ).get()
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    page.set_content(render_message(message).alternatives[0][0])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
