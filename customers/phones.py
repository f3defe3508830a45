"""Reading phone numbers as the person who typed them meant them.

A number typed without a country code is national, so it must be read with the country it belongs to:
`06 28471937` is a Dutch mobile for a customer in Nijmegen, and a (valid!) German landline in Kleve's
default region. Customers' numbers are read with the customer's country, the firm's, the office's and
the technicians' with the firm's country.
"""

import phonenumbers
from django.conf import settings
from phonenumber_field.phonenumber import PhoneNumber, to_python

from customers.models import Firm


def default_region() -> str:
    """The region numbers were read with before they were read per country (the setting)."""
    return settings.PHONENUMBER_DEFAULT_REGION


def firm_region() -> str:
    """The firm's own country, for the numbers of the firm, its office people and its technicians."""
    country = Firm.objects.order_by("pk").values_list("country", flat=True).first()
    return country or default_region()


def parse_phone(value, *, region: str | None):
    """`value` as a PhoneNumber read in `region`; '' and None stay empty, parsed numbers stay as they are.

    Unparseable text comes back as an invalid PhoneNumber, which the field's validator then refuses.
    """
    if isinstance(value, str):
        value = value.strip()
    return to_python(value, region=region or default_region())


def reread_in_country(number: PhoneNumber, country: str) -> PhoneNumber | None:
    """What `number` would be had its national form been read in `country` instead of the default region.

    Only numbers of the default region can have been misread, and only a result that is a valid number
    of `country` is offered: a German customer abroad who gave a German mobile keeps it.
    """
    region = default_region()
    if not number or not number.is_valid() or country == region:
        return None
    if phonenumbers.region_code_for_number(number) != region:
        return None
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    try:
        candidate = PhoneNumber.from_string(national, region=country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number_for_region(candidate, country) or candidate.as_e164 == number.as_e164:
        return None
    return candidate
