import re
from collections.abc import Collection

import phonenumbers
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q

from customers.models import Country, Customer
from customers.phones import default_region, reread_in_country
from journal.models import JournalEntry

# Fewer digits than this match too many numbers to be a useful phone search.
MIN_PHONE_DIGITS = 4


def phone_search_q(term: str, *, field: str = "phone") -> Q | None:
    """Match a phone number typed in any formatting: '030 1234567', '+49 30 1234567', '1234567'.

    Numbers are stored in E.164 and each customer's was read in their own country, so a full number is
    parsed in every country customers live in and compared exactly ('06 28471937' finds the Dutch
    mobile as well as a German number written the same way); a fragment matches as a run of digits.
    """
    digits = re.sub(r"\D", "", term)
    if len(digits) < MIN_PHONE_DIGITS or re.search(r"[A-Za-z]", term):
        return None
    # Drop the trunk prefix (0 in 030…) or the international one (00 in 0049…),
    # and nothing more, so a fragment like 000123 stays specific.
    fragment = digits[2:] if digits.startswith("00") else digits[1:] if digits.startswith("0") else digits
    query = Q(**{f"{field}__contains": fragment or digits})
    exact = set()
    for region in dict.fromkeys([settings.PHONENUMBER_DEFAULT_REGION, *(country.value for country in Country)]):
        try:
            parsed = phonenumbers.parse(term, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(parsed):
            exact.add(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    if exact:
        query |= Q(**{f"{field}__in": sorted(exact)})
    return query


def is_office_staff(user) -> bool:
    """Whether `user` may be named to customers as their contact: the rule of OFFICE_STAFF, on a loaded user.

    Reads the user's technician profile through the relation, so a select_related("…technician") saves the query.
    """
    if not (user.is_active and user.is_staff):
        return False
    return getattr(user, "technician", None) is None


def responsible_contact(customer, *, firm) -> dict[str, str]:
    """Name, direct phone and email of the office person responsible for `customer` (office_person_contact)."""
    return office_person_contact(_responsible_with_profiles(customer), firm=firm)


def office_person_contact(user, *, firm) -> dict[str, str]:
    """Name, direct phone and email of an office person named to a customer (a responsible person, the owner
    of a promise).

    Falls back to the firm's own phone and email where the person has no direct ones, so every
    customer-facing page and mail names a reachable human.
    """
    office = firm_contact(firm)
    if user is None or not is_office_staff(user):
        # Someone who has left must not be named, nor get the replies, and neither may a technician (a
        # customer assigned to one before that was refused): the office answers until the work is
        # handed to a colleague.
        return {"name": office["name"], "phone": office["phone"], "email": office["email"]}
    profile = getattr(user, "office_profile", None)
    return {
        "name": " ".join((user.get_full_name() or user.get_username()).split()),
        "phone": profile.direct_phone.as_international if profile and profile.direct_phone else office["phone"],
        "email": (profile.email if profile else user.email) or office["email"],
    }


def _responsible_with_profiles(customer):
    """customer.responsible with the technician and office profiles read along: one query, not three."""
    if Customer.responsible.is_cached(customer):
        return customer.responsible
    responsible = (
        get_user_model().objects.select_related("technician", "office_profile").get(pk=customer.responsible_id)
    )
    Customer.responsible.field.set_cached_value(customer, responsible)
    return responsible


def firm_contact(firm) -> dict[str, str]:
    """The firm's name, office phone and email, postal address; the sender address when no firm is set up."""
    return {
        "name": firm.name if firm else "",
        "email": firm.email if firm else settings.DEFAULT_FROM_EMAIL,
        "phone": firm.phone.as_international if firm and firm.phone else "",
        "address": firm.postal_address if firm else "",
    }


def phone_numbers_to_check():
    """(customer, number their stored phone would be if read in their own country), by customer id.

    Before phone numbers were read in the customer's country, a national number of a customer abroad was
    read as one of the default region: '06 28471937' in Nijmegen became +49 6284 71937.
    """
    country_code = phonenumbers.country_code_for_region(default_region())
    customers = (
        Customer.objects.exclude(phone="")
        .exclude(country=default_region())
        .filter(phone__startswith=f"+{country_code}")
        .order_by("pk")
    )
    for customer in customers.iterator():
        candidate = reread_in_country(customer.phone, customer.country)
        if candidate is not None:
            yield customer, candidate


def customer_earlier_values(*, customer_id: int, fields: Collection[str]) -> dict[str, set[str]]:
    """Every value each of `fields` has held (now's included), as the journal recorded each change:
    customer.updated keeps the old and new value, customer.phone_reread the old and new phone. What the
    customer was known by before still names them (a mail from the old address, the maiden name)."""
    values: dict[str, set[str]] = {field: set() for field in fields}
    entries = JournalEntry.objects.filter(
        customer_id=customer_id, action__in=["customer.updated", "customer.phone_reread"]
    )
    for action, data in entries.values_list("action", "data"):
        data = data or {}
        changes = (data.get("changes") or {}) if action == "customer.updated" else {"phone": data}
        for field in fields:
            change = changes.get(field) or {}
            values[field] |= {str(change[side]) for side in ("old", "new") if change.get(side)}
    return values
