"""Through Chromium at 375 px: the customer opens the link from the feedback request mail, rates 4, comments, sends.

The link comes out of the mail the app sent (locmem mailer, Celery eager, on-commit callbacks run because
the database is transactional). Screenshots of the form and the thank-you page land in the test's tmp_path.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from appointments.models import AppointmentStatus
from desk.models import Feedback, FeedbackChannel, FeedbackState
from desk.services.feedback import feedback_receive, feedback_requests_queue
from notifications.models import MessageKind, OutboxMessage
from tests.accounts.signin import office_sign_in
from tests.conftest import inject_axe
from tests.factories import AppointmentFactory, CustomerFactory, FirmFactory, OfficeUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_WIDTH = 375
LANGUAGE = "de"


def _(message: str) -> str:
    with translation.override(LANGUAGE):
        return gettext(message)


def format_violations(violations) -> str:
    return "\n".join(f"{v['id']}: {[node['target'] for node in v['nodes']]}" for v in violations)


def test_customer_rates_a_visit_from_the_mail_link_on_a_phone(
    live_server, page, settings, mailoutbox, tmp_path, axe_script
):
    settings.SITE_URL = live_server.url
    FirmFactory()
    office = OfficeUserFactory(first_name="Sandra", last_name="Brinkmann")
    customer = CustomerFactory(
        full_name="Anna Schmitz", responsible=office, preferred_language=LANGUAGE, email="anna@example.com"
    )
    done = timezone.now() - timedelta(hours=3)
    AppointmentFactory(
        customer=customer,
        window_start=done - timedelta(hours=2),
        status=AppointmentStatus.COMPLETED,
        completed_at=done,
    )

    assert feedback_requests_queue() == 1
    [mail] = mailoutbox
    links = re.findall(re.escape(live_server.url) + r"/feedback/\S+/", mail.body)
    assert len(set(links)) == 1, mail.body

    page.set_viewport_size({"width": PHONE_WIDTH, "height": 900})
    response = page.goto(links[0])
    assert response.ok
    # The stars are one group of labelled radios, named by its legend.
    rating = page.get_by_role("group", name=_("How would you rate our visit?"))
    assert rating.get_by_role("radio").count() == 5
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    inject_axe(page, axe_script)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    assert not result["violations"], format_violations(result["violations"])

    page.get_by_label(_("4 stars – very good")).check()
    page.get_by_label(_("What was good, and what could we do better? (optional)")).fill(
        "Pünktlich und sauber – nur die Rechnung kam spät."
    )
    page.screenshot(path=str(tmp_path / "feedback-form-375.png"), full_page=True)
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.get_by_role("button", name=_("Send feedback")).click()
    assert posted.value.status == 200
    page.wait_for_load_state()

    assert page.get_by_role("heading", name=_("Thank you for your feedback")).is_visible()
    assert "Sandra Brinkmann" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    page.screenshot(path=str(tmp_path / "feedback-thanks-375.png"), full_page=True)

    feedback = Feedback.objects.get()
    assert feedback.rating == 4 and feedback.comment == "Pünktlich und sauber – nur die Rechnung kam spät."
    assert feedback.owner == office
    # The acknowledgement went out at once (eager worker), naming the owner.
    assert OutboxMessage.objects.filter(kind=MessageKind.FEEDBACK_ACK).exists()
    assert any("Sandra Brinkmann" in sent.body and sent.subject != mail.subject for sent in mailoutbox)


def test_office_sees_the_share_and_replies_at_1280(live_server, page, tmp_path):
    FirmFactory()
    office = OfficeUserFactory(username="office-feedback", first_name="Sandra", last_name="Brinkmann")
    customer = CustomerFactory(full_name="Anna Schmitz", responsible=office, email="anna@example.com")
    feedback = feedback_receive(
        customer=customer, channel=FeedbackChannel.PHONE, rating=2, comment="Der Techniker kam zwei Stunden zu spät."
    )

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/")
    office_sign_in(page, username="office-feedback", password="secret-password")
    page.goto(f"{live_server.url}/admin/desk/feedback/")
    assert page.locator("#feedback-share").is_visible()
    assert "★★☆☆☆" in page.locator("#result_list").inner_text()
    page.screenshot(path=str(tmp_path / "feedback-list-1280.png"), full_page=True)

    page.click("#result_list tbody a")
    page.fill("#id_reply", "Liebe Frau Schmitz,\n\ndas tut uns leid. Wir melden uns.")
    page.screenshot(path=str(tmp_path / "feedback-reply-1280.png"), full_page=True)
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/desk/feedback/")

    feedback.refresh_from_db()
    assert feedback.state == FeedbackState.ANSWERED
    assert feedback.reply_text == "Liebe Frau Schmitz,\n\ndas tut uns leid. Wir melden uns."
