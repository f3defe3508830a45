"""The board's week view: /board/week/ (all technicians, or one with ?technician=)."""

from datetime import date, timedelta

from django.contrib import messages
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from appointments.formatting import format_day
from appointments.models import ServiceType, Technician
from dispatch.access import office_context
from dispatch.views import board_page
from dispatch.week import monday_of, week_plan

FARTHEST_WEEK = timedelta(days=3653)


def _requested_day(request) -> date:
    """?week= is any day of the week wanted; a hand-edited value falls back to this week, with a word why."""
    value = request.GET.get("week", "")
    today = timezone.localdate()
    if value:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None
        # Years away is a typo, and the calendar ends a week after 9999-12-24.
        if day is not None and abs(day - today) <= FARTHEST_WEEK:
            return day
        messages.warning(
            request,
            _("“%(value)s” is not a date (YYYY-MM-DD) within ten years of today; showing this week.")
            % {"value": value},
        )
    return today


def _requested(request, name: str, queryset, unknown_message: str):
    """The object named by ?name=<id>, or None with a warning when the id names nothing."""
    value = request.GET.get(name, "")
    if not value:
        return None
    try:
        return queryset.get(pk=int(value))
    except (ValueError, queryset.model.DoesNotExist):
        messages.warning(request, unknown_message % {"value": value})
        return None


@board_page
def week(request):
    monday = monday_of(_requested_day(request))
    technician = _requested(
        request,
        "technician",
        Technician.objects.all(),
        _("There is no technician “%(value)s”; showing all technicians."),
    )
    service_type = _requested(
        request,
        "service_type",
        ServiceType.objects.all(),
        _("There is no service type “%(value)s”; showing every service."),
    )
    plan = week_plan(monday=monday, technician=technician, service_type=service_type)
    sunday = plan.days[-1]
    title = (
        _("Week of %(technician)s: %(first)s – %(last)s")
        if technician
        else _("Week of all technicians: %(first)s – %(last)s")
    ) % {"technician": technician, "first": format_day(monday), "last": format_day(sunday)}
    return render(
        request,
        "dispatch/week.html",
        office_context(
            request,
            title=title,
            week=plan,
            technician=technician,
            service_type=service_type,
            service_types=ServiceType.objects.filter(is_active=True).order_by("name"),
            today=timezone.localdate(),
        ),
    )
