"""At an office screen's width: a mail from an unknown sender waits in triage, the clerk reads it, picks the
customer in the autocomplete, then the visit from that customer's visits, and the mail gets its reply promise."""

import os

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from desk.models import InboundMail, InboundStatus, PromiseKind
from desk.services import inbound_receive
from tests.accounts.signin import office_sign_in
from tests.desk.inbound_samples import sample
from tests.factories import AppointmentFactory, CustomerFactory, OfficeUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICE_WIDTH = 1280
# A directory to keep PNGs of the pages while working on them.
SCREENSHOTS = os.environ.get("DOORSTEP_SCREENSHOTS")


def shot(tab, name):
    if SCREENSHOTS:
        tab.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)


@pytest.fixture
def tab(browser, live_server, firm, media_root):
    """The clerk, signed in to the admin in German at an office screen's width."""
    OfficeUserFactory(username="clerk", password="clerk-password-1")
    tab = browser.new_context(
        viewport={"width": OFFICE_WIDTH, "height": 900}, locale="de", extra_http_headers={"Accept-Language": "de"}
    ).new_page()
    tab.goto(f"{live_server.url}{reverse('admin:login')}")
    office_sign_in(tab, username="clerk", password="clerk-password-1")
    tab.wait_for_url(f"{live_server.url}{reverse('admin:index')}")
    return tab


def test_the_clerk_assigns_a_triage_mail_to_a_customer_found_by_name(tab, live_server):
    petra = CustomerFactory(full_name="Petra Neumann", email="petra.neumann@example.de")
    AppointmentFactory(customer=petra)
    visit = AppointmentFactory(customer=petra)
    mail = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")

    tab.goto(f"{live_server.url}{reverse('admin:desk_inboundmail_changelist')}?status__exact=triage")
    shot(tab, "inbound-list")
    tab.get_by_role("link", name="Anfrage Wartung Gastherme").click()
    # Waits for the page to load (a bare content() right after the click may read it half loaded).
    expect(tab.get_by_role("link", name="typenschild.jpg")).to_be_visible()
    expect(tab.locator("body")).to_contain_text("ein Programm oder Skript")
    shot(tab, "inbound-change")
    tab.get_by_role("link", name="Einem Kunden zuordnen").click()
    tab.locator(".select2-selection").click()
    tab.locator(".select2-search__field").fill("Neum")
    tab.locator(".select2-results__option", has_text="Petra Neumann").click()
    shot(tab, "inbound-assign")
    tab.locator("input[type=submit]").click()
    # The customer's visits, offered on the same page.
    tab.locator("#id_appointment").select_option(str(visit.pk))
    shot(tab, "inbound-assign-visit")
    tab.locator("input[type=submit]").click()
    tab.wait_for_url(f"{live_server.url}{reverse('admin:desk_inboundmail_change', args=[mail.pk])}")
    shot(tab, "inbound-assigned")

    mail = InboundMail.objects.get(pk=mail.pk)
    assert mail.customer == petra and mail.appointment == visit and mail.status == InboundStatus.NEW
    assert mail.promise.kind == PromiseKind.REPLY_MAIL and mail.promise.appointment == visit


def test_the_clerk_closes_several_mails_from_the_list_with_one_reason(tab, live_server):
    CustomerFactory(email="m.devries@voorbeeld.nl")
    mails = [
        inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe"),
        inbound_receive(raw=sample("reply_nl.eml"), source="pipe"),
    ]

    tab.goto(f"{live_server.url}{reverse('admin:desk_inboundmail_changelist')}")
    tab.locator("#action-toggle").check()
    tab.locator("select[name=action]").select_option("no_reply_needed")
    tab.get_by_role("button", name="Ausführen").click()
    expect(tab.locator("#id_reason")).to_be_visible()
    shot(tab, "inbound-no-reply-many")
    tab.fill("#id_reason", "Werbung")
    tab.locator("input[name=apply]").click()
    expect(tab.locator(".messagelist")).to_contain_text("2 Mails brauchen keine Antwort")
    shot(tab, "inbound-no-reply-done")

    assert {mail.status for mail in InboundMail.objects.filter(pk__in=[mail.pk for mail in mails])} == {
        InboundStatus.IGNORED
    }
