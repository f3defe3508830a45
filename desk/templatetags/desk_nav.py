"""The way to My desk in the office's header, with the signed-in person's counts: "My desk (3 overdue · 5 today)"."""

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from customers.selectors import is_office_staff
from desk.selectors import DeskCounts, desk_counts

register = template.Library()

COUNTS_ATTRIBUTE = "_desk_counts"


def remember_counts(request, counts: DeskCounts) -> None:
    """A page that already counted (My desk itself) saves the header its query."""
    setattr(request, COUNTS_ATTRIBUTE, counts)


def counts_for(request) -> DeskCounts:
    counts = getattr(request, COUNTS_ATTRIBUTE, None)
    if counts is None:
        counts = desk_counts(request.user)
        remember_counts(request, counts)
    return counts


@register.simple_tag(takes_context=True)
def desk_link(context):
    """The link, or nothing for anyone but office staff (a technician with staff rights has no desk)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not is_office_staff(user):
        return ""
    counts = counts_for(request)
    parts = []
    if counts.overdue:
        parts.append(("desk-overdue", _("%(count)s overdue") % {"count": counts.overdue}))
    if counts.today:
        parts.append(("desk-today", _("%(count)s today") % {"count": counts.today}))
    if not parts:
        return format_html('<a class="desk-link" href="{}">{}</a>', reverse("desk:page"), _("My desk"))
    return format_html(
        '<a class="desk-link" href="{}">{} ({})</a>',
        reverse("desk:page"),
        _("My desk"),
        format_html_join(" · ", '<span class="{}">{}</span>', parts),
    )
