"""Requests from the website, for the office: who asked what, which customer it became, who calls when.

Read-only: a request is what the customer sent. Its customer and promise are changed on their own pages.
"""

from django.contrib import admin
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from appointments.formatting import format_short_day, format_time
from desk.models import WebRequest


def _admin_link(obj, label) -> str:
    if obj is None:
        return "–"
    try:
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:  # the model has no admin page (yet): name it without a link
        return str(label)
    return format_html('<a href="{}">{}</a>', url, label)


class DuplicateFilter(admin.SimpleListFilter):
    title = _("possible duplicate")
    parameter_name = "duplicate"

    def lookups(self, request, model_admin):
        return [("yes", _("possible duplicate")), ("no", _("no"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(possible_duplicate_of__isnull=False)
        if self.value() == "no":
            return queryset.filter(Q(possible_duplicate_of__isnull=True))
        return queryset


@admin.register(WebRequest)
class WebRequestAdmin(admin.ModelAdmin):
    list_display = [
        "received_at",
        "full_name",
        "contact",
        "about_short",
        "customer_link",
        "duplicate",
        "owner",
        "status",
        "promise_link",
    ]
    list_filter = [DuplicateFilter, "match", "status", "promise__state", "promise__owner"]
    search_fields = ["full_name", "email", "phone", "postcode", "city", "about"]
    date_hierarchy = "received_at"
    list_select_related = ["customer", "possible_duplicate_of", "promise__owner"]
    exclude = ["link_secret"]
    readonly_fields = [
        "received_at",
        "full_name",
        "email",
        "phone",
        "street",
        "postcode",
        "city",
        "country",
        "language",
        "about",
        "reachable",
        "reachable_note",
        "customer_link",
        "match",
        "duplicate",
        "status",
        "owner",
        "promise_link",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("contact"))
    def contact(self, obj):
        parts = [part for part in (obj.email, obj.phone.as_international if obj.phone else "") if part]
        return " · ".join(parts)

    @admin.display(description=_("what it is about"))
    def about_short(self, obj):
        return Truncator(" ".join(obj.about.split())).chars(80)

    @admin.display(description=_("customer"), ordering="customer__full_name")
    def customer_link(self, obj):
        return _admin_link(obj.customer, obj.customer)

    @admin.display(description=_("possible duplicate of"))
    def duplicate(self, obj):
        if obj.possible_duplicate_of is None:
            return "–"
        return format_html("⚠ {}", _admin_link(obj.possible_duplicate_of, obj.possible_duplicate_of))

    @admin.display(description=_("owner"), ordering="promise__owner__last_name")
    def owner(self, obj):
        if obj.promise is None:
            return "–"
        return obj.promise.owner.get_full_name() or obj.promise.owner.get_username()

    @admin.display(description=_("promise"), ordering="promise__due_at")
    def promise_link(self, obj):
        promise = obj.promise
        if promise is None:
            return "–"
        due = f"{format_short_day(promise.due_at)} {format_time(promise.due_at)}"
        label = format_html("{} · {} · {}", promise.get_kind_display(), promise.get_state_display(), due)
        return _admin_link(promise, label)
