from datetime import datetime, timedelta

from crispy_forms.helper import FormHelper
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments.availability import booking_days
from appointments.forms import optional_text_field
from appointments.services.booking import NOTE_MAX_LENGTH


class WindowForm(forms.Form):
    """The chosen window travels as its start in ISO form; the service re-checks it is still free."""

    window = forms.CharField(error_messages={"required": _("Please choose a window.")})
    note = optional_text_field(
        label=_("Note for the technician (optional)"),
        max_length=NOTE_MAX_LENGTH,
        help_text=_("For example: ring at the side door, the boiler is in the cellar."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean_window(self):
        try:
            value = datetime.fromisoformat(self.cleaned_data["window"])
        except ValueError as exc:
            raise forms.ValidationError(_("Please choose a window.")) from exc
        if value.tzinfo is None:
            raise forms.ValidationError(_("Please choose a window."))
        try:
            day = timezone.localdate(value)
        except OverflowError as exc:  # year 1 or 9999 in a far time zone
            raise forms.ValidationError(_("Please choose a window.")) from exc
        first_day, last_day = booking_days()
        if not first_day - timedelta(days=1) <= day <= last_day + timedelta(days=1):
            raise forms.ValidationError(_("Please choose a window."))
        return value


class CancelOnlineForm(forms.Form):
    reason = optional_text_field(label=_("Reason (optional)"), max_length=NOTE_MAX_LENGTH)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
