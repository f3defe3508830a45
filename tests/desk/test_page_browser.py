"""Through Chromium: My desk at an office screen's width (1280 px) and a phone's (375 px), in German and Dutch."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from desk.models import PromiseKind
from journal.models import Channel, Direction
from journal.services import journal_record
from tests.accounts.signin import office_sign_in
from tests.factories import (
    AppointmentFactory,
    CustomerFactory,
    FirmFactory,
    OfficeUserFactory,
    PromiseFactory,
    VisitAttemptFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOGIN = ("desk-office", "secret-password")
NAMES = [
    "Wohnungseigentümergemeinschaft Kastanienallee 12–14, Hinterhaus",
    "Dr. Maximiliane von Hohenzollern-Sigmaringen",
    "Gerrit-Jan van den Oudenhoven",
    "Bäckerei Müller & Söhne GmbH",
    "Ayşe Yılmaz",
]
NOTES = [
    "Rückruf erbeten: Heizung macht nachts klopfende Geräusche, möchte wissen ob das gefährlich ist und ob"
    " jemand noch diese Woche kommen kann. Bitte nicht vor 10 Uhr anrufen, Nachtschicht.",
    "Angebot Wärmepumpe (Luft/Wasser, 9 kW) mit Förderantrag zusenden",
    "",
]


def realistic_desk(office):
    colleague = OfficeUserFactory(first_name="Hannelore", last_name="Brinkmann-Oostenbrink")
    now = timezone.now()
    kinds = list(PromiseKind.values)
    for index in range(40):
        owner = office if index % 3 else colleague
        customer = CustomerFactory(full_name=NAMES[index % len(NAMES)], phone="+31612345678", responsible=owner)
        visit = AppointmentFactory(customer=customer) if index % 5 == 0 else None
        PromiseFactory(
            owner=owner,
            customer=customer,
            appointment=visit,
            kind=kinds[index % len(kinds)],
            note=NOTES[index % len(NOTES)],
            due_at=now + timedelta(hours=index * 3 - 30),
        )
    for _ in range(3):
        VisitAttemptFactory(
            appointment__customer=CustomerFactory(full_name=NAMES[0]), follow_up_flagged_at=now - timedelta(days=1)
        )
    for index in range(4):
        journal_record(
            customer=CustomerFactory(full_name=NAMES[(index + 1) % len(NAMES)]),
            action="appointment.rescheduled",
            summary="Besuch verschoben von Mi, 4. März 2026, 08:00–12:00 auf Fr, 6. März 2026, 12:30–16:30."
            " Grund: Online vom Kunden geändert.",
            channel=Channel.WEB,
            direction=Direction.INBOUND,
            occurred_at=now - timedelta(hours=index + 1),
        )


def desk_tab(browser, live_server, *, language: str, width: int):
    tab = browser.new_context(
        viewport={"width": width, "height": 900}, locale=language, extra_http_headers={"Accept-Language": language}
    ).new_page()
    tab.goto(f"{live_server.url}{reverse('desk:page')}")
    office_sign_in(tab, username=LOGIN[0], password=LOGIN[1])
    tab.wait_for_url(f"{live_server.url}{reverse('desk:page')}")
    return tab


def test_my_desk_shows_an_overdue_promise_and_the_count_in_the_navigation(browser, live_server):
    FirmFactory()
    office = OfficeUserFactory(username=LOGIN[0], first_name="Sandra", last_name="Brinkmann")
    late = PromiseFactory(
        owner=office,
        customer=CustomerFactory(full_name="Greta Hendriks", phone="+492821123456", responsible=office),
        kind=PromiseKind.CALL_BACK,
        due_at=timezone.now() - timedelta(hours=2),
    )
    tab = desk_tab(browser, live_server, language="en", width=1280)

    overdue = tab.locator("section:has(#desk-overdue)")
    assert "Greta Hendriks" in overdue.inner_text()
    assert "late by 2" in overdue.inner_text()
    assert tab.locator("#user-tools .desk-link").text_content() == "My desk (1 overdue)"

    tab.click("text=Log the call that keeps it")
    tab.wait_for_load_state()
    assert tab.url.startswith(
        f"{live_server.url}{reverse('admin:journal_journalentry_contact', args=[late.customer_id])}"
        f"?keeps_promise={late.pk}&next="
    )

    tab.goto(f"{live_server.url}{reverse('dispatch:day')}")
    assert tab.locator("#user-tools .desk-link").text_content() == "My desk (1 overdue)"


@pytest.mark.parametrize("language", ["de", "nl"])
@pytest.mark.parametrize("width", [1280, 375])
def test_a_full_desk_fits_the_screen(browser, live_server, language, width):
    FirmFactory()
    office = OfficeUserFactory(username=LOGIN[0], first_name="Sandra", last_name="Brinkmann")
    realistic_desk(office)
    tab = desk_tab(browser, live_server, language=language, width=width)
    tab.goto(f"{live_server.url}{reverse('desk:page')}?view=team")

    assert tab.evaluate("document.documentElement.scrollWidth") <= width
    assert tab.locator(".desk-list > li").count() > 40
    tab.screenshot(path=f"/tmp/desk-{language}-{width}.png", full_page=True)
    tab.screenshot(path=f"/tmp/desk-{language}-{width}-top.png")
