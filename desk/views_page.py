"""My desk: the office person's start page beside the dispatch board (#12).

A GET only shows; "mark as seen" is a POST with CSRF that calls desk.services.desk_mark_seen.
"""

from datetime import datetime

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from appointments.formatting import format_day, format_time
from desk.page_html import Links, change_items, follow_up_items, promise_items
from desk.selectors import DeskCounts, is_desk_lead, my_desk
from desk.services import desk_mark_seen
from desk.templatetags.desk_nav import remember_counts
from dispatch.access import office_context, office_required


def desk_page(view):
    """Office staff only, never cached: yesterday's desk from a cache would hide what is late now."""
    return never_cache(office_required(view))


@desk_page
@require_http_methods(["GET", "HEAD"])
def page(request):
    team = request.GET.get("view") == "team"
    lead = is_desk_lead(request.user)
    desk = my_desk(request.user, team=team, with_owners=team and lead)
    # The navigation's counts come from the page's own aggregate: no second query for them.
    remember_counts(request, DeskCounts(overdue=desk.counts.overdue, today=desk.counts.today))
    links = Links(back=request.get_full_path())
    for section in (desk.overdue, desk.today, desk.this_week):
        section.html = promise_items(section.rows, now=desk.now, links=links, show_owner=team)
    for section in (desk.callbacks, desk.replies):
        # The office's shared queues: whose it is matters there.
        section.html = promise_items(section.rows, now=desk.now, links=links, show_owner=True)
    desk.follow_ups.html = follow_up_items(desk.follow_ups.rows, links=links)
    desk.changes.html = change_items(desk.changes.rows, links=links)
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
