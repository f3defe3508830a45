"""Through Chromium on a phone-sized screen: a technician opens My day and prints the day sheet."""

import subprocess

import pytest
from django.conf import settings as django_settings
from django.utils import translation
from django.utils.translation import gettext

from tests.conftest import inject_axe
from tests.factories import AppointmentFactory, CustomerFactory, TechnicianFactory, UserFactory, local_dt

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
PASSWORD = "van-keys-2026"


def _(message: str) -> str:
    """What the page says: technicians see the office's language."""
    with translation.override(django_settings.LANGUAGE_CODE):
        return gettext(message)


def test_technician_prints_the_day_sheet_from_my_day(axe_script, live_server, page, tmp_path):
    user = UserFactory(username="jan")
    user.set_password(PASSWORD)
    user.save()
    technician = TechnicianFactory(user=user, display_name="Jan Verhaag")
    AppointmentFactory(
        technician=technician,
        customer=CustomerFactory(full_name="Anna Schmitz"),
        window_start=local_dt(0, 8),
        window_end=local_dt(0, 12),
        planned_start=local_dt(0, 9),
    )
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/technician/login/")
    page.get_by_label(_("username").capitalize()).fill("jan")
    page.get_by_label(_("Password")).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name=_("Sign in")).click()
    assert page.url == f"{live_server.url}/technician/"

    # The link is on the phone's screen, and My day still fits it.
    link = page.get_by_role("link", name=_("Print day sheet"))
    assert link.is_visible()
    box = link.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    inject_axe(page, axe_script)
    violations = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    assert not violations, [
        (violation["id"], [node["target"] for node in violation["nodes"]]) for violation in violations
    ]
    planned = page.locator("[data-planned]").first
    assert planned.inner_text().endswith("09:00–12:30")
    page.screenshot(path=str(tmp_path / "my-day.png"), full_page=True)

    with page.expect_download() as downloading:
        link.click()
    download = downloading.value
    assert download.failure() is None, f"day sheet download failed: {download.failure()}"
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as sheet:
        content = sheet.read()
    assert content.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()
    assert "Anna Schmitz" in text
