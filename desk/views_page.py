"""My desk: the office person's start page beside the dispatch board (#12).

A GET only shows; "mark as seen" is a POST with CSRF that calls desk.services.desk_mark_seen.
"""

from datetime import datetime

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from appointments.formatting import format_day, format_time
from desk.models import Promise
from desk.selectors import DeskCounts, is_desk_lead, my_desk
from desk.services import desk_mark_seen
from desk.templatetags.desk_nav import remember_counts
from dispatch.access import office_context, office_required

# Kinds whose keeping is a phone call: their link says so.
CALL_KINDS = {"call_back", "call_before_visit", "confirm_time", "call_bounced"}

# What the customer did, in a word, for the list of online changes (the entry's summary says the rest).
CHANGE_LABELS = {
    "appointment.scheduled": gettext_lazy("booked online"),
    "appointment.requested": gettext_lazy("requested online"),
    "appointment.rescheduled": gettext_lazy("moved online"),
    "appointment.cancelled": gettext_lazy("cancelled online"),
    "appointment.new_time_requested": gettext_lazy("asked for a new time"),
    "visit.rebooked": gettext_lazy("rebooked a missed visit"),
}


def desk_page(view):
    """Office staff only, never cached: yesterday's desk from a cache would hide what is late now."""
    return never_cache(office_required(view))


def _keep_url():
    """Where the clerk logs the contact that keeps a promise: the promise's admin page once the desk's
    admin has one, else the customer's page (its journal takes the contact)."""
    try:
        reverse("admin:desk_promise_change", args=[0])
    except NoReverseMatch:
        return lambda promise: (
            reverse("admin:customers_customer_change", args=[promise.customer_id]) + f"?keeps_promise={promise.pk}"
        )
    return lambda promise: reverse("admin:desk_promise_change", args=[promise.pk])


def _decorate(promises: list[Promise], keep_url) -> list[Promise]:
    for promise in promises:
        promise.keep_url = keep_url(promise)
        promise.is_call = promise.kind in CALL_KINDS
    return promises


@desk_page
@require_http_methods(["GET", "HEAD"])
def page(request):
    team = request.GET.get("view") == "team"
    lead = is_desk_lead(request.user)
    desk = my_desk(request.user, team=team, with_owners=team and lead)
    # The navigation's counts come from the page's own aggregate: no second query for them.
    remember_counts(request, DeskCounts(overdue=desk.counts.overdue, today=desk.counts.today))
    keep_url = _keep_url()
    for section in (desk.overdue, desk.today, desk.this_week, desk.callbacks, desk.replies):
        _decorate(section.rows, keep_url)
    for entry in desk.changes.rows:
        entry.label = CHANGE_LABELS.get(entry.action, entry.action)
    return render(
        request,
        "desk/page/desk.html",
        office_context(
            request,
            with_sidebar=False,
            title=_("My desk"),
            subtitle=format_day(desk.now),
            desk=desk,
            lead=lead,
            seen_until=desk.now.isoformat(),
            changes_since_label=f"{format_day(desk.changes_since)}, {format_time(desk.changes_since)}",
        ),
    )


@desk_page
@require_http_methods(["GET", "HEAD", "POST"])
def mark_seen(request):
    """Marks the online changes shown on the page as seen. A GET (a bookmark, a prefetch) changes nothing."""
    if request.method != "POST":
        return redirect("desk:page")
    try:
        seen_until = datetime.fromisoformat(request.POST.get("seen_until", ""))
    except ValueError:
        seen_until = None
    if seen_until is None or timezone.is_naive(seen_until):
        messages.error(request, _("Nothing was marked as seen: the page was out of date. Please try again."))
        return redirect("desk:page")
    desk_mark_seen(user=request.user, seen_until=seen_until)
    messages.success(request, _("The online changes are marked as seen; new ones will show here."))
    return redirect("desk:page")
