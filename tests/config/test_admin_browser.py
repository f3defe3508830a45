"""Through a real browser at an office screen's width: what the admin's JavaScript writes, and lists that fit."""

import pytest
from django.urls import reverse

from tests.config.office_scene import LOGIN, office_scene

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICE_WIDTH = 1280
# The widgets' own English (Django 6.1's German and Dutch catalogs lack the calendar's and the note's).
WIDGET_ENGLISH = ["Note", "Enter times", "timezone", "Today", "Yesterday", "Tomorrow", "Now", "Midnight", "Noon"]
WIDGET_ENGLISH += ["Choose", "Cancel", "current selection", "Previous", "Next", "hour", "ahead", "behind"]


def office_page(browser, live_server, language, **context):
    """A signed-in office user's tab; the browser clock is six hours behind the firm's, as on a laptop abroad."""
    tab = browser.new_context(
        viewport={"width": OFFICE_WIDTH, "height": 900},
        locale=language,
        extra_http_headers={"Accept-Language": language},
        **context,
    ).new_page()
    tab.goto(f"{live_server.url}{reverse('admin:login')}")
    tab.fill("#id_username", LOGIN[0])
    tab.fill("#id_password", LOGIN[1])
    tab.click("input[type=submit]")
    tab.wait_for_url(f"{live_server.url}{reverse('admin:index')}")
    return tab


def english_in(text: str) -> list[str]:
    return [fragment for fragment in WIDGET_ENGLISH if fragment in text]


@pytest.mark.parametrize("language", ["de", "nl"])
def test_date_and_time_widgets_speak_the_office_language(browser, live_server, language):
    scene = office_scene()
    tab = office_page(browser, live_server, language, timezone_id="America/New_York")
    tab.goto(f"{live_server.url}{reverse('admin:journal_journalentry_add')}?customer={scene.customer.pk}")

    note = tab.locator(".timezonewarning").first.inner_text()
    tab.locator("#calendarlink0").click()
    calendar = tab.locator("#calendarbox0")
    calendar_text = calendar.inner_text() + " ".join(
        calendar.locator("[title], [aria-label]").evaluate_all(
            "nodes => nodes.map(n => (n.title || '') + ' ' + (n.getAttribute('aria-label') || ''))"
        )
    )
    tab.keyboard.press("Escape")
    tab.locator("#clocklink0").click()
    clock_text = tab.locator("#clockbox0").inner_text()
    shortcuts = tab.locator(".datetimeshortcuts").first.inner_text()

    assert "Europe/Berlin" in note
    assert english_in(note) == []
    assert english_in(calendar_text) == []
    assert english_in(clock_text) == []
    assert english_in(shortcuts) == []
