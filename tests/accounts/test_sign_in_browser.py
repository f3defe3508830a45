"""In Chromium, as a person signs in: password, then the code their authenticator app shows."""

import re
from base64 import b32decode

import pytest
from django.urls import reverse
from django_otp.oath import TOTP

from tests.accounts.signin import totp_code
from tests.factories import FirmFactory, OfficeUserFactory, TOTPDeviceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def office_tab(browser, language="en", width=1280):
    return browser.new_context(
        viewport={"width": width, "height": 900}, locale=language, extra_http_headers={"Accept-Language": language}
    ).new_page()


def type_password(tab, username, password):
    tab.fill("#id_username", username)
    tab.fill("#id_password", password)
    tab.click("input[type=submit]")


def test_an_office_user_signs_in_with_password_and_app_code_and_reaches_the_board(browser, live_server):
    FirmFactory()
    device = TOTPDeviceFactory(user=OfficeUserFactory(username="sandra", password="desk-2026-secret"))
    tab = office_tab(browser)

    tab.goto(f"{live_server.url}/")
    type_password(tab, "sandra", "desk-2026-secret")
    tab.wait_for_url(re.compile(r"/account/code/"))
    assert tab.locator("h1").inner_text() == "Sign-in code"
    tab.fill("#id_code", totp_code(device))
    tab.click("#code-form input[type=submit]")

    tab.wait_for_url(f"{live_server.url}{reverse('dispatch:day')}")
    assert tab.locator("#user-tools, .board").count() >= 1


def test_a_superuser_sets_up_the_app_from_the_key_on_the_page_and_keeps_the_recovery_codes(browser, live_server):
    FirmFactory()
    OfficeUserFactory(username="boss", password="desk-2026-secret")
    tab = office_tab(browser, width=375)

    tab.goto(f"{live_server.url}{reverse('desk:page')}")
    type_password(tab, "boss", "desk-2026-secret")
    tab.wait_for_url(re.compile(r"/account/two-factor/"))
    assert tab.locator(".accounts-qr svg").is_visible()
    # What a person types into the app when they cannot scan; the app then shows this code.
    key = b32decode(tab.locator("#totp-key").inner_text().replace(" ", ""))
    tab.fill("#id_code", f"{TOTP(key).token():06d}")
    tab.click("#code-form input[type=submit]")

    tab.wait_for_url(re.compile(r"/account/recovery-codes/"))
    assert tab.locator("#recovery-codes li").count() == 10
    assert tab.evaluate("document.documentElement.scrollWidth") <= 375
    tab.click("text=I have kept them: continue")
    tab.wait_for_url(f"{live_server.url}{reverse('desk:page')}")
