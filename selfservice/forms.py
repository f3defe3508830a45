"""The customer's forms. Each FormHelper holds its form's whole layout: the templates only say `{% crispy form %}`.

The page's own facts (which link the page was opened from, which week it shows, what the
button says) come from the page's context: crispy renders hidden values, button labels and
HTML pieces as templates in that context.

The one exception is WindowForm, the booking page's form: the page has a budget (issue #11: at most
4x the minimal view) and crispy's layout rendering alone took a quarter of it. Its template
(selfservice/_window_form.html) writes the same markup directly, the note's text box included.
"""

from datetime import datetime, timedelta

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Hidden, Layout
from django import forms
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments.availability import booking_days
from appointments.forms import optional_text_field
from appointments.services.booking import NOTE_MAX_LENGTH


class WindowForm(forms.Form):
    """The chosen window travels as its start in ISO form; the service re-checks it is still free.

    Rendered by selfservice/_window_form.html; context: `link_key`, `week` (see
    selfservice.views._booking_week), `day_heading` and `submit_label`.
    """

    window = forms.CharField(error_messages={"required": _("Please choose a window.")})
    note = optional_text_field(
        label=_("Note for the technician (optional)"),
        max_length=NOTE_MAX_LENGTH,
        help_text=_("For example: ring at the side door, the boiler is in the cellar."),
    )

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
    """The confirming step of a cancel: only this form's POST cancels. Context: `link_key`."""

    reason = optional_text_field(label=_("Reason (optional)"), max_length=NOTE_MAX_LENGTH)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = reverse_lazy("selfservice:cancel")
        self.helper.layout = Layout(
            Hidden("link", "{{ link_key }}"),
            Field("reason"),
            Div(
                StrictButton(_("Yes, cancel my appointment"), type="submit", css_class="btn-danger"),
                HTML(
                    '<a class="btn btn-outline-secondary" href="{% url "selfservice:page" %}">'
                    '{% load i18n %}{% translate "No, keep my appointment" %}</a>'
                ),
                css_class="d-flex flex-wrap gap-2 mt-3",
            ),
        )
