"""Customer self-service from emailed links: no account, a phone or a desktop, no JavaScript needed.

The token only appears in the first GET: it moves into the session and the
browser is redirected to a URL without it (that response says
Referrer-Policy: no-referrer; the pages say same-origin). Mail scanners open links, so a GET never changes
anything; only the POSTs act, with CSRF.
"""

import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from appointments import plan_inputs
from appointments.availability import Day, FreeWindows, booking_days, without_given_up_window
from appointments.closed_days import firm_region
from appointments.cutoff import changeable_online, deadline_text
from appointments.formatting import format_window
from appointments.links import (
    absolute_link,
    appointment_from_card_code,
    appointment_from_token,
    appointment_named_by_token,
    appointment_on_the_way_from_token,
    appointment_token,
    invitation_from_token,
    missed_appointment_from_token,
    used_invitation_from_token,
)
from appointments.models import ACTIVE_STATUSES, AppointmentStatus, BookingInvitation
from appointments.services import AppointmentError
from appointments.services.booking import (
    NOTE_MAX_LENGTH,
    appointment_book_online,
    appointment_cancel_online,
    appointment_move_online,
)
from customers.models import Firm
from customers.selectors import responsible_contact
from notifications.calendar import METHOD_PUBLISH, render_ics
from selfservice.forms import CancelOnlineForm, WindowForm
from selfservice.ratelimit import bad_link_limited, limited

# Every link opened in this browser, by the key its page's forms post back, latest last: a customer
# with two visits may have both pages open in two tabs, and each form must act on its own page's visit.
LINKS_KEY = "doorstep_links"
LINKS_KEPT = 10
RESULT_KEY = "doorstep_result"
LANGUAGE_KEY = "doorstep_language"
# Added to the redirect after a link was opened: the customer's language (not secret, never the token).
# A browser that refuses cookies arrives with it but without a session; the page then says so.
ENTERED_LANGUAGE_PARAM = "lang"
# ...and when (Unix seconds): arriving without a session cookie minutes later means the session ended, not
# that cookies are refused.
ENTERED_AT_PARAM = "t"
ENTERED_RECENTLY_SECONDS = 120
# The note typed before switching to another week of windows: {"link": key, "note": text}.
NOTE_DRAFT_KEY = "doorstep_note_draft"
# On the result page: the form just posted came from a page that was out of date (another tab acted first).
OUTDATED_PARAM = "outdated"


def _private(response, referrer_policy: str = "same-origin"):
    # The token itself is only in the first URL (no-referrer there). The pages use
    # same-origin: with no-referrer browsers send "Origin: null" on our own form
    # POSTs, which the CSRF check refuses; other sites still get no referrer.
    response["Referrer-Policy"] = referrer_policy
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _contact(customer=None) -> dict:
    return _contact_of(plan_inputs.firm(), customer)


def _contact_of(firm, customer=None) -> dict:
    context = {"firm": firm}
    if customer is not None:
        context["responsible"] = responsible_contact(customer, firm=firm)
    return context


def _invalid(request):
    # A customer who came from one of their links before keeps their language here too.
    _activate_customer_language(request)
    return _private(render(request, "selfservice/invalid.html", _contact(), status=404))


def _unresolved(request, key: str = ""):
    """The session's link (or the posted page's, by `key`) leads to nothing: say why, as truly as we can."""
    links = request.session.get(LINKS_KEY) or {}
    link = links.get(key) if key else (list(links.values())[-1] if links else None)
    if link and link.get("kind") == "appointment":
        appointment = appointment_on_the_way_from_token(link.get("token", ""))
        if appointment is not None:
            _activate_customer_language(request, appointment.customer)
            return _too_late(request, appointment, status=409 if request.method == "POST" else 200)
    if link and link.get("kind") == "invitation":
        invitation = used_invitation_from_token(link.get("token", ""))
        if invitation is not None:
            # Two people with one invitation: the other one booked a moment ago.
            return _invitation_used(request, invitation, just_now=True)
    if not links:
        language = request.GET.get(ENTERED_LANGUAGE_PARAM, "")
        language = language if language in dict(settings.LANGUAGES) else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        if _just_entered(request) and settings.SESSION_COOKIE_NAME not in request.COOKIES:
            # Sent here by a valid link a moment ago, yet without the session cookie it was given.
            return _private(render(request, "selfservice/cookies_needed.html", _contact(), status=400))
        if language or settings.SESSION_COOKIE_NAME in request.COOKIES:
            # A page of ours, left open (or reloaded) after its session ended (CUSTOMER_SESSION_AGE):
            # the link in the mail still works, so say that rather than "this link is no longer valid".
            return _private(render(request, "selfservice/expired.html", _contact(), status=410))
    return _invalid(request)


def _just_entered(request) -> bool:
    """Redirected here from a valid link within the last minutes (not a bookmark, not a reload a day later)."""
    try:
        entered_at = int(request.GET.get(ENTERED_AT_PARAM, ""))
    except ValueError:
        return False
    return 0 <= time.time() - entered_at <= ENTERED_RECENTLY_SECONDS


def _invitation_used(request, invitation, *, just_now: bool = False):
    """What became of the visit an invitation booked: its page if it is still open, otherwise the truth."""
    appointment = invitation.appointment
    token = appointment_token(appointment)
    linkable = appointment_from_token(token) is not None
    if linkable and not just_now:
        return _enter(request, kind="appointment", token=token, obj=appointment)
    if linkable:
        # The button below leads to the visit's page, as the confirmation mail's link would.
        _remember_link(request, kind="appointment", token=token, obj=appointment)
    _activate_customer_language(request, appointment.customer)
    context = {
        **_contact(appointment.customer),
        "appointment": appointment,
        # A visit that has ended since says so, even to a form posted from an old tab.
        "just_now": just_now and linkable,
        "linkable": linkable,
        "rebooked": appointment.status == AppointmentStatus.MISSED,
        "window": format_window(appointment.window_start, appointment.window_end),
    }
    status = 409 if just_now and request.method == "POST" else 200
    return _private(render(request, "selfservice/invitation_used.html", context, status=status))


def _too_late(request, appointment, *, status: int = 200):
    """Past the cut-off: the visit as it stands, and the person to call."""
    context = {
        **_contact(appointment.customer),
        "appointment": appointment,
        "service": appointment.service_type.localized_name(translation.get_language()),
        "technician_first_name": appointment.technician.first_name if appointment.technician else "",
        "en_route": appointment.status == AppointmentStatus.EN_ROUTE,
        "deadline": deadline_text(appointment),
    }
    return _private(render(request, "selfservice/too_late.html", context, status=status))


def _too_many(request):
    _activate_customer_language(request)
    return _private(render(request, "selfservice/too_many.html", _contact(), status=429))


def _resolve(request):
    """What the session's latest link points at now: ("appointment", obj), ("invitation", obj) or (None, None)."""
    links = request.session.get(LINKS_KEY) or {}
    return _link_target(list(links.values())[-1]) if links else (None, None)


def _link_key(kind: str, obj) -> str:
    """Names the page a form was on. A visit's key carries its version: a page from before a move is outdated."""
    return f"appointment-{obj.pk}-{obj.version}" if kind == "appointment" else f"invitation-{obj.pk}"


def _remember_link(request, *, kind: str, token: str, obj) -> None:
    """Make this link the session's latest, and keep it for the forms of pages opened from it."""
    links = request.session.get(LINKS_KEY) or {}
    links.pop(_link_key(kind, obj), None)
    links[_link_key(kind, obj)] = {"kind": kind, "token": token}
    request.session[LINKS_KEY] = dict(list(links.items())[-LINKS_KEPT:])


def _forget_link(request, key: str) -> None:
    links = request.session.get(LINKS_KEY) or {}
    if links.pop(key, None) is not None:
        request.session[LINKS_KEY] = links


def _resolve_posted(request, key: str):
    """The target of the page a form was posted from; without a key, the latest link (older pages)."""
    if not key:
        return _resolve(request)
    link = (request.session.get(LINKS_KEY) or {}).get(key)
    if link is None:
        return None, None
    # The token carries the version the key names: once the visit moves, it resolves to nothing.
    return _link_target(link)


def _link_target(link: dict):
    if link.get("kind") == "appointment":
        appointment = appointment_from_token(link.get("token", ""))
        return ("appointment", appointment) if appointment else (None, None)
    if link.get("kind") == "invitation":
        invitation = invitation_from_token(link.get("token", ""))
        return ("invitation", invitation) if invitation else (None, None)
    return None, None


def _activate_customer_language(request, customer=None):
    # The customer's own language, unless they switched on the page.
    language = customer.preferred_language if customer is not None else request.session.get(LANGUAGE_KEY)
    if language and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        translation.activate(language)
        request.LANGUAGE_CODE = language


def _enter(request, *, kind: str, token: str, obj):
    """Keep the link's token in the session and send the browser to a URL without it."""
    _remember_link(request, kind=kind, token=token, obj=obj)
    request.session.pop(RESULT_KEY, None)
    # In the session, not the site-wide language cookie: a technician or office person who opens a
    # customer's link keeps their own language on their own pages.
    request.session[LANGUAGE_KEY] = obj.customer.preferred_language
    if not request.user.is_authenticated:
        # Mail scanners open every link; the mail's link opens the page again after a day.
        request.session.set_expiry(settings.CUSTOMER_SESSION_AGE)
    query = urlencode({ENTERED_LANGUAGE_PARAM: obj.customer.preferred_language, ENTERED_AT_PARAM: int(time.time())})
    return _private(redirect(f"{reverse('selfservice:page')}?{query}"), referrer_policy="no-referrer")


@require_GET
@never_cache
def open_link(request, token):
    # A link that verifies is always served: only wrong links count against the IP, which an
    # office or a mobile carrier shares with other customers. Verifying is an HMAC check, cheap.
    if (appointment := appointment_from_token(token)) is not None:
        return _enter(request, kind="appointment", token=token, obj=appointment)
    if (invitation := invitation_from_token(token)) is not None:
        return _enter(request, kind="invitation", token=token, obj=invitation)
    if (invitation := used_invitation_from_token(token)) is not None:
        return _invitation_used(request, invitation)
    if (appointment := appointment_on_the_way_from_token(token)) is not None:
        _activate_customer_language(request, appointment.customer)
        return _too_late(request, appointment)
    if (appointment := missed_appointment_from_token(token)) is not None:
        # The missed visit's mail, read after a new time was booked: what the card at the door says.
        return _visit_outcome(request, appointment)
    if bad_link_limited(request):
        return _too_many(request)
    return _invalid(request)


@require_GET
@never_cache
def card_open(request, code):
    """The short link printed on a card: wherever the visit stands now, days after the card was printed."""
    appointment = appointment_from_card_code(code)
    if appointment is None:
        # Like a mail link: a code that verifies is always served, only wrong ones are limited.
        return _too_many(request) if bad_link_limited(request) else _invalid(request)
    if appointment.awaits_rebooking():
        return _enter(request, kind="appointment", token=appointment_token(appointment), obj=appointment)
    # A printed card never expires and may lie in a mailbox or the street: once the visit is
    # rebooked, it shows no booking (nor cancels one). The new booking's mail has its own link.
    return _visit_outcome(request, appointment)


def _visit_outcome(request, appointment):
    """What became of a visit, for a card or a missed visit's mail that no longer opens its page."""
    _activate_customer_language(request, appointment.customer)
    rebooked = appointment.attempts.filter(rebooked_at__isnull=False).exists()
    context = {
        **_contact(appointment.customer),
        "appointment": appointment,
        "rebooked": rebooked,
        # A card from the day pack, left before the visit was (or could be) marked missed.
        "still_booked": not rebooked and appointment.status in ACTIVE_STATUSES,
        # On the visit's own day the mail's link no longer changes it (the cut-off): say whom to call.
        "changeable": changeable_online(appointment),
        "window": format_window(appointment.window_start, appointment.window_end),
    }
    return _private(render(request, "selfservice/card_closed.html", context))


@dataclass(frozen=True)
class _Tile:
    """A window as its radio tile shows it: the value the form posts back and the label. Worked out
    here once, not by template filters per tile: a week has up to 30 tiles (issue #11's page budget)."""

    value: str
    label: str


@dataclass(frozen=True)
class _ShownDay:
    day: date
    windows: list[_Tile]
    # The day's radio tiles as HTML (_tiles): one template variable instead of some ten nodes per tile.
    tiles: str = ""


def _tiles(windows: list[_Tile], *, name: str, chosen) -> str:
    """The markup _windows.html had per tile, for a whole day: a week is up to 30 tiles (issue #11)."""
    return format_html_join(
        "",
        '\n      <div class="col-6 col-md-3">\n        <label class="window-option">\n'
        '          <input type="radio" name="{}" value="{}"{} required>\n'
        "          <span>{}</span>\n        </label>\n      </div>\n      ",
        ((name, tile.value, mark_safe(" checked") if tile.value == chosen else "", tile.label) for tile in windows),
    )


def _shown(day: Day) -> _ShownDay:
    return _ShownDay(
        day.day,
        [
            _Tile(
                window.start.isoformat(),
                f"{timezone.localtime(window.start):%H:%M}–{timezone.localtime(window.end):%H:%M}",
            )
            for window in day.windows
        ],
    )


def _week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


class _Offer:
    """The windows this page may offer, in the booking horizon, worked out a day at a time when asked.

    Most pages show a week that has free windows: that week alone is loaded (one FreeWindows, a
    fixed handful of queries). Only a page that must look further (the first week with a free
    window, the next one after an empty week) loads the whole horizon, once: two loads at most,
    however far it has to look, and only the days looked at are worked out.
    """

    def __init__(self, kind, obj, first_day: date, last_day: date, *, region: tuple[str, str]):
        self.first_day, self.last_day = first_day, last_day
        self._arguments = {
            "service_type": obj.service_type,
            "technician": obj.technician if kind == "invitation" else None,
            "ignoring": obj if kind == "appointment" else None,
            # The page reads the firm for its footer anyway: the closed days need not read it again.
            "region": region,
        }
        # A visit being moved is not offered its own window again (a missed one may take it back),
        # nor, after the firm gave up its time, any window meeting that time.
        self._appointment = obj if kind == "appointment" else None
        self._hide_own_window = kind == "appointment" and obj.status != AppointmentStatus.MISSED
        self._week: FreeWindows | None = None
        self._horizon: FreeWindows | None = None

    def load_week(self, monday: date) -> None:
        self._week = FreeWindows(
            **self._arguments,
            first_day=max(monday, self.first_day),
            last_day=min(monday + timedelta(days=6), self.last_day),
        )

    def day(self, day: date) -> Day:
        source = self._week
        if source is None or not source.first_day <= day <= source.last_day:
            if self._horizon is None:
                self._horizon = FreeWindows(**self._arguments, first_day=self.first_day, last_day=self.last_day)
            source = self._horizon
        offered = source.day(day)
        if self._appointment is None:
            return offered
        windows = offered.windows
        if self._hide_own_window:
            windows = [window for window in windows if window.start != self._appointment.window_start]
        return without_given_up_window([Day(offered.day, windows)], self._appointment)[0]

    def free_days(self, first: date, last: date):
        """The days with a window in [first, last] (clipped to the horizon), in order, worked out as consumed."""
        day = max(first, self.first_day)
        while day <= min(last, self.last_day):
            offered = self.day(day)
            if offered.windows:
                yield offered
            day += timedelta(days=1)


def _booking_week(offer: _Offer, requested: str) -> dict:
    """One week (Monday to Sunday) of the horizon's free days; by default the week of the earliest free day.

    Six weeks of windows on one page are some 200 tiles and 10,000 px on a phone: the
    customer pages through weeks instead. A week outside the horizon, or no valid date, opens the default.
    Only what the page shows is worked out: the week itself and, for an empty week, the next free day.
    """
    first_day, last_day = offer.first_day, offer.last_day
    first_week, last_week = _week_of(first_day), _week_of(last_day)
    try:
        week = _week_of(date.fromisoformat(requested))
    except (TypeError, ValueError):
        week = None
    if week is None or not first_week <= week <= last_week:
        week = first_week
        offer.load_week(week)
        earliest = next(offer.free_days(first_day, last_day), None)
        if earliest is not None:
            week = _week_of(earliest.day)
    else:
        offer.load_week(week)
    sunday = week + timedelta(days=6)
    shown = list(offer.free_days(week, sunday))
    # Shown only in place of an empty week, so looked for only then.
    next_free_day = (
        None if shown else next((day.day for day in offer.free_days(sunday + timedelta(days=1), last_day)), None)
    )
    # Without a free day anywhere the page offers no form at all, only the phone.
    any_free_day = (
        bool(shown)
        or next_free_day is not None
        or next(offer.free_days(first_day, week - timedelta(days=1)), None) is not None
    )
    return {
        "monday": week,
        # The bookable part of the week, for its heading.
        "first": max(week, first_day),
        "last": min(sunday, last_day),
        "days": [_shown(day) for day in shown],
        "previous": week - timedelta(weeks=1) if week > first_week else None,
        "next": week + timedelta(weeks=1) if week < last_week else None,
        "next_free_day": next_free_day,
        "next_free_week": _week_of(next_free_day) if next_free_day else None,
        "any_free_day": any_free_day,
    }


def _note_draft(request, key: str) -> str:
    draft = request.session.get(NOTE_DRAFT_KEY) or {}
    return draft.get("note", "") if draft.get("link") == key else ""


def _submit_label(kind, obj) -> str:
    if kind != "appointment":
        return gettext("Book this window")
    if obj.status in (AppointmentStatus.MISSED, AppointmentStatus.NEW_TIME):
        return gettext("Book this new time")
    return gettext("Move my appointment")


def _page_context(request, kind, obj, *, form=None, conflict=False):
    customer = obj.customer
    service_type = obj.service_type
    technician = obj.technician
    first_day, last_day = booking_days()
    key = _link_key(kind, obj)
    # A redisplay after a POST shows the week the form was on; a GET the week asked for.
    requested_week = request.POST.get("week") if request.method == "POST" else request.GET.get("week")
    firm = plan_inputs.firm()
    week = _booking_week(_Offer(kind, obj, first_day, last_day, region=firm_region(firm)), requested_week or "")
    # The note the customer typed survives every redisplay: a form error, a conflict, another week.
    form = form or WindowForm(initial={"note": _note_draft(request, key)})
    field = form["window"]
    chosen = field.value()
    name = field.html_name
    week["days"] = [replace(day, tiles=_tiles(day.windows, name=name, chosen=chosen)) for day in week["days"]]
    return {
        **_contact_of(firm, customer),
        "link_key": key,
        "first_name": customer.first_name,
        "service": service_type.localized_name(translation.get_language()),
        "appointment": obj if kind == "appointment" else None,
        "invitation": obj if kind == "invitation" else None,
        "technician_first_name": technician.first_name if technician else "",
        "week": week,
        # Rendered once, shown above and below the week's windows (issue #11).
        "week_nav": render_to_string("selfservice/_week_nav.html", {"week": week}),
        "any_free_day": week["any_free_day"],
        "day_heading": "h3" if kind == "appointment" else "h2",
        "form": form,
        "submit_label": _submit_label(kind, obj),
        "conflict": conflict,
        # After a missed visit the page leads with what happened: the firm was there.
        "attempt": obj.current_attempt() if kind == "appointment" else None,
    }


@require_GET
@never_cache
def page(request):
    kind, obj = _resolve(request)
    if obj is None:
        return _unresolved(request)
    _activate_customer_language(request, obj.customer)
    if kind == "appointment" and not changeable_online(obj):
        return _too_late(request, obj)
    return _private(render(request, "selfservice/page.html", _page_context(request, kind, obj)))


@require_POST
def week(request):
    """Another week of windows: keep the note typed so far, then show that week (a GET, so reload works)."""
    posted_key = request.POST.get("link", "")
    kind, obj = _resolve_posted(request, posted_key)
    if obj is None:
        return _unresolved(request, posted_key)
    key = _link_key(kind, obj)
    links = request.session.get(LINKS_KEY) or {}
    if key in links:
        # The page shows the session's latest link: make it this tab's, not one opened later in another tab.
        links[key] = links.pop(key)
        request.session[LINKS_KEY] = links
    request.session[NOTE_DRAFT_KEY] = {"link": key, "note": request.POST.get("note", "")[: NOTE_MAX_LENGTH * 2]}
    # An unknown week is the page's business: it falls back to the first one.
    query = urlencode({"week": request.POST.get("go", "")[:10]})
    return _private(redirect(f"{reverse('selfservice:page')}?{query}"))


def _after_result(request, key: str, *, action: str, window: str = ""):
    """A form from a page whose visit this browser has just booked, moved or cancelled: where to go, or None.

    The same wish again (a double click, the back button) is the result page. Another wish (a second tab
    left open with another window chosen, or a cancel) was not carried out: the result page says so,
    as the visit stands now, instead of passing off the other tab's result as this one's."""
    result = request.session.get(RESULT_KEY) or {}
    if not key or result.get("link") != key:
        return None
    if result.get("action") == action and result.get("window", "") == window:
        return _private(redirect("selfservice:done"))
    return _private(redirect(f"{reverse('selfservice:done')}?{urlencode({OUTDATED_PARAM: 1})}"))


def _done_as_asked(request, key: str, *, action: str, window: str = ""):
    """The result page, if the visit already is what this form asks for; otherwise None.

    A fast double click sends two posts; the second may read the session before the first has saved
    its result, and then finds its link used up (or the visit moved or cancelled under it). What the
    customer asked for was done: they see that, not "link no longer valid" or "used by someone else"."""
    link = (request.session.get(LINKS_KEY) or {}).get(key) if key else None
    if link is None:
        return None
    if link.get("kind") == "invitation":
        invitation = used_invitation_from_token(link.get("token", ""))
        appointment = invitation.appointment if invitation is not None else None
    else:
        appointment = appointment_named_by_token(link.get("token", ""))
    if appointment is None:
        return None
    if action == "cancel":
        if link.get("kind") != "appointment" or appointment.status != AppointmentStatus.CANCELLED:
            return None
        result = {
            "result": "cancelled",
            "window_start": appointment.window_start.isoformat(),
            "window_end": appointment.window_end.isoformat(),
        }
    else:
        try:
            asked = datetime.fromisoformat(window)
        except ValueError:
            return None
        booked = appointment.status in (AppointmentStatus.REQUESTED, AppointmentStatus.SCHEDULED)
        if asked.tzinfo is None or not booked or appointment.window_start != asked:
            return None
        # Someone else who chose the same window with another note: their note must not vanish unsaid.
        if not appointment.notes.endswith(request.POST.get("note", "").strip()[:NOTE_MAX_LENGTH]):
            return None
        _remember_link(request, kind="appointment", token=appointment_token(appointment), obj=appointment)
        result = {
            "result": "booked" if link.get("kind") == "invitation" else "moved",
            "window": window,
            "shows": _link_key("appointment", appointment),
        }
    _forget_link(request, key)
    request.session[RESULT_KEY] = {**result, "action": action, "link": key}
    return _private(redirect("selfservice:done"))


def _cancel_context(obj, *, cancel_form=None) -> dict:
    return {
        **_contact(obj.customer),
        "link_key": _link_key("appointment", obj),
        "appointment": obj,
        "service": obj.service_type.localized_name(translation.get_language()),
        "technician_first_name": obj.technician.first_name if obj.technician else "",
        "cancel_form": cancel_form or CancelOnlineForm(),
    }


def _cancel_confirmation(request):
    """A cancel asks once more: this page shows the visit and the reason box; only its POST cancels."""
    key = request.GET.get("link", "")
    kind, obj = _resolve_posted(request, key)
    if obj is None:
        # Cancelled already (the back button), or moved from another tab meanwhile.
        return _after_result(request, key, action="cancel") or _unresolved(request, key)
    if kind != "appointment" or obj.current_attempt() is not None:
        # An invitation has nothing to cancel; a missed visit's page offers a new time instead.
        return _private(redirect("selfservice:page"))
    _activate_customer_language(request, obj.customer)
    if not changeable_online(obj):
        return _too_late(request, obj)
    return _private(render(request, "selfservice/cancel.html", _cancel_context(obj)))


def _posts_limited(kind, obj) -> bool:
    """Posts are counted per visit or invitation, not per IP: customers behind one office's or
    carrier's address never share a limit, and nobody can use up another customer's. A post that
    names no live link changes nothing and guesses nothing (it only picks among the session's links)."""
    if obj is None:
        return False
    return limited(
        "booking-post",
        f"{kind}-{obj.pk}",
        limit=settings.RATELIMIT_BOOKING_POSTS,
        period_seconds=settings.RATELIMIT_PERIOD_SECONDS,
    )


def _act(request, action):
    posted_key = request.POST.get("link", "")
    kind, obj = _resolve_posted(request, posted_key)
    if _posts_limited(kind, obj):
        return _too_many(request)
    if obj is None:
        # A second click on a button whose first click already did the job, or a form from another tab.
        window = request.POST.get("window", "") if action == "book" else ""
        return (
            _after_result(request, posted_key, action=action, window=window)
            or _done_as_asked(request, posted_key, action=action, window=window)
            or _unresolved(request, posted_key)
        )
    _activate_customer_language(request, obj.customer)
    if kind == "appointment" and not changeable_online(obj):
        return _too_late(request, obj, status=409)
    key = _link_key(kind, obj)
    if action == "cancel":
        if kind != "appointment":
            return _invalid(request)
        cancel_form = CancelOnlineForm(request.POST)
        if not cancel_form.is_valid():
            return _private(
                render(
                    request,
                    "selfservice/cancel.html",
                    _cancel_context(obj, cancel_form=cancel_form),
                    status=400,
                )
            )
        try:
            appointment = appointment_cancel_online(appointment=obj, reason=cancel_form.cleaned_data["reason"])
        except AppointmentError as exc:
            if done := _done_as_asked(request, key, action="cancel"):
                return done  # the other post of a double click cancelled it a moment ago
            if exc.code == "too_late":  # the cut-off passed, or the trip began, while the page was open
                obj.refresh_from_db()
                return _too_late(request, obj, status=409)
            # E.g. a missed visit: there is nothing left to cancel, and the page no longer offers it.
            return _invalid(request)
        _forget_link(request, key)
        request.session[RESULT_KEY] = {
            "result": "cancelled",
            "action": "cancel",
            "link": key,
            "window_start": appointment.window_start.isoformat(),
            "window_end": appointment.window_end.isoformat(),
        }
        return _private(redirect("selfservice:done"))
    form = WindowForm(request.POST)
    if not form.is_valid():
        return _private(
            render(request, "selfservice/page.html", _page_context(request, kind, obj, form=form), status=400)
        )
    try:
        if kind == "invitation":
            appointment = appointment_book_online(
                invitation=obj, window_start=form.cleaned_data["window"], note=form.cleaned_data["note"]
            )
        else:
            appointment = appointment_move_online(
                appointment=obj, window_start=form.cleaned_data["window"], note=form.cleaned_data["note"]
            )
    except AppointmentError as exc:
        if done := _done_as_asked(request, key, action="book", window=request.POST.get("window", "")):
            return done  # the other post of a double click did it a moment ago
        if exc.code == "too_late":
            obj.refresh_from_db()
            return _too_late(request, obj, status=409)
        if exc.code == "invitation_used":
            return _invitation_used(request, BookingInvitation.objects.get(pk=obj.pk), just_now=True)
        if exc.code != "window_taken":
            return _invalid(request)
        return _private(
            render(
                request,
                "selfservice/page.html",
                _page_context(
                    request, kind, obj, form=WindowForm(initial={"note": form.cleaned_data["note"]}), conflict=True
                ),
                status=409,
            )
        )
    _forget_link(request, key)
    _remember_link(request, kind="appointment", token=appointment_token(appointment), obj=appointment)
    request.session[RESULT_KEY] = {
        "result": "booked" if kind == "invitation" else "moved",
        "action": "book",
        # As posted: a second click posts the same string.
        "window": request.POST.get("window", ""),
        "link": key,
        # The page of the visit as it is now, whichever tab the customer acted from.
        "shows": _link_key("appointment", appointment),
    }
    return _private(redirect("selfservice:done"))


@require_POST
def book(request):
    return _act(request, "book")


@require_http_methods(["GET", "POST"])
@never_cache
def cancel(request):
    if request.method == "GET":
        return _cancel_confirmation(request)
    return _act(request, "cancel")


@require_GET
@never_cache
def done(request):
    result = request.session.get(RESULT_KEY)
    if not result:
        return _invalid(request)
    # A cancelled visit has no page any more: the result itself names its window.
    _kind, appointment = _resolve_posted(request, result["shows"]) if "shows" in result else (None, None)
    if result["result"] != "cancelled" and appointment is None:
        return _invalid(request)
    context = {
        "result": result["result"],
        "appointment": appointment,
        "outdated": request.GET.get(OUTDATED_PARAM) == "1",
    }
    if appointment is not None:
        _activate_customer_language(request, appointment.customer)
        context.update(_contact(appointment.customer))
        # Booked or moved into a window already past the cut-off (late in the evening for the next
        # morning): no link that would only say "too late"; the page names the person to call.
        if changeable_online(appointment):
            context["manage_link"] = absolute_link(appointment_token(appointment))
            context["change_until"] = deadline_text(appointment)
        context["technician_first_name"] = appointment.technician.first_name if appointment.technician else ""
        context["service"] = appointment.service_type.localized_name(translation.get_language())
    else:
        _activate_customer_language(request)
        context.update(_contact())
        context["cancelled_window"] = (
            timezone.datetime.fromisoformat(result["window_start"]),
            timezone.datetime.fromisoformat(result["window_end"]),
        )
    return _private(render(request, "selfservice/done.html", context))


@require_GET
@never_cache
def calendar_file(request):
    kind, appointment = _resolve(request)
    if kind != "appointment":
        return _invalid(request)
    service = appointment.service_type.localized_name(appointment.customer.preferred_language)
    firm = Firm.objects.first()
    ics = render_ics(
        appointment=appointment,
        method=METHOD_PUBLISH,
        summary=f"{service} – {firm.name}" if firm else service,
        description="",
        location=appointment.site_address,
    )
    response = HttpResponse(ics, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="appointment-{appointment.pk}.ics"'
    return _private(response)
