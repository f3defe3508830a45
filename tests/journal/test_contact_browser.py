"""Through a real browser: the clerk logs a call from the customer's page and reads the timeline in German
and Dutch."""

import pytest

from appointments.services import appointment_schedule
from journal.services import journal_record
from tests.accounts.signin import office_sign_in
from tests.factories import (
    CustomerFactory,
    FirmFactory,
    OfficeUserFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    local_dt,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_call_logged_from_the_customers_page_shows_in_the_timeline_in_the_readers_language(
    live_server, page, tmp_path
):
    FirmFactory()
    office = OfficeUserFactory(username="office-browser", first_name="Sandra", last_name="Brinkmann")
    service_type = ServiceTypeFactory(name="Boiler maintenance", name_de="Heizungswartung", name_nl="CV-onderhoud")
    technician = TechnicianFactory(service_types=[service_type], display_name="Jan Verhaag")
    customer = CustomerFactory(full_name="Hendrik van Dijk", responsible=office)
    visit = appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(3, 8), actor=office
    )
    journal_record(customer=customer, action="contact.recorded", summary="Alter Eintrag: Rückruf zugesagt")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.context.add_cookies([{"name": "django_language", "value": "de", "url": live_server.url}])
    page.goto(f"{live_server.url}/admin/")
    office_sign_in(page, username="office-browser", password="secret-password")

    page.goto(f"{live_server.url}/admin/customers/customer/{customer.pk}/change/")
    page.select_option("select[name=contact]", "phone_out")
    page.select_option("select[name=appointment]", str(visit.pk))
    page.fill("textarea[name=note]", "Termin bestätigt, Hund wird weggesperrt.")
    page.click(".journal-contact button[type=submit]")

    page.wait_for_url(f"**/admin/customers/customer/{customer.pk}/change/")
    assert "Der Kontakt steht im Journal von Hendrik van Dijk." in page.locator(".messagelist").inner_text()
    timeline = page.locator(".journal-timeline").inner_text()
    assert "Termin bestätigt, Hund wird weggesperrt." in timeline
    assert "Besuch geplant: Heizungswartung" in timeline
    assert "Alter Eintrag: Rückruf zugesagt" in timeline
    page.locator(".journal-contact").scroll_into_view_if_needed()
    page.screenshot(path=tmp_path / "customer-de.png", full_page=True)

    page.context.add_cookies([{"name": "django_language", "value": "nl", "url": live_server.url}])
    page.goto(f"{live_server.url}/admin/customers/customer/{customer.pk}/change/")
    timeline = page.locator(".journal-timeline").inner_text()
    assert "Bezoek ingepland: CV-onderhoud" in timeline
    assert "Termin bestätigt, Hund wird weggesperrt." in timeline
    page.screenshot(path=tmp_path / "customer-nl.png", full_page=True)
