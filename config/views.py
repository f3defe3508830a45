"""Site-wide pages that belong to no app: the friendly page for a refused form (CSRF)."""

import logging

from django.db import DatabaseError
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

logger = logging.getLogger(__name__)

STAFF_PREFIXES = ("/admin/", "/technician/")


def _is_staff_page(request) -> bool:
    # The language switch posts to /i18n/setlang/ from every page; its `next` says whose page it was.
    path = request.path
    if path == reverse("set_language"):
        path = request.POST.get("next", "")
    return path.startswith(STAFF_PREFIXES)


def _back_url(request, *, staff: bool) -> str:
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    if request.path.startswith("/technician/"):
        return reverse("technician:day")
    return reverse("admin:index") if staff else reverse("selfservice:page")


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form was refused, mostly a page kept open for long or cookies blocked.

    Django's own page speaks of DEBUG to a customer. This one says what to do in their
    language, with a way back; it must render even without a firm or a working database.
    """
    # Imported here: settings load this module's path before the apps are ready.
    from customers.models import Firm
    from selfservice.views import _activate_customer_language

    staff = _is_staff_page(request)
    context = {"staff": staff, "back_url": _back_url(request, staff=staff)}
    logger.warning("CSRF check refused %s %s: %s", request.method, request.path, reason)
    try:
        if not staff:
            # A customer who came from one of their links keeps their language (the session's).
            _activate_customer_language(request)
            context["firm"] = Firm.objects.first()
    except DatabaseError:
        logger.exception("No firm contact for the CSRF failure page")
    response = render(request, "csrf_failure.html", context, status=403)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
