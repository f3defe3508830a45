"""The promises' pages in a real browser at an office screen's width, in German and Dutch: nothing too wide,
the late ones marked, the buttons there; screenshots in /tmp for a person to look at."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from desk.models import PromiseKind
from desk.services import promise_make
from tests.config.office_scene import office_scene
from tests.config.test_admin_browser import OFFICE_WIDTH, office_page
from tests.factories import OfficeUserFactory, local_dt

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def promises_scene():
    scene = office_scene()
    colleague = OfficeUserFactory(username="kim", first_name="Kim-Annika", last_name="Hoogeveen-Terhorst")
    late = promise_make(
        customer=scene.customer,
        kind=PromiseKind.SEND_QUOTE,
        owner=scene.office,
        due_at=timezone.now() - timedelta(hours=3),
        note="Angebot Wärmepumpe mit Förderantrag (BAFA) und Zählerschrank-Umbau",
        appointment=scene.appointment,
    )
    promise_make(
        customer=scene.dutch_customer,
        kind=PromiseKind.CALL_BEFORE_VISIT,
        owner=colleague,
        due_at=local_dt(1, 16),
        note="Toegang via de achterdeur afstemmen",
    )
    promise_make(customer=scene.customer, kind=PromiseKind.CALL_BACK, owner=scene.office, due_at=local_dt(2, 9))
    return scene, late


def too_wide(tab) -> dict:
    return tab.evaluate(
        """() => {
            const box = document.querySelector('#changelist .results');
            return {page: document.documentElement.scrollWidth,
                    table: box ? box.scrollWidth : 0, box: box ? box.clientWidth : 0};
        }"""
    )


@pytest.mark.parametrize("language", ["de", "nl"])
def test_the_promises_pages_fit_an_office_screen_and_show_what_to_do(browser, live_server, language):
    scene, late = promises_scene()
    tab = office_page(browser, live_server, language)

    tab.goto(f"{live_server.url}{reverse('admin:desk_promise_changelist')}")
    tab.screenshot(path=f"/tmp/promises-list-{language}.png", full_page=True)
    widths = too_wide(tab)
    assert widths["page"] <= OFFICE_WIDTH and widths["table"] <= widths["box"], widths
    assert tab.locator(".promise-late").count() == 1

    tab.goto(f"{live_server.url}{reverse('admin:desk_promise_change', args=[late.pk])}")
    tab.screenshot(path=f"/tmp/promises-change-{language}.png", full_page=True)
    assert tab.locator(".promise-actions a").count() == 5
    assert tab.evaluate("document.documentElement.scrollWidth") <= OFFICE_WIDTH

    tab.locator(".promise-actions a").nth(4).click()
    tab.screenshot(path=f"/tmp/promises-no-answer-{language}.png", full_page=True)
    tab.locator("input[type=submit]").click()  # nothing filled in: told what is missing
    assert tab.locator(".errorlist").count() >= 2
    tab.screenshot(path=f"/tmp/promises-no-answer-errors-{language}.png", full_page=True)

    tab.goto(f"{live_server.url}{reverse('admin:customers_customer_change', args=[scene.customer.pk])}")
    tab.screenshot(path=f"/tmp/promises-customer-{language}.png", full_page=True)
    assert tab.locator(".open-promises tbody tr").count() == 2
    tab.locator(".open-promises a.addlink").click()

    tab.wait_for_selector("#id_appointment")
    tab.screenshot(path=f"/tmp/promises-add-{language}.png", full_page=True)
    options = tab.locator("#id_appointment option").all_inner_texts()
    assert any(option.startswith(f"D-{scene.appointment.pk} · ") for option in options)
    assert tab.evaluate("document.documentElement.scrollWidth") <= OFFICE_WIDTH
