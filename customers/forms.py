"""Office forms whose phone numbers are read in the right country (see customers/phones.py)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from phonenumber_field.formfields import PhoneNumberField as PhoneNumberFormField
from phonenumber_field.widgets import RegionalPhoneNumberWidget

from customers.models import Customer, Firm
from customers.phones import default_region, firm_region
from customers.services import EDITABLE_FIELDS


class _TypedOrNationalPhoneWidget(RegionalPhoneNumberWidget):
    """A saved number in its country's own way of writing it; text the clerk typed exactly as typed.

    The library's widget would reformat typed text as a number of its region, so after any other error
    on the form '06 28471937' for a Dutch customer would come back as the German '06284 71937'.
    """

    def format_value(self, value):
        if isinstance(value, str):
            return value
        return super().format_value(value)


def _region_of(form: forms.BaseForm, field: str, fallback: str) -> str:
    """The country chosen on the form if it is valid, else the saved one, else `fallback`."""
    country = form.cleaned_data.get(field) if hasattr(form, "cleaned_data") else None
    return country or getattr(form.instance, field, None) or fallback


class _PhoneInCountryForm(forms.ModelForm):
    """Keeps the typed phone number as text until clean(), which reads it in the country of the same form.

    The field itself cannot parse it: the country is another field, known only once the form is cleaned.
    """

    phone_field = "phone"
    country_field = "country"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model_field = self._meta.model._meta.get_field(self.phone_field)
        region = getattr(self.instance, self.country_field, None) or default_region()
        self.fields[self.phone_field] = forms.CharField(
            label=model_field.verbose_name,
            help_text=model_field.help_text,
            required=not model_field.blank,
            max_length=40,
            # Shows a number of the customer's own country as they would write it, others internationally.
            widget=_TypedOrNationalPhoneWidget(region=region),
        )

    def clean(self):
        cleaned = super().clean()
        typed = cleaned.get(self.phone_field)
        if typed:
            region = _region_of(self, self.country_field, default_region())
            try:
                cleaned[self.phone_field] = PhoneNumberFormField(region=region).clean(typed)
            except ValidationError as error:
                self.add_error(self.phone_field, error)
        return cleaned


class CustomerAdminForm(_PhoneInCountryForm):
    class Meta:
        model = Customer
        fields = EDITABLE_FIELDS


class FirmAdminForm(_PhoneInCountryForm):
    class Meta:
        model = Firm
        fields = [
            "name",
            "email",
            "phone",
            "country",
            "holiday_subdivision",
            "street",
            "postcode",
            "city",
            "website",
            "calendar_feed_shows_contact",
        ]


class FirmCountryPhonesForm(forms.ModelForm):
    """For the office's and the technicians' own numbers: read in the firm's country."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        region = firm_region()
        for name, field in list(self.fields.items()):
            if isinstance(field, PhoneNumberFormField):
                self.fields[name] = PhoneNumberFormField(
                    region=region,
                    label=field.label,
                    help_text=field.help_text,
                    required=field.required,
                    initial=field.initial,
                )


class TechnicianAdminForm(FirmCountryPhonesForm):
    """A technician profile keeps its user out of the admin and off customers (customers.models.OFFICE_STAFF).

    So it is refused for a user customers know as their contact, and for a superuser, who would lock
    themselves out of the office: someone who works in both needs a second user.
    """

    def clean_user(self):
        user = self.cleaned_data["user"]
        if user is None or (self.instance.pk and self.instance.user_id == user.pk):
            return user
        if user.is_superuser:
            raise ValidationError(
                _("An administrator of the office cannot be a technician. Please create a separate user."),
                code="superuser",
            )
        customers = Customer.objects.filter(responsible=user).count()
        if customers:
            raise ValidationError(
                ngettext(
                    "%(name)s is the responsible person of %(count)d customer. Please hand them to a colleague first.",
                    "%(name)s is the responsible person of %(count)d customers. Please hand them to a colleague "
                    "first.",
                    customers,
                )
                % {"name": user.get_full_name() or user.get_username(), "count": customers},
                code="responsible",
            )
        return user
