"""Customer self-service from emailed links: no account, a phone or a desktop, no JavaScript needed.

The token only appears in the first GET: it moves into the session and the
browser is redirected to a URL without it (that response says
Referrer-Policy: no-referrer; the pages say same-origin). Mail scanners open links, so a GET never changes
anything; only the POSTs act, with CSRF.
"""

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from appointments.availability import Day, booking_days, free_windows
from appointments.formatting import format_window
from appointments.forms_selfservice import CancelOnlineForm, WindowForm
from appointments.links import (
    absolute_link,
    appointment_from_card_code,
    appointment_from_token,
    appointment_token,
    invitation_from_token,
)
from appointments.models import ACTIVE_STATUSES, AppointmentStatus
from appointments.ratelimit import bad_link_limited, limited
from appointments.services import AppointmentError
from appointments.services.booking import (
    appointment_book_online,
    appointment_cancel_online,
    appointment_move_online,
)
from customers.models import Firm
from customers.selectors import responsible_contact
from notifications.calendar import METHOD_PUBLISH, render_ics

# Every link opened in this browser, by the key its page's forms post back, latest last: a customer
# with two visits may have both pages open in two tabs, and each form must act on its own page's visit.
LINKS_KEY = "doorstep_links"
LINKS_KEPT = 10
RESULT_KEY = "doorstep_result"
LANGUAGE_KEY = "doorstep_language"


def _private(response, referrer_policy: str = "same-origin"):
    # The token itself is only in the first URL (no-referrer there). The pages use
    # same-origin: with no-referrer browsers send "Origin: null" on our own form
    # POSTs, which the CSRF check refuses; other sites still get no referrer.
    response["Referrer-Policy"] = referrer_policy
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _contact(customer=None) -> dict:
    firm = Firm.objects.first()
    context = {"firm": firm}
    if customer is not None:
        context["responsible"] = responsible_contact(customer, firm=firm)
    return context


def _invalid(request):
    # A customer who came from one of their links before keeps their language here too.
    _activate_customer_language(request)
    return _private(render(request, "selfservice/invalid.html", _contact(), status=404))


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
    return _private(redirect("selfservice:page"), referrer_policy="no-referrer")


@require_GET
@never_cache
def open_link(request, token):
    # A link that verifies is always served: only wrong links count against the IP, which an
    # office or a mobile carrier shares with other customers. Verifying is an HMAC check, cheap.
    if (appointment := appointment_from_token(token)) is not None:
        return _enter(request, kind="appointment", token=token, obj=appointment)
    if (invitation := invitation_from_token(token)) is not None:
        return _enter(request, kind="invitation", token=token, obj=invitation)
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
    _activate_customer_language(request, appointment.customer)
    rebooked = appointment.attempts.filter(rebooked_at__isnull=False).exists()
    context = {
        **_contact(appointment.customer),
        "appointment": appointment,
        "rebooked": rebooked,
        # A card from the day pack, left before the visit was (or could be) marked missed.
        "still_booked": not rebooked and appointment.status in ACTIVE_STATUSES,
        "window": format_window(appointment.window_start, appointment.window_end),
    }
    return _private(render(request, "selfservice/card_closed.html", context))


def _page_context(request, kind, obj, *, form=None, cancel_form=None, conflict=False):
    customer = obj.customer
    service_type = obj.service_type
    technician = obj.technician
    first_day, last_day = booking_days()
    days = free_windows(
        service_type=service_type,
        technician=technician if kind == "invitation" else None,
        first_day=first_day,
        last_day=last_day,
        ignoring=obj if kind == "appointment" else None,
    )
    missed = kind == "appointment" and obj.status == AppointmentStatus.MISSED
    if kind == "appointment" and not missed:
        days = [Day(day.day, [window for window in day.windows if window.start != obj.window_start]) for day in days]
    return {
        **_contact(customer),
        "link_key": _link_key(kind, obj),
        "first_name": customer.first_name,
        "service": service_type.localized_name(translation.get_language()),
        "appointment": obj if kind == "appointment" else None,
        "invitation": obj if kind == "invitation" else None,
        "technician_first_name": technician.first_name if technician else "",
        "days": [day for day in days if day.windows],
        "form": form or WindowForm(),
        "cancel_form": cancel_form or CancelOnlineForm(),
        "conflict": conflict,
        # After a missed visit the page leads with what happened: the firm was there.
        "attempt": obj.current_attempt() if kind == "appointment" else None,
    }


@require_GET
@never_cache
def page(request):
    kind, obj = _resolve(request)
    if obj is None:
        return _invalid(request)
    _activate_customer_language(request, obj.customer)
    return _private(render(request, "selfservice/page.html", _page_context(request, kind, obj)))


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
        if posted_key and (request.session.get(RESULT_KEY) or {}).get("link") == posted_key:
            # A second click on a button whose first click already did the job.
            return _private(redirect("selfservice:done"))
        return _invalid(request)
    _activate_customer_language(request, obj.customer)
    key = _link_key(kind, obj)
    if action == "cancel":
        if kind != "appointment":
            return _invalid(request)
        cancel_form = CancelOnlineForm(request.POST)
        if not cancel_form.is_valid():
            return _private(
                render(
                    request,
                    "selfservice/page.html",
                    _page_context(request, kind, obj, cancel_form=cancel_form),
                    status=400,
                )
            )
        try:
            appointment = appointment_cancel_online(appointment=obj, reason=cancel_form.cleaned_data["reason"])
        except AppointmentError:
            # E.g. a missed visit: there is nothing left to cancel, and the page no longer offers it.
            return _invalid(request)
        _forget_link(request, key)
        request.session[RESULT_KEY] = {
            "result": "cancelled",
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
        if exc.code != "window_taken":
            return _invalid(request)
        return _private(
            render(
                request,
                "selfservice/page.html",
                _page_context(request, kind, obj, form=WindowForm(), conflict=True),
                status=409,
            )
        )
    _forget_link(request, key)
    _remember_link(request, kind="appointment", token=appointment_token(appointment), obj=appointment)
    request.session[RESULT_KEY] = {
        "result": "booked" if kind == "invitation" else "moved",
        "link": key,
        # The page of the visit as it is now, whichever tab the customer acted from.
        "shows": _link_key("appointment", appointment),
    }
    return _private(redirect("selfservice:done"))


@require_POST
def book(request):
    return _act(request, "book")


@require_POST
def cancel(request):
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
    context = {"result": result["result"], "appointment": appointment}
    if appointment is not None:
        _activate_customer_language(request, appointment.customer)
        context.update(_contact(appointment.customer))
        context["manage_link"] = absolute_link(appointment_token(appointment))
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
