"""Calendar links for the office: issue, replace, revoke; see when a phone last fetched one.

A link's token is stored only as a hash, so the full URL is shown once, on the page that issues it, and
never again: the office copies it there and sends it to the technician. That page is the answer to the
POST itself (no redirect, no message cookie holding the URL); sending it again (a reload) issues nothing,
because the service refuses to replace a link other than the one the page was about.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from appointments.formatting import format_short_day, format_time
from appointments.models import Technician
from appointments.services import AppointmentError
from config.admin_actions import ActionFormMixin, CheckedSelectionMixin
from technicians.models import CalendarFeed
from technicians.services import IssuedFeed, feed_issue, feed_revoke


def feed_url(token: str) -> str:
    return settings.SITE_URL + reverse("technician:feed", args=[token])


class IssueForm(forms.Form):
    technician = forms.ModelChoiceField(
        queryset=Technician.objects.none(),
        label=_("technician"),
        help_text=_("Active technicians without a calendar link. To replace a link, use the list's action."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["technician"]
        # Accepted: any technician, so that the service says in words why one who has a link by now (this
        # form sent again by a reload of the page that showed the link) or who left gets none.
        field.queryset = Technician.objects.all()
        # Offered: those a link can be issued to.
        with_link = CalendarFeed.objects.active().values("technician")
        offered = field.queryset.filter(is_active=True).exclude(pk__in=with_link)
        field.widget.choices = [("", field.empty_label), *((technician.pk, str(technician)) for technician in offered)]


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", _("in use")), ("revoked", _("revoked"))]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(CalendarFeed)
class CalendarFeedAdmin(CheckedSelectionMixin, ActionFormMixin, admin.ModelAdmin):
    list_display = ["technician", "issued", "state", "fetched"]
    list_filter = [StateFilter, "technician"]
    list_select_related = ["technician", "created_by", "revoked_by"]
    search_fields = ["technician__display_name"]
    fields = ["technician", "created_at", "created_by", "revoked_at", "revoked_by", "last_fetched_at"]
    readonly_fields = fields
    actions = ["issue_new_link", "revoke_link"]
    action_form_template = "admin/technicians/calendarfeed/replace_form.html"

    # Rows are the record of issued links: issued through the add page (which calls the service), never
    # edited or deleted.
    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("issued"), ordering="created_at")
    def issued(self, feed):
        when = f"{format_short_day(feed.created_at)} {format_time(feed.created_at)}"
        return f"{when} · {feed.created_by}" if feed.created_by else when

    @admin.display(description=_("state"), ordering="revoked_at")
    def state(self, feed):
        if feed.revoked_at is None:
            return _("in use")
        revoked = _("revoked %(when)s") % {
            "when": f"{format_short_day(feed.revoked_at)} {format_time(feed.revoked_at)}"
        }
        # By the office, or by the technician signing a lost phone out (technicians.services.devices_sign_out).
        return f"{revoked} · {feed.revoked_by}" if feed.revoked_by else revoked

    @admin.display(description=_("last fetched"), ordering="last_fetched_at")
    def fetched(self, feed):
        if feed.last_fetched_at is None:
            return _("never")
        return f"{format_short_day(feed.last_fetched_at)} {format_time(feed.last_fetched_at)}"

    def _issued_page(self, request, issued: list[IssuedFeed]):
        context = {
            **self.admin_site.each_context(request),
            "title": ngettext("New calendar link", "New calendar links", len(issued)),
            "opts": self.model._meta,
            "links": [(item.feed.technician, feed_url(item.token)) for item in issued],
        }
        return TemplateResponse(request, "admin/technicians/calendarfeed/issued.html", context)

    def add_view(self, request, form_url="", extra_context=None):
        """Issuing a first link: the add button of the list, with the service instead of a model form."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = IssueForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                issued = feed_issue(technician=form.cleaned_data["technician"], actor=request.user)
            except AppointmentError as error:
                form.add_error("technician", error.message)
            else:
                return self._issued_page(request, [issued])
        context = {
            **self.admin_site.each_context(request),
            "title": _("Issue calendar link"),
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/technicians/calendarfeed/issue_form.html", context)

    @admin.action(description=_("Issue a new calendar link"), permissions=["add"])
    def issue_new_link(self, request, queryset):
        feeds = list(queryset.select_related("technician").order_by("technician__display_name", "pk"))
        if "apply" not in request.POST:
            return self._action_page(request, queryset, forms.Form(), "issue_new_link", _("Issue a new calendar link"))
        issued, errors = [], []
        for feed in feeds:
            try:
                # A revoked row (a lost phone's link) replaces nothing: the technician gets a new link unless
                # they have one by now, which the service then names.
                replacing = feed if feed.is_active else None
                issued.append(feed_issue(technician=feed.technician, actor=request.user, replacing=replacing))
            except AppointmentError as error:
                errors.append(error.message)
        for error in errors:
            self.message_user(request, error, messages.ERROR)
        if issued:
            return self._issued_page(request, issued)
        return None

    @admin.action(description=_("Revoke calendar link"), permissions=["change"])
    def revoke_link(self, request, queryset):
        done = sum(feed_revoke(feed=feed, actor=request.user) for feed in queryset)
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d calendar link revoked: it no longer shows any visits.",
                    "%(count)d calendar links revoked: they no longer show any visits.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )
        else:
            self.message_user(request, _("The selected links were revoked already."), messages.WARNING)
