from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from customers.journal_texts import created_text
from customers.models import Customer
from customers.phones import parse_phone, reread_in_country
from customers.selectors import is_office_staff
from journal.services import journal_record

EDITABLE_FIELDS = (
    "full_name",
    "email",
    "phone",
    "street",
    "postcode",
    "city",
    "country",
    "preferred_language",
    "preferred_channel",
    "responsible",
    "notes",
    "feedback_requests",
)


class CustomerError(Exception):
    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


def _validated(customer: Customer) -> Customer:
    # Checked before full_clean, whose message for a user outside the field's choices names only an id.
    if customer.responsible_id and not is_office_staff(customer.responsible):
        raise CustomerError(
            _("The responsible person must be an active member of the office staff, not a technician."),
            code="responsible_not_office",
        )
    try:
        customer.full_clean()
    except ValidationError as exc:
        raise CustomerError("; ".join(exc.messages)) from exc
    return customer


def _with_phone_read_in_country(fields: Mapping[str, Any], country: str) -> dict[str, Any]:
    """A typed phone number is read in the customer's own country, whatever the firm's default region."""
    if "phone" not in fields:
        return dict(fields)
    return {**fields, "phone": parse_phone(fields["phone"], region=country)}


@transaction.atomic
def customer_create(
    *,
    fields: Mapping[str, Any],
    actor: AbstractBaseUser | None,
    from_website: bool = False,
    imported_from: Mapping[str, Any] | None = None,
) -> Customer:
    """A new customer record; the journal says where it came from: `from_website`, a request on the public
    page; `imported_from`, {"file": name, "row": number} of a spreadsheet the office imported."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not customer fields: {sorted(unknown)}")
    fields = _with_phone_read_in_country(fields, fields.get("country") or Customer._meta.get_field("country").default)
    customer = _validated(Customer(**fields))
    customer.save()
    if imported_from is not None:
        data = {"source": "import", "file": str(imported_from["file"]), "row": int(imported_from["row"])}
    else:
        data = {"source": "website"} if from_website else None
    with translation.override(settings.LANGUAGE_CODE):
        journal_record(
            customer=customer,
            action="customer.created",
            summary=created_text(data),
            data=data,
            actor=actor,
        )
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, changes: Mapping[str, Any], actor: AbstractBaseUser | None) -> Customer:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not customer fields: {sorted(unknown)}")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    changes = _with_phone_read_in_country(changes, changes.get("country") or customer.country)
    changed = {}
    for name, value in changes.items():
        old = getattr(customer, name)
        if old != value:
            changed[name] = {"old": _journal_value(old), "new": _journal_value(value)}
            setattr(customer, name, value)
    if not changed:
        return customer
    _validated(customer)
    customer.save()
    with translation.override(settings.LANGUAGE_CODE):
        labels = ", ".join(str(Customer._meta.get_field(name).verbose_name) for name in changed)
        journal_record(
            customer=customer,
            action="customer.updated",
            summary=_("Customer record changed: %(fields)s.") % {"fields": labels},
            data={"changes": changed},
            actor=actor,
        )
    return customer


@transaction.atomic
def customer_phone_reread(*, customer: Customer, actor: AbstractBaseUser | None) -> Customer:
    """Store the customer's phone as read in their own country, for a number the office has confirmed.

    Only for numbers stored before numbers were read per country (see selectors.phone_numbers_to_check).
    """
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    corrected = reread_in_country(customer.phone, customer.country)
    if corrected is None:
        raise CustomerError(
            _("The phone number of %(customer)s is the same when read in the customer's country; nothing to correct.")
            % {"customer": customer.full_name},
            code="phone_unchanged",
        )
    old = customer.phone
    customer.phone = corrected
    customer.save(update_fields=["phone", "updated_at"])
    with translation.override(settings.LANGUAGE_CODE):
        journal_record(
            customer=customer,
            action="customer.phone_reread",
            summary=_("Phone number read in the customer's country (%(country)s): %(old)s is now %(new)s.")
            % {
                "country": customer.get_country_display(),
                "old": old.as_international,
                "new": corrected.as_international,
            },
            data={"old": old.as_e164, "new": corrected.as_e164, "country": customer.country},
            actor=actor,
        )
    return customer


def _journal_value(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


@transaction.atomic
def customer_anonymise(*, customer: Customer) -> Customer:
    """Remove the customer's personal data from their record; the record stays for the firm's statistics.

    Kept: postcode, city and country (a region, not a person), language, responsible person, dates. The
    name becomes a placeholder in the office's language with the record's number. Only
    privacy.services.customer_erase calls this, which journals the erasure.
    """
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    with translation.override(settings.LANGUAGE_CODE):
        customer.full_name = _("Erased customer %(number)s") % {"number": customer.pk}
    customer.email = ""
    customer.phone = ""
    customer.street = ""
    customer.notes = ""
    customer.feedback_requests = False
    customer.save(update_fields=["full_name", "email", "phone", "street", "notes", "feedback_requests", "updated_at"])
    return customer
