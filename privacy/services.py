"""Erasing a customer's personal data, and recording an export: each app anonymises its own records."""

import json

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from appointments.services.privacy import appointments_anonymise, customer_has_active_visits
from customers.models import Customer
from customers.services import customer_anonymise
from desk.models import WebRequest
from desk.services.privacy import desk_anonymise
from journal.models import JournalEntry
from journal.services import journal_entries_erase, journal_record
from notifications.services import outbox_anonymise
from privacy.models import Erasure, ErasureReason


class PrivacyError(Exception):
    """An erasure was refused. `message` is translated and safe to show to the user."""

    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


def personal_words(customer: Customer) -> list[str]:
    """What identifies the customer in stored text: name (and its parts), email, phone, street, as on file
    and as typed in their web requests."""
    names, words = {customer.full_name}, set()
    for full_name, email, phone, street in WebRequest.objects.filter(customer=customer).values_list(
        "full_name", "email", "phone", "street"
    ):
        names.add(full_name)
        words |= {email, str(phone or ""), street}
    for name in names:
        words.add(name)
        words |= {part for part in name.replace(",", " ").split() if len(part.strip(".")) >= 3}
    words |= {customer.email, customer.street, *_phone_forms(customer.phone)}
    return sorted(word.strip() for word in words if word and word.strip())


def _phone_forms(phone) -> list[str]:
    if not phone:
        return []
    return [phone.as_e164, str(phone.national_number)]


def erasure_refusal(customer: Customer) -> PrivacyError | None:
    """Why the customer cannot be erased now, or None."""
    if Erasure.objects.filter(customer=customer).exists():
        return PrivacyError(_("The personal data of this customer was already erased."), code="already_erased")
    if customer_has_active_visits(customer_id=customer.pk):
        # A technician may be on the way: without the address and phone the visit cannot happen, and the
        # customer would not be told. The office cancels (the customer gets the mail) or completes it first.
        return PrivacyError(
            _(
                "This customer has a visit that is requested, scheduled or under way. Cancel or complete it "
                "first, then erase the personal data."
            ),
            code="active_visit",
        )
    return None


@transaction.atomic
def customer_erase(*, customer: Customer, by: AbstractBaseUser | None, reason: str) -> Erasure:
    """Remove the personal data of `customer` from every record; keep counts and non-personal facts.

    Kept for the firm's statistics: every record and its dates, statuses, service types, technicians,
    ratings, postcode and city. Recorded: an Erasure (who, when, which reason, how many records) and a
    journal entry saying so, both without personal data.
    """
    if reason not in ErasureReason.values:
        raise PrivacyError(_("Please choose why the data is erased."), code="reason")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if refusal := erasure_refusal(customer):
        raise refusal
    personal = personal_words(customer)
    log_words = [customer.full_name, customer.email, customer.street, *_phone_forms(customer.phone)]
    counts = {"customer": 1}
    counts |= appointments_anonymise(customer_id=customer.pk)
    counts["messages"] = outbox_anonymise(customer_id=customer.pk, personal=personal)
    counts |= desk_anonymise(customer_id=customer.pk, email=customer.email)
    counts["journal_entries"] = journal_entries_erase(customer_id=customer.pk, personal=personal)
    customer = customer_anonymise(customer=customer)
    counts["admin_log_entries"] = _admin_log_anonymise(log_words)
    erasure = Erasure.objects.create(customer=customer, erased_by=by, reason=reason, counts=counts)
    journal_record(
        customer=customer,
        action="customer.erased",
        data={"erasure_id": erasure.pk, "reason": reason, "counts": counts},
        actor=by,
    )
    return erasure


def _admin_log_anonymise(words: list[str]) -> int:
    """The admin's history names each object as it was then ("Anna Meyer · Heating · …"): rename it as it is
    now, and drop change messages that quote the person. Django's table, so no app owns it."""
    words = [word for word in words if word and word.strip()]
    if not words:
        return 0
    naming = Q()
    for word in words:
        naming |= Q(object_repr__icontains=word) | Q(change_message__icontains=word)
    changed = 0
    for log in LogEntry.objects.filter(naming).select_related("content_type"):
        model = log.content_type.model_class()
        current = model._default_manager.filter(pk=log.object_id).first() if model else None
        log.object_repr = str(current)[:200] if current is not None else ""
        if any(word.casefold() in log.change_message.casefold() for word in words):
            log.change_message = json.dumps([])
        log.save(update_fields=["object_repr", "change_message"])
        changed += 1
    return changed


@transaction.atomic
def customer_export_record(*, customer: Customer, by: AbstractBaseUser | None, kinds: dict[str, int]) -> JournalEntry:
    """Note in the customer's journal that everything stored about them was exported, by whom, and how much."""
    return journal_record(customer=customer, action="customer.data_exported", data={"counts": kinds}, actor=by)
