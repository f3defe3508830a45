"""Through a real browser: the office exports a customer's data, reads the summary, then erases the customer,
and a query over every column of every table finds no trace of them."""

import zipfile

import pytest

from customers.models import Customer
from privacy.models import Erasure
from tests.accounts.signin import office_sign_in
from tests.factories import FirmFactory, OfficeUserFactory
from tests.privacy.stored import ANNA, BERND, customer_with_everything, traces

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = {
    "de": {
        "export": "Personenbezogene Daten exportieren",
        "erase": "Personenbezogene Daten löschen",
        "summary": "Ihre Angaben",
        "done": "wurden gelöscht",
    },
    "en": {
        "export": "Export personal data",
        "erase": "Erase personal data",
        "summary": "Your details",
        "done": "was erased",
    },
}


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_office_exports_then_erases_a_customer_and_no_table_keeps_a_trace(
    live_server, page, tmp_path, settings, language
):
    settings.MEDIA_ROOT = tmp_path / "media"
    FirmFactory(email="office@heizung-beispiel.de")
    office = OfficeUserFactory(username="office-privacy", first_name="Sandra", last_name="Brinkmann")
    customer_with_everything(BERND, office=office)
    anna = customer_with_everything(ANNA, office=office)[0]
    Customer.objects.filter(pk=anna.pk).update(preferred_language=language)
    bernd_traces = traces(BERND.words())
    texts = TEXTS[language]
    page.set_viewport_size({"width": 1280, "height": 900})
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.goto(f"{live_server.url}/admin/")
    office_sign_in(page, username="office-privacy", password="secret-password")

    page.goto(f"{live_server.url}/admin/customers/customer/{anna.pk}/change/")
    page.click(f"text={texts['export']}")
    page.screenshot(path=tmp_path / f"export-{language}.png", full_page=True)
    with page.expect_download() as download_info:
        page.click(".submit-row input[type=submit]")
    archive = tmp_path / "export.zip"
    download_info.value.save_as(archive)
    with zipfile.ZipFile(archive) as opened:
        opened.extract("summary.html", tmp_path)
    page.goto((tmp_path / "summary.html").as_uri())
    assert texts["summary"] in page.locator("h2").first.inner_text()
    page.screenshot(path=tmp_path / f"summary-{language}.png", full_page=True)
    # On a phone only a wide table scrolls, in its own box; the page itself fits the screen.
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{live_server.url}/admin/customers/customer/{anna.pk}/change/")
    page.click(f"text={texts['erase']}")
    page.fill("input[name=confirm_name]", ANNA.full_name.lower())
    page.check("input[name=reason][value=customer_request]")
    page.screenshot(path=tmp_path / f"erase-{language}.png", full_page=True)
    page.click(".submit-row input[type=submit]")

    page.wait_for_url(f"**/admin/customers/customer/{anna.pk}/change/")
    assert texts["done"] in page.locator(".messagelist").inner_text()
    page.screenshot(path=tmp_path / f"erased-{language}.png", full_page=True)
    assert Erasure.objects.get().erased_by == office
    assert traces(ANNA.words()) == []
    assert traces(BERND.words()) == bernd_traces
