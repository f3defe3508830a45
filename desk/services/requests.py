"""Requests from the firm's website: a customer (found or new), a callback promise with an owner, a reply.

Matching rule (the office's data is never overwritten from a public form):
- An existing customer with the same email (case-insensitive) or, failing that, the same phone (E.164)
  is the request's customer when the name and the address (postcode, street) agree and the email typed,
  if any, is the one on file: the request and its promise are linked to that record, which stays as it is.
- If the email or phone matches but the name or address differ notably (or the email typed is not the
  one on file, so a reply would go elsewhere), a NEW customer is created from what was typed and the
  request is flagged "possible duplicate" of the existing one. Both get the same owner (the existing
  customer's), so the person who knows that customer decides whether to merge.
- Otherwise a new customer is created; the owner comes from desk.owners.owner_for(postcode=...).
"""

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers.models import Customer, PreferredChannel
from customers.phones import parse_phone
from customers.services import CustomerError, customer_create
from desk.models import MatchOutcome, Promise, PromiseKind, Reachability, RequestStatus, WebRequest
from desk.owners import owner_for
from desk.requests import call_changeable, call_slots, callback_due, new_link_secret
from desk.services.promises import promise_make, promise_move, promise_void
from journal.models import Channel, Direction, JournalEntry
from journal.services import journal_record
from notifications.models import MessageKind
from notifications.services import message_queue

SUBMITTED_FIELDS = (
    "full_name",
    "email",
    "phone",
    "street",
    "postcode",
    "city",
    "country",
    "about",
    "reachable",
    "reachable_note",
)
# How much of what they wrote the journal's one-line summary and the promise's note quote.
SUMMARY_QUOTE = 200


class RequestError(Exception):
    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


def _words(text: str) -> set[str]:
    """A name's words without case or accents: "Müller, Anna" and "anna mueller" … nearly (see _names_agree)."""
    text = unicodedata.normalize("NFKD", text.casefold().replace("ß", "ss"))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return set(re.findall(r"\w+", text))


def _names_agree(a: str, b: str) -> bool:
    # One name inside the other counts as the same person ("Anna Müller" / "Anna Maria Müller").
    ours, theirs = _words(a), _words(b)
    return bool(ours and theirs) and (ours <= theirs or theirs <= ours)


def _street_key(street: str) -> str:
    text = street.casefold().replace("ß", "ss").replace("strasse", "str").replace("str.", "str")
    return re.sub(r"\W", "", text)


def _same_person(customer: Customer, fields: Mapping[str, Any]) -> bool:
    if not _names_agree(customer.full_name, fields["full_name"]):
        return False
    if customer.postcode.replace(" ", "").upper() != fields["postcode"].replace(" ", "").upper():
        return False
    if _street_key(customer.street) != _street_key(fields["street"]):
        return False
    return not fields["email"] or customer.email.casefold() == fields["email"].casefold()


def _existing(fields: Mapping[str, Any]) -> Customer | None:
    if fields["email"]:
        found = Customer.objects.filter(email__iexact=fields["email"]).order_by("pk").first()
        if found is not None:
            return found
    if fields["phone"]:
        return Customer.objects.filter(phone=fields["phone"]).order_by("pk").first()
    return None


def _cleaned(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(SUBMITTED_FIELDS)
    if unknown:
        raise TypeError(f"Not request fields: {sorted(unknown)}")
    cleaned = {name: fields.get(name) or "" for name in SUBMITTED_FIELDS}
    for name in ("full_name", "email", "street", "postcode", "city", "reachable_note"):
        cleaned[name] = " ".join(str(cleaned[name]).split())
    cleaned["about"] = str(cleaned["about"]).strip()
    if cleaned["reachable"] not in Reachability.values:
        cleaned["reachable"] = Reachability.ANY_TIME
    cleaned["email"] = cleaned["email"].lower() if cleaned["email"] else ""
    phone = parse_phone(cleaned["phone"], region=cleaned["country"]) if cleaned["phone"] else ""
    if phone and not phone.is_valid():
        raise RequestError(_("Please check the phone number."), code="phone")
    cleaned["phone"] = phone.as_e164 if phone else ""
    if not cleaned["email"] and not cleaned["phone"]:
        raise RequestError(
            _("Please give an email address or a phone number, so that we can reach you."), code="contact"
        )
    return cleaned


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_QUOTE else text[: SUMMARY_QUOTE - 1] + "…"


@transaction.atomic
def request_submit(*, fields: Mapping[str, Any], language: str, now: datetime) -> WebRequest:
    """Store a request from the public page, link or create its customer, promise a call back, reply by mail."""
    fields = _cleaned(fields)
    existing = _existing(fields)
    duplicate_of = None
    if existing is not None and _same_person(existing, fields):
        customer, match = existing, MatchOutcome.MATCHED
        owner = owner_for(customer=customer)
    else:
        owner = owner_for(customer=existing) if existing is not None else owner_for(postcode=fields["postcode"])
        if owner is None:
            raise RequestError(_("We cannot take requests online right now. Please call us."), code="no_owner")
        try:
            customer = customer_create(
                fields={
                    "full_name": fields["full_name"],
                    "email": fields["email"],
                    "phone": fields["phone"],
                    "street": fields["street"],
                    "postcode": fields["postcode"],
                    "city": fields["city"],
                    "country": fields["country"],
                    "preferred_language": language,
                    "preferred_channel": PreferredChannel.EMAIL if fields["email"] else PreferredChannel.PHONE,
                    "responsible": owner,
                },
                actor=None,
                from_website=True,
            )
        except CustomerError as exc:
            raise RequestError(exc.message, code=exc.code) from exc
        match = MatchOutcome.NEW if existing is None else MatchOutcome.POSSIBLE_DUPLICATE
        duplicate_of = existing
    if owner is None:
        raise RequestError(_("We cannot take requests online right now. Please call us."), code="no_owner")

    web_request = WebRequest.objects.create(
        received_at=now,
        language=language,
        customer=customer,
        match=match,
        possible_duplicate_of=duplicate_of,
        link_secret=new_link_secret(),
        **fields,
    )
    due_at = callback_due(now=now, reachable=fields["reachable"])
    with translation.override(settings.LANGUAGE_CODE):
        entry = journal_record(
            customer=customer,
            action="request.received",
            summary=_("Request from the website: %(about)s") % {"about": _quote(fields["about"])},
            channel=Channel.WEB,
            direction=Direction.INBOUND,
            data={
                "request_id": web_request.pk,
                **fields,
                "language": language,
                "match": match,
                "possible_duplicate_of_id": duplicate_of.pk if duplicate_of else None,
            },
            occurred_at=now,
        )
        note = _("Call back about the request from the website: %(about)s") % {"about": _quote(fields["about"])}
        if fields["phone"] and fields["phone"] != str(customer.phone):
            note += " " + _("Number given: %(phone)s.") % {"phone": fields["phone"]}
        if fields["reachable_note"]:
            note += " " + _("Best reached: %(note)s") % {"note": fields["reachable_note"]}
        promise = promise_make(
            customer=customer, kind=PromiseKind.CALL_BACK, owner=owner, due_at=due_at, note=note, made_in=entry
        )
    web_request.promise = promise
    web_request.save(update_fields=["promise"])
    if fields["email"]:
        message_queue(
            kind=MessageKind.REQUEST_REPLY,
            customer=customer,
            context={"request_id": web_request.pk},
            dedupe=f"request:{web_request.pk}",
            # The form asked "Language for our reply"; a known customer's record keeps its own.
            language=web_request.language,
        )
    return web_request


def _locked(web_request: WebRequest) -> WebRequest:
    # Only the request's row: PostgreSQL refuses FOR UPDATE on the nullable side of the join to its promise
    # (promise_move and promise_void lock the promise themselves).
    return (
        WebRequest.objects.select_for_update(of=("self",))
        .select_related("customer", "promise__owner")
        .get(pk=web_request.pk)
    )


def _not_changeable() -> RequestError:
    return RequestError(
        _("The call can no longer be changed online. Please call or write to us."), code="not_changeable"
    )


def _queue_call_change_mail(web_request: WebRequest, promise: Promise) -> None:
    """Tell the customer what became of their call (moved, or an email answer instead). The mail is about
    this one promise: one queued for an earlier change is superseded when it comes to be sent."""
    message_queue(
        kind=MessageKind.CALL_TIME_CHANGED,
        customer=web_request.customer,
        context={"request_id": web_request.pk, "promise_id": promise.pk},
        dedupe=f"request:{web_request.pk}:promise:{promise.pk}",
        language=web_request.language,
    )


@transaction.atomic
def request_move_call(*, web_request: WebRequest, due_at: datetime, now: datetime) -> WebRequest:
    """The customer picked another call time: the promise moves (the old time is struck), and a mail says so."""
    web_request = _locked(web_request)
    if not call_changeable(web_request, now=now):
        raise _not_changeable()
    if due_at not in call_slots(now=now):
        raise RequestError(_("Please choose one of the times offered: we call during office hours."), code="slot")
    old = web_request.promise
    if due_at == old.due_at:
        return web_request
    with translation.override(settings.LANGUAGE_CODE):
        new = promise_move(
            promise=old,
            due_at=due_at,
            reason=_("The customer chose another time on the request page."),
            code="customer_moved",
        )
        journal_record(
            customer=web_request.customer,
            action="request.call_moved",
            summary=_("The customer moved the call to %(due)s.")
            % {"due": timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M")},
            channel=Channel.WEB,
            direction=Direction.INBOUND,
            data={
                "request_id": web_request.pk,
                "old_due_at": old.due_at.isoformat(),
                "due_at": due_at.isoformat(),
                "promise_id": new.pk,
            },
            occurred_at=now,
        )
    web_request.promise = new
    web_request.save(update_fields=["promise"])
    _queue_call_change_mail(web_request, new)
    return web_request


@transaction.atomic
def request_email_instead(*, web_request: WebRequest, now: datetime) -> WebRequest:
    """The customer asked for an answer by email: the call is voided, a promise to send it takes its place."""
    web_request = _locked(web_request)
    if web_request.status == RequestStatus.EMAIL_INSTEAD:
        # Asked already (a double click, the form sent again): the answer is the same, nothing changes.
        return web_request
    if not call_changeable(web_request, now=now):
        raise _not_changeable()
    if not web_request.email:
        raise RequestError(_("We have no email address for you. Please call us."), code="no_email")
    old: Promise = web_request.promise
    with translation.override(settings.LANGUAGE_CODE):
        entry: JournalEntry = journal_record(
            customer=web_request.customer,
            action="request.email_instead",
            summary=_("The customer asked for an answer by email to %(email)s instead of a call.")
            % {"email": web_request.email},
            channel=Channel.WEB,
            direction=Direction.INBOUND,
            data={"request_id": web_request.pk, "email": web_request.email, "promise_id": old.pk},
            occurred_at=now,
        )
        promise_void(
            promise=old,
            reason=_("The customer asked for an answer by email instead of a call."),
            code="email_instead",
        )
        new = promise_make(
            customer=web_request.customer,
            kind=PromiseKind.SEND_INFORMATION,
            owner=old.owner,
            due_at=old.due_at,
            note=_("Answer by email to %(email)s (not by phone): %(about)s")
            % {"email": web_request.email, "about": _quote(web_request.about)},
            made_in=entry,
            replaces=old,
        )
    web_request.promise = new
    web_request.status = RequestStatus.EMAIL_INSTEAD
    web_request.save(update_fields=["promise", "status"])
    _queue_call_change_mail(web_request, new)
    return web_request
