"""Every state of the customer's self-service pages is valid HTML (W3C Nu checker) and passes axe-core.

The pages are what a customer on any phone sees from a mail link, so both checks
run on every state: choosing a window, managing a booked visit, a window taken
meanwhile (409), a form error (400), another week, the cancel's confirming step,
booked/moved/cancelled, a dead link (404), too many attempts (429) and a refused form (403).

The checkers come from npm (package.json; `npm ci`): without node_modules, or
without Java for the Nu checker, these tests skip, and fail under REQUIRE_SERVICES=1.
"""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from appointments.links import appointment_token, card_code, invitation_token
from appointments.services import appointment_cancel, appointment_schedule
from appointments.services.booking import appointment_request_new_time, booking_invite
from tests.conftest import ROOT, describe_vnu, inject_axe, run_vnu
from tests.factories import (
    CustomerFactory,
    FirmFactory,
    OfficeUserFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    local_dt,
)

CSS = ROOT / "static" / "selfservice.css"
LANGUAGE = "de"
PHONE_WIDTH = 375

PAGE = reverse("selfservice:page")
BOOK = reverse("selfservice:book")
CANCEL = reverse("selfservice:cancel")
WEEK = reverse("selfservice:week")
DONE = reverse("selfservice:done")
DEAD_LINK = reverse("selfservice:open", args=["no-longer-valid"])

# state: the HTTP status the customer gets
STATES = {
    "invitation": 200,
    "invitation-form-error": 400,
    "next-week": 200,
    "conflict": 409,
    "booked": 200,
    "appointment": 200,
    "cancel-confirmation": 200,
    "moved": 200,
    "cancelled": 200,
    "invalid-link": 404,
    "too-many": 429,
    "csrf-failure": 403,
    # Each of these on a visit or an invitation of its own (the states above move and cancel theirs).
    "too-late": 200,
    "new-time": 200,
    "cookies-needed": 400,
    "invitation-used-just-now": 409,
    "invitation-reopened-after-cancel": 200,
    "card-still-booked": 200,
}


def _(message: str) -> str:
    with translation.override(LANGUAGE):
        return gettext(message)


@pytest.fixture
def world(db):
    FirmFactory()
    office = OfficeUserFactory(first_name="Sandra", last_name="Brinkmann")
    service_type = ServiceTypeFactory(name_de="Heizungswartung")
    technician = TechnicianFactory(service_types=[service_type], display_name="Jan Verhaag")
    customer = CustomerFactory(
        full_name="Anna Schmitz", responsible=office, preferred_language=LANGUAGE, email="anna@example.com"
    )
    invitation = booking_invite(customer=customer, service_type=service_type, actor=office, note="Wartung ist fällig.")
    appointment = appointment_schedule(
        customer=CustomerFactory(full_name="Bert Brandt", responsible=office, preferred_language=LANGUAGE),
        service_type=service_type,
        technician=technician,
        window_start=local_dt(3, 8),
        actor=office,
    )
    return {
        "office": office,
        "service_type": service_type,
        "technician": technician,
        "invitation": invitation,
        "appointment": appointment,
    }


def take_window(world, window_start) -> None:
    """Someone else books this window first."""
    appointment_schedule(
        customer=CustomerFactory(responsible=world["office"]),
        service_type=world["service_type"],
        technician=world["technician"],
        window_start=window_start,
        actor=world["office"],
    )


def fresh_visit(world, day: int = 4):
    return appointment_schedule(
        customer=CustomerFactory(responsible=world["office"], preferred_language=LANGUAGE),
        service_type=world["service_type"],
        technician=world["technician"],
        window_start=local_dt(day, 8),
        actor=world["office"],
    )


def fresh_invitation(world):
    customer = CustomerFactory(responsible=world["office"], preferred_language=LANGUAGE, email="cara@example.com")
    return booking_invite(customer=customer, service_type=world["service_type"], actor=world["office"])


def prepare(state, world, settings) -> str:
    """The server-side facts a later state needs; the path the customer then opens."""
    if state == "too-late":
        settings.BOOKING_CHANGE_CUTOFF_HOURS = 24 * 30  # every visit is inside the cut-off
        return reverse("selfservice:open", args=[appointment_token(fresh_visit(world))])
    if state == "new-time":
        visit = appointment_request_new_time(
            appointment=fresh_visit(world, 5), actor=world["office"], reason="Unser Techniker ist krank."
        )
        return reverse("selfservice:open", args=[appointment_token(visit)])
    if state == "invitation-reopened-after-cancel":
        invitation = fresh_invitation(world)
        client = Client()
        client.get(reverse("selfservice:open", args=[invitation_token(invitation)]))
        client.post(BOOK, {"window": first_window(client)})
        invitation.refresh_from_db()
        appointment_cancel(appointment=invitation.appointment, reason="Am Telefon abgesagt", actor=world["office"])
        return reverse("selfservice:open", args=[invitation_token(invitation)])
    if state == "card-still-booked":
        return reverse("card", args=[card_code(fresh_visit(world, 6))])
    raise AssertionError(state)


# The Nu HTML checker, on pages rendered by the test client


def link_key(response) -> str:
    return re.search(r'name="link"\s+value="([^"]+)"', response.content.decode()).group(1)


def first_window(client, index: int = 0) -> str:
    return re.findall(r'name="window" value="([^"]+)"', client.get(PAGE).content.decode())[index]


def render_state(client, world, settings, state):
    world["appointment"].refresh_from_db()  # moved by an earlier state: its link changed
    invitation_link = reverse("selfservice:open", args=[invitation_token(world["invitation"])])
    appointment_link = reverse("selfservice:open", args=[appointment_token(world["appointment"])])
    if state == "invitation":
        client.get(invitation_link)
        return client.get(PAGE)
    if state == "invitation-form-error":
        client.get(invitation_link)
        return client.post(BOOK, {"window": "", "note": "x" * 600})
    if state == "next-week":
        client.get(invitation_link)
        next_week = re.search(r'name="go" value="([^"]+)"', client.get(PAGE).content.decode()).group(1)
        return client.get(client.post(WEEK, {"go": next_week, "note": "Bitte klingeln"})["Location"])
    if state == "conflict":
        client.get(invitation_link)
        window = first_window(client)
        take_window(world, timezone.datetime.fromisoformat(window))
        return client.post(BOOK, {"window": window})
    if state == "booked":
        client.get(invitation_link)
        client.post(BOOK, {"window": first_window(client), "note": "Bitte klingeln"})
        return client.get(DONE)
    if state == "appointment":
        client.get(appointment_link)
        return client.get(PAGE)
    if state == "cancel-confirmation":
        client.get(appointment_link)
        return client.get(CANCEL, {"link": link_key(client.get(PAGE))})
    if state == "moved":
        client.get(appointment_link)
        client.post(BOOK, {"window": first_window(client)})
        return client.get(DONE)
    if state == "cancelled":
        client.get(appointment_link)
        client.post(CANCEL, {"reason": "Schon erledigt"})
        return client.get(DONE)
    if state == "invalid-link":
        return client.get(DEAD_LINK)
    if state == "too-many":
        settings.RATELIMIT_BAD_LINKS = 0
        return client.get(DEAD_LINK)
    if state == "csrf-failure":
        client.get(invitation_link)
        refusing = Client(enforce_csrf_checks=True)
        refusing.cookies = client.cookies  # the customer's session, with a form from a stale page
        return refusing.post(BOOK, {"window": "2026-12-01T08:00:00+01:00"})
    if state == "cookies-needed":
        entered = client.get(reverse("selfservice:open", args=[appointment_token(fresh_visit(world, 7))]))
        client.cookies.clear()  # the browser refused the session cookie
        return client.get(entered["Location"])
    if state == "invitation-used-just-now":
        link = reverse("selfservice:open", args=[invitation_token(fresh_invitation(world))])
        client.get(link)
        window = first_window(client)
        other = Client()  # someone else in the household, with the same mail
        other.get(link)
        other.post(BOOK, {"window": first_window(other, 1)})
        return client.post(BOOK, {"window": window})
    if state in ("too-late", "new-time", "invitation-reopened-after-cancel", "card-still-booked"):
        return client.get(prepare(state, world, settings), follow=True)
    raise AssertionError(state)


@pytest.mark.django_db
def test_every_page_state_is_valid_html(vnu_jar, client, world, settings, tmp_path):
    files = {}
    bad_link_limit = settings.RATELIMIT_BAD_LINKS
    cutoff = settings.BOOKING_CHANGE_CUTOFF_HOURS
    for state, status in STATES.items():
        client.cookies.clear()
        response = render_state(client, world, settings, state)
        assert response.status_code == status, (state, response.status_code)
        assert response["Content-Type"].startswith("text/html")
        path = tmp_path / f"{state}.html"
        path.write_bytes(response.content)
        files[path.name] = state
        settings.RATELIMIT_BAD_LINKS = bad_link_limit  # "too-many" lowered it
        settings.BOOKING_CHANGE_CUTOFF_HOURS = cutoff  # "too-late" raised it

    # One JVM for all pages (each start costs about 3 s); the CSS is checked along with them.
    messages = run_vnu(vnu_jar, "--also-check-css", *[str(path) for path in sorted(tmp_path.iterdir())], str(CSS))

    problems = {}
    for message in messages:
        url = message.get("url", "?")
        name = files.get(url.rsplit("/", 1)[-1], url)
        problems.setdefault(name, []).append(message)
    for name, found in problems.items():
        for message in found:
            if message["type"] == "info":  # warnings are "info" with subType "warning": shown, allowed
                print(f"Nu checker, {name}: {describe_vnu(message)}")
    errors = [  # "error", and "non-document-error" (the checker could not read a file)
        f"{name}: {describe_vnu(message)}"
        for name, found in problems.items()
        for message in found
        if message["type"] != "info"
    ]
    assert not errors, "Nu HTML checker errors:\n" + "\n".join(errors)


# axe-core in Chromium, on pages served by live_server and reached by clicking


def submit(page, button, *, status: int) -> int:
    """Click a form's button; the POST must answer `status`. Returns the status of the page then shown."""
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        button.click()
    response = posted.value
    if response.status != status:
        body = "" if 300 <= response.status < 400 else response.text()[:500]
        raise AssertionError(f"POST {response.url} answered {response.status}, not {status}: {body}")
    page.wait_for_load_state()
    if 300 <= response.status < 400:
        # The page the redirect led to, as the customer sees it (a GET: it changes nothing).
        return page.goto(page.url).status
    return response.status


def drive_to(state, page, live_server, world, settings) -> int:
    """Get the browser to `state` the way a customer would; the status of the page shown."""
    invitation_link = live_server.url + reverse("selfservice:open", args=[invitation_token(world["invitation"])])
    appointment_link = live_server.url + reverse("selfservice:open", args=[appointment_token(world["appointment"])])
    windows = page.locator("label.window-option")
    if state in ("invitation", "invitation-form-error", "next-week", "conflict", "booked"):
        response = page.goto(invitation_link)
        if state == "invitation":
            return response.status
        if state == "next-week":
            page.get_by_label(_("Note for the technician (optional)")).fill("Bitte klingeln")
            return submit(page, page.get_by_role("button", name=_("Next week")).first, status=302)
        if state == "invitation-form-error":
            # The browser itself refuses an empty choice (required): send it anyway, as an old browser would.
            page.locator("form[action$='/book/']").evaluate("form => form.noValidate = true")
            return submit(page, page.get_by_role("button", name=_("Book this window")), status=400)
        if state == "conflict":
            take_window(world, timezone.datetime.fromisoformat(windows.first.locator("input").get_attribute("value")))
            windows.first.click()
            return submit(page, page.get_by_role("button", name=_("Book this window")), status=409)
        windows.first.click()
        return submit(page, page.get_by_role("button", name=_("Book this window")), status=302)
    if state in ("appointment", "cancel-confirmation", "moved", "cancelled", "csrf-failure"):
        response = page.goto(appointment_link)
        if state == "appointment":
            return response.status
        if state == "csrf-failure":
            page.context.clear_cookies()
            windows.first.click()
            return submit(page, page.get_by_role("button", name=_("Move my appointment")), status=403)
        if state == "moved":
            windows.first.click()
            return submit(page, page.get_by_role("button", name=_("Move my appointment")), status=302)
        # Cancelling asks once more: the button leads to a page that shows the visit and the reason box.
        with page.expect_navigation() as confirmation:
            page.get_by_role("link", name=_("Cancel my appointment")).click()
        if state == "cancel-confirmation":
            return confirmation.value.status
        page.get_by_label(_("Reason (optional)")).fill("Schon erledigt")
        return submit(page, page.get_by_role("button", name=_("Yes, cancel my appointment")), status=302)
    if state in ("too-late", "new-time", "invitation-reopened-after-cancel", "card-still-booked"):
        return page.goto(live_server.url + prepare(state, world, settings)).status
    if state == "cookies-needed":
        link = live_server.url + reverse("selfservice:open", args=[appointment_token(fresh_visit(world, 7))])
        page.goto(link)
        page.context.clear_cookies()  # as if the browser had refused the session cookie
        return page.goto(page.url).status
    if state == "invitation-used-just-now":
        link = live_server.url + reverse("selfservice:open", args=[invitation_token(fresh_invitation(world))])
        page.goto(link)
        other = Client()
        other.get(link.removeprefix(live_server.url))
        other.post(BOOK, {"window": windows.nth(1).locator("input").get_attribute("value")})
        windows.first.click()
        return submit(page, page.get_by_role("button", name=_("Book this window")), status=409)
    if state == "too-many":
        settings.RATELIMIT_BAD_LINKS = 0
    return page.goto(live_server.url + DEAD_LINK).status


def format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} – {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:160]}")
            lines.append("      " + node.get("failureSummary", "").replace("\n", "\n      "))
    return "\n".join(lines)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("state", list(STATES))
def test_every_page_state_passes_axe(axe_script, state, live_server, page, world, settings):
    settings.SITE_URL = live_server.url
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 900})

    assert drive_to(state, page, live_server, world, settings) == STATES[state]
    # A link that leads to no page of its own (a visit that has ended) shows its answer in place.
    if state not in ("invalid-link", "too-many", "csrf-failure", "cookies-needed", "invitation-reopened-after-cancel"):
        assert "/l/" not in page.url, page.url  # the token left the address bar
    inject_axe(page, axe_script)

    failures = []
    for width in (PHONE_WIDTH, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        for check in result["incomplete"]:  # e.g. the language <select>: its arrow is a background image
            targets = [", ".join(map(str, node["target"])) for node in check["nodes"]]
            print(f"axe-core on {state} at {width}px, to review by hand: {check['id']} on {targets}")
        if result["violations"]:
            failures.append(f"axe-core on {state} at {width}px:\n{format_violations(result['violations'])}")
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            failures.append(f"{state} scrolls sideways at {width}px: {scroll_width}px wide")
    assert not failures, "\n".join(failures)


# Touch targets at 375 px: every link, button and field a thumb taps is at least 44×44 px (WCAG 2.5.5)

MIN_TARGET = 44
SMALL_TARGETS = """(min) => {
  const small = [];
  for (const element of document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    // A window tile's radio button is invisible: its label is what the thumb taps.
    const target = element.type === 'radio' && element.closest('label') ? element.closest('label') : element;
    const box = target.getBoundingClientRect();
    if (box.width <= 1 && box.height <= 1) continue;  // visually hidden until focused (the skip link)
    if (box.width < min || box.height < min) {
      small.push(`${target.outerHTML.slice(0, 120)}: ${Math.round(box.width)}×${Math.round(box.height)} px`);
    }
  }
  return small;
}"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "state",
    [
        "invitation",
        "next-week",
        "appointment",
        "cancel-confirmation",
        "booked",
        "invalid-link",
        "csrf-failure",
        "too-late",
        "new-time",
        "cookies-needed",
        "invitation-used-just-now",
        "invitation-reopened-after-cancel",
        "card-still-booked",
    ],
)
def test_every_touch_target_is_at_least_44_px_on_a_phone(state, live_server, page, world, settings):
    settings.SITE_URL = live_server.url
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 900})
    drive_to(state, page, live_server, world, settings)

    small = page.evaluate(SMALL_TARGETS, MIN_TARGET)
    page.keyboard.press("Tab")  # the skip link shows on focus
    skip_link = page.locator("a.visually-hidden-focusable").bounding_box()

    assert not small, f"touch targets under {MIN_TARGET}px on {state}:\n" + "\n".join(small)
    assert skip_link["height"] >= MIN_TARGET, skip_link
