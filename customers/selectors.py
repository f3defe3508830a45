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
    query = Q(**{f"{field}__contains": digits.lstrip("0") or digits})
    try:
        parsed = phonenumbers.parse(term, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return query
    if phonenumbers.is_possible_number(parsed):
        query |= Q(**{field: phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)})
    return query
