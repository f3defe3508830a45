from django import forms
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from appointments.formatting import format_window_short
from appointments.models import Appointment
from config.admin_actions import PrefillMixin
from journal.models import Channel, JournalEntry
from journal.services import journal_record


def journal_timeline_html(customer, *, length: int) -> str:
    """The customer's latest `length` journal entries as a table, for the admin pages that show a customer."""
    entries = list(
        JournalEntry.objects.filter(customer=customer)
        .select_related("actor")
        .order_by("-occurred_at", "-id")[: length + 1]
    )
    return render_to_string(
        "admin/customers/journal_timeline.html",
        {"entries": entries[:length], "has_more": len(entries) > length, "customer": customer},
    )


# What each action code means, for the office's filter; a code missing here is shown as it is.
ACTION_LABELS = {
    "appointment.requested": _("visit requested"),
    "appointment.scheduled": _("visit booked"),
    "appointment.confirmed": _("visit confirmed"),
    "appointment.rescheduled": _("visit moved"),
    "appointment.updated": _("visit details changed"),
    "appointment.cancelled": _("visit cancelled"),
    "appointment.new_time_requested": _("customer asked to choose a new time"),
    "visit.trip_started": _("technician on the way"),
    "visit.arrived": _("technician arrived"),
    "visit.completed": _("visit completed"),
    "visit.missed": _("nobody home"),
    "visit.rebooked": _("missed visit rebooked"),
    "visit.follow_up_flagged": _("missed visit: office to call"),
    "visit.follow_up_closed": _("follow-up closed"),
    "booking.invited": _("invited to book online"),
    "booking.invitation_closed": _("invitation closed"),
    "customer.created": _("customer created"),
    "customer.updated": _("customer details changed"),
    "contact.recorded": _("contact recorded by the office"),
    "message.resend_requested": _("email to be sent again"),
}


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return str(ACTION_LABELS[action])
    from notifications.models import MessageKind

    parts = action.split(".")
    if parts[0] == "message" and len(parts) > 1 and parts[1] in MessageKind.values:
        kind = MessageKind(parts[1]).label
        if parts[2:] == ["no_email"]:
            return _("%(kind)s: no email address") % {"kind": kind}
        return _("email sent: %(kind)s") % {"kind": kind}
    return action


class ActionFilter(admin.SimpleListFilter):
    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        actions = JournalEntry.objects.order_by().values_list("action", flat=True).distinct()
        return sorted(((action, action_label(action)) for action in actions), key=lambda choice: choice[1])

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


# The ways a person gets in touch; "web" and "system" are what the app itself records.
HUMAN_CHANNELS = [Channel.PHONE, Channel.EMAIL, Channel.LETTER, Channel.VISIT]


class VisitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, appointment):
        return f"D-{appointment.pk} · {format_window_short(appointment.window_start, appointment.window_end)} · " + (
            f"{appointment.service_type} ({appointment.get_status_display()})"
        )


class ContactEntryForm(forms.ModelForm):
    appointment = VisitChoiceField(
        label=_("appointment"),
        queryset=Appointment.objects.none(),
        required=False,
        help_text=_("The customer's visits, latest first. Start from the customer's page to choose one."),
    )
    channel = forms.ChoiceField(label=_("channel"), choices=[(c.value, c.label) for c in HUMAN_CHANNELS])

    class Meta:
        model = JournalEntry
        fields = ["customer", "appointment", "channel", "direction", "summary", "occurred_at"]
        labels = {"summary": _("what was said or agreed")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Labels given here are used as written; the model's own fields get a capital from Django.
        for field in self.fields.values():
            field.label = capfirst(field.label)
        # Only this customer's visits: a contact about someone else's visit cannot be picked.
        customer_id = self.data.get("customer") if self.is_bound else self.initial.get("customer")
        if customer_id and str(customer_id).isdigit():
            self.fields["appointment"].queryset = (
                Appointment.objects.filter(customer_id=customer_id)
                .select_related("service_type")
                .order_by("-window_start")
            )

    def clean(self):
        cleaned_data = super().clean()
        appointment, customer = cleaned_data.get("appointment"), cleaned_data.get("customer")
        if appointment and customer and appointment.customer_id != customer.pk:
            self.add_error("appointment", _("This appointment belongs to another customer."))
        return cleaned_data


@admin.register(JournalEntry)
class JournalEntryAdmin(PrefillMixin, admin.ModelAdmin):
    """Read-only timeline; staff may add contacts (a call, a letter) but never change or delete one."""

    # The summary says what happened; the action's code is for filtering, not for reading.
    list_display = ["occurred_at", "customer", "channel", "direction", "summary", "actor"]
    list_filter = ["channel", "direction", ActionFilter]
    list_select_related = ["customer", "actor"]
    search_fields = ["customer__full_name", "summary", "action"]
    autocomplete_fields = ["customer"]
    form = ContactEntryForm
    list_per_page = 100

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("channel", "phone")
        initial.setdefault("direction", "in")
        return initial

    def has_change_permission(self, request, obj=None):
        return False

    def response_post_save_add(self, request, obj):
        # Started from a customer's page (?customer=…): back to that customer, where the entry now shows.
        if "customer" in request.GET:
            return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[obj.customer_id]))
        return super().response_post_save_add(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = journal_record(
            customer=form.cleaned_data["customer"],
            appointment=form.cleaned_data.get("appointment"),
            channel=form.cleaned_data["channel"],
            direction=form.cleaned_data["direction"],
            summary=form.cleaned_data["summary"],
            occurred_at=form.cleaned_data["occurred_at"],
            action="contact.recorded",
            actor=request.user,
        )
        obj.pk = saved.pk
