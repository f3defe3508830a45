from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export import fields

from appointments.admin_list import (
    AppointmentChangeList,
    DateFilter,
    NewTimeFilter,
    ServiceTypeFilter,
    TechnicianFilter,
)
from appointments.availability import within_working_hours
from appointments.closed_days import closed_reason
from appointments.formatting import format_day, format_duration, format_time, format_window, format_window_short
from appointments.forms import (
    AppointmentAddForm,
    AppointmentChangeForm,
    CancelForm,
    FollowUpCloseForm,
    NewTimeRequestForm,
    RescheduleForm,
)
from appointments.models import (
    Appointment,
    AppointmentStatus,
    BookingInvitation,
    Closure,
    MissedVisitFollowUp,
    ServiceType,
    Technician,
    TimeOff,
    VisitAttempt,
    Weekday,
    WorkingPeriod,
    local_midnight,
)
from appointments.services import (
    RESCHEDULABLE,
    AppointmentError,
    appointment_cancel,
    appointment_confirm,
    appointment_reschedule,
)
from appointments.services.booking import appointment_request_new_time, booking_invitation_withdraw
from appointments.services.follow_up import FollowUpError, follow_up_close
from config.admin_actions import ActionFormMixin, CheckedSelectionMixin, PrefillMixin, RecordAdminMixin
from customers.exports import SpreadsheetExportMixin, TitledResource, label
from customers.forms import TechnicianAdminForm
from customers.selectors import phone_search_q
from journal.admin import journal_timeline_html


@admin.register(ServiceType)
class ServiceTypeAdmin(CheckedSelectionMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "name_de",
        "name_nl",
        "duration",
        "arrival_window",
        "buffer_after",
        "is_active",
        "technician_count",
    ]
    list_filter = ["is_active"]
    search_fields = ["name", "name_de", "name_nl"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(technician_total=Count("technicians", distinct=True))

    @admin.display(description=_("technicians"), ordering="technician_total")
    def technician_count(self, service_type):
        return service_type.technician_total


class WorkingPeriodFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        periods = sorted(
            (form.cleaned_data["weekday"], form.cleaned_data["starts"], form.cleaned_data["ends"])
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and {"weekday", "starts", "ends"} <= form.cleaned_data.keys()
        )
        for (day, _starts, ends), (next_day, next_starts, _next_ends) in zip(periods, periods[1:], strict=False):
            if day == next_day and next_starts < ends:
                raise ValidationError(_("Working hours on %(weekday)s overlap.") % {"weekday": Weekday(day).label})


class WorkingPeriodInline(admin.TabularInline):
    model = WorkingPeriod
    formset = WorkingPeriodFormSet
    extra = 1


# Visits named in the warning after time off, qualifications or closures change; beyond these it says "and more".
CLASHES_LISTED = 10


def clashes_html(heading: str, clashing: list[Appointment]):
    """`heading` and a list of links to the visits (CLASHES_LISTED of them, then "and more")."""
    items = format_html_join(
        "",
        '<li><a href="{}">D-{} · {} · {}</a></li>',
        (
            (
                reverse("admin:appointments_appointment_change", args=[visit.pk]),
                visit.pk,
                format_window(visit.window_start, visit.window_end),
                visit.customer.full_name,
            )
            for visit in clashing[:CLASHES_LISTED]
        ),
    )
    more = _("and more") if len(clashing) > CLASHES_LISTED else ""
    return format_html("{}<ul>{}</ul>{}", heading, items, more)


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ["reason", "first_day", "last_day"]
    date_hierarchy = "first_day"
    search_fields = ["reason"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Visits booked before the closure was entered stay booked; the office decides which to move.
        clashing = list(
            Appointment.objects.active()
            .filter(
                window_start__gte=local_midnight(obj.first_day),
                window_start__lt=local_midnight(obj.last_day + timedelta(days=1)),
                window_end__gt=timezone.now(),  # a visit that has passed cannot be moved
            )
            .select_related("customer")
            .order_by("window_start")[: CLASHES_LISTED + 1]
        )
        if clashing:
            self.message_user(
                request,
                clashes_html(
                    _("These booked visits fall on the closure: move them or keep them on purpose."), clashing
                ),
                messages.WARNING,
            )


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 1


@admin.register(Technician)
class TechnicianAdmin(CheckedSelectionMixin, PrefillMixin, admin.ModelAdmin):
    form = TechnicianAdminForm
    list_display = ["display_name", "user", "mobile_phone", "service_type_names", "is_active"]
    list_filter = ["is_active", "service_types"]
    list_select_related = ["user"]
    search_fields = ["display_name", "user__username", "user__email"]
    filter_horizontal = ["service_types"]
    autocomplete_fields = ["user"]
    inlines = [WorkingPeriodInline, TimeOffInline]
    readonly_fields = ["day_sheets", "calendar_link"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("service_types")

    @admin.display(description=_("day sheet"))
    def day_sheets(self, technician):
        """Links to the PDF the technician takes along (technicians/views_day_sheet.py), today's and tomorrow's."""
        if technician is None or technician.pk is None:
            return "—"
        today = timezone.localdate()
        days = [(_("Today"), today), (_("Tomorrow"), today + timedelta(days=1))]
        return format_html_join(
            " · ",
            '<a href="{}" download>{} ({})</a>',
            (
                (reverse("technician:office_day_sheet", args=[technician.pk, day.isoformat()]), label, format_day(day))
                for label, day in days
            ),
        )

    @admin.display(description=_("calendar link"))
    def calendar_link(self, technician):
        """Where the office issues or revokes the technician's calendar feed (technicians/admin.py)."""
        if technician is None or technician.pk is None:
            return "—"
        return format_html(
            '<a href="{}?technician__id__exact={}">{}</a>',
            reverse("admin:technicians_calendarfeed_changelist"),
            technician.pk,
            _("Calendar links: issue a link for the phone's calendar, or revoke one"),
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Time off, qualifications and "active" are entered here without touching booked visits;
        # the office must see at once which visits now need another technician or time.
        clashing = list(
            Appointment.objects.the_technician_cannot_do(form.instance)
            .select_related("customer")
            .order_by("window_start")[: CLASHES_LISTED + 1]
        )
        if clashing:
            self.message_user(
                request,
                clashes_html(
                    _("%(technician)s cannot do these booked visits any more: move them or give them to a colleague.")
                    % {"technician": form.instance},
                    clashing,
                ),
                messages.WARNING,
            )

    @admin.display(description=_("service types"))
    def service_type_names(self, technician):
        return ", ".join(service_type.localized_name() for service_type in technician.service_types.all())


def reschedule_initial(appointment) -> dict:
    """The move form starts from the visit: its technician and window, or for a visit whose time has
    passed (a missed one) the same hours on the next working day."""
    start = timezone.localtime(appointment.window_start)
    length = appointment.window_end - appointment.window_start
    if appointment.window_start <= timezone.now():
        day = timezone.localdate() + timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        start = timezone.make_aware(datetime.combine(day, start.time()))
    return {"technician": appointment.technician_id, "window_start": start, "window_end": start + length}


def _described(queryset):
    """The selected appointments with what the action page shows of each."""
    return queryset.select_related("customer", "technician", "service_type")


# Everything about one visit: rarely more than a dozen entries, the rest behind "Show the whole journal".
VISIT_JOURNAL_LENGTH = 30


class VisitExportResource(TitledResource):
    """The visits of the list as the office filtered it; times in the firm's zone."""

    id = fields.Field(attribute="pk", column_name="ID")
    window_start = fields.Field(column_name=label(Appointment, "window_start"))
    window_end = fields.Field(column_name=label(Appointment, "window_end"))
    customer = fields.Field(attribute="customer__full_name", column_name=label(Appointment, "customer"))
    phone = fields.Field(column_name=_("phone"))
    street = fields.Field(attribute="site_street", column_name=label(Appointment, "site_street"))
    postcode = fields.Field(attribute="site_postcode", column_name=label(Appointment, "site_postcode"))
    city = fields.Field(attribute="site_city", column_name=label(Appointment, "site_city"))
    service_type = fields.Field(column_name=label(Appointment, "service_type"))
    technician = fields.Field(attribute="technician__display_name", column_name=label(Appointment, "technician"))
    status = fields.Field(column_name=label(Appointment, "status"))
    notes = fields.Field(attribute="notes", column_name=label(Appointment, "notes"))

    class Meta:
        model = Appointment
        fields = ("id", "window_start", "window_end", "customer", "phone", "street", "postcode", "city",
                  "service_type", "technician", "status", "notes")  # fmt: skip

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("customer", "technician", "service_type")

    def dehydrate_window_start(self, visit):
        return timezone.localtime(visit.window_start).strftime("%Y-%m-%d %H:%M")

    def dehydrate_window_end(self, visit):
        return timezone.localtime(visit.window_end).strftime("%Y-%m-%d %H:%M")

    def dehydrate_phone(self, visit):
        return visit.customer.phone.as_international if visit.customer.phone else ""

    def dehydrate_service_type(self, visit):
        return str(visit.service_type)

    def dehydrate_status(self, visit):
        return visit.get_status_display()


@admin.register(Appointment)
class AppointmentAdmin(SpreadsheetExportMixin, CheckedSelectionMixin, PrefillMixin, ActionFormMixin, admin.ModelAdmin):
    # Named, so that the export link's template builds on the list's own (fast rows) template.
    change_list_template = "admin/appointments/appointment/change_list.html"
    resource_classes = [VisitExportResource]
    # What a clerk scans a day's list for; the version and the full address are on the visit's page.
    list_display = ["list_window", "customer_and_place", "service_type", "technician", "status"]
    list_filter = ["status", ("technician", TechnicianFilter), DateFilter, ("service_type", ServiceTypeFilter)]
    list_select_related = ["customer", "technician", "service_type"]
    search_fields = ["customer__full_name", "customer__email", "=customer__postcode", "site_street", "=site_postcode"]
    search_help_text = _("Customer's name, email, postcode or phone; site street or postcode.")
    autocomplete_fields = ["customer"]
    list_per_page = 50
    # "50 results (100,000 total)" would count the whole table again on every filtered page.
    show_full_result_count = False
    actions = ["cancel_with_reason", "reschedule", "confirm_requested", "ask_for_new_time"]
    readonly_fields = [
        "customer",
        "service_type",
        "status",
        "version",
        "planned_slot",
        "cancel_reason",
        "visit_journal",
        "created_by",
        "created_at",
        "requested_at",
        "scheduled_at",
        "trip_started_at",
        "arrived_at",
        "completed_at",
        "missed_at",
        "cancelled_at",
    ]
    add_fieldsets = [
        (
            None,
            {
                "fields": [
                    "customer",
                    "service_type",
                    "technician",
                    "window_start",
                    "window_end",
                    "duration_minutes",
                    "planned_time",
                    "notes",
                    "requested",
                ]
            },
        ),
        (
            _("Site address"),
            {
                "fields": ["site_street", "site_postcode", "site_city", "site_country"],
                "description": _("Leave empty to use the customer's address."),
            },
        ),
    ]
    change_fieldsets = [
        (None, {"fields": ["customer", "service_type", "status", "version"]}),
        (
            _("Time and technician"),
            {
                "fields": [
                    "technician",
                    "window_start",
                    "window_end",
                    "reschedule_reason",
                    "duration_minutes",
                    "planned_time",
                    "planned_slot",
                    "seen_version",
                ]
            },
        ),
        (_("Site address"), {"fields": ["site_street", "site_postcode", "site_city", "site_country"]}),
        (_("Notes"), {"fields": ["notes", "cancel_reason"]}),
        (_("Contact journal"), {"fields": ["visit_journal"]}),
        (
            _("History"),
            {
                "classes": ["collapse"],
                "fields": [
                    "created_by",
                    "created_at",
                    "requested_at",
                    "scheduled_at",
                    "trip_started_at",
                    "arrived_at",
                    "completed_at",
                    "missed_at",
                    "cancelled_at",
                ],
            },
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        if obj.status in RESCHEDULABLE:
            return self.change_fieldsets
        # The reason for a move and the plan are form fields, not stored: read-only they would show "None"
        # under an English label, and a visit done or cancelled is not planned any more.
        hidden = {"reschedule_reason", "duration_minutes", "planned_time"}
        return [
            (name, {**options, "fields": [field for field in options["fields"] if field not in hidden]})
            for name, options in self.change_fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if obj.status not in RESCHEDULABLE:
            return [*self.readonly_fields, "technician", "window_start", "window_end"]
        return self.readonly_fields

    @admin.display(description=_("about this visit"))
    def visit_journal(self, appointment):
        if appointment.pk is None:
            return "–"
        return journal_timeline_html(appointment.customer, appointment=appointment, length=VISIT_JOURNAL_LENGTH)

    @admin.display(description=_("planned in the technician's day"))
    def planned_slot(self, appointment):
        if appointment.pk is None:
            return "–"
        buffer = appointment.occupied_until - appointment.planned_end
        return _("%(start)s–%(end)s, then %(buffer)s buffer (travel, tidying up)") % {
            "start": format_time(appointment.planned_start),
            "end": format_time(appointment.planned_end),
            "buffer": format_duration(buffer),
        }

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = AppointmentChangeForm if obj else AppointmentAddForm
        form_class = super().get_form(request, obj, change=change, **kwargs)
        return type(form_class.__name__, (form_class,), {"actor": request.user})

    def save_model(self, request, obj, form, change):
        # The form's service call has saved it already (see ServiceModelForm).
        pass

    def save_related(self, request, form, formsets, change):
        # Nothing related to save (see save_model); but the office may book outside working hours on
        # purpose (an urgent repair, an agreed evening), so it is told rather than refused.
        timing = {"window_start", "window_end", "technician", "planned_time", "duration_minutes"}
        appointment = form.instance
        if (not change or timing & set(form.changed_data)) and not within_working_hours(appointment):
            self.message_user(
                request,
                _("D-%(id)s lies outside %(technician)s's working hours. It is booked as entered; please check.")
                % {"id": appointment.pk, "technician": appointment.technician},
                messages.WARNING,
            )
        if not change or timing & set(form.changed_data):
            self._warn_if_closed(request, appointment)

    def _warn_if_closed(self, request, appointment):
        """Customers are never offered a public holiday or a closure; the office may book one on purpose."""
        day = timezone.localdate(appointment.window_start)
        reason = closed_reason(day)
        if reason:
            self.message_user(
                request,
                _("D-%(id)s is on a closed day, %(day)s: %(reason)s. It is booked as entered; please check.")
                % {"id": appointment.pk, "day": format_day(day), "reason": reason},
                messages.WARNING,
            )

    def has_delete_permission(self, request, obj=None):
        # Appointments are cancelled, never deleted: the journal refers to them.
        return False

    def response_post_save_add(self, request, obj):
        # Django's success message, then the visit itself rather than the whole list from last week.
        return HttpResponseRedirect(reverse("admin:appointments_appointment_change", args=[obj.pk]))

    def response_post_save_change(self, request, obj):
        return HttpResponseRedirect(reverse("admin:appointments_appointment_change", args=[obj.pk]))

    def get_changelist(self, request, **kwargs):
        return AppointmentChangeList

    def get_search_results(self, request, queryset, search_term):
        matches, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        phone_q = phone_search_q(search_term, field="customer__phone")
        if phone_q is None:
            return matches, may_have_duplicates
        return queryset.filter(Q(pk__in=matches.values("pk")) | phone_q), may_have_duplicates

    @admin.display(description=_("arrival window"), ordering="window_start")
    def list_window(self, appointment):
        return format_window_short(appointment.window_start, appointment.window_end)

    @admin.display(description=_("customer and place"), ordering="customer__full_name")
    def customer_and_place(self, appointment):
        return format_html(
            '{}<span class="secondary">{}</span>', appointment.customer.full_name, appointment.site_city
        )

    # Actions ------------------------------------------------------------------

    @admin.action(description=_("Cancel selected appointments (with reason)"), permissions=["change"])
    def cancel_with_reason(self, request, queryset):
        form = CancelForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done, errors = 0, []
            for appointment in queryset.select_related("customer"):
                try:
                    appointment_cancel(appointment=appointment, reason=form.cleaned_data["reason"], actor=request.user)
                    done += 1
                except AppointmentError as exc:
                    errors.append(f"{appointment}: {exc.message}")
            self._report(
                request,
                done,
                errors,
                ngettext("%(count)d appointment cancelled.", "%(count)d appointments cancelled.", done),
            )
            return None
        return self._action_page(
            request, queryset, form, "cancel_with_reason", _("Cancel appointments"), appointments=_described(queryset)
        )

    @admin.action(description=_("Move the selected appointment to a new time"), permissions=["change"])
    def reschedule(self, request, queryset, back_url=None):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one appointment to move."), messages.WARNING)
            return None
        appointment = queryset.select_related("customer", "technician", "service_type").get()
        form = RescheduleForm(
            request.POST if "apply" in request.POST else None, initial=reschedule_initial(appointment)
        )
        if form.is_valid():
            try:
                appointment = appointment_reschedule(
                    appointment=appointment,
                    window_start=form.cleaned_data["window_start"],
                    window_end=form.cleaned_data.get("window_end"),
                    technician=form.cleaned_data.get("technician"),
                    reason=form.cleaned_data.get("reason", ""),
                    actor=request.user,
                )
            except AppointmentError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    _("Moved to %(window)s.")
                    % {"window": format_window(appointment.window_start, appointment.window_end)},
                    messages.SUCCESS,
                )
                self._warn_if_closed(request, appointment)
                # The clerk goes on with this visit (call the customer, add a note), not with the list.
                return HttpResponseRedirect(reverse("admin:appointments_appointment_change", args=[appointment.pk]))
        return self._action_page(
            request,
            queryset,
            form,
            "reschedule",
            _("Move appointment"),
            appointments=_described(queryset),
            back_url=back_url,
        )

    @admin.action(description=_("Confirm selected requested appointments"), permissions=["change"])
    def confirm_requested(self, request, queryset):
        done, errors = 0, []
        for appointment in queryset.select_related("customer"):
            try:
                appointment_confirm(appointment=appointment, actor=request.user)
                done += 1
            except AppointmentError as exc:
                errors.append(f"{appointment}: {exc.message}")
        self._report(
            request,
            done,
            errors,
            ngettext("%(count)d appointment confirmed.", "%(count)d appointments confirmed.", done),
        )

    # Asking the customer for a new time ---------------------------------------

    @admin.action(description=_("Ask the customer to choose a new time (email with link)"), permissions=["change"])
    def ask_for_new_time(self, request, queryset):
        appointments = list(_described(queryset))
        languages = {appointment.customer.preferred_language for appointment in appointments}
        if len(languages) > 1:
            # The reason goes into each mail exactly as typed: one text cannot be in two languages.
            self.message_user(
                request,
                _(
                    "The selected customers read different languages (%(languages)s). "
                    "Please ask them language by language."
                )
                % {
                    "languages": ", ".join(str(dict(settings.LANGUAGES).get(code, code)) for code in sorted(languages))
                },
                messages.WARNING,
            )
            return None
        language = languages.pop() if languages else settings.LANGUAGE_CODE
        form = NewTimeRequestForm(request.POST if "apply" in request.POST else None, language=language)
        if form.is_valid():
            done, errors = 0, []
            for appointment in appointments:
                try:
                    appointment_request_new_time(
                        appointment=appointment, actor=request.user, reason=form.cleaned_data["reason"]
                    )
                    done += 1
                except AppointmentError as exc:
                    errors.append(f"{appointment}: {exc.message}")
            self._report(
                request,
                done,
                errors,
                ngettext(
                    "%(count)d customer asked to choose a new time.",
                    "%(count)d customers asked to choose a new time.",
                    done,
                ),
            )
            return None
        return self._action_page(
            request,
            queryset,
            form,
            "ask_for_new_time",
            _("Ask the customer to choose a new time"),
            appointments=appointments,
        )

    def get_list_filter(self, request):
        return [NewTimeFilter, *super().get_list_filter(request)]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            appointment = self.get_object(request, object_id)
            if appointment is not None and appointment.status == AppointmentStatus.NEW_TIME:
                self.message_user(request, _waiting_for_new_time(appointment), messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)


def _waiting_for_new_time(appointment):
    return format_html(
        "{} {} {}",
        _(
            "Waiting for the customer's new time (asked on %(since)s). The window %(window)s was given up and is "
            "free for other visits."
        )
        % {
            "since": formats.date_format(
                timezone.localtime(appointment.new_time_requested_at), "SHORT_DATETIME_FORMAT"
            )
            if appointment.new_time_requested_at
            else "–",
            "window": format_window(appointment.window_start, appointment.window_end),
        },
        _("Reason given to the customer: “%(reason)s”") % {"reason": appointment.new_time_reason},
        _("Move or cancel the visit to answer for the customer."),
    )


@admin.register(BookingInvitation)
class BookingInvitationAdmin(CheckedSelectionMixin, RecordAdminMixin, admin.ModelAdmin):
    """Sent invitations and whether the customer has booked; created from the customer list."""

    list_display = ["created_at", "customer", "service_type", "technician", "expires_at", "state"]
    actions = ["withdraw"]
    list_select_related = ["customer", "service_type", "technician"]
    list_filter = ["service_type"]
    search_fields = ["customer__full_name", "customer__email"]
    fields = [
        "customer",
        "service_type",
        "technician",
        "message",
        "customer_language",
        "created_by",
        "created_at",
        "expires_at",
        "appointment",
    ]

    @admin.display(description=_("language of the email"))
    def customer_language(self, invitation):
        return invitation.customer.get_preferred_language_display()

    @admin.display(description=_("state"))
    def state(self, invitation):
        if invitation.appointment_id is not None:
            # The booked visit by its reference: its full name (customer · service · time) repeats the row.
            url = reverse("admin:appointments_appointment_change", args=[invitation.appointment_id])
            return format_html('{} <a href="{}">D-{}</a>', _("booked"), url, invitation.appointment_id)
        if invitation.expires_at <= timezone.now():
            return _("closed or expired")
        return _("open")

    @admin.action(
        description=_("Withdraw the selected invitations (their links stop working)"), permissions=["change"]
    )
    def withdraw(self, request, queryset):
        withdrawn = sum(
            booking_invitation_withdraw(invitation=invitation, actor=request.user) for invitation in queryset
        )
        if withdrawn:
            self.message_user(
                request,
                ngettext("%(count)d invitation withdrawn.", "%(count)d invitations withdrawn.", withdrawn)
                % {"count": withdrawn},
                messages.SUCCESS,
            )
        if withdrawn < queryset.count():
            self.message_user(
                request, _("Invitations already booked, expired or closed stay as they are."), messages.WARNING
            )


# Enough of the customer's journal to call them with the whole story at hand.
JOURNAL_LENGTH = 15


class FollowUpStateFilter(admin.SimpleListFilter):
    title = _("follow-up")
    parameter_name = "follow_up"

    def lookups(self, request, model_admin):
        return [
            ("open", _("open: office to call")),
            ("rebooked", _("rebooked by the customer")),
            ("closed", _("closed by the office")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.follow_up_open()
        if self.value() == "rebooked":
            return queryset.filter(rebooked_at__isnull=False)
        if self.value() == "closed":
            return queryset.filter(follow_up_closed_at__isnull=False)
        return queryset


class VisitAttemptAdminBase(CheckedSelectionMixin, RecordAdminMixin, ActionFormMixin, admin.ModelAdmin):
    """Read-only: an attempt is the record of what happened at the door; the office adds notes, not edits."""

    list_select_related = ["appointment__customer", "technician"]
    search_fields = ["appointment__customer__full_name", "appointment__customer__email", "=appointment__site_postcode"]
    fields = [
        "customer_link",
        "appointment_link",
        "book_new_time",
        "customer_phone",
        "at",
        "window_display",
        "technician",
        "waited_minutes",
        "card_left",
        "note",
        "location",
        "rebooked_at",
        "follow_up_flagged_at",
        "follow_up_closed_at",
        "follow_up_closed_by",
        "follow_up_note",
        "journal",
    ]

    @admin.display(description=_("customer"), ordering="appointment__customer__full_name")
    def customer_link(self, attempt):
        customer = attempt.appointment.customer
        url = reverse("admin:customers_customer_change", args=[customer.pk])
        return format_html('<a href="{}">{}</a>', url, customer.full_name)

    @admin.display(description=_("appointment"))
    def appointment_link(self, attempt):
        url = reverse("admin:appointments_appointment_change", args=[attempt.appointment_id])
        return format_html(
            '<a href="{}">{} · {}</a>', url, attempt.reference, attempt.appointment.get_status_display()
        )

    @admin.display(description=_("phone"))
    def customer_phone(self, attempt):
        phone = attempt.appointment.customer.phone
        if not phone:
            return "–"
        return format_html('<a href="tel:{}">{}</a>', phone.as_e164, phone.as_international)

    @admin.display(description=_("arrival window"), ordering="window_start")
    def window_display(self, attempt):
        return format_window(attempt.window_start, attempt.window_end)

    @admin.display(description=_("location"))
    def location(self, attempt):
        if attempt.latitude is None:
            return _("not recorded")
        url = f"https://www.openstreetmap.org/?mlat={attempt.latitude}&mlon={attempt.longitude}#map=18/{attempt.latitude}/{attempt.longitude}"
        accuracy = (
            _(" (± %(metres)s m)") % {"metres": attempt.location_accuracy_m}
            if attempt.location_accuracy_m is not None
            else ""
        )
        return format_html(
            '<a href="{}" rel="noreferrer">{}, {}</a>{}', url, attempt.latitude, attempt.longitude, accuracy
        )

    @admin.display(description=_("contact journal"))
    def journal(self, attempt):
        return journal_timeline_html(attempt.appointment.customer, length=JOURNAL_LENGTH)

    @admin.display(description=_("new time"))
    def book_new_time(self, attempt):
        if attempt.rebooked_at or attempt.appointment.status not in RESCHEDULABLE:
            return "–"
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_book_new_time", args=[attempt.pk])
        return format_html('<a href="{}">{}</a>', url, _("Book a new time"))

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_book_new_time"
        return [
            path("<path:object_id>/book-new-time/", self.admin_site.admin_view(self.book_new_time_view), name=name),
            *super().get_urls(),
        ]

    def book_new_time_view(self, request, object_id):
        """The missed visit's reschedule form, prefilled; moving the missed visit rebooks it."""
        # get_object() answers None for an id that is missing or not a number, as the change page does.
        attempt = self.get_object(request, unquote(object_id))
        if attempt is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        appointments = self.admin_site.get_model_admin(Appointment)
        if not appointments.has_change_permission(request):
            raise PermissionDenied
        # "Back" returns to the missed visit the clerk came from, not to the list of all visits.
        back_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[attempt.pk])
        return appointments.reschedule(
            request, Appointment.objects.filter(pk=attempt.appointment_id), back_url=back_url
        )


@admin.register(VisitAttempt)
class VisitAttemptAdmin(VisitAttemptAdminBase):
    """Every missed visit, kept apart from cancellations: a no-show is a fact about a visit that took place."""

    list_display = ["at", "customer_link", "technician", "waited_minutes", "card_left", "state"]
    list_filter = [FollowUpStateFilter, "card_left", "technician"]
    date_hierarchy = "at"

    @admin.display(description=_("state"))
    def state(self, attempt):
        if attempt.rebooked_at:
            return _("rebooked")
        if attempt.follow_up_closed_at:
            return _("follow-up closed")
        if attempt.follow_up_flagged_at:
            return _("office to call")
        return _("waiting for the customer")


@admin.register(MissedVisitFollowUp)
class MissedVisitFollowUpAdmin(VisitAttemptAdminBase):
    """The office's to-do list: missed visits nobody rebooked within the set number of days."""

    list_display = ["at", "customer_link", "customer_phone", "technician", "days_open", "book_new_time"]
    list_filter = ["technician"]
    ordering = ["at"]
    actions = ["close_follow_up"]

    def get_queryset(self, request):
        return super().get_queryset(request).follow_up_open()

    @admin.display(description=_("days since the attempt"))
    def days_open(self, attempt):
        return (timezone.now() - attempt.at).days

    @admin.action(description=_("Close the follow-up (note what was agreed)"), permissions=["change"])
    def close_follow_up(self, request, queryset):
        form = FollowUpCloseForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done, errors = 0, []
            for attempt in queryset:
                try:
                    follow_up_close(attempt=attempt, actor=request.user, note=form.cleaned_data["note"])
                    done += 1
                except FollowUpError as exc:
                    errors.append(f"{attempt}: {exc.message}")
            self._report(
                request,
                done,
                errors,
                ngettext("%(count)d follow-up closed.", "%(count)d follow-ups closed.", done),
            )
            return None
        appointments = [
            attempt.appointment
            for attempt in queryset.select_related(
                "appointment__customer", "appointment__service_type", "appointment__technician"
            )
        ]
        return self._action_page(
            request, queryset, form, "close_follow_up", _("Close follow-up"), appointments=appointments
        )
