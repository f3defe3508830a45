from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, SetUnusablePasswordMixin
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.admin_actions import STAFF_USER_ACTIONS
from appointments.formatting import format_short_day, format_time
from appointments.forms import InvitationForm
from appointments.models import ACTIVE_STATUSES, Appointment, AppointmentStatus, VisitAttempt
from appointments.services import AppointmentError
from appointments.services.booking import booking_invite
from config.admin_actions import ActionFormMixin, CheckedSelectionMixin, PrefillMixin
from customers.admin_import import CustomerImportMixin
from customers.exports import CustomerExportResource, SpreadsheetExportMixin
from customers.forms import CustomerAdminForm, FirmAdminForm, FirmCountryPhonesForm
from customers.models import Customer, Firm, Language, OfficeProfile
from customers.selectors import phone_search_q
from customers.services import EDITABLE_FIELDS, customer_create, customer_update
from journal.admin import journal_timeline_html
from journal.forms import QuickContactForm

User = get_user_model()
JOURNAL_TIMELINE_LENGTH = 50


@admin.register(Firm)
class FirmAdmin(PrefillMixin, admin.ModelAdmin):
    form = FirmAdminForm
    list_display = ["name", "email", "phone", "city"]

    def has_add_permission(self, request):
        # One firm per installation: its details appear in every customer message.
        return super().has_add_permission(request) and not Firm.objects.exists()


class OfficeProfileInline(admin.StackedInline):
    model = OfficeProfile
    form = FirmCountryPhonesForm
    can_delete = False
    verbose_name_plural = _("office contact details")


class OfficePasswordChangeForm(AdminPasswordChangeForm):
    # Django joins its help text to an untranslated warning when the module loads, so the page showed
    # the server's language plus English whatever the reader's language; this joins them when shown.
    usable_password_help_text = lazy(format_html, SafeString)(
        '{}<ul id="id_unusable_warning" class="messagelist"><li class="warning">{}</li></ul>',
        SetUnusablePasswordMixin.usable_password_help_text,
        _("If disabled, the current password for this user will be lost."),
    )


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    change_password_form = OfficePasswordChangeForm
    inlines = [OfficeProfileInline]
    list_select_related = ["office_profile"]
    actions = STAFF_USER_ACTIONS


class UpcomingAppointmentInline(admin.TabularInline):
    model = Appointment
    verbose_name_plural = _("upcoming appointments")
    fields = ["window_start", "window_end", "service_type", "technician", "status"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(window_end__gte=timezone.now(), status__in=ACTIVE_STATUSES)
            .select_related("customer", "service_type", "technician")
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class NextVisitFilter(admin.SimpleListFilter):
    title = _("upcoming visit")
    parameter_name = "visits"

    def lookups(self, request, model_admin):
        return [("upcoming", _("with an upcoming visit")), ("none", _("without an upcoming visit"))]

    def queryset(self, request, queryset):
        if self.value() == "upcoming":
            return queryset.filter(next_visit__isnull=False)
        if self.value() == "none":
            return queryset.filter(next_visit__isnull=True)
        return queryset


@admin.register(Customer)
class CustomerAdmin(
    CustomerImportMixin, SpreadsheetExportMixin, CheckedSelectionMixin, PrefillMixin, ActionFormMixin, admin.ModelAdmin
):
    form = CustomerAdminForm
    import_export_change_list_template = "admin/import_export/change_list_import_export.html"
    resource_classes = [CustomerExportResource]
    # The columns a clerk needs to recognise and call a customer; the rest is on the customer's page.
    list_display = [
        "name_and_email",
        "place",
        "phone",
        "preferred_language",
        "responsible_name",
        "next_visit_display",
    ]
    list_filter = [NextVisitFilter, "preferred_language", "preferred_channel", "country", "responsible"]
    list_select_related = ["responsible"]
    search_fields = ["full_name", "email", "=postcode", "city"]
    search_help_text = _("Name, email, postcode, city or phone number (any format).")
    ordering = ["full_name"]
    list_per_page = 50
    action_form_template = "admin/customers/invite_form.html"
    inlines = [UpcomingAppointmentInline]
    actions = ["invite_to_book"]
    readonly_fields = ["visit_record", "journal_timeline", "created_at", "updated_at"]
    autocomplete_fields = []
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "full_name",
                    "email",
                    "phone",
                    "preferred_language",
                    "preferred_channel",
                    "responsible",
                    "feedback_requests",
                ]
            },
        ),
        (_("Address"), {"fields": ["street", "postcode", "city", "country"]}),
        (_("Notes"), {"fields": ["notes"]}),
        (_("Contact journal"), {"fields": ["visit_record", "journal_timeline"]}),
        (_("Created and changed"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "responsible":
            field.label_from_instance = lambda user: user.get_full_name() or user.get_username()
        return field

    def get_queryset(self, request):
        # A per-row subquery, not a join + GROUP BY: the page then reads only the
        # 50 customers it shows instead of aggregating every appointment first.
        next_visit = (
            Appointment.objects.filter(
                customer=OuterRef("pk"), window_end__gte=timezone.now(), status__in=ACTIVE_STATUSES
            )
            .order_by("window_start")
            .values("window_start")[:1]
        )
        return super().get_queryset(request).annotate(next_visit=Subquery(next_visit))

    def get_search_results(self, request, queryset, search_term):
        matches, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        phone_q = phone_search_q(search_term)
        if phone_q is None:
            return matches, may_have_duplicates
        return queryset.filter(Q(pk__in=matches.values("pk")) | phone_q), may_have_duplicates

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [fieldset for fieldset in self.fieldsets if "journal_timeline" not in fieldset[1]["fields"]]
        return self.fieldsets

    def has_delete_permission(self, request, obj=None):
        # The contact journal is evidence; customers are kept, not deleted.
        return False

    @admin.display(description=_("name"), ordering="full_name")
    def name_and_email(self, customer):
        return format_html('{}<span class="secondary">{}</span>', customer.full_name, customer.email)

    @admin.display(description=_("place"), ordering="city")
    def place(self, customer):
        return f"{customer.postcode} {customer.city}"

    @admin.display(description=_("responsible"), ordering="responsible__last_name")
    def responsible_name(self, customer):
        return customer.responsible.get_full_name() or customer.responsible.get_username()

    @admin.display(description=_("next visit"), ordering="next_visit")
    def next_visit_display(self, customer):
        return (
            f"{format_short_day(customer.next_visit)}, {format_time(customer.next_visit)}"
            if customer.next_visit
            else "–"
        )

    @admin.display(description=_("visits"))
    def visit_record(self, customer):
        """Missed visits (nobody home) counted apart from cancellations: one is a no-show, the other is not."""
        by_status = dict(
            Appointment.objects.filter(customer=customer).order_by().values_list("status").annotate(count=Count("pk"))
        )
        not_home = VisitAttempt.objects.filter(appointment__customer=customer).count()
        return _(
            "completed: %(completed)s · upcoming: %(upcoming)s · nobody home: %(not_home)s · cancelled: %(cancelled)s"
        ) % {
            "completed": by_status.get(AppointmentStatus.COMPLETED, 0),
            "upcoming": sum(by_status.get(status, 0) for status in ACTIVE_STATUSES),
            "not_home": not_home,
            "cancelled": by_status.get(AppointmentStatus.CANCELLED, 0),
        }

    @admin.display(description=_("timeline"))
    def journal_timeline(self, customer):
        # Logging a call takes seconds from here; the form posts to the journal's own view.
        contact_form = QuickContactForm(initial={"customer": customer.pk})
        return journal_timeline_html(customer, length=JOURNAL_TIMELINE_LENGTH, contact_form=contact_form)

    @admin.action(description=_("Invite to book online (e.g. maintenance due)"), permissions=["change"])
    def invite_to_book(self, request, queryset):
        languages = [
            Language(code).label
            for code in sorted(set(queryset.values_list("preferred_language", flat=True)))
            if code in Language.values
        ]
        form = InvitationForm(request.POST if "apply" in request.POST else None, languages=languages)
        if form.is_valid():
            done, errors = 0, []
            for customer in queryset:
                try:
                    booking_invite(
                        customer=customer,
                        service_type=form.cleaned_data["service_type"],
                        technician=form.cleaned_data["technician"],
                        note=form.cleaned_data["note"],
                        actor=request.user,
                    )
                    done += 1
                except AppointmentError as exc:
                    errors.append(f"{customer}: {exc.message}")
            self._report(
                request, done, errors, ngettext("%(count)d invitation sent.", "%(count)d invitations sent.", done)
            )
            return None
        return self._action_page(request, queryset, form, "invite_to_book", _("Invite to book online"))

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS if name in form.cleaned_data}
        if change:
            saved = customer_update(customer=obj, changes=fields, actor=request.user)
        else:
            saved = customer_create(fields=fields, actor=request.user)
        # The admin logs and redirects with the object it passed in.
        obj.pk = saved.pk
