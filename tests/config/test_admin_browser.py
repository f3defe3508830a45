"""Through a real browser at an office screen's width: what the admin's JavaScript writes, and lists that fit."""

import pytest
from django.urls import reverse

from tests.accounts.signin import office_sign_in
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
    office_sign_in(tab, username=LOGIN[0], password=LOGIN[1])
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


CHANGELISTS = [
    "appointments_appointment",
    "customers_customer",
    "appointments_technician",
    "notifications_outboxmessage",
    "appointments_visitattempt",
    "appointments_missedvisitfollowup",
    "appointments_bookinginvitation",
    "journal_journalentry",
]


@pytest.mark.parametrize("language", ["de", "nl"])
def test_every_list_fits_an_office_screen_with_long_real_names(browser, live_server, language):
    office_scene()
    tab = office_page(browser, live_server, language)
    overflowing = {}

    for model in CHANGELISTS:
        tab.goto(f"{live_server.url}{reverse(f'admin:{model}_changelist')}")
        # The admin scrolls a too-wide table inside its box, hiding the right-hand columns.
        widths = tab.evaluate(
            """() => {
                const box = document.querySelector('#changelist .results');
                return {page: document.documentElement.scrollWidth,
                        table: box ? box.scrollWidth : 0, box: box ? box.clientWidth : 0};
            }"""
        )
        tab.screenshot(path=f"/tmp/office-list-{language}-{model}.png", full_page=True)
        if widths["page"] > OFFICE_WIDTH or widths["table"] > widths["box"]:
            overflowing[model] = widths

    assert overflowing == {}


@pytest.mark.parametrize("language", ["de", "nl"])
def test_the_outbox_shows_a_stale_reason_as_a_readable_sentence_beside_long_kinds(browser, live_server, language):
    from django.utils import timezone

    from notifications.models import MessageKind, MessageStatus, OutboxMessage
    from notifications.superseded import superseded_reason

    scene = office_scene()
    for index, kind in enumerate([MessageKind.CHANGE, MessageKind.RESCHEDULE_REQUEST, MessageKind.CONFIRMATION]):
        OutboxMessage.objects.create(
            kind=kind,
            status=MessageStatus.SUPERSEDED if index == 0 else MessageStatus.SENT,
            sent_at=None if index == 0 else timezone.now(),
            dedupe_key=f"stale:{index}",
            customer=scene.dutch_customer,
            appointment=scene.appointment,
            appointment_version=1,
            to_email=scene.dutch_customer.email,
            language="nl",
            last_error=superseded_reason("new_time") if index == 0 else "",
        )
    tab = office_page(browser, live_server, language)

    tab.goto(f"{live_server.url}{reverse('admin:notifications_outboxmessage_changelist')}")
    widths = tab.evaluate(
        """() => {
            const box = document.querySelector('#changelist .results');
            return {table: box.scrollWidth, box: box.clientWidth,
                    reasons: [...document.querySelectorAll('#result_list td.field-short_error')]
                        .map(cell => cell.getBoundingClientRect().width)};
        }"""
    )
    tab.screenshot(path=f"/tmp/office-outbox-{language}.png", full_page=True)

    assert widths["table"] <= widths["box"]
    assert min(widths["reasons"]) >= 110  # about three words a line, none broken inside
