"""Erasing a customer's personal data, and recording an export: each app anonymises its own records."""

import json
import logging

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import to_python

from appointments.models import Appointment, BookingInvitation, MissedVisitFollowUp, VisitAttempt
from appointments.services.privacy import appointments_anonymise, customer_has_active_visits
from customers.models import Customer
from customers.selectors import customer_earlier_values
from customers.services import customer_anonymise
from desk.models import Feedback, InboundMail, Promise, WebRequest
from desk.services.privacy import customer_inbound_mails, desk_anonymise
from journal.models import JournalEntry
from journal.services import journal_entries_erase, journal_record
from notifications.models import OutboxMessage
from notifications.services import outbox_anonymise
from privacy.models import Erasure, ErasureReason

logger = logging.getLogger(__name__)


class PrivacyError(Exception):
    """An erasure was refused. `message` is translated and safe to show to the user."""

    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


def personal_words(customer: Customer) -> list[str]:
    """What identifies the customer in stored text: name (and its parts), email, phone, street, as on file,
    as they were before a change (the journal's record of it) and as typed in their web requests."""
    earlier = customer_earlier_values(customer_id=customer.pk, fields=["full_name", "email", "phone", "street"])
    names = {customer.full_name, *earlier["full_name"]}
    words = earlier["email"] | earlier["phone"] | earlier["street"]
    words |= {form for phone in earlier["phone"] for form in _phone_forms(to_python(phone))}
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
    # A journalled number that no longer parses is searched for as it was written (see personal_words).
    if not phone or phone.national_number is None:
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
    # Before the desk blanks the addresses its unmatched mails are found by.
    logged = _admin_logged_objects(customer)
    counts = {"customer": 1}
    counts |= appointments_anonymise(customer_id=customer.pk)
    counts["messages"] = outbox_anonymise(customer_id=customer.pk, personal=personal)
    counts |= desk_anonymise(customer_id=customer.pk)
    counts["journal_entries"] = journal_entries_erase(customer_id=customer.pk, personal=personal)
    customer = customer_anonymise(customer=customer)
    counts["admin_log_entries"] = _admin_log_anonymise(logged)
    erasure = Erasure.objects.create(customer=customer, erased_by=by, reason=reason, counts=counts)
    journal_record(
        customer=customer,
        action="customer.erased",
        data={"erasure_id": erasure.pk, "reason": reason, "counts": counts},
        actor=by,
    )
    # Ids only: after a restore from an older backup, the operator finds here whom to erase again (README).
    logger.info(
        "customer_erase: customer %s erased by user %s (erasure %s)", customer.pk, getattr(by, "pk", None), erasure.pk
    )
    return erasure


def _admin_logged_objects(customer: Customer) -> list[tuple[type[models.Model], list[int]]]:
    """Every record of the customer's that has an admin page, so may have admin history: (model, pks)."""
    attempts = list(VisitAttempt.objects.filter(appointment__customer=customer).values_list("pk", flat=True))
    mails = customer_inbound_mails(customer_id=customer.pk)
    return [
        (Customer, [customer.pk]),
        (Appointment, list(Appointment.objects.filter(customer=customer).values_list("pk", flat=True))),
        (BookingInvitation, list(BookingInvitation.objects.filter(customer=customer).values_list("pk", flat=True))),
        (VisitAttempt, attempts),
        # A proxy has its own content type in the admin's history.
        (MissedVisitFollowUp, attempts),
        (OutboxMessage, list(OutboxMessage.objects.filter(customer=customer).values_list("pk", flat=True))),
        (WebRequest, list(WebRequest.objects.filter(customer=customer).values_list("pk", flat=True))),
        (Promise, list(Promise.objects.filter(customer=customer).values_list("pk", flat=True))),
        (Feedback, list(Feedback.objects.filter(customer=customer).values_list("pk", flat=True))),
        (InboundMail, list(mails.values_list("pk", flat=True))),
    ]


def _admin_log_anonymise(logged: list[tuple[type[models.Model], list[int]]]) -> int:
    """The admin's history names each object as it was then ("Anna Meyer · Heating · …") and its change
    messages may quote what was typed: every entry about the customer's records is renamed as the record is
    now and loses its message. Chosen by object, not by searching the text: a search misses the names she
    had before, and hits other customers on the same street. Django's table, so no app owns it."""
    changed = []
    for model, pks in logged:
        if not pks:
            continue
        content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
        current = {str(obj.pk): obj for obj in model._default_manager.filter(pk__in=pks)}
        for log in LogEntry.objects.filter(content_type=content_type, object_id__in=[str(pk) for pk in pks]):
            obj = current.get(log.object_id)
            log.object_repr = str(obj)[:200] if obj is not None else ""
            log.change_message = json.dumps([])
            changed.append(log)
    LogEntry.objects.bulk_update(changed, ["object_repr", "change_message"])
    return len(changed)


@transaction.atomic
def customer_export_record(*, customer: Customer, by: AbstractBaseUser | None, kinds: dict[str, int]) -> JournalEntry:
    """Note in the customer's journal that everything stored about them was exported, by whom, and how much."""
    return journal_record(customer=customer, action="customer.data_exported", data={"counts": kinds}, actor=by)
