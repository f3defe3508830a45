"""Through a real browser: a customer books, moves and cancels their visit from the links in their mails.

Nothing here calls a view directly: the links come out of the mails the app sent
(locmem mailer, Celery eager, on-commit callbacks run because the database is
transactional), and every step is a click or a keystroke in Chromium.
"""

import re

import pytest
from django.template.defaultfilters import date, time
from django.utils import timezone, translation
from django.utils.translation import gettext

from appointments.models import Appointment, AppointmentStatus, BookingInvitation
from appointments.services.booking import booking_invite
from tests.factories import CustomerFactory, FirmFactory, OfficeUserFactory, ServiceTypeFactory, TechnicianFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_WIDTH = 375
LANGUAGE = "de"


def _(message: str) -> str:
    """What the customer's page says, in the customer's language."""
    with translation.override(LANGUAGE):
        return gettext(message)


def link_in(mail, site_url: str) -> str:
    links = re.findall(re.escape(site_url) + r"/booking/l/\S+/", mail.body)
    assert len(set(links)) == 1, f"expected one self-service link in {mail.subject!r}:\n{mail.body}"
    return links[0]


def shown_window(appointment, *, weekday: bool = True) -> str:
    """The visit's window as the pages print it: "Montag, 5. Januar 2026, 08:00–12:00", in the firm's zone."""
    start, end = timezone.localtime(appointment.window_start), timezone.localtime(appointment.window_end)
    with translation.override(LANGUAGE):
        day = f"{date(start, 'l')}, {date(start, 'DATE_FORMAT')}" if weekday else date(start, "DATE_FORMAT")
        return f"{day}, {time(start, 'H:i')}–{time(end, 'H:i')}"


def assert_token_left_the_url(page, live_server):
    assert "/l/" not in page.url, page.url
    assert page.url.split("?")[0] == f"{live_server.url}/booking/"


def submit(page, button, live_server) -> None:
    """Click a form's button; the POST must redirect to the done page."""
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        button.click()
    response = posted.value
    assert response.status == 302, f"POST {response.url} answered {response.status}: {response.text()[:500]}"
    page.wait_for_url(f"{live_server.url}/booking/done/")


def assert_no_horizontal_scrolling(page):
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE_WIDTH, f"page is {scroll_width}px wide on a {PHONE_WIDTH}px phone"


def test_customer_books_moves_and_cancels_from_the_links_in_their_mails(live_server, page, settings, mailoutbox):
    settings.SITE_URL = live_server.url  # before any mail is rendered
    FirmFactory()
    office = OfficeUserFactory(first_name="Sandra", last_name="Brinkmann")
    service_type = ServiceTypeFactory(name_de="Heizungswartung")
    TechnicianFactory(service_types=[service_type], display_name="Jan Verhaag")
    customer = CustomerFactory(
        full_name="Anna Schmitz", responsible=office, preferred_language=LANGUAGE, email="anna@example.com"
    )

    # (a) The invitation mail: open its link, pick a window, leave a note, book.
    invitation = booking_invite(customer=customer, service_type=service_type, actor=office)
    assert [mail.to for mail in mailoutbox] == [["anna@example.com"]]
    response = page.goto(link_in(mailoutbox[0], live_server.url))

    assert response.ok
    assert_token_left_the_url(page, live_server)
    assert page.locator("html").get_attribute("lang") == LANGUAGE
    assert page.get_by_role("heading", level=1).inner_text() == _("Hello %(first_name)s,") % {"first_name": "Anna"}
    # The last: tomorrow's first window, booked in the evening, would be past the change cut-off for (b).
    first_window = page.locator("label.window-option").last
    chosen = first_window.locator("input").get_attribute("value")
    first_window.click()
    assert first_window.locator("input").is_checked()
    page.get_by_label(_("Note for the technician (optional)")).fill("Bitte an der Seitentür klingeln")
    submit(page, page.get_by_role("button", name=_("Book this window")), live_server)

    appointment = Appointment.objects.get()
    assert (appointment.status, appointment.version) == (AppointmentStatus.SCHEDULED, 1)
    assert appointment.window_start == timezone.datetime.fromisoformat(chosen)
    assert appointment.notes == "Bitte an der Seitentür klingeln"
    assert BookingInvitation.objects.get(pk=invitation.pk).appointment == appointment
    assert page.get_by_role("heading", level=1).inner_text() == _("Your appointment is booked")
    done = page.locator("main").inner_text()
    assert shown_window(appointment) in done
    assert "Jan" in done and "Verhaag" not in done
    assert page.get_by_role("link", name=_("Add to my calendar (.ics)")).is_visible()

    # (b) On a phone, from the confirmation mail: move the visit to another window.
    assert len(mailoutbox) == 2
    confirmation_link = link_in(mailoutbox[1], live_server.url)
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    page.goto(confirmation_link)

    assert_token_left_the_url(page, live_server)
    assert_no_horizontal_scrolling(page)
    current = page.get_by_role("region", name=_("Your appointment")).inner_text()
    assert shown_window(appointment) in current
    offered = page.locator("label.window-option input")
    assert chosen not in [offered.nth(index).get_attribute("value") for index in range(offered.count())]
    other_window = page.locator("label.window-option").nth(-2)
    new_start = other_window.locator("input").get_attribute("value")
    other_window.click()
    submit(page, page.get_by_role("button", name=_("Move my appointment")), live_server)

    appointment.refresh_from_db()
    assert (appointment.status, appointment.version) == (AppointmentStatus.SCHEDULED, 2)
    assert appointment.window_start == timezone.datetime.fromisoformat(new_start)
    assert Appointment.objects.count() == 1
    assert page.get_by_role("heading", level=1).inner_text() == _("Your appointment has been moved")
    assert shown_window(appointment) in page.locator("main").inner_text()
    assert_no_horizontal_scrolling(page)

    # (c) The newest mail (the change notice) has the only link that still works: cancel with a reason.
    assert len(mailoutbox) == 3
    newest_link = link_in(mailoutbox[2], live_server.url)
    assert newest_link != confirmation_link
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(newest_link)

    assert_token_left_the_url(page, live_server)
    page.get_by_role("link", name=_("Cancel my appointment")).click()
    # A cancel asks once more, showing the visit: nothing has changed yet.
    assert page.get_by_role("heading", level=1).inner_text() == _("Cancel your appointment?")
    assert shown_window(appointment) in page.get_by_role("region", name=_("Your appointment")).inner_text()
    assert Appointment.objects.get().status == AppointmentStatus.SCHEDULED
    page.get_by_label(_("Reason (optional)")).fill("Heizung wurde schon gewartet")
    submit(page, page.get_by_role("button", name=_("Yes, cancel my appointment")), live_server)

    appointment.refresh_from_db()
    assert (appointment.status, appointment.version) == (AppointmentStatus.CANCELLED, 2)
    assert "Heizung wurde schon gewartet" in appointment.cancel_reason
    assert page.get_by_role("heading", level=1).inner_text() == _("Your appointment is cancelled")
    assert shown_window(appointment, weekday=False) in page.locator("main").inner_text()
    assert len(mailoutbox) == 4

    # Every link the customer was sent is dead now, and says so kindly.
    for link in (confirmation_link, newest_link):
        response = page.goto(link)
        assert response.status == 404
        assert page.get_by_role("heading", level=1).inner_text() == _("This link is no longer valid")
    assert Appointment.objects.get().status == AppointmentStatus.CANCELLED
