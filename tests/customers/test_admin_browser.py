"""Through a real browser: the office logs in, finds a customer by phone and opens them."""

import pytest

from journal.services import journal_record
from tests.accounts.signin import office_sign_in
from tests.factories import AppointmentFactory, CustomerFactory, OfficeUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_office_finds_a_customer_by_phone_and_opens_them(live_server, page):
    office = OfficeUserFactory(username="office-browser")
    customer = CustomerFactory(full_name="Hendrik van Dijk", phone="+49282112345", responsible=office)
    CustomerFactory(full_name="Someone Else", phone="+4930999999", responsible=office)
    AppointmentFactory(customer=customer)
    journal_record(customer=customer, action="contact.recorded", summary="Rückruf zugesagt für Freitag")

    page.goto(f"{live_server.url}/admin/")
    office_sign_in(page, username="office-browser", password="secret-password")
    page.goto(f"{live_server.url}/admin/customers/customer/")
    page.fill("#searchbar", "02821 12345")
    page.press("#searchbar", "Enter")
    page.click("text=Hendrik van Dijk")

    assert page.locator("#id_full_name").input_value() == "Hendrik van Dijk"
    assert "Rückruf zugesagt für Freitag" in page.locator(".journal-timeline").inner_text()
    assert page.locator("#appointments-group").is_visible()
