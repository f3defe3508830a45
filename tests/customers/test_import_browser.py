"""Through a real browser: the office imports a spreadsheet, corrects the one bad row, sees the customers."""

import os

import pytest

from tests.accounts.signin import office_sign_in
from tests.factories import OfficeUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADINGS = "Name;E-Mail;Telefon;Straße;PLZ;Ort;Land\n"
GOOD = "Klaus Hendricks;klaus@example.com;02821 24817;Hagsche Straße 34;47533;Kleve;DE\n"
DUTCH = "Anouk Jansen;anouk@example.nl;06 28471937;Groesbeekseweg 212;6524 DM;Nijmegen;NL\n"
SCREENSHOTS = os.environ.get("DOORSTEP_SCREENSHOTS")


def choose_file(page, text: str) -> None:
    page.set_input_files(
        "#id_import_file", files=[{"name": "kunden.csv", "mimeType": "text/csv", "buffer": text.encode("cp1252")}]
    )
    page.click(".upload input[type=submit]")


def breadcrumb_bar(page, name: str) -> dict:
    """How the breadcrumbs look: the bar's colours, height and the position of its first link."""
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/customers-{name}.png")
    return page.evaluate(
        """() => {
            const bar = document.querySelector("nav[aria-label] .breadcrumbs");
            const style = getComputedStyle(bar), home = bar.querySelector("a").getBoundingClientRect();
            return {background: style.backgroundColor, color: style.color, height: bar.offsetHeight,
                    homeLeft: home.left, homeTop: home.top};
        }"""
    )


def test_office_corrects_a_bad_row_and_imports_the_spreadsheet(live_server, page, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    OfficeUserFactory(username="office-import")
    page.set_extra_http_headers({"Accept-Language": "de"})
    page.goto(f"{live_server.url}/admin/")
    # The office signs in as it must: password, then the code from the authenticator app.
    office_sign_in(page, username="office-import", password="secret-password")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/admin/customers/customer/")
    changelist_bar = breadcrumb_bar(page, "changelist")
    page.click("a.import_link")
    # The import page's breadcrumbs are the bar every admin page has, not a bare line of links.
    assert breadcrumb_bar(page, "import") == changelist_bar

    choose_file(
        page, HEADINGS + GOOD + "Monika van de Loo;monika@;0151 24718365;Lindenallee 12;47533;Kleve;DE\n" + DUTCH
    )

    bad_row = page.locator("#import-error-rows tr[data-row='3']")
    assert "„monika@“ ist keine gültige E-Mail-Adresse." in bad_row.inner_text()
    assert page.locator("#import-error-rows tbody tr").count() == 1
    assert page.locator("input[name=confirm]").count() == 0

    choose_file(
        page,
        HEADINGS + GOOD + "Monika van de Loo;monika@example.com;0151 24718365;Lindenallee 12;47533;Kleve;DE\n" + DUTCH,
    )

    preview = page.locator("#import-preview").inner_text()
    assert "Monika van de Loo" in preview and "+31 6 28471937" in preview
    page.click("input[name=confirm]")

    page.wait_for_url(f"{live_server.url}/admin/customers/customer/")
    assert "3 Kunden importiert." in page.locator(".messagelist").inner_text()
    listed = page.locator("#result_list").inner_text()
    for name in ("Klaus Hendricks", "Monika van de Loo", "Anouk Jansen"):
        assert name in listed
