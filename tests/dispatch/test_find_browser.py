"""The board's week and "find a time" in a real browser at an office screen's width."""

import os
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, Closure, TimeOff
from dispatch.week import monday_of
from tests.accounts.signin import office_sign_in
from tests.factories import (
    AppointmentFactory,
    CustomerFactory,
    OfficeUserFactory,
    ServiceTypeFactory,
    TechnicianFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICE_WIDTH = 1280
LOGIN = ("board-office", "secret-password")
LONG_NAME = "Wohnungseigentümergemeinschaft Hagsche Straße 34–38, c/o Hausverwaltung Terhorst & Söhne GmbH"
# Set to a directory to keep screenshots of the pages (for a look by eye; nothing compares them).
SCREENSHOTS = os.environ.get("BOARD_SCREENSHOTS", "")


def at(day, hour, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def office_tab(browser, live_server, language):
    OfficeUserFactory(username=LOGIN[0])
    tab = browser.new_context(
        viewport={"width": OFFICE_WIDTH, "height": 900},
        locale=language,
        extra_http_headers={"Accept-Language": language},
    ).new_page()
    tab.goto(f"{live_server.url}{reverse('admin:login')}")
    office_sign_in(tab, username=LOGIN[0], password=LOGIN[1])
    tab.wait_for_url(f"{live_server.url}{reverse('admin:index')}")
    return tab


def a_full_week():
    monday = monday_of(timezone.localdate()) + timedelta(days=7)
    service = ServiceTypeFactory(
        name="Radiator check", name_de="Heizkörperprüfung", duration=timedelta(hours=1), buffer_after=timedelta(0)
    )
    technicians = [
        TechnicianFactory(display_name=name, service_types=[service])
        for name in ["Jan-Hendrik Verhaag-Terhorst", "Mia Bakker", "Bernd Busch"]
    ]
    customer = CustomerFactory(full_name=LONG_NAME, city="Kleve-Materborn")
    for day in range(5):
        for hour in (8, 9, 10, 13, 14):
            AppointmentFactory(
                technician=technicians[day % 3],
                service_type=service,
                customer=customer,
                window_start=at(monday + timedelta(days=day), 8 if hour < 12 else 12),
                planned_start=at(monday + timedelta(days=day), hour),
            )
    Closure.objects.create(
        first_day=monday + timedelta(days=3), last_day=monday + timedelta(days=3), reason="Inventur"
    )
    TimeOff.objects.create(technician=technicians[1], starts_at=at(monday, 0), ends_at=at(monday, 23), reason="Urlaub")
    return monday, service, technicians, customer


def overflow(tab) -> dict:
    return tab.evaluate("() => ({page: document.documentElement.scrollWidth, view: window.innerWidth})")


@pytest.mark.parametrize("language", ["de", "nl"])
def test_the_week_fits_an_office_screen(browser, live_server, language):
    monday, _service, technicians, _customer = a_full_week()
    tab = office_tab(browser, live_server, language)

    for params in (f"?week={monday}", f"?week={monday}&technician={technicians[0].pk}"):
        tab.goto(f"{live_server.url}{reverse('dispatch:week')}{params}")
        tab.wait_for_selector("table.week-table")
        widths = overflow(tab)
        if SCREENSHOTS:
            name = "one" if "technician" in params else "all"
            tab.screenshot(path=f"{SCREENSHOTS}/week-{name}-{language}.png", full_page=True)

        assert widths["page"] <= widths["view"], params


def test_the_clerk_finds_a_time_and_books_it_for_the_customer(browser, live_server):
    monday, service, technicians, customer = a_full_week()
    tab = office_tab(browser, live_server, "de")

    tab.goto(f"{live_server.url}{reverse('admin:customers_customer_change', args=[customer.pk])}")
    tab.locator(f"a[href='{reverse('dispatch:find')}?customer={customer.pk}']").click()
    tab.select_option("#id_service_type", str(service.pk))
    tab.fill("#id_first_day", monday.isoformat())
    tab.locator("input[type=submit].default").click()
    tab.wait_for_selector("table.find-offers")
    if SCREENSHOTS:
        tab.screenshot(path=f"{SCREENSHOTS}/find-de.png", full_page=True)
    assert overflow(tab)["page"] <= OFFICE_WIDTH
    tab.locator("table.find-offers button[type=submit]").first.click()
    tab.wait_for_url("**/admin/appointments/appointment/*/change/")

    booked = Appointment.objects.exclude(pk__in=[]).order_by("-pk").first()
    assert booked.customer == customer
    assert booked.window_start >= at(monday, 8)
    assert f"D-{booked.pk}" in tab.locator(".messagelist").inner_text()
