"""Through a real browser on a phone-sized screen: a technician signs in, finds nobody home and gets the card.

Every step is a click or a keystroke in Chromium at 375×812; the location comes
from the browser's geolocation, granted for the site through the context.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.template.defaultfilters import time
from django.utils import timezone, translation
from django.utils.translation import gettext

from appointments.models import AppointmentStatus, VisitAttempt
from tests.conftest import inject_axe
from tests.factories import AppointmentFactory, CustomerFactory, TechnicianFactory, UserFactory, local_dt

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
PASSWORD = "van-keys-2026"
KLEVE = {"latitude": 51.789123, "longitude": 6.138655, "accuracy": 15}


def _(message: str) -> str:
    """What the page says: technicians see the office's language."""
    with translation.override(django_settings.LANGUAGE_CODE):
        return gettext(message)


def assert_fits_the_phone(page, axe_script):
    """No sideways scrolling at 375 px, and nothing axe-core finds."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"], f"{page.url} is {scroll_width}px wide on a {PHONE['width']}px phone"
    inject_axe(page, axe_script)
    violations = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    assert not violations, f"axe-core on {page.url}:\n" + "\n".join(
        f"{violation['id']}: {violation['help']} {[node['target'] for node in violation['nodes']]}"
        for violation in violations
    )


def submit(page, button) -> None:
    """Click a form's button; the POST must redirect (POST/redirect/GET)."""
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        button.click()
    response = posted.value
    assert response.status == 302, f"POST {response.url} answered {response.status}: {response.text()[:500]}"
    page.wait_for_load_state()


def test_technician_marks_a_visit_not_home_and_downloads_the_card(axe_script, live_server, page):
    user = UserFactory(username="jan")
    user.set_password(PASSWORD)
    user.save()
    technician = TechnicianFactory(user=user, display_name="Jan Verhaag")
    # A window that has opened today: "not home" is offered from the window's start.
    window_start = max(local_dt(0, 0), timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=5))
    visit = AppointmentFactory(
        technician=technician,
        customer=CustomerFactory(full_name="Anna Schmitz", phone="+4928211234567"),
        window_start=window_start,
        window_end=window_start + timedelta(hours=4),
        site_street="Sehr lange Straße mit einem Namen, der auf kein Telefon passt 123",
        notes="Hund im Garten. Bitte an der Seitentür klingeln.",
    )
    page.set_viewport_size(PHONE)
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation(KLEVE)

    # Signing in from the day's address.
    page.goto(f"{live_server.url}/technician/")
    assert "/technician/login/" in page.url
    assert_fits_the_phone(page, axe_script)
    page.get_by_label(_("username").capitalize()).fill("jan")
    page.get_by_label(_("Password")).fill(PASSWORD)
    submit(page, page.get_by_role("button", name=_("Sign in")))
    assert page.url == f"{live_server.url}/technician/"

    # My day: the visit, with its address for the maps app and the phone number.
    assert_fits_the_phone(page, axe_script)
    assert (
        page.get_by_role("link", name=visit.site_address)
        .get_attribute("href")
        .startswith("https://www.google.com/maps/search/?api=1&query=")
    )
    assert page.get_by_role("link", name=visit.customer.phone.as_international).get_attribute("href") == (
        "tel:+4928211234567"
    )
    page.get_by_role("link", name=f"{_('Open visit')} Anna Schmitz").click()

    # The visit: nobody opens.
    page.wait_for_url(f"{live_server.url}/technician/visit/{visit.pk}/")
    assert_fits_the_phone(page, axe_script)
    page.get_by_role("link", name=_("Not home")).click()
    page.wait_for_url(f"{live_server.url}/technician/visit/{visit.pk}/not-home/")
    assert_fits_the_phone(page, axe_script)
    page.get_by_label(_("How long did you wait? (minutes)")).fill("15")
    page.get_by_label(_("Card left at the door")).check()
    page.get_by_role("button", name=_("Add my location (optional)")).click()
    page.get_by_role("status").filter(has_text="15 m").wait_for()
    submit(page, page.get_by_role("button", name=_("Record: nobody home")))

    # The confirmation, with the server's time.
    page.wait_for_url(f"{live_server.url}/technician/visit/{visit.pk}/")
    attempt = VisitAttempt.objects.get(appointment=visit)
    assert abs(timezone.now() - attempt.at).total_seconds() < 60
    assert (attempt.waited_minutes, attempt.card_left) == (15, True)
    assert (attempt.latitude, attempt.longitude, attempt.location_accuracy_m) == (
        Decimal("51.789123"),
        Decimal("6.138655"),
        15,
    )
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.MISSED
    recorded = _("Recorded at %(time)s.") % {"time": time(timezone.localtime(attempt.at), "H:i")}
    assert page.get_by_role("status").filter(has_text=recorded).is_visible()
    assert_fits_the_phone(page, axe_script)

    # The card for the door (the PDF view in views_cards.py).
    with page.expect_download() as downloading:
        page.get_by_role("link", name=_("Download card")).click()
    download = downloading.value
    assert download.failure() is None, f"card download failed: {download.failure()}"
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as card:
        assert card.read(5) == b"%PDF-"


def test_a_visits_window_stays_on_one_line_next_to_a_long_status(live_server, page):
    user = UserFactory(username="jan")
    user.set_password(PASSWORD)
    user.save()
    technician = TechnicianFactory(user=user)
    for hour, status in ((6, AppointmentStatus.NEW_TIME), (9, AppointmentStatus.SCHEDULED)):
        AppointmentFactory(
            technician=technician, window_start=local_dt(0, hour), window_end=local_dt(0, hour + 1), status=status
        )
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/technician/login/")
    page.get_by_label(_("username").capitalize()).fill("jan")
    page.get_by_label(_("Password")).fill(PASSWORD)
    submit(page, page.get_by_role("button", name=_("Sign in")))

    # "06:00–" above "07:00" reads as two times; the badge gives way instead.
    heights = page.locator("[data-window]").evaluate_all(
        "spans => spans.map(span =>"
        " span.getBoundingClientRect().height / parseFloat(getComputedStyle(span).lineHeight))"
    )
    assert len(heights) == 2
    assert all(lines < 1.5 for lines in heights), heights
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_technician_signs_a_lost_phone_out_from_the_new_one(axe_script, live_server, page, browser):
    user = UserFactory(username="jan")
    user.set_password(PASSWORD)
    user.save()
    technician = TechnicianFactory(user=user, display_name="Jan Verhaag")
    AppointmentFactory(technician=technician, window_start=local_dt(1, 8), window_end=local_dt(1, 10))
    lost_context = browser.new_context(viewport=PHONE)
    lost_phone = lost_context.new_page()
    page.set_viewport_size(PHONE)
    for phone in (lost_phone, page):
        phone.goto(f"{live_server.url}/technician/login/")
        phone.get_by_label(_("username").capitalize()).fill("jan")
        phone.get_by_label(_("Password")).fill(PASSWORD)
        submit(phone, phone.get_by_role("button", name=_("Sign in")))

    # At the foot of My day, below the visits.
    section = page.get_by_role("region", name=_("Phone lost or stolen?"))
    section.scroll_into_view_if_needed()
    assert_fits_the_phone(page, axe_script)
    submit(page, section.get_by_role("button", name=_("Sign out on all other devices")))

    assert page.url == f"{live_server.url}/technician/"
    message = _("You are signed out on all other devices. You stay signed in on this one.")
    assert page.get_by_role("status").filter(has_text=message).is_visible()
    assert_fits_the_phone(page, axe_script)
    lost_phone.reload()
    assert "/technician/login/" in lost_phone.url
    page.reload()
    assert page.url == f"{live_server.url}/technician/"
    lost_context.close()
