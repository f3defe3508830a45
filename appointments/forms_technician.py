"""Forms of the technician's phone pages. The services re-check every rule; these only parse what was typed."""

from decimal import ROUND_HALF_UP, Decimal

from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from appointments.forms import optional_text_field
from appointments.models import Technician
from appointments.services import LONGEST_WAIT_MINUTES

ETA_MINUTES = (10, 15, 20, 30, 45, 60, 90)
REPORT_MAX_LENGTH = 2000
NOTE_MAX_LENGTH = 1000
COORDINATE_STEP = Decimal("0.000001")  # what VisitAttempt stores: about 10 cm
_LOCATION_UNREADABLE = _("The location from the phone could not be read. Please try again or record without it.")
LOCATION_ERRORS = {
    "invalid": _LOCATION_UNREADABLE,
    "min_value": _LOCATION_UNREADABLE,
    "max_value": _LOCATION_UNREADABLE,
}


class _InlineForm(forms.Form):
    """Rendered field by field inside the page's own <form>, which carries the CSRF token."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class TechnicianAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "not_technician": _("This account has no active technician profile. Please ask the office."),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not Technician.objects.filter(user=user, is_active=True).exists():
            raise forms.ValidationError(self.error_messages["not_technician"], code="not_technician")


class StartTripForm(_InlineForm):
    minutes = forms.TypedChoiceField(
        label=_("I expect to arrive in"),
        coerce=int,
        initial=20,
        error_messages={
            "required": _("Please choose when you expect to arrive."),
            "invalid_choice": _("Please choose when you expect to arrive."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per request, so the labels are in the language of the request.
        self.fields["minutes"].choices = [
            (minutes, ngettext("%(minutes)s minute", "%(minutes)s minutes", minutes) % {"minutes": minutes})
            for minutes in ETA_MINUTES
        ]


class CompleteForm(_InlineForm):
    report = optional_text_field(
        label=_("Short note (optional)"),
        max_length=REPORT_MAX_LENGTH,
        help_text=_("What was done, or what is still to do."),
        rows=3,
    )


class NotHomeForm(_InlineForm):
    """The time of the attempt is the server's: no field for it, whatever the phone's clock says."""

    waited_minutes = forms.IntegerField(
        label=_("How long did you wait? (minutes)"),
        min_value=0,
        max_value=LONGEST_WAIT_MINUTES,
        # Text with a digits keyboard, not type=number: that one drops or garbles what was typed
        # (e.g. "10 min"), and the page could not show it back next to the error.
        widget=forms.TextInput(attrs={"inputmode": "numeric", "pattern": "[0-9]*", "autocomplete": "off"}),
        error_messages={
            "required": _("Please enter how many minutes you waited."),
            "invalid": _("Please enter the minutes you waited as a whole number, e.g. 10."),
        },
    )
    note = optional_text_field(
        label=_("Note (optional)"),
        max_length=NOTE_MAX_LENGTH,
        help_text=_("For example: rang twice, called the customer, no answer."),
    )
    card_left = forms.BooleanField(label=_("Card left at the door"), required=False)
    # Filled by the "Add my location" button; empty when the phone could not or would not tell.
    latitude = forms.DecimalField(
        required=False, min_value=-90, max_value=90, widget=forms.HiddenInput, error_messages=LOCATION_ERRORS
    )
    longitude = forms.DecimalField(
        required=False, min_value=-180, max_value=180, widget=forms.HiddenInput, error_messages=LOCATION_ERRORS
    )
    location_accuracy_m = forms.FloatField(
        required=False, min_value=0, widget=forms.HiddenInput, error_messages=LOCATION_ERRORS
    )

    def _coordinate(self, name: str) -> Decimal | None:
        value = self.cleaned_data.get(name)
        return None if value is None else value.quantize(COORDINATE_STEP, rounding=ROUND_HALF_UP)

    def clean_latitude(self):
        return self._coordinate("latitude")

    def clean_longitude(self):
        return self._coordinate("longitude")

    def clean_location_accuracy_m(self):
        value = self.cleaned_data.get("location_accuracy_m")
        return None if value is None else min(round(value), 2_147_483_647)
