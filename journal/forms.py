from django import forms
from django.contrib.admin.widgets import AdminSplitDateTime
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from appointments.formatting import format_window_short
from appointments.models import Appointment
from customers.models import Customer
from journal.contacts import contact_extensions
from journal.models import JournalEntry
from journal.services import CONTACT_KINDS, ContactError, contact_check

# The id of the empty <form> the quick contact's fields belong to: they sit inside the customer's own form.
QUICK_CONTACT_FORM_ID = "journal-contact"


class VisitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, appointment):
        return f"D-{appointment.pk} · {format_window_short(appointment.window_start, appointment.window_end)} · " + (
            f"{appointment.service_type} ({appointment.get_status_display()})"
        )


def _now_to_the_minute():
    return timezone.localtime().replace(second=0, microsecond=0)


class ContactEntryForm(forms.ModelForm):
    """A contact the office had with a customer: how, about which of their visits, what was said, when."""

    contact = forms.ChoiceField(
        label=_("contact"),
        choices=[(code, capfirst(kind.label)) for code, kind in CONTACT_KINDS.items()],
        error_messages={"invalid_choice": _("Please choose how the contact took place.")},
    )
    appointment = VisitChoiceField(
        label=_("appointment"),
        queryset=Appointment.objects.none(),
        required=False,
        help_text=_("The customer's visits, latest first. Start from the customer's page to choose one."),
        error_messages={"invalid_choice": _("Please choose one of this customer's visits.")},
    )
    note = forms.CharField(
        label=_("what was said or agreed"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Please note what was said or agreed.")},
    )
    occurred_at = forms.SplitDateTimeField(label=_("when"), initial=_now_to_the_minute, widget=AdminSplitDateTime)

    class Meta:
        model = JournalEntry
        fields = ["customer", "contact", "appointment", "note", "occurred_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Labels given here are used as written; the model's own fields get a capital from Django.
        for field in self.fields.values():
            field.label = capfirst(field.label)
        # Only this customer's visits: a contact about someone else's visit cannot be picked.
        customer_id = self.data.get("customer") if self.is_bound else self.initial.get("customer")
        customer_id = getattr(customer_id, "pk", customer_id)
        self.contact_customer = None
        if customer_id and str(customer_id).isdigit():
            self.fields["appointment"].queryset = (
                Appointment.objects.filter(customer_id=customer_id)
                .select_related("service_type")
                .order_by("-window_start")
            )
            self.contact_customer = Customer.objects.filter(pk=customer_id).first()
        # Other apps' fields (the desk: the promise this contact keeps, one it makes), after the journal's own.
        self.extension_names = []
        for extension in contact_extensions():
            for name, field in extension.fields(self.contact_customer).items():
                field.label = capfirst(field.label)
                self.fields[name] = field
                self.extension_names.append(name)

    @property
    def extension_fields(self):
        """The other apps' fields to show: one with nothing to offer (its widget hidden) is left out."""
        return [self[name] for name in self.extension_names if not self[name].is_hidden]

    @property
    def field_groups(self):
        """The contact's own fields, then the other apps' (shown apart: what the contact did beyond itself)."""
        own = [field for field in self.visible_fields() if field.name not in self.extension_names]
        return [group for group in (own, self.extension_fields) if group]

    def add_error(self, field, error):
        # An extension's field left hidden (nothing to offer) cannot show its error: the form says it.
        if field in self.extension_names and self[field].is_hidden:
            field = None
        super().add_error(field, error)

    def extension_data(self) -> dict:
        """The cleaned values of the other apps' fields, for contact_record(extension_data=…)."""
        return {name: self.cleaned_data.get(name) for name in self.extension_names}

    def clean_occurred_at(self):
        occurred_at = self.cleaned_data["occurred_at"]
        # The field shows minutes only: left at "now", the contact would sort below entries of the same
        # minute written a few seconds earlier, so the call just logged would not show first.
        if occurred_at == _now_to_the_minute():
            return timezone.now()
        return occurred_at

    def clean(self):
        cleaned_data = super().clean()
        if "customer" in cleaned_data and "note" in cleaned_data:
            try:
                contact_check(
                    customer=cleaned_data["customer"],
                    appointment=cleaned_data.get("appointment"),
                    note=cleaned_data["note"],
                    occurred_at=cleaned_data.get("occurred_at"),
                )
            except ContactError as refused:
                self.add_error(refused.field if refused.field in self.fields else None, refused.message)
            for extension in contact_extensions():
                try:
                    extension.clean(cleaned_data["customer"], cleaned_data)
                except ContactError as refused:
                    self.add_error(refused.field if refused.field in self.fields else None, refused.message)
        return cleaned_data

    def done_messages(self) -> list[str]:
        """What the extensions did, for the clerk's success message."""
        data = self.extension_data()
        return [text for extension in contact_extensions() if extension.done and (text := extension.done(data))]


class QuickContactForm(ContactEntryForm):
    """The same, compact, on the customer's page: the customer is the page's, the time one field."""

    occurred_at = forms.DateTimeField(
        label=_("when"),
        initial=_now_to_the_minute,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].widget = forms.HiddenInput()
        self.fields["appointment"].help_text = ""
        self.fields["appointment"].empty_label = _("(no particular visit)")
        self.fields["note"].widget.attrs.update({"rows": 2, "cols": 60})
        for field in self.fields.values():
            field.widget.attrs["form"] = QUICK_CONTACT_FORM_ID
