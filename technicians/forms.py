"""Forms of the technician's phone pages. The services re-check every rule; these only parse what was typed.

Each form's FormHelper holds its layout, action and buttons; the templates only say
`{% crispy form %}`. Helpers are built per instance, so labels are in the language
of the request and actions name the visit.
"""

from decimal import ROUND_HALF_UP, Decimal

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout
from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from appointments.forms import optional_text_field
from appointments.models import Appointment, Technician
from appointments.services import LONGEST_WAIT_MINUTES

ETA_MINUTES = (10, 15, 20, 30, 45, 60, 90)
REPORT_MAX_LENGTH = 2000
NOTE_MAX_LENGTH = 1000
# A stack of blank cards to print; appointments.cards prints at most MAX_BLANK_CARDS.
BLANK_CARD_COUNTS = (4, 8, 16, 24, 40)
DEFAULT_BLANK_CARDS = 8
COORDINATE_STEP = Decimal("0.000001")  # what VisitAttempt stores: about 10 cm
_LOCATION_UNREADABLE = _("The location from the phone could not be read. Please try again or record without it.")
LOCATION_ERRORS = {
    "invalid": _LOCATION_UNREADABLE,
    "min_value": _LOCATION_UNREADABLE,
    "max_value": _LOCATION_UNREADABLE,
}
LOCATION_FIELDS = ("latitude", "longitude", "location_accuracy_m")
# Big enough for a thumb in a glove: btn-lg is 48 px high on these pages (technician.css).
BIG_BUTTON = "btn-lg w-100"


def submit_button(label, css_class: str) -> StrictButton:
    return StrictButton(label, type="submit", css_class=css_class)


def post_helper(action: str, *layout, form_class: str = "") -> FormHelper:
    helper = FormHelper()
    helper.form_action = action
    helper.form_class = form_class
    helper.layout = Layout(*layout)
    return helper


class TechnicianAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "not_technician": _("This account has no active technician profile. Please ask the office."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = post_helper(
            reverse_lazy("technician:login"),
            Field("username"),
            Field("password"),
            # Where to go after signing in: LoginView's own `next` (already checked to be ours).
            HTML('{% if next %}<input type="hidden" name="next" value="{{ next }}">{% endif %}'),
            submit_button(_("Sign in"), f"btn-brand {BIG_BUTTON}"),
            form_class="tech-narrow",
        )

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not Technician.objects.filter(user=user, is_active=True).exists():
            raise forms.ValidationError(self.error_messages["not_technician"], code="not_technician")


class StartTripForm(forms.Form):
    minutes = forms.TypedChoiceField(
        label=_("I expect to arrive in"),
        coerce=int,
        initial=20,
        error_messages={
            "required": _("Please choose when you expect to arrive."),
            "invalid_choice": _("Please choose when you expect to arrive."),
        },
    )

    def __init__(self, *args, appointment: Appointment, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per request, so the labels are in the language of the request.
        self.fields["minutes"].choices = [
            (minutes, ngettext("%(minutes)s minute", "%(minutes)s minutes", minutes) % {"minutes": minutes})
            for minutes in ETA_MINUTES
        ]
        self.helper = post_helper(
            reverse("technician:start_trip", args=[appointment.pk]),
            Field("minutes"),
            submit_button(_("On my way"), f"btn-brand {BIG_BUTTON}"),
            HTML(format_html('<p class="form-text mb-0 mt-2">{}</p>', _("The customer is told when to expect you."))),
            form_class="card card-body mb-3",
        )


class ArriveForm(forms.Form):
    """Nothing to type: one big button."""

    def __init__(self, *args, appointment: Appointment, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = post_helper(
            reverse("technician:arrive", args=[appointment.pk]),
            submit_button(_("Arrived"), f"btn-success {BIG_BUTTON}"),
            form_class="mb-3",
        )


class SignOutOthersForm(forms.Form):
    """Nothing to type: a lost phone's sessions end, this one stays. A plain button at the foot of My day, not
    a big one, so that a thumb scrolling the day's visits does not press it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = post_helper(
            reverse("technician:sign_out_others"),
            submit_button(_("Sign out on all other devices"), "btn-outline-secondary"),
        )


class CompleteForm(forms.Form):
    report = optional_text_field(
        label=_("Short note (optional)"),
        max_length=REPORT_MAX_LENGTH,
        help_text=_("What was done, or what is still to do."),
        rows=3,
    )

    def __init__(self, *args, appointment: Appointment, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = post_helper(
            reverse("technician:complete", args=[appointment.pk]),
            Field("report"),
            submit_button(_("Completed"), f"btn-success {BIG_BUTTON}"),
            form_class="card card-body mb-3",
        )


class NotHomeForm(forms.Form):
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

    def __init__(self, *args, appointment: Appointment, **kwargs):
        super().__init__(*args, **kwargs)
        # The range itself, as the service says it, rather than Django's "greater than or equal to 0".
        out_of_range = gettext("Waiting time must be between 0 and %(most)s minutes.") % {"most": LONGEST_WAIT_MINUTES}
        self.fields["waited_minutes"].error_messages.update(min_value=out_of_range, max_value=out_of_range)
        self.helper = post_helper(
            reverse("technician:not_home", args=[appointment.pk]),
            Field("waited_minutes"),
            Field("card_left"),
            Field("note"),
            *(Field(name) for name in LOCATION_FIELDS),
            # static/technician/location.js fills the hidden fields; without JavaScript the block stays hidden.
            Div(
                HTML(
                    format_html(
                        '<button type="button" class="btn btn-outline-secondary w-100" id="locate">{}</button>',
                        _("Add my location (optional)"),
                    )
                ),
                # Decided when rendered, after validation may have dropped an unreadable location.
                HTML(
                    format_html(
                        '<p class="small mt-1 mb-0" id="location-status" role="status">'
                        "{{% if form.latitude.value %}}{}{{% endif %}}</p>",
                        _("Location added."),
                    )
                ),
                css_id="location",
                css_class="mb-3",
                hidden=True,
                data_finding=_("Finding your location…"),
                # location.js puts the accuracy in place of {metres}.
                data_added=gettext("Location added (accurate to about %(metres)s m).") % {"metres": "{metres}"},
                data_denied=_("The location was not shared. You can record the visit without it."),
                data_unavailable=_("The phone could not find its location. You can record the visit without it."),
                data_unsupported=_("This phone cannot share its location. You can record the visit without it."),
            ),
            HTML(format_html('<p class="form-text">{}</p>', _("The time is recorded when you press the button."))),
            submit_button(_("Record: nobody home"), f"btn-danger {BIG_BUTTON}"),
        )

    def clean(self):
        cleaned_data = super().clean()
        # The hidden fields have no place of their own on the page: say it once, above the form. Half a
        # location (one coordinate, or an accuracy alone) is as unreadable as a garbled one, and the
        # technician can only try again or go without it.
        given = [cleaned_data.get(name) is not None for name in LOCATION_FIELDS]
        half_given = any(given) and not (given[0] and given[1])
        if half_given or any(name in self.errors for name in LOCATION_FIELDS):
            self.add_error(None, _LOCATION_UNREADABLE)
            # Shown again without it: the next press records the visit without a location, or with the
            # one "Add my location" fetches, instead of sending the same unreadable values forever.
            self.data = self.data.copy()
            for name in LOCATION_FIELDS:
                self.data.pop(name, None)
        return cleaned_data

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


class BlankCardsForm(forms.Form):
    """How many blank cards, in which language: a GET, so the PDF is a plain link."""

    count = forms.IntegerField(
        label=_("Cards"),
        min_value=1,
        # A hand-made URL may ask for any number up to the biggest stack offered.
        max_value=BLANK_CARD_COUNTS[-1],
        initial=DEFAULT_BLANK_CARDS,
        widget=forms.Select(choices=[(count, count) for count in BLANK_CARD_COUNTS]),
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One message whatever was wrong: the view answers a bad link with a line of plain text.
        count_error = gettext("Please ask for between 1 and %(max)d cards.") % {"max": BLANK_CARD_COUNTS[-1]}
        self.fields["count"].error_messages = dict.fromkeys(
            ("required", "invalid", "min_value", "max_value"), count_error
        )
        language_error = gettext("Cards can be printed in German, Dutch or English.")
        self.fields["language"].error_messages = dict.fromkeys(("required", "invalid_choice"), language_error)
        # Each language in its own name ("Nederlands"), as the language switch shows them.
        self.fields["language"].choices = [
            (code, translation.get_language_info(code)["name_local"].capitalize())
            for code, _name in settings.LANGUAGES
        ]
        self.fields["language"].initial = translation.get_language()
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_action = reverse_lazy("technician:blank_cards")
        self.helper.form_class = "d-flex flex-wrap align-items-end gap-2 mb-3"
        self.helper.label_class = "small mb-1"
        self.helper.layout = Layout(
            Field("count", wrapper_class="mb-0"),
            Field("language", wrapper_class="mb-0"),
            submit_button(_("Blank cards (PDF)"), "btn-outline-secondary flex-grow-1"),
        )
