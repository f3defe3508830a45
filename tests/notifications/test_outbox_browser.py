"""The outbox at an office screen's width: a bounce and a staff mail read at a glance, nothing scrolls sideways."""

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import BounceKind, MessageKind, MessageStatus, OutboxMessage
from tests.config.office_scene import office_scene
from tests.config.test_admin_browser import OFFICE_WIDTH, office_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["de", "nl"])
def test_a_bounced_mail_and_a_staff_mail_fit_the_outbox_and_the_bounce_heads_its_page(browser, live_server, language):
    scene = office_scene()
    now = timezone.now()
    bounced = OutboxMessage.objects.create(
        kind=MessageKind.RESCHEDULE_REQUEST,
        status=MessageStatus.SENT,
        sent_at=now,
        dedupe_key="browser:bounced",
        customer=scene.dutch_customer,
        appointment=scene.appointment,
        appointment_version=1,
        to_email=scene.dutch_customer.email,
        language="nl",
        subject="Kies een nieuwe tijd",
        bounced_at=now,
        bounce_kind=BounceKind.BOUNCE,
        bounce_detail="Mailgun – 550 5.1.1 The email account that you tried to reach does not exist",
    )
    OutboxMessage.objects.create(
        kind=MessageKind.PROMISE_ESCALATED,
        status=MessageStatus.SENT,
        sent_at=now,
        dedupe_key="browser:staff",
        customer=scene.customer,
        recipient_user=scene.office,
        to_email="s.brinkmann@firm.example",
        language="de",
    )
    tab = office_page(browser, live_server, language)

    tab.goto(f"{live_server.url}{reverse('admin:notifications_outboxmessage_changelist')}")
    widths = tab.evaluate(
        """() => {
            const box = document.querySelector('#changelist .results');
            return {page: document.documentElement.scrollWidth, table: box.scrollWidth, box: box.clientWidth};
        }"""
    )
    tab.screenshot(path=f"/tmp/h4-outbox-{language}.png", full_page=True)
    status = tab.locator("#result_list td.field-status_and_sent strong").first.inner_text()

    assert widths["page"] <= OFFICE_WIDTH and widths["table"] <= widths["box"]
    assert status.startswith({"de": "unzustellbar", "nl": "onbestelbaar"}[language])

    tab.goto(f"{live_server.url}{reverse('admin:notifications_outboxmessage_change', args=[bounced.pk])}")
    tab.screenshot(path=f"/tmp/h4-bounced-{language}.png", full_page=False)
    banner = tab.locator("ul.messagelist li.error").first

    assert banner.is_visible()
    assert scene.dutch_customer.email in banner.inner_text()
