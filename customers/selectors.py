import re

import phonenumbers
from django.conf import settings
from django.db.models import Q

# Fewer digits than this match too many numbers to be a useful phone search.
MIN_PHONE_DIGITS = 4


def phone_search_q(term: str, *, field: str = "phone") -> Q | None:
    """Match a phone number typed in any formatting: '030 1234567', '+49 30 1234567', '1234567'.

    Numbers are stored in E.164, so a full number is parsed with the default
    region and compared exactly; a fragment matches as a run of digits.
    """
    digits = re.sub(r"\D", "", term)
    if len(digits) < MIN_PHONE_DIGITS or re.search(r"[A-Za-z]", term):
        return None
    # Drop the trunk prefix (0 in 030…) or the international one (00 in 0049…),
    # and nothing more, so a fragment like 000123 stays specific.
    fragment = digits[2:] if digits.startswith("00") else digits[1:] if digits.startswith("0") else digits
    query = Q(**{f"{field}__contains": fragment or digits})
    try:
        parsed = phonenumbers.parse(term, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return query
    if phonenumbers.is_possible_number(parsed):
        query |= Q(**{field: phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)})
    return query


def responsible_contact(customer, *, firm) -> dict[str, str]:
    """Name, direct phone and email of the office person responsible for `customer`.

    Falls back to the firm's own phone and email where the person has no direct ones, so every
    customer-facing page and mail names a reachable human.
    """
    responsible = customer.responsible
    office = firm_contact(firm)
    if not responsible.is_active:
        # Someone who has left must not be named, nor get the replies: the office answers until the
        # customer is handed to a colleague.
        return {"name": office["name"], "phone": office["phone"], "email": office["email"]}
    profile = getattr(responsible, "office_profile", None)
    return {
        "name": " ".join((responsible.get_full_name() or responsible.get_username()).split()),
        "phone": profile.direct_phone.as_international if profile and profile.direct_phone else office["phone"],
        "email": (profile.email if profile else responsible.email) or office["email"],
    }


def firm_contact(firm) -> dict[str, str]:
    """The firm's name, office phone and email, postal address; the sender address when no firm is set up."""
    return {
        "name": firm.name if firm else "",
        "email": firm.email if firm else settings.DEFAULT_FROM_EMAIL,
        "phone": firm.phone.as_international if firm and firm.phone else "",
        "address": firm.postal_address if firm else "",
    }
