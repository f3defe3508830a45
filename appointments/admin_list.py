"""The appointment list: its filters and its rows, written for a day's list at 100,000 visits."""

import html
from datetime import date, datetime, timedelta

from django.contrib import admin, messages
from django.contrib.admin.templatetags.admin_list import result_headers
from django.contrib.admin.views.main import ChangeList
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from appointments.formatting import format_short_day
from appointments.models import (
    AppointmentStatus,
    ServiceType,
    Technician,
    local_midnight,
)


class DateFilter(admin.SimpleListFilter):
    """The local day the window starts on: what the office plans by.

    It replaces Django's date hierarchy, whose list of years converted every row's time to the
    firm's zone (on SQLite in a Python function: 600-800 ms at 100,000 visits). Each choice here is
    one range on the indexed window_start. A single day is `?day=2026-12-03` (links to a day's list).
    """

    title = _("date")
    parameter_name = "day"

    def lookups(self, request, model_admin):
        choices = [
            ("today", _("today")),
            ("tomorrow", _("tomorrow")),
            ("this-week", pgettext_lazy("visits starting", "this week")),
            ("next-week", pgettext_lazy("visits starting", "next week")),
            ("upcoming", pgettext_lazy("visits starting", "from today on")),
            ("past", _("past")),
        ]
        if (day := self._day()) is not None:
            choices.append((self.value(), formats.date_format(day, "SHORT_DATE_FORMAT")))
        return choices

    def _day(self) -> date | None:
        try:
            day = date.fromisoformat(self.value() or "")
            # The day's bounds in the firm's zone must exist: 0001-01-01 or 9999-12-31 overflow.
            local_midnight(day - timedelta(days=1)), local_midnight(day + timedelta(days=1))
        except (ValueError, OverflowError):
            return None
        return day

    def queryset(self, request, queryset):
        today = timezone.localdate()
        monday = today - timedelta(days=today.weekday())
        days = {
            "today": (today, today),
            "tomorrow": (today + timedelta(days=1), today + timedelta(days=1)),
            "this-week": (monday, monday + timedelta(days=6)),
            "next-week": (monday + timedelta(days=7), monday + timedelta(days=13)),
            "week": (today, today + timedelta(days=6)),  # "next 7 days" in older links
        }
        if self.value() in days:
            return queryset.starting_on(*days[self.value()])
        if (day := self._day()) is not None:
            return queryset.starting_on(day)
        if self.value() == "upcoming":
            return queryset.filter(window_start__gte=local_midnight(today))
        if self.value() == "past":
            # A window ends after it starts: the bound on window_start lets the database use its index.
            now = timezone.now()
            return queryset.filter(window_start__lt=now, window_end__lt=now)
        if self.value() is not None:
            # A typed or old link: the whole list, and why, rather than an error page or silence.
            messages.warning(
                request,
                _("“%(value)s” is not a day the list can show (please use YYYY-MM-DD). All visits are listed.")
                % {"value": self.value()},
            )
        return queryset


class TechnicianFilter(admin.RelatedFieldListFilter):
    """The technicians by name, read as (id, name) pairs: no profile is loaded to list a name."""

    def field_choices(self, field, request, model_admin):
        return list(Technician.objects.order_by("display_name", "id").values_list("id", "display_name"))


class ServiceTypeFilter(admin.RelatedFieldListFilter):
    """The service types in the office's language, read as plain values like TechnicianFilter."""

    def field_choices(self, field, request, model_admin):
        language = get_language()
        return [
            (pk, ServiceType(name=name, name_de=name_de, name_nl=name_nl).localized_name(language))
            for pk, name, name_de, name_nl in ServiceType.objects.order_by("name", "id").values_list(
                "id", "name", "name_de", "name_nl"
            )
        ]


# Django's own labels for the list's checkboxes and sort links, translated by Django's catalog (names,
# not literals, so that makemessages leaves them out of ours).
DJANGO_SELECT_LABEL = "Select this object for an action - {}"
DJANGO_SORT_LABELS = {
    "remove": "Remove from sorting",
    "toggle": "Toggle sorting",
    "priority": "Sorting priority: %(priority_number)s",
}


class AppointmentChangeList(ChangeList):
    """The appointment list, its rows written in one pass instead of Django's per-cell machinery.

    Django renders each cell through lookup_field, display_for_field and format_html, and each row's
    checkbox through the form widget templates: about 30 ms for 50 rows, most of the page (issue #10,
    item 23). Here each row is one string, from the few columns the list shows, with the same markup
    (checkbox, link keeping the filters, one cell per column), so sorting, actions and the CSS work
    as before. Popups (choosing a visit for another form) keep Django's rendering.
    """

    # What the rows show (and str(appointment), the checkbox's label); the rest stays in the database.
    ROW_FIELDS = (
        "id",
        "window_start",
        "window_end",
        "status",
        "site_city",
        "customer__full_name",
        "service_type_id",
        "service_type__name",
        "service_type__name_de",
        "service_type__name_nl",
        "technician__display_name",
    )

    @property
    def fast_rows(self) -> bool:
        return not self.is_popup and not self.list_editable

    def get_results(self, request):
        super().get_results(request)
        if self.fast_rows:
            # Plain values, in the page's order: 200 model instances (visit, customer, technician,
            # service type) per page were a good part of the time, for a handful of strings.
            self.result_list = self.result_list.values(*self.ROW_FIELDS)

    def headers(self) -> dict:
        headers = list(result_headers(self))
        priority = gettext(DJANGO_SORT_LABELS["priority"])
        for header in headers:
            header["priority_title"] = priority % {"priority_number": header.get("sort_priority")}
        return {
            "result_headers": headers,
            "num_sorted_fields": sum(1 for header in headers if header["sortable"] and header["sorted"]),
            "remove_label": gettext(DJANGO_SORT_LABELS["remove"]),
            "toggle_label": gettext(DJANGO_SORT_LABELS["toggle"]),
        }

    def rows_html(self) -> str:
        # The standard library's escape, as Django's does, without its lazy-string and SafeString wrappers.
        escape = html.escape
        change_url = reverse("admin:appointments_appointment_changelist")
        filters = f"?{escape(self.preserved_filters)}" if self.preserved_filters else ""
        select_label = gettext(DJANGO_SELECT_LABEL)
        empty = self.model_admin.get_empty_value_display()
        statuses = {value: escape(str(label)) for value, label in AppointmentStatus.choices}
        language, zone = get_language(), timezone.get_current_timezone()
        service_names, windows = {}, WindowFormatter()
        rows = []
        for row in self.result_list:
            pk = row["id"]
            if (service_name := service_names.get(row["service_type_id"])) is None:
                service_name = service_names[row["service_type_id"]] = ServiceType(
                    name=row["service_type__name"],
                    name_de=row["service_type__name_de"],
                    name_nl=row["service_type__name_nl"],
                ).localized_name(language)
            technician = row["technician__display_name"]
            start, end = row["window_start"].astimezone(zone), row["window_end"].astimezone(zone)
            # As str(appointment) reads.
            described = f"{row['customer__full_name']} · {service_name} · {start:%Y-%m-%d %H:%M}"
            rows.append(
                f'<tr><td class="action-checkbox"><input type="checkbox" name="_selected_action" value="{pk}" '
                f'class="action-select" aria-label="{escape(select_label.format(described))}"></td>'
                f'<th class="field-list_window"><a href="{change_url}{pk}/change/{filters}">'
                f"{escape(windows.format(start, end))}</a></th>"
                f'<td class="field-customer_and_place">{escape(row["customer__full_name"])}'
                f'<span class="secondary">{escape(row["site_city"])}</span></td>'
                f'<td class="field-service_type nowrap">{escape(service_name)}</td>'
                f'<td class="field-technician nowrap">{escape(technician) if technician is not None else empty}</td>'
                f'<td class="field-status">{statuses.get(row["status"], empty)}</td></tr>'
            )
        return mark_safe("\n".join(rows))


class WindowFormatter:
    """format_window_short for many rows: a list shows few distinct days, so each day is formatted once."""

    def __init__(self):
        self._days: dict[date, str] = {}

    def _day(self, moment: datetime) -> str:
        day = moment.date()
        if (text := self._days.get(day)) is None:
            text = self._days[day] = format_short_day(day)
        return text

    def format(self, start: datetime, end: datetime) -> str:
        """Both moments in the firm's time zone."""
        if start.date() == end.date():
            return f"{self._day(start)}, {start:%H:%M}–{end:%H:%M}"
        return f"{self._day(start)}, {start:%H:%M} – {self._day(end)}, {end:%H:%M}"


# A customer asked for a new time who has not chosen one after this long is better called.
NEW_TIME_CALL_AFTER_DAYS = 3


class NewTimeFilter(admin.SimpleListFilter):
    """The office's list of customers it asked for a new time and who have not chosen one yet."""

    # Django puts "By …" ("Nach …", "Op …") before it: a noun phrase reads well in every language.
    title = _("customer's new time")
    parameter_name = "new_time"

    def lookups(self, request, model_admin):
        return [
            ("waiting", _("all waiting")),
            (
                "long",
                _("for more than %(days)s days: please call") % {"days": NEW_TIME_CALL_AFTER_DAYS},
            ),
        ]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(status=AppointmentStatus.NEW_TIME)
        if self.value() == "long":
            return queryset.filter(
                status=AppointmentStatus.NEW_TIME,
                new_time_requested_at__lt=timezone.now() - timedelta(days=NEW_TIME_CALL_AFTER_DAYS),
            )
        return queryset
