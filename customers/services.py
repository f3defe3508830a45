from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from customers.models import Customer
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
)


class CustomerError(Exception):
    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


def _validated(customer: Customer) -> Customer:
    try:
        customer.full_clean()
    except ValidationError as exc:
        raise CustomerError("; ".join(exc.messages)) from exc
    if customer.responsible_id and not customer.responsible.is_staff:
        raise CustomerError(_("The responsible person must be a member of the office staff."))
    return customer


@transaction.atomic
def customer_create(*, fields: Mapping[str, Any], actor: AbstractBaseUser | None) -> Customer:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not customer fields: {sorted(unknown)}")
    customer = _validated(Customer(**fields))
    customer.save()
    with translation.override(settings.LANGUAGE_CODE):
        journal_record(
            customer=customer,
            action="customer.created",
            summary=_("Customer record created."),
            actor=actor,
        )
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, changes: Mapping[str, Any], actor: AbstractBaseUser | None) -> Customer:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not customer fields: {sorted(unknown)}")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
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


def _journal_value(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)
