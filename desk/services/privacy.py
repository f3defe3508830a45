"""Personal data on the desk (requests, promises, feedback, mail that came in): erased on request."""

import operator
import secrets
from functools import reduce

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers.models import Customer
from customers.selectors import customer_earlier_values
from desk.models import Feedback, FeedbackRequest, InboundAttachment, InboundMail, Promise, PromiseState, WebRequest
from desk.requests import new_link_secret


def customer_email_addresses(*, customer_id: int) -> list[str]:
    """The addresses whose unmatched mail is the customer's: the one on file and those it replaced (the
    journal's changes), except any another customer has on file now.

    The export discloses these mails to her and the erasure destroys them, so an address counts only where
    her own record is the evidence and nobody else's contradicts it: an address the office once typed on her
    record by mistake and corrected, or one she shares with a relative who is a customer too, names another
    customer's mail, which the office matches by hand (a matched mail follows its customer). Addresses typed
    in her web requests add nothing of their own: a request is linked to a customer only when its address is
    the one on file or the record was made from it, so her own are already here; another one there was typed
    by someone else (a helper asking for her), and that person's mail is theirs.
    """
    addresses = {Customer.objects.values_list("email", flat=True).get(pk=customer_id)}
    addresses |= customer_earlier_values(customer_id=customer_id, fields=["email"])["email"]
    addresses = {address.strip().casefold() for address in addresses if address and address.strip()}
    if not addresses:
        return []
    held = Customer.objects.exclude(pk=customer_id).filter(
        reduce(operator.or_, (Q(email__iexact=address) for address in addresses))
    )
    return sorted(addresses - {email.strip().casefold() for email in held.values_list("email", flat=True)})


def customer_inbound_mails(*, customer_id: int):
    """Mail from or about the customer: matched to them, or from (or bounced at) any address they have had
    but never matched (an unknown sender, several customers sharing the address). The erasure and the
    export both ask this, so they never disagree about which mails are hers."""
    about = Q(customer_id=customer_id)
    for address in customer_email_addresses(customer_id=customer_id):
        about |= Q(customer__isnull=True) & (Q(from_email__iexact=address) | Q(bounce_recipient__iexact=address))
    return InboundMail.objects.filter(about)


@transaction.atomic
def desk_anonymise(*, customer_id: int) -> dict[str, int]:
    """Remove the customer's personal data from the desk's records; returns how many of each there were.

    Kept: dates, kinds, states, ratings, owners, deadlines, the request's postcode and city, attachment types
    and sizes. Gone: what was typed or written (requests, notes, comments, replies, reasons for closing, mails
    and their headers), attachment files (deleted from storage once the erasure commits), and the secrets of
    the customer's links (a new one each, so old links stop working). Promises still open are voided: nobody
    can keep them.
    """
    now = timezone.now()
    requests = WebRequest.objects.filter(customer_id=customer_id)
    promises = Promise.objects.filter(customer_id=customer_id)
    feedback = Feedback.objects.filter(customer_id=customer_id)
    mails = customer_inbound_mails(customer_id=customer_id)
    mail_ids = list(mails.values_list("pk", flat=True))
    counts = {
        "requests": requests.count(),
        "promises": promises.count(),
        "feedback": feedback.count(),
        "inbound_mails": len(mail_ids),
    }
    requests.update(full_name="", email="", phone="", street="", about="", reachable_note="")
    _renew(requests, "link_secret", new_link_secret)
    promises.filter(state=PromiseState.OPEN).update(state=PromiseState.VOIDED, closed_at=now)
    promises.update(note="", closed_reason="")
    feedback.update(comment="", reply_text="", closed_reason="")
    _renew(FeedbackRequest.objects.filter(customer_id=customer_id), "secret", lambda: secrets.token_urlsafe(24))
    # By id: the blanked senders would no longer find the unmatched mails.
    erased_mails = InboundMail.objects.filter(pk__in=mail_ids)
    erased_mails.update(
        status_reason="",
        from_name="",
        from_email="",
        to="",
        subject="",
        message_id="",
        in_reply_to="",
        references="",
        headers=[],
        text="",
        reply_text="",
        html="",
        raw_compressed=InboundMail.compress(b""),
        bounce_recipient="",
        bounce_message_id="",
    )
    # The old key was a hash of sender and Message-ID: a random stand-in names nothing.
    _renew(erased_mails, "dedupe_key", lambda: secrets.token_hex(32))
    attachments = InboundAttachment.objects.filter(mail_id__in=mail_ids)
    files = [(attachment.file.storage, attachment.file.name) for attachment in attachments if attachment.file]
    counts["attachments"] = attachments.update(name="", file="")
    # Deleted only once the erasure is committed: a rolled-back erasure must not have lost the files.
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in files])
    return counts


def _renew(rows, field: str, new) -> None:
    """A new value of `new()` in `field` for each of `rows`, in one statement: one value shared by all would
    tie them together (and a unique field refuses it)."""
    changed = list(rows.only("pk"))
    for row in changed:
        setattr(row, field, new())
    rows.model.objects.bulk_update(changed, [field])
