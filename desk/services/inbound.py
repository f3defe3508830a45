"""Mail that comes in: stored once, matched to its customer (and visit), journalled, and answered by a
promise of the customer's responsible person. Automatic replies, loops and delivery reports are kept and
journalled where they belong, and never answered."""

import fnmatch
import hashlib
import logging
import mimetypes
from email.utils import parseaddr
from pathlib import PurePath

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers.models import Customer, Firm
from desk.inbound.parse import ParsedAttachment, ParsedMail, ParseError, parse_mail
from desk.models import InboundAttachment, InboundKind, InboundMail, InboundStatus, Promise, PromiseKind, PromiseState
from desk.owners import owner_for
from desk.services.promises import PromiseError, promise_make, promise_void
from desk.working_time import add_working_time
from journal.models import Channel, Direction, JournalEntry
from journal.services import journal_record
from notifications.models import BounceKind, OutboxMessage
from notifications.replies import (
    is_our_message_id,
    message_for_bounce,
    message_for_references,
    message_for_reply_address,
)
from notifications.services import message_mark_bounced

logger = logging.getLogger(__name__)

EXCERPT_LENGTH = 300
# Refused whatever type the sender declared: the office opens these files on Windows PCs.
EXECUTABLE_SUFFIXES = {
    ".exe", ".com", ".bat", ".cmd", ".scr", ".pif", ".msi", ".msp", ".dll", ".cpl", ".jar", ".js", ".jse",
    ".vbs", ".vbe", ".wsf", ".wsh", ".ps1", ".psm1", ".hta", ".lnk", ".reg", ".sh", ".app", ".apk", ".iso",
    ".html", ".htm", ".svg", ".xhtml", ".docm", ".xlsm", ".pptm",
}  # fmt: skip
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")


class InboundError(Exception):
    """A mail that cannot be taken in (garbage, too large) or an office action that does not apply."""

    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


def own_addresses() -> tuple[str, ...]:
    """The firm's own senders. A mail from one is ours coming back only with our markers (desk.inbound.parse);
    without them a person wrote it (a colleague forwarding), and the office sorts it out."""
    addresses = {parseaddr(settings.DEFAULT_FROM_EMAIL)[1], parseaddr(settings.SERVER_EMAIL)[1]}
    addresses.update(Firm.objects.values_list("email", flat=True))
    return tuple(sorted(address.lower() for address in addresses if address))


def _dedupe_key(parsed: ParsedMail, raw: bytes) -> str:
    # With its sender: a redelivery keeps both, while two senders' programs that mint poor ids do not
    # swallow each other's mail.
    if parsed.message_id:
        return hashlib.sha256(f"{parsed.from_address.lower()}\n{parsed.message_id}".encode()).hexdigest()
    return hashlib.sha256(raw).hexdigest()


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def _sender(mail: InboundMail) -> str:
    return f"{mail.from_name} <{mail.from_email}>" if mail.from_name else mail.from_email


@transaction.atomic
def inbound_receive(*, raw: bytes, source: str) -> InboundMail:
    """Take in one mail as received (RFC 5322 bytes). A mail delivered again (same Message-ID, or the same
    bytes when it has none) returns the one stored the first time and changes nothing.

    Raises InboundError for bytes that are not a mail or a mail over INBOUND_MAX_MESSAGE_BYTES.
    """
    if len(raw) > settings.INBOUND_MAX_MESSAGE_BYTES:
        raise InboundError(
            _("The mail is larger than %(size)s.") % {"size": filesizeformat(settings.INBOUND_MAX_MESSAGE_BYTES)},
            code="too_large",
        )
    try:
        parsed = parse_mail(raw, own_addresses=own_addresses(), is_our_message_id=is_our_message_id)
    except ParseError as error:
        raise InboundError(_("This is not a mail that can be read."), code="garbage") from error
    dedupe_key = _dedupe_key(parsed, raw)
    existing = InboundMail.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        logger.info("Inbound mail %s delivered again (%s); kept once as %s", parsed.message_id, source, existing.pk)
        return existing
    try:
        with transaction.atomic():
            mail = _store(parsed, raw=raw, source=source, dedupe_key=dedupe_key)
    except IntegrityError:
        # The same mail, delivered twice at once: the other delivery stored it.
        existing = InboundMail.objects.filter(dedupe_key=dedupe_key).first()
        if existing is None:
            raise
        return existing
    _store_attachments(mail, parsed.attachments)
    with translation.override(settings.LANGUAGE_CODE):
        _route(mail, parsed)
    return mail


def _store(parsed: ParsedMail, *, raw: bytes, source: str, dedupe_key: str) -> InboundMail:
    if parsed.is_loop:
        kind = InboundKind.LOOP
    elif parsed.is_bounce:
        kind = InboundKind.BOUNCE
    elif parsed.is_auto_reply:
        kind = InboundKind.AUTO_REPLY
    else:
        kind = InboundKind.MAIL
    return InboundMail.objects.create(
        source=source[:40],
        kind=kind,
        from_name=parsed.from_name[:200],
        from_email=parsed.from_address[:254],
        to=", ".join(address for _name, address in parsed.to + parsed.cc),
        subject=parsed.subject[:500],
        sent_at=parsed.date,
        message_id=parsed.message_id,
        dedupe_key=dedupe_key,
        in_reply_to=parsed.in_reply_to,
        references=" ".join(parsed.references),
        headers=[list(pair) for pair in parsed.headers],
        text=parsed.text,
        reply_text=parsed.reply_text,
        html=parsed.html,
        raw_compressed=InboundMail.compress(raw),
        raw_size=len(raw),
        bounce_recipient=parsed.bounce.recipient[:254] if parsed.bounce else "",
        bounce_message_id=parsed.bounce.original_message_id if parsed.bounce else "",
    )


def _attachment_type(attachment: ParsedAttachment) -> str:
    declared = attachment.content_type.lower()
    if declared in {"application/octet-stream", "application/x-download", ""}:
        return mimetypes.guess_type(attachment.filename)[0] or declared
    return declared


def _refusal(attachment: ParsedAttachment, content_type: str, index: int) -> str:
    if index >= settings.INBOUND_MAX_ATTACHMENTS:
        return _("more than %(count)s attachments") % {"count": settings.INBOUND_MAX_ATTACHMENTS}
    if attachment.size > settings.INBOUND_MAX_ATTACHMENT_BYTES:
        return _("larger than %(size)s") % {"size": filesizeformat(settings.INBOUND_MAX_ATTACHMENT_BYTES)}
    suffixes = {suffix.lower() for suffix in PurePath(attachment.filename).suffixes}
    if suffixes & EXECUTABLE_SUFFIXES or attachment.content.startswith(EXECUTABLE_MAGIC):
        return _("a program or script")
    if not any(fnmatch.fnmatchcase(content_type, pattern) for pattern in settings.INBOUND_ALLOWED_ATTACHMENT_TYPES):
        return _("type %(type)s is not kept") % {"type": content_type}
    return ""


def _store_attachments(mail: InboundMail, attachments: list[ParsedAttachment]) -> None:
    """The rows now, the files once the rows are committed: a rollback (here or in a caller's transaction)
    leaves no file behind. Until then a kept attachment has no file; its bytes are still in the raw mail."""
    contents = {}
    with translation.override(settings.LANGUAGE_CODE):
        for index, attachment in enumerate(attachments):
            content_type = _attachment_type(attachment)
            record = InboundAttachment.objects.create(
                mail=mail,
                name=attachment.filename,
                content_type=content_type[:120],
                size=attachment.size,
                refused_reason=_refusal(attachment, content_type, index),
            )
            if not record.refused_reason:
                contents[record.pk] = attachment.content
    if contents:
        transaction.on_commit(lambda: _write_attachment_files(contents))


def _write_attachment_files(contents: dict[int, bytes]) -> None:
    for record in InboundAttachment.objects.filter(pk__in=contents, file=""):
        try:
            record.file.save("attachment", ContentFile(contents[record.pk]), save=False)
        except OSError:
            # The mail is stored (a retry by the MTA would only find it stored): the office downloads the
            # attachment from the raw mail instead.
            logger.exception("Inbound attachment %s not written to storage", record.pk)
            continue
        # Conditional: should the row have a file by now (a second writer), this file goes again.
        if not InboundAttachment.objects.filter(pk=record.pk, file="").update(file=record.file.name):
            record.file.delete(save=False)


def _our_message(parsed: ParsedMail) -> tuple[OutboxMessage | None, str]:
    """Our mail this one answers: by the reply address it was sent to, else by In-Reply-To/References."""
    for address in parsed.recipient_addresses:
        message = message_for_reply_address(address)
        if message is not None:
            return message, "reply_address"
    message = message_for_references([parsed.in_reply_to, *parsed.references])
    return (message, "references") if message is not None else (None, "")


def _match(mail: InboundMail, parsed: ParsedMail) -> str:
    """Set customer/visit/our message on `mail`; the reason to sort it out by hand, or "" when matched."""
    if parsed.from_own_address:
        # Not our own mail coming back (that is a loop), but a person at the firm: whose it is, the office says.
        return _("Sent from the firm's own address (a colleague forwarding?).")
    message, matched_by = _our_message(parsed)
    if message is not None and message.customer_id is not None and not message.is_staff_mail:
        mail.customer_id, mail.appointment_id = message.customer_id, message.appointment_id
        mail.outbox_message, mail.matched_by = message, matched_by
        return ""
    customers = list(Customer.objects.filter(email__iexact=mail.from_email)[:2])
    if len(customers) == 1:
        mail.customer, mail.matched_by = customers[0], "sender"
        return ""
    if customers:
        return _("Several customers have this email address.")
    return _("Unknown sender.")


def _journal(
    mail: InboundMail, *, action: str, summary: str, actor=None, direction: str = Direction.INBOUND, **extra
) -> JournalEntry:
    return journal_record(
        customer=mail.customer,
        appointment=mail.appointment,
        action=action,
        summary=summary,
        channel=Channel.EMAIL,
        direction=direction,
        actor=actor,
        occurred_at=mail.received_at,
        data={
            "inbound_id": mail.pk,
            "subject": mail.subject,
            "from": mail.from_email,
            "from_name": mail.from_name,
            "excerpt": (mail.reply_text or mail.text)[:EXCERPT_LENGTH],
            "kind": mail.kind,
            "matched_by": mail.matched_by,
            "outbox_id": mail.outbox_message_id,
            "attachments": mail.attachments.count(),
            **extra,
        },
    )


def _promise_reply(mail: InboundMail, *, actor=None) -> None:
    """The reply owed: one open "answer an email" per customer (a second mail joins the first's promise)."""
    owner = owner_for(customer=mail.customer)
    open_promise = (
        Promise.objects.filter(customer=mail.customer, kind=PromiseKind.REPLY_MAIL, state=PromiseState.OPEN)
        .order_by("due_at")
        .first()
    )
    mail.journal_entry = _journal(
        mail,
        action="inbound.received",
        summary=_("Email from %(sender)s: %(subject)s") % {"sender": _sender(mail), "subject": mail.subject},
        actor=actor,
        joins_promise_id=open_promise.pk if open_promise else None,
    )
    if open_promise is not None:
        mail.promise = open_promise
    elif owner is not None:
        mail.promise = promise_make(
            customer=mail.customer,
            kind=PromiseKind.REPLY_MAIL,
            owner=owner,
            due_at=add_working_time(timezone.now(), settings.REPLY_WITHIN),
            appointment=mail.appointment,
            note=mail.subject,
            made_in=mail.journal_entry,
            actor=actor,
        )
    mail.status = InboundStatus.NEW


def _route(mail: InboundMail, parsed: ParsedMail) -> None:
    if mail.kind == InboundKind.LOOP:
        mail.status, mail.status_reason = InboundStatus.IGNORED, _("Our own mail came back (a mail loop).")
    elif mail.kind == InboundKind.BOUNCE:
        _route_bounce(mail, parsed)
    else:
        reason = _match(mail, parsed)
        if reason:
            mail.status, mail.status_reason = (
                (InboundStatus.IGNORED, _("Automatic reply."))
                if mail.kind == InboundKind.AUTO_REPLY
                else (InboundStatus.TRIAGE, reason)
            )
        elif mail.kind == InboundKind.AUTO_REPLY:
            mail.status, mail.status_reason = InboundStatus.IGNORED, _("Automatic reply.")
            mail.journal_entry = _journal(
                mail,
                action="inbound.auto_reply",
                summary=_("Automatic reply from %(sender)s: %(subject)s")
                % {"sender": _sender(mail), "subject": mail.subject},
            )
        else:
            _promise_reply(mail)
    mail.save()


def _route_bounce(mail: InboundMail, parsed: ParsedMail) -> None:
    bounce = parsed.bounce
    if not bounce.failed:
        mail.status = InboundStatus.IGNORED
        mail.status_reason = _("Delivery report: %(action)s.") % {"action": bounce.action}
        return
    message = message_for_bounce(bounce.original_message_id)
    if message is None:
        mail.status = InboundStatus.TRIAGE
        mail.status_reason = _("A delivery failure report for a mail we cannot find.")
        return
    mail.outbox_message, mail.matched_by = message, "bounce"
    mail.customer_id, mail.appointment_id = message.customer_id, message.appointment_id
    detail = " – ".join(part for part in (bounce.recipient, bounce.status, bounce.diagnostic) if part)
    # Opens "email bounced — call the customer" through notifications' message_bounced signal (desk receiver).
    message_mark_bounced(message=message, kind=BounceKind.BOUNCE, detail=detail, occurred_at=mail.received_at)
    mail.status = InboundStatus.IGNORED
    mail.status_reason = _("Delivery failure recorded on our mail to %(address)s.") % {
        "address": bounce.recipient or message.to_email
    }


def _locked(mail: InboundMail) -> InboundMail:
    return InboundMail.objects.select_for_update().get(pk=mail.pk)


@transaction.atomic
def inbound_assign(
    *, mail: InboundMail, customer: Customer, appointment=None, actor: AbstractBaseUser | None = None
) -> InboundMail:
    """The office says whose mail this is (a triage mail): journalled for the customer, a reply promised."""
    mail = _locked(mail)
    if mail.status != InboundStatus.TRIAGE:
        raise InboundError(_("Only a mail to sort out can be assigned to a customer."), code="status")
    if appointment is not None and appointment.customer_id != customer.pk:
        raise InboundError(_("This visit belongs to another customer."), code="appointment")
    mail.customer, mail.appointment, mail.matched_by, mail.status_reason = customer, appointment, "office", ""
    with translation.override(settings.LANGUAGE_CODE):
        if mail.kind == InboundKind.MAIL:
            _promise_reply(mail, actor=actor)
        else:
            mail.status = InboundStatus.IGNORED
            mail.journal_entry = _journal(
                mail,
                action="inbound.assigned",
                summary=_("Email from %(sender)s: %(subject)s") % {"sender": _sender(mail), "subject": mail.subject},
                actor=actor,
            )
    mail.save()
    return mail


@transaction.atomic
def inbound_dismiss(*, mail: InboundMail, reason: str, actor: AbstractBaseUser | None = None) -> InboundMail:
    """No reply needed (spam, a thank-you, already answered by phone): closed with the office's reason; a
    reply promise made for it alone is voided."""
    mail = _locked(mail)
    reason = reason.strip()
    if not reason:
        raise InboundError(_("Say why no reply is needed."), code="reason")
    if mail.status not in {InboundStatus.NEW, InboundStatus.TRIAGE}:
        raise InboundError(_("This mail needs no reply already."), code="status")
    mail.status, mail.status_reason = InboundStatus.IGNORED, reason
    mail.save(update_fields=["status", "status_reason"])
    with translation.override(settings.LANGUAGE_CODE):
        promise = mail.promise
        if promise is not None and promise.state == PromiseState.OPEN:
            others = promise.inbound_mails.exclude(pk=mail.pk).filter(status=InboundStatus.NEW).exists()
            if not others:
                try:
                    promise_void(promise=promise, reason=reason, actor=actor, code="inbound_no_reply")
                except PromiseError as error:
                    raise InboundError(error.message, code=error.code) from error
        if mail.customer_id is not None:
            _journal(
                mail,
                action="inbound.dismissed",
                summary=_("No reply needed to the email “%(subject)s”: %(reason)s")
                % {"subject": mail.subject, "reason": reason},
                actor=actor,
                direction=Direction.INTERNAL,
                reason=reason,
            )
    return mail


@transaction.atomic
def inbound_dismiss_many(
    *, mails: list[InboundMail], reason: str, actor: AbstractBaseUser | None = None
) -> tuple[list[InboundMail], list[InboundMail]]:
    """ "No reply needed" for several mails at once (the office's list): each closed, journalled and its reply
    promise voided with the reason, as `inbound_dismiss` does for one. Returns (closed, skipped): a mail
    closed already is skipped, not an error. All or nothing: a refusal leaves every mail as it was."""
    if not reason.strip():
        raise InboundError(_("Say why no reply is needed."), code="reason")
    closed, skipped = [], []
    for mail in sorted(mails, key=lambda mail: mail.pk):
        try:
            closed.append(inbound_dismiss(mail=mail, reason=reason, actor=actor))
        except InboundError as error:
            if error.code != "status":
                raise
            skipped.append(mail)
    return closed, skipped
