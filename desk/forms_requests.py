"""The public request form and the customer's call-time form.

Bot defence without third parties: a honeypot field people never see, a signed time stamp of when the
form was shown (sent back sooner than REQUEST_MIN_FILL_SECONDS: a program), and the per-IP rate limit
in the view.
"""

import time
from datetime import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Fieldset, Layout
from django import forms
from django.conf import settings
from django.core import signing
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from customers.models import Country, Language
from customers.phones import parse_phone
from desk.models import Reachability
from desk.models.requests import ABOUT_MAX_LENGTH

SHOWN_AT_SALT = "doorstep.request.shown_at"
# A form shown longer ago than this is sent again with a fresh stamp (and the customer's text kept).
SHOWN_AT_MAX_AGE = 24 * 3600


def shown_at_stamp(now: float | None = None) -> str:
    return signing.dumps(now if now is not None else time.time(), salt=SHOWN_AT_SALT)


class TooFast(Exception):
    """Sent sooner than a person could have filled it in."""


class RequestForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Email"), required=False, max_length=254)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=40)
    street = forms.CharField(label=_("Street and number"), max_length=200)
    postcode = forms.CharField(label=_("Postcode"), max_length=12)
    city = forms.CharField(label=_("City"), max_length=100)
    country = forms.ChoiceField(label=_("Country"), choices=Country.choices)
    language = forms.ChoiceField(label=_("Language for our reply"), choices=Language.choices)
    about = forms.CharField(
        label=_("What is it about?"),
        max_length=ABOUT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("At most 2,000 characters."),
    )
    reachable = forms.ChoiceField(
        label=_("When can we best reach you?"),
        choices=Reachability.choices,
        initial=Reachability.ANY_TIME,
        widget=forms.RadioSelect,
    )
    reachable_note = forms.CharField(
        label=_("Anything else about when to call (optional)"), required=False, max_length=200
    )
    # The honeypot: hidden from people and screen readers; programs fill in every field they find.
    website = forms.CharField(label=_("Leave this field empty"), required=False)
    shown_at = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, now: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now if now is not None else time.time()
        self.fields["reachable"].choices = [(value, capfirst(label)) for value, label in Reachability.choices]
        # Each language in its own name: someone who cannot read the page's language still finds theirs.
        self.fields["language"].choices = [
            (code, translation.get_language_info(code)["name_local"].capitalize()) for code in Language.values
        ]
        self.fields["about"].error_messages["max_length"] = _(
            "Please shorten your message to at most %(limit_value)d characters (it has %(show_value)d). "
            "We will ask you about the details on the phone."
        )
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["phone"].widget.attrs.update({"autocomplete": "tel", "type": "tel"})
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"
        self.fields["street"].widget.attrs["autocomplete"] = "street-address"
        self.fields["postcode"].widget.attrs["autocomplete"] = "postal-code"
        self.fields["city"].widget.attrs["autocomplete"] = "address-level2"
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Field("full_name"),
            Fieldset(
                _("How can we reach you?"),
                HTML('<p class="small text-body-secondary mb-2">{{ contact_hint }}</p>'),
                Field("email"),
                Field("phone"),
            ),
            Fieldset(_("Your address"), Field("street"), Div(Field("postcode"), Field("city")), Field("country")),
            Field("about"),
            Field("reachable"),
            Field("reachable_note"),
            Field("language"),
            # Off-screen and aria-hidden, never display:none: some programs skip fields nobody can see.
            Div(Field("website"), css_class="hp-field", aria_hidden="true"),
            Field("shown_at"),
        )

    def clean_full_name(self):
        return " ".join(self.cleaned_data["full_name"].split())

    def clean_phone(self):
        return self.cleaned_data["phone"].strip()

    def clean(self):
        cleaned = super().clean()
        email, phone, country = cleaned.get("email"), cleaned.get("phone"), cleaned.get("country")
        if "email" in cleaned and "phone" in cleaned and not email and not phone:
            raise forms.ValidationError(
                _("Please give an email address or a phone number, so that we can reach you."), code="contact"
            )
        if phone and country:
            number = parse_phone(phone, region=country)
            if not number or not number.is_valid():
                self.add_error(
                    "phone",
                    forms.ValidationError(
                        _(
                            "This is not a valid phone number in %(country)s. A number from another country "
                            "starts with + and its country code."
                        )
                        % {"country": Country(country).label},
                        code="phone",
                    ),
                )
            else:
                cleaned["phone"] = number.as_e164
        return cleaned

    def is_bot(self) -> bool:
        """The honeypot was filled in. Checked before anything else, and the bot is told nothing useful."""
        return bool(self.data.get("website", "").strip())

    def too_fast(self) -> bool:
        """True when sent sooner than a person could have, or without a genuine stamp of when it was shown."""
        try:
            shown = float(signing.loads(self.data.get("shown_at", ""), salt=SHOWN_AT_SALT, max_age=SHOWN_AT_MAX_AGE))
        except (signing.BadSignature, ValueError, TypeError):
            return True
        return self.now - shown < settings.REQUEST_MIN_FILL_SECONDS

    def submitted_fields(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in (
                "full_name",
                "email",
                "phone",
                "street",
                "postcode",
                "city",
                "country",
                "about",
                "reachable",
                "reachable_note",
            )
        }


class CallTimeForm(forms.Form):
    """The customer's new call time, one of the offered slots (re-checked by the service)."""

    slot = forms.CharField(error_messages={"required": _("Please choose a time.")})

    def clean_slot(self) -> datetime:
        try:
            value = datetime.fromisoformat(self.cleaned_data["slot"])
        except ValueError as exc:
            raise forms.ValidationError(_("Please choose a time.")) from exc
        if value.tzinfo is None:
            raise forms.ValidationError(_("Please choose a time."))
        return value
