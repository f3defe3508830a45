"""The day sheet PDF: the technician's own, from "My day", and any technician's, for the office.

Language: technicians have no language of their own on their profile, so the technician's
download speaks the technician pages' language (the office's, unless they chose another on
the page), and the office's download speaks the firm's (LANGUAGE_CODE).
"""

from datetime import date
from functools import wraps

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.access import second_factor_missing, second_factor_redirect
from appointments.models import Technician
from customers.selectors import is_office_staff
from technicians.views import technician_page

# A sheet is printed for a coming day, or again for a past one; no further (as the card packs).
# Also keeps year 1 and 9999 away from date arithmetic that would overflow.
DAY_SHEET_REACH_DAYS = 366
# technicians.day_sheet is imported inside the views: WeasyPrint takes seconds to import, and
# config.urls imports this module (see views_cards).


def _day(text: str) -> date | None:
    """The day a URL names as YYYY-MM-DD, within reach; None for anything else."""
    if len(text) != 10:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    if abs((day - timezone.localdate()).days) > DAY_SHEET_REACH_DAYS:
        return None
    return day


def _pdf(content: bytes, *, technician: Technician, day: date) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="day-sheet-{technician.pk}-{day.isoformat()}.pdf"'
    return response


@require_GET
@technician_page
def day_sheet(request, day):
    from technicians.day_sheet import render_day_sheet

    chosen = _day(day)
    if chosen is None:
        return render(request, "technician/day_sheet_not_found.html", {"day": day}, status=404)
    language = translation.get_language() or settings.LANGUAGE_CODE
    content = render_day_sheet(technician=request.technician, day=chosen, language=language)
    return _pdf(content, technician=request.technician, day=chosen)


def office_staff_required(view):
    """As the admin: strangers go to the admin's sign-in page; signed-in people who are not office staff
    (a technician) are refused."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not is_office_staff(request.user):
            raise PermissionDenied
        if second_factor_missing(request):
            return second_factor_redirect(request)
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@never_cache
@office_staff_required
def office_day_sheet(request, technician_id, day):
    from technicians.day_sheet import render_day_sheet

    chosen = _day(day)
    technician = Technician.objects.filter(pk=technician_id).first()
    if chosen is None or technician is None:
        context = {**admin.site.each_context(request), "day": day, "technician_missing": technician is None}
        return render(request, "technician/day_sheet_office_not_found.html", context, status=404)
    content = render_day_sheet(technician=technician, day=chosen, language=settings.LANGUAGE_CODE)
    return _pdf(content, technician=technician, day=chosen)
