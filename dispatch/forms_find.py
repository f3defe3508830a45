"""The forms of "find a time": what to look for (GET) and the offer the clerk books (POST)."""

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments.models import ServiceType, Technician
from customers.models import Customer
from dispatch.find import FIND_WEEKS

# The office plans months ahead, not years: further is a typo (and the calendar's end is not far from 9999).
FARTHEST_FIRST_DAY = timedelta(days=366)


def _service_types():
    return ServiceType.objects.filter(is_active=True).order_by("name")


def _technicians():
    return Technician.objects.filter(is_active=True).order_by("display_name")


class DatePickerInput(forms.DateInput):
    """The browser's date picker. Text it could not read goes back empty: a date input's value must be a date."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")

    def format_value(self, value):
        if isinstance(value, str):
            try:
                date.fromisoformat(value)
            except ValueError:
                return None
        return super().format_value(value)


class ServiceTypeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.localized_name()


class FindForm(forms.Form):
    service_type = ServiceTypeChoiceField(
        label=_("Service"),
        queryset=ServiceType.objects.none(),
        error_messages={
            "required": _("Choose the service the visit is for."),
            "invalid_choice": _("This service does not exist or is no longer offered; choose one from the list."),
        },
    )
    technician = forms.ModelChoiceField(
        label=_("technician"),
        queryset=Technician.objects.none(),
        required=False,
        empty_label=_("any technician"),
        error_messages={"invalid_choice": _("This technician does not exist or is no longer active.")},
    )
    first_day = forms.DateField(
        label=_("Earliest day"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=DatePickerInput(),
        error_messages={"invalid": _("Enter the earliest day as a date (YYYY-MM-DD).")},
    )

    def __init__(self, *args, first_day, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_first_day = first_day
        self.fields["service_type"].queryset = _service_types()
        self.fields["technician"].queryset = _technicians()
        self.fields["first_day"].initial = first_day  # unless the link gave one (self.initial wins)
        self.fields["first_day"].help_text = _("Customers can book from the day shown; you may choose an earlier one.")

    def clean_first_day(self):
        day = self.cleaned_data.get("first_day") or self.default_first_day
        if day < timezone.localdate():
            raise forms.ValidationError(_("The earliest day cannot be in the past."), code="past")
        if day > timezone.localdate() + FARTHEST_FIRST_DAY:
            raise forms.ValidationError(_("Choose an earliest day within a year from today."), code="too_far")
        return day

    def clean(self):
        cleaned_data = super().clean()
        service_type, technician = cleaned_data.get("service_type"), cleaned_data.get("technician")
        if service_type and technician and not technician.service_types.filter(pk=service_type.pk).exists():
            self.add_error(
                "technician",
                _("%(technician)s does not do “%(service)s”.")
                % {"technician": technician, "service": service_type.localized_name()},
            )
        return cleaned_data


class BookForm(forms.Form):
    """One offer, as the find page posts it. Every field comes from the page, but a page may be old
    or edited: each is checked again, and the window's freedom is checked by the booking itself."""

    customer = forms.IntegerField(widget=forms.HiddenInput)
    service_type = forms.ModelChoiceField(queryset=ServiceType.objects.none(), widget=forms.HiddenInput)
    technician = forms.ModelChoiceField(queryset=Technician.objects.none(), widget=forms.HiddenInput)
    window_start = forms.DateTimeField(widget=forms.HiddenInput)
    first_day = forms.DateField(required=False, widget=forms.HiddenInput)
    technician_filter = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_type"].queryset = _service_types()
        self.fields["technician"].queryset = _technicians()

    def clean_customer(self):
        try:
            return Customer.objects.get(pk=self.cleaned_data["customer"])
        except Customer.DoesNotExist:
            raise forms.ValidationError(_("This customer does not exist (any more)."), code="unknown") from None

    def clean_window_start(self):
        start = self.cleaned_data["window_start"]
        if start <= timezone.now():
            raise forms.ValidationError(_("This window has already begun; choose a later one."), code="past")
        if start > timezone.now() + FARTHEST_FIRST_DAY + timedelta(weeks=FIND_WEEKS):
            raise forms.ValidationError(_("This window lies too far ahead; choose one of the offers."), code="too_far")
        return start
