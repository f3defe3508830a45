"""Through Chromium: the Content-Security-Policy and Permissions-Policy block nothing a page needs.

Every page below is used as a person uses it (the admin's widgets opened, a visit dragged on the board,
the technician's location added) in a browser context that records each `securitypolicyviolation` event,
every console message about either policy and every uncaught script error; none may appear.
"""

import threading
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from appointments.links import appointment_token, invitation_token
from tests.accounts.signin import office_sign_in
from tests.config.office_scene import LOGIN, office_scene
from tests.dispatch.test_board_browser import accepted_dialogs, drag
from tests.factories import AppointmentFactory, CustomerFactory, FirmFactory, TechnicianFactory, UserFactory, local_dt

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPORT_VIOLATIONS = """
window.seenViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const text = `${event.effectiveDirective} refused ${event.blockedURI || "inline"} on ${document.location.pathname}` +
    ` (${event.sourceFile || "?"}:${event.lineNumber})`;
  window.seenViolations.push(text);
  window.reportViolation(text);
}, true);
"""
POLICY_WORDS = ("Content Security Policy", "Content-Security-Policy", "Permissions-Policy", "Permissions policy")


class Watched:
    """A browser context whose policy violations and script errors end up in `problems`."""

    def __init__(self, browser, **options):
        self.context = browser.new_context(**options)
        self.problems: list[str] = []
        self.context.expose_binding("reportViolation", lambda source, text: self.problems.append(text))
        self.context.add_init_script(REPORT_VIOLATIONS)
        self.context.on("console", self._console)
        self.context.on("weberror", lambda error: self.problems.append(f"script error: {error.error}"))
        self.page = self.context.new_page()

    def _console(self, message):
        if any(word in message.text for word in POLICY_WORDS):
            self.problems.append(f"console {message.type} at {message.location.get('url')}: {message.text}")

    def assert_clean(self):
        assert not self.problems, "\n".join(self.problems)

    def visit(self, url: str):
        response = self.page.goto(url)
        assert response.status == 200, f"{url} answered {response.status}"
        return response


def office(browser, live_server) -> Watched:
    watched = Watched(browser, viewport={"width": 1280, "height": 900}, locale="de")
    watched.visit(f"{live_server.url}{reverse('admin:login')}")
    office_sign_in(watched.page, username=LOGIN[0], password=LOGIN[1])
    watched.page.wait_for_url(f"{live_server.url}{reverse('admin:index')}")
    return watched


def use_widgets(page) -> None:
    """Open the calendar and the clock of the first date/time field, and search in the first autocomplete."""
    if page.locator("a[id^=calendarlink]").count():
        page.locator("a[id^=calendarlink]").first.click()
        page.locator(".calendarbox").first.wait_for(state="visible")
        page.keyboard.press("Escape")
    if page.locator("a[id^=clocklink]").count():
        page.locator("a[id^=clocklink]").first.click()
        page.locator(".clockbox").first.wait_for(state="visible")
        page.keyboard.press("Escape")
    if page.locator(".select2-selection").count():
        page.locator(".select2-selection").first.click()
        page.locator(".select2-search__field").fill("a")
        page.locator(".select2-results__option").first.wait_for()
        page.keyboard.press("Escape")


def test_the_policy_blocks_an_inline_script_and_the_watch_sees_it(browser, live_server):
    FirmFactory()
    watched = Watched(browser)
    watched.visit(f"{live_server.url}/request/")

    watched.page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';"
        " document.body.append(s); }"
    )

    seen = watched.page.wait_for_function("() => window.seenViolations.length && window.seenViolations").json_value()
    assert watched.page.evaluate("() => window.ran") is None
    assert any("script-src-elem refused inline" in violation for violation in seen), seen


def test_the_office_admin_board_and_desk_run_under_the_policy(browser, live_server):
    scene = office_scene()
    watched = office(browser, live_server)
    page = watched.page

    watched.visit(f"{live_server.url}{reverse('admin:index')}")
    technician = scene.appointment.technician
    watched.visit(f"{live_server.url}{reverse('admin:appointments_technician_change', args=[technician.pk])}")
    rows = page.locator("[class*='dynamic-']").count()
    page.locator(".add-row a").first.click()
    page.wait_for_function(f"() => document.querySelectorAll(\"[class*='dynamic-']\").length > {rows}")
    use_widgets(page)
    watched.visit(f"{live_server.url}{reverse('admin:appointments_appointment_change', args=[scene.appointment.pk])}")
    use_widgets(page)
    watched.visit(f"{live_server.url}{reverse('admin:journal_journalentry_add')}?customer={scene.customer.pk}")
    use_widgets(page)
    watched.visit(f"{live_server.url}{reverse('admin:customers_customer_change', args=[scene.customer.pk])}")
    watched.visit(
        f"{live_server.url}{reverse('admin:notifications_outboxmessage_change', args=[scene.superseded.pk])}"
    )
    page.locator("iframe.mail-preview").wait_for()
    watched.visit(f"{live_server.url}{reverse('admin:notifications_outboxmessage_changelist')}")

    day = timezone.localtime(scene.appointment.window_start).date()
    watched.visit(f"{live_server.url}{reverse('dispatch:day')}?day={day.isoformat()}")
    accepted_dialogs(page)
    block = page.locator(f"#visit-{scene.appointment.pk}").bounding_box()
    drag(page, f"#visit-{scene.appointment.pk}", block["x"] + 60, block["y"] + block["height"] / 2)
    page.wait_for_selector(".messagelist")
    watched.visit(f"{live_server.url}{reverse('dispatch:week')}?week={day.isoformat()}")
    watched.visit(f"{live_server.url}{reverse('dispatch:find')}")
    watched.visit(f"{live_server.url}{reverse('desk:page')}")

    watched.assert_clean()


def test_the_technicians_pages_run_under_the_policy_and_only_not_home_may_locate(browser, live_server):
    user = UserFactory(username="jan")
    user.set_password("van-keys-2026")
    user.save()
    technician = TechnicianFactory(user=user, display_name="Jan Verhaag")
    window_start = max(local_dt(0, 0), timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=5))
    visit = AppointmentFactory(
        technician=technician,
        customer=CustomerFactory(full_name="Anna Schmitz"),
        window_start=window_start,
        window_end=window_start + timedelta(hours=4),
    )
    watched = Watched(browser, viewport={"width": 375, "height": 812})
    watched.context.grant_permissions(["geolocation"], origin=live_server.url)
    watched.context.set_geolocation({"latitude": 51.789123, "longitude": 6.138655, "accuracy": 15})
    page = watched.page

    watched.visit(f"{live_server.url}/technician/login/")
    page.fill("#id_username", "jan")
    page.fill("#id_password", "van-keys-2026")
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url(f"{live_server.url}/technician/")
    watched.visit(f"{live_server.url}/technician/visit/{visit.pk}/")
    watched.visit(f"{live_server.url}/technician/visit/{visit.pk}/not-home/")
    page.click("#locate")
    page.wait_for_function("() => document.querySelector('[name=latitude]').value !== ''")

    assert page.locator("[name=latitude]").input_value() == "51.789123"
    watched.assert_clean()

    # Anywhere else the policy says no, whatever the browser would allow the site.
    watched.visit(f"{live_server.url}/technician/visit/{visit.pk}/")
    code = page.evaluate(
        "() => new Promise(done => navigator.geolocation.getCurrentPosition(() => done(0), e => done(e.code)))"
    )
    assert code == 1  # PERMISSION_DENIED


def test_the_customers_pages_run_under_the_policy_and_the_request_page_may_be_framed(browser, live_server):
    scene = office_scene()
    watched = Watched(browser, viewport={"width": 375, "height": 812}, locale="nl")
    page = watched.page

    watched.visit(f"{live_server.url}{reverse('selfservice:open', args=[invitation_token(scene.invitation)])}")
    watched.visit(f"{live_server.url}{reverse('selfservice:open', args=[appointment_token(scene.appointment)])}")
    watched.visit(f"{live_server.url}/request/")
    watched.assert_clean()

    with firm_site_framing(f"{live_server.url}/request/") as firm_site:
        with override_settings(REQUEST_FRAME_ORIGINS=[firm_site]):
            page.goto(firm_site)
            page.frame_locator("iframe").locator("form textarea").first.wait_for()
        watched.assert_clean()

        # A site that was not named may not frame it.
        with override_settings(REQUEST_FRAME_ORIGINS=["https://www.other-firm.example"]):
            with page.expect_console_message(lambda message: "frame-ancestors" in message.text) as refused:
                page.goto(firm_site)
        assert "https://www.other-firm.example" in refused.value.text


@contextmanager
def firm_site_framing(url: str):
    """The firm's own site, a page that frames `url`: on this machine (Chromium lets a public site's page frame
    a local address only with the person's consent), at 127.0.0.1 while the test server is at localhost."""
    page = f'<!DOCTYPE html><title>Firm</title><iframe src="{url}"></iframe>'.encode()

    class FirmPage(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), FirmPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
