"""Through Chromium at an office screen's width: the office drags a visit to another technician's lane."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment
from dispatch.board import AXIS_FIRST_HOUR, AXIS_LAST_HOUR
from tests.accounts.signin import office_sign_in
from tests.dispatch.test_day import next_weekday_offset
from tests.factories import (
    AppointmentFactory,
    CustomerFactory,
    FirmFactory,
    OfficeUserFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    local_dt,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICE_WIDTH = 1280
LOGIN = ("board-office", "secret-password")


def office_tab(browser, live_server, language="en"):
    tab = browser.new_context(
        viewport={"width": OFFICE_WIDTH, "height": 900},
        locale=language,
        extra_http_headers={"Accept-Language": language},
    ).new_page()
    # The home page sends a signed-out visitor to the sign-in and, signed in, to the board.
    tab.goto(f"{live_server.url}/")
    office_sign_in(tab, username=LOGIN[0], password=LOGIN[1])
    tab.wait_for_url(f"{live_server.url}{reverse('dispatch:day')}")
    return tab


def test_the_office_drags_a_visit_to_another_technician_and_the_customer_is_told(browser, live_server):
    FirmFactory()
    OfficeUserFactory(username=LOGIN[0])
    offset = next_weekday_offset(2)
    day = timezone.localdate() + timedelta(days=offset)
    service = ServiceTypeFactory(
        name="Boiler maintenance", duration=timedelta(hours=1), buffer_after=timedelta(minutes=30)
    )
    jan = TechnicianFactory(display_name="Jan Verhaag", service_types=[service])
    mia = TechnicianFactory(display_name="Mia Janssen", service_types=[service])
    visit = AppointmentFactory(
        customer=CustomerFactory(full_name="Greta Hendriks"),
        technician=jan,
        service_type=service,
        window_start=local_dt(offset, 8),
        window_end=local_dt(offset, 12),
    )
    tab = office_tab(browser, live_server)
    tab.goto(f"{live_server.url}{reverse('dispatch:day')}?day={day.isoformat()}")
    dialogs = accepted_dialogs(tab)

    assert tab.evaluate("document.documentElement.scrollWidth") <= OFFICE_WIDTH
    block = tab.locator(f"#visit-{visit.pk}").bounding_box()
    lane = tab.locator(f'.lane .track[data-technician="{mia.pk}"]').bounding_box()
    # Let go in Mia's lane, a little to the right of where it was grabbed (later that morning).
    drag(tab, f"#visit-{visit.pk}", block["x"] + 65, lane["y"] + lane["height"] / 2)

    tab.wait_for_selector(".messagelist")
    message = tab.locator(".messagelist").inner_text()
    assert dialogs == ["This changes the customer's window; they will be told. Move?"]
    assert f"Moved D-{visit.pk} to Mia Janssen" in message and "the customer is told by email" in message
    moved = Appointment.objects.get(pk=visit.pk)
    assert moved.technician_id == mia.pk
    assert moved.planned_start.minute % 5 == 0
    assert tab.locator(f'.lane .track[data-technician="{mia.pk}"] #visit-{visit.pk}').count() == 1
    tab.screenshot(path="/tmp/dispatch-board-1280.png", full_page=True)


def accepted_dialogs(tab) -> list[str]:
    """Accept every confirm() the page asks, and keep what it asked."""
    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    tab.on("dialog", accept)
    return dialogs


def drag(tab, source, target_x, target_y):
    """Grab `source` near its left edge and let go at the target point."""
    box = tab.locator(source).bounding_box()
    grab_x, grab_y = box["x"] + 5, box["y"] + box["height"] / 2
    tab.mouse.move(grab_x, grab_y)
    tab.mouse.down()
    tab.mouse.move(grab_x + 10, grab_y + 5, steps=3)
    tab.mouse.move(target_x, target_y, steps=8)
    tab.mouse.up()


def test_a_drag_inside_the_window_reorders_without_asking_and_a_request_is_planned_from_the_side(browser, live_server):
    FirmFactory()
    OfficeUserFactory(username=LOGIN[0])
    offset = next_weekday_offset(2)
    day = timezone.localdate() + timedelta(days=offset)
    service = ServiceTypeFactory(
        name="Boiler maintenance", duration=timedelta(hours=1), buffer_after=timedelta(minutes=30)
    )
    jan = TechnicianFactory(display_name="Jan Verhaag", service_types=[service])
    visit = AppointmentFactory(
        technician=jan, service_type=service, window_start=local_dt(offset, 8), window_end=local_dt(offset, 12)
    )
    request = AppointmentFactory(
        customer=CustomerFactory(full_name="Request Without Technician"),
        technician=None,
        status="requested",
        service_type=service,
        window_start=local_dt(offset, 12),
        window_end=local_dt(offset, 16),
    )
    tab = office_tab(browser, live_server)
    tab.goto(f"{live_server.url}{reverse('dispatch:day')}?day={day.isoformat()}")
    dialogs = accepted_dialogs(tab)
    track = tab.locator(f'.lane .track[data-technician="{jan.pk}"]').bounding_box()
    per_minute = track["width"] / ((AXIS_LAST_HOUR - AXIS_FIRST_HOUR) * 60)

    # An hour later along the lane, still inside 08:00-12:00.
    block = tab.locator(f"#visit-{visit.pk}").bounding_box()
    drag(tab, f"#visit-{visit.pk}", block["x"] + 5 + 60 * per_minute, block["y"] + block["height"] / 2)
    tab.wait_for_selector(".messagelist")
    assert "Re-ordered: " in tab.locator(".messagelist").inner_text()
    assert dialogs == []
    moved = Appointment.objects.get(pk=visit.pk)
    assert moved.window_start == visit.window_start and moved.planned_start == local_dt(offset, 9)

    # The request from the side panel onto Jan's lane at about 13:00 (the message moved the lanes down).
    track = tab.locator(f'.lane .track[data-technician="{jan.pk}"]').bounding_box()
    drag(tab, f'.unplanned-item[data-appointment="{request.pk}"]', track["x"] + 6 * 60 * per_minute, track["y"] + 38)
    tab.wait_for_function(f"!document.querySelector('.unplanned-item[data-appointment=\"{request.pk}\"]')")
    assert "nobody was told" in tab.locator(".messagelist").inner_text()
    assert dialogs == ["This plans the visit with another technician or in another window. Move?"]
    planned = Appointment.objects.get(pk=request.pk)
    assert planned.technician_id == jan.pk
    assert tab.locator(f'.lane .track[data-technician="{jan.pk}"] #visit-{request.pk}').count() == 1
