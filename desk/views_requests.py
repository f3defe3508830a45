"""The public request page (/request/), its thank-you page, and the customer's page to move the call.

The request page is meant to be embedded in the firm's own site. In a cross-site iframe browsers do not
send our SameSite cookies, so the page needs none: its language travels in the URL (?lang=), the
thank-you page is found by a signed id in its URL, and the form is exempt from CSRF. CSRF protects the
ambient authority of someone signed in; this form has none to abuse, and what it does protect against
(a program posting requests) is handled by the honeypot, the signed fill-time stamp and the rate limit.
The page to move the call is opened from a mail, never framed, and keeps the usual CSRF check.
"""

import functools

from django.conf import settings
from django.core import signing
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.csp import CSP
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from appointments.formatting import format_day, format_time
from customers.models import Firm
from customers.selectors import office_person_contact
from desk.forms_requests import CallTimeForm, RequestForm, shown_at_stamp
from desk.models import RequestStatus, WebRequest
from desk.requests import call_changeable, call_outside_reach, call_slots, request_from_link
from desk.services.requests import RequestError, request_email_instead, request_move_call, request_submit
from selfservice.ratelimit import bad_link_limited, client_ip, limited

LANGUAGE_PARAM = "lang"
THANKS_SALT = "doorstep.request.thanks"
# The thank-you page's link works this long (it only says who calls when).
THANKS_MAX_AGE = 24 * 3600


def framable(view):
    """Let the configured sites (and we ourselves) frame this page; with none configured it stays DENY."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if settings.REQUEST_FRAME_ORIGINS:
            # The whole policy, with only its frame-ancestors widened (the CSP middleware adds it).
            response._csp_config = {
                **settings.SECURE_CSP,
                "frame-ancestors": [CSP.SELF, *settings.REQUEST_FRAME_ORIGINS],
            }
            response.xframe_options_exempt = True
        return response

    return wrapped


def _private(response):
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page_language(request, default: str | None = None) -> str:
    """?lang= if given (the language switch; an iframe keeps no cookie), else `default`, else the browser's."""
    language = request.GET.get(LANGUAGE_PARAM, "")
    if language not in dict(settings.LANGUAGES):
        language = default if default and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES else ""
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = language
    return translation.get_language()


def _contact_hint() -> str:
    return gettext("An email address, a phone number or both: at least one of them.")


def _request_page(request, form, *, status=200, refused: str = ""):
    context = {
        "firm": Firm.objects.first(),
        "form": form,
        "refused": refused,
        "contact_hint": _contact_hint(),
        "action": f"{reverse('requests:page')}?{LANGUAGE_PARAM}={translation.get_language()}",
    }
    return _private(render(request, "desk/requests/page.html", context, status=status))


def _fresh_stamp(form):
    """Show the form again with a new fill-time stamp (the customer's text stays)."""
    data = form.data.copy()
    data["shown_at"] = shown_at_stamp()
    data["website"] = ""
    return RequestForm(data, now=form.now)


@csrf_exempt
@framable
@never_cache
@require_http_methods(["GET", "POST"])
def request_page(request):
    language = _page_language(request)
    if request.method == "GET":
        form = RequestForm(initial={"language": language, "shown_at": shown_at_stamp(), "country": _firm_country()})
        return _request_page(request, form)
    if limited(
        "web-request",
        client_ip(request),
        limit=settings.RATELIMIT_REQUEST_POSTS,
        period_seconds=settings.RATELIMIT_PERIOD_SECONDS,
    ):
        return _private(render(request, "desk/requests/too_many.html", {"firm": Firm.objects.first()}, status=429))
    form = RequestForm(request.POST)
    if form.is_bot():
        form = _fresh_stamp(form)
        return _request_page(
            request,
            form,
            status=400,
            refused=gettext("Your request was not sent. Please leave the field “Leave this field empty” empty."),
        )
    if form.too_fast():
        form = _fresh_stamp(form)
        return _request_page(
            request,
            form,
            status=400,
            refused=gettext("Your request was not sent yet. Please check your details and send it again."),
        )
    if not form.is_valid():
        # The form keeps its first stamp: correcting a mistake is not a fresh start.
        return _request_page(request, form, status=400)
    try:
        web_request = request_submit(
            fields=form.submitted_fields(), language=form.cleaned_data["language"], now=timezone.now()
        )
    except RequestError as error:
        form.add_error(None, error.message)
        return _request_page(request, form, status=400)
    token = signing.dumps(web_request.pk, salt=THANKS_SALT)
    return redirect(f"{reverse('requests:thanks', args=[token])}?{LANGUAGE_PARAM}={web_request.language}")


def _firm_country() -> str:
    return Firm.objects.values_list("country", flat=True).first() or "DE"


@framable
@never_cache
@require_http_methods(["GET"])
def thanks(request, token: str):
    try:
        pk = signing.loads(token, salt=THANKS_SALT, max_age=THANKS_MAX_AGE)
    except signing.BadSignature:
        raise Http404 from None
    web_request = WebRequest.objects.select_related("promise__owner__office_profile").filter(pk=pk).first()
    if web_request is None or web_request.promise is None:
        raise Http404
    _page_language(request, web_request.language)
    firm = Firm.objects.first()
    promise = web_request.promise
    context = {
        "firm": firm,
        "web_request": web_request,
        "owner": office_person_contact(promise.owner, firm=firm),
        "call_day": format_day(promise.due_at),
        "call_time": format_time(promise.due_at),
        "outside_reach": call_outside_reach(web_request),
    }
    return _private(render(request, "desk/requests/thanks.html", context))


def _call_context(web_request, *, firm, now, form=None, error=""):
    promise = web_request.promise
    slots = call_slots(now=now)
    days: dict[str, list] = {}
    for slot in slots:
        days.setdefault(format_day(slot), []).append(
            {"value": slot.isoformat(), "label": format_time(slot), "current": slot == promise.due_at}
        )
    return {
        "firm": firm,
        "web_request": web_request,
        "owner": office_person_contact(promise.owner, firm=firm),
        "responsible": office_person_contact(promise.owner, firm=firm),
        "call_day": format_day(promise.due_at),
        "call_time": format_time(promise.due_at),
        "changeable": call_changeable(web_request, now=now),
        "outside_reach": call_outside_reach(web_request),
        "email_instead": web_request.status == RequestStatus.EMAIL_INSTEAD,
        "days": days,
        "form": form,
        "error": error,
        "done": "",
    }


@never_cache
@require_http_methods(["GET", "POST"])
def call_page(request, pk: int, secret: str):
    """GET shows the call time and the other times offered; only the POSTs change anything."""
    web_request = request_from_link(pk, secret)
    if web_request is None or web_request.promise is None:
        _page_language(request)
        status = 429 if bad_link_limited(request) else 404
        return _private(render(request, "desk/requests/invalid.html", {"firm": Firm.objects.first()}, status=status))
    # The language chosen on the form, as in the mails that carry this link (a known customer's record may differ).
    _page_language(request, web_request.language)
    firm, now = Firm.objects.first(), timezone.now()
    if request.method == "GET":
        context = _call_context(web_request, firm=firm, now=now)
        context["done"] = request.GET.get("done", "") if request.GET.get("done") in ("moved", "email") else ""
        return _private(render(request, "desk/requests/call.html", context))
    try:
        if request.POST.get("action") == "email":
            request_email_instead(web_request=web_request, now=now)
            done = "email"
        else:
            form = CallTimeForm(request.POST)
            if not form.is_valid():
                raise RequestError(form.errors["slot"][0], code="slot")
            request_move_call(web_request=web_request, due_at=form.cleaned_data["slot"], now=now)
            done = "moved"
    except RequestError as error:
        web_request.refresh_from_db()
        context = _call_context(web_request, firm=firm, now=now, error=error.message)
        return _private(render(request, "desk/requests/call.html", context, status=400))
    url = reverse("requests:call", args=[web_request.pk, secret])
    return _private(redirect(f"{url}?done={done}&{LANGUAGE_PARAM}={translation.get_language()}"))
