"""The board's one form: put a visit with a technician at a start time. The drag and drop fills it in;
without JavaScript the office fills it in on the visit's move page."""

from datetime import UTC, date, datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from appointments.models import Technician


class PickerInput:
    """A browser date or time picker: text it could not read goes back empty, since a date or time
    input's value must be one (the field's error says what was wrong)."""

    def format_value(self, value):
        if isinstance(value, str):
            try:
                self.parse(value)
            except ValueError:
                return None
        return super().format_value(value)


class DatePicker(PickerInput, forms.DateInput):
    input_type = "date"
    parse = staticmethod(date.fromisoformat)

    def __init__(self):
        super().__init__(format="%Y-%m-%d")


class TimePicker(PickerInput, forms.TimeInput):
    input_type = "time"
    parse = staticmethod(time.fromisoformat)

    def __init__(self):
        super().__init__(attrs={"step": 300}, format="%H:%M")


class MoveForm(forms.Form):
    appointment = forms.IntegerField(
        min_value=1,
        widget=forms.HiddenInput,
        error_messages={"invalid": _("This visit does not exist."), "min_value": _("This visit does not exist.")},
    )
    technician = forms.ModelChoiceField(
        Technician.objects.filter(is_active=True),
        # The plain msgid is the customer's "your technician" on their pages and emails.
        label=pgettext_lazy("office", "Technician"),
        empty_label=None,
        error_messages={
            "invalid_choice": _("Choose one of the active technicians."),
            "required": _("Choose one of the active technicians."),
        },
    )
    day = forms.DateField(
        label=_("Day"),
        widget=DatePicker(),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Enter the day as a date, e.g. 2026-03-04."), "required": _("Enter the day.")},
    )
    time = forms.TimeField(
        label=_("Planned start"),
        widget=TimePicker(),
        input_formats=["%H:%M", "%H:%M:%S"],
        error_messages={
            "invalid": _("Enter the time as hours and minutes, e.g. 10:15."),
            "required": _("Enter the planned start."),
        },
    )
    # The visit's version when the board was drawn: a visit moved meanwhile is not moved again blindly.
    # Hidden: a bad one is an old or edited page, and Django's "Enter a whole number" would puzzle the clerk.
    version = forms.IntegerField(
        min_value=1,
        required=False,
        widget=forms.HiddenInput,
        error_messages={
            "invalid": _("Please reload the page and try again."),
            "min_value": _("Please reload the page and try again."),
        },
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_day(self) -> date:
        day = self.cleaned_data["day"]
        if not is_plannable_day(day):
            raise forms.ValidationError(_("Choose a day within ten years of today."), code="far_away")
        return day

    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.get("day") and cleaned_data.get("time"):
            # 02:30 on the night the clocks go forward would be saved as 03:30 and promise a shorter window.
            # Through UTC: astimezone() to the datetime's own zone would hand it back unchanged.
            if timezone.localtime(self.planned_start().astimezone(UTC)).time() != cleaned_data["time"]:
                self.add_error(
                    "time", _("This time does not exist on that day (the clocks go forward); choose another.")
                )
        return cleaned_data

    def planned_start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.cleaned_data["day"], self.cleaned_data["time"]))

    def error_text(self) -> str:
        """All that is wrong, in one sentence per field, for a message on the board."""
        return " ".join(str(error) for errors in self.errors.values() for error in errors)


# Far enough for any real plan; a year 9999 typed by mistake must not reach date arithmetic and overflow.
PLANNABLE_YEARS = 10


def is_plannable_day(day: date) -> bool:
    return abs(day - timezone.localdate()) <= timedelta(days=365 * PLANNABLE_YEARS)
