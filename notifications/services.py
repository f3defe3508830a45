"""The outbox: the only way anything in Doorstep reaches a customer.

Other apps call `message_queue` inside their own transaction. The row commits
with their change or not at all; its id goes to Celery only after the commit.
What a kind of message says and when it is no longer true, the app that queues
it registers (notifications.registry): nothing here knows what a visit is.
"""

import hashlib
import itertools
import logging
import random
import secrets
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F, Model, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from journal.models import Channel, Direction
from journal.services import journal_record, shred
from notifications.models import BounceKind, MessageStatus, OutboxMessage
from notifications.registry import (
    Audience,
    UnregisteredKind,
    delivery_select_related,
    kind_label,
    kind_registration,
    registered_kinds,
)
from notifications.signals import message_bounced
from notifications.superseded import superseded_reason

logger = logging.getLogger(__name__)

# A message handed to the broker that is still queued after this long was lost
# on the way (broker down, worker gone): the relay hands it over again.
RELAY_GRACE = timedelta(minutes=2)
# A worker that claimed a message and went silent this long has died mid-send.
SENDING_TIMEOUT = timedelta(minutes=10)
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(minutes=30)
RELAY_BATCH = 500
# Ids per send task: one claim, one read and one SMTP connection serve the lot.
# Small enough that a batch is done in about a second and workers share a backlog.
DELIVERY_BATCH = 50


def dedupe_key(kind: str, appointment: Model | None, invitation=None) -> str:
    if invitation is not None:
        return f"{kind}:invitation-{invitation.pk}"
    return f"{kind}:{appointment.pk}:{appointment.version}"


def message_queue(
    *,
    kind: str,
    appointment: Model | None = None,
    customer=None,
    invitation=None,
    context: dict[str, Any] | None = None,
    dedupe: str | None = None,
    language: str | None = None,
) -> OutboxMessage | None:
    """Queue one message about `appointment` (as it is now) or `invitation`; None if queued before.

    A message about neither (a reply to a request, a status note on a promise) names its own `dedupe`
    key, unique per thing it answers: queuing the same key twice is a no-op. `language` is for a mail
    answering something the customer wrote in a language they chose there (else: the one on file).
    """
    message = _outbox_row_create(
        kind=kind,
        appointment=appointment,
        customer=customer,
        invitation=invitation,
        context=context,
        dedupe=dedupe,
        language=language,
    )
    if message is not None:
        transaction.on_commit(lambda: hand_to_worker([message.pk]))
    return message


def _outbox_row_create(
    *,
    kind: str,
    appointment: Model | None,
    customer=None,
    invitation=None,
    context: dict[str, Any] | None = None,
    dedupe: str | None = None,
    language: str | None = None,
) -> OutboxMessage | None:
    if dedupe is None and appointment is None and invitation is None:
        raise ValueError("A message about no appointment or invitation needs its own dedupe key.")
    # Before anything is written: a kind nobody registered could never be rendered (UnregisteredKind).
    if kind_registration(kind).audience != Audience.CUSTOMER:
        raise ValueError(f"{kind!r} is a staff mail: queue it with staff_message_queue.")
    customer = customer or (appointment.customer if appointment else invitation.customer)
    if not customer.email:
        with translation.override(settings.LANGUAGE_CODE):
            summary = _("Not sent by email (no address on file): %(kind)s.") % {"kind": kind_label(kind)}
        journal_record(
            customer=customer,
            appointment=appointment,
            action=f"message.{kind}.no_email",
            summary=summary,
            channel=Channel.SYSTEM,
            direction=Direction.INTERNAL,
            data={"kind": kind},
        )
        return None
    try:
        with transaction.atomic():
            return OutboxMessage.objects.create(
                kind=kind,
                dedupe_key=f"{kind}:{dedupe}" if dedupe is not None else dedupe_key(kind, appointment, invitation),
                customer=customer,
                appointment=appointment,
                invitation=invitation,
                appointment_version=appointment.version if appointment else None,
                to_email=customer.email,
                language=language or customer.preferred_language,
                context=context or {},
                next_attempt_at=timezone.now(),
            )
    except IntegrityError:
        return None


def staff_message_queue(
    *,
    kind: str,
    user: AbstractBaseUser,
    context: dict[str, Any],
    dedupe: str,
    customer=None,
) -> OutboxMessage | None:
    """Queue a mail to one office person (a promise due soon, an escalation); None if queued before.

    `customer` is what the mail is about, if anything: the mail is not to them, so it never reaches
    their journal as a mail sent to them, and it carries none of their links. `dedupe` is unique per
    thing the mail is about (e.g. "promise-12:late"): queuing the same key twice is a no-op. Someone
    without an email address, or no longer active, is not mailed (None): the caller escalates elsewhere.
    """
    if kind_registration(kind).audience != Audience.STAFF:
        raise ValueError(f"{kind!r} is a mail to customers, not to office staff: queue it with message_queue.")
    to_email = staff_email(user)
    if not (user.is_active and to_email):
        logger.warning("Staff mail %s:%s not queued: %s is inactive or has no email address", kind, dedupe, user)
        return None
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                kind=kind,
                dedupe_key=f"{kind}:{dedupe}",
                customer=customer,
                recipient_user=user,
                to_email=to_email,
                language=staff_language(user),
                context=context,
                next_attempt_at=timezone.now(),
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: hand_to_worker([message.pk]))
    return message


def staff_email(user: AbstractBaseUser) -> str:
    """Where an office person is mailed: their direct address if they have one, else their login's."""
    profile = getattr(user, "office_profile", None)
    return (profile.email if profile is not None else "") or getattr(user, "email", "") or ""


def staff_language(user: AbstractBaseUser) -> str:
    """Office people have no language of their own yet: the office's."""
    return settings.LANGUAGE_CODE.split("-")[0][:2]


def hand_to_worker(message_ids: Sequence[int]) -> None:
    """Give the ids to Celery, a batch per task; if the broker is down, the relay will do it later."""
    from notifications.tasks import send_messages

    for start in range(0, len(message_ids), DELIVERY_BATCH):
        batch = list(message_ids[start : start + DELIVERY_BATCH])
        try:
            send_messages.apply_async(args=[batch], retry=False)
        except Exception:  # noqa: BLE001 - any broker failure: the rows stay queued for the relay
            logger.warning("Broker unavailable; outbox messages %s wait for the relay", batch, exc_info=True)
            return
        OutboxMessage.objects.filter(pk__in=batch, status=MessageStatus.QUEUED).update(handed_at=timezone.now())


def messages_claim(*, message_ids: Sequence[int]) -> str:
    """Move the due ones among `message_ids` from queued to sending; returns the token that marks them.

    Exactly one caller wins each row's conditional update. The random token, not
    the claim time, tells the winner which rows are its own: two workers handed
    the same ids (the relay re-handing a slow task) may claim in the same instant.
    """
    now = timezone.now()
    token = secrets.token_hex(16)
    OutboxMessage.objects.filter(pk__in=message_ids, status=MessageStatus.QUEUED).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    ).update(status=MessageStatus.SENDING, claimed_at=now, claim_token=token, attempts=F("attempts") + 1)
    return token


def message_claim_renew(*, message: OutboxMessage) -> bool:
    """Right before its send: is the message still this worker's? If so, the claim starts afresh.

    A batch is claimed at once but sent one by one; behind a slow SMTP server it
    can outlast SENDING_TIMEOUT, after which the relay gives its rows to another
    worker. Renewing each row's claim just before its own send keeps the relay
    off it, and a row the relay already took is left to its new owner.
    """
    return bool(OutboxMessage.objects.filter(**_own_claim(message)).update(claimed_at=timezone.now()))


@transaction.atomic
def message_mark_sent(
    *, message: OutboxMessage, subject: str, provider_message_id: str, sent_mime: bytes, esp_message_id: str = ""
) -> bool:
    """Record the delivery, the mail exactly as sent, and its journal entry together, once.

    `provider_message_id` is our Message-ID; `esp_message_id` the provider's own id, if it reported one."""
    now = timezone.now()
    updated = OutboxMessage.objects.filter(**_own_claim(message)).update(
        status=MessageStatus.SENT,
        sent_at=now,
        subject=subject[:250],
        provider_message_id=provider_message_id,
        esp_message_id=esp_message_id[:250],
        last_error="",
        sent_mime=OutboxMessage.pack_sent_mime(sent_mime),
    )
    if not updated:
        return False
    data = {
        "outbox_id": message.pk,
        "to": message.to_email,
        "message_id": provider_message_id,
        **({"esp_message_id": esp_message_id} if esp_message_id else {}),
        "version": message.appointment_version,
        # The journal cannot be edited: this fingerprint shows the kept mail is the one sent,
        # and still names this send after "send again" has replaced the kept copy.
        "sha256": hashlib.sha256(sent_mime).hexdigest(),
    }
    if message.is_staff_mail:
        _journal_staff_mail_sent(message=message, subject=subject, data=data, occurred_at=now)
        return True
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Email sent: %(subject)s") % {"subject": subject}
    journal_record(
        customer=message.customer,
        appointment=message.appointment,
        action=f"message.{message.kind}",
        summary=summary,
        channel=Channel.EMAIL,
        direction=Direction.OUTBOUND,
        # As sent, in the customer's language: the journal shows what they read.
        data={**data, "kind": message.kind, "subject": subject},
        occurred_at=now,
    )
    return True


def _journal_staff_mail_sent(*, message: OutboxMessage, subject: str, data: dict, occurred_at: datetime) -> None:
    """A mail to an office person about a customer: an internal note in their journal, never "sent to the customer"."""
    if message.customer_id is None:
        return
    user = message.recipient_user
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Email to %(name)s (office) about this customer: %(subject)s") % {
            "name": " ".join((user.get_full_name() or user.get_username()).split()),
            "subject": subject,
        }
    journal_record(
        customer=message.customer,
        appointment=message.appointment,
        action="message.staff_mail",
        summary=summary,
        channel=Channel.SYSTEM,
        direction=Direction.INTERNAL,
        data={**data, "kind": message.kind, "recipient_user": message.recipient_user_id},
        occurred_at=occurred_at,
    )


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with full jitter, so retries of many messages spread out."""
    ceiling = min(RETRY_CAP, RETRY_BASE * (2 ** max(attempts - 1, 0)))
    return timedelta(seconds=random.uniform(ceiling.total_seconds() / 2, ceiling.total_seconds()))


def message_mark_attempt_failed(*, message: OutboxMessage, error: str, permanent: bool) -> str:
    """After a failed send: back to the queue with a delay, or give up. Returns the new status."""
    # `attempts` was read after the claim counted this attempt.
    give_up = permanent or message.attempts >= settings.OUTBOX_MAX_ATTEMPTS
    status = MessageStatus.FAILED if give_up else MessageStatus.QUEUED
    OutboxMessage.objects.filter(**_own_claim(message)).update(
        status=status,
        last_error=error[:2000],
        next_attempt_at=None if give_up else timezone.now() + retry_delay(message.attempts),
        handed_at=None,
    )
    return status


def message_mark_superseded(*, message: OutboxMessage, reason: str) -> None:
    OutboxMessage.objects.filter(**_own_claim(message)).update(status=MessageStatus.SUPERSEDED, last_error=reason)


def messages_supersede_queued(*, appointment: Model, reason: str) -> int:
    """Void this visit's messages still waiting in the queue, in the caller's transaction (e.g. the
    old time's reminder once the firm gave that time up). One a worker already holds is re-checked
    by its kind's registered `stale_reason` right before its send."""
    return OutboxMessage.objects.filter(appointment=appointment, status=MessageStatus.QUEUED).update(
        status=MessageStatus.SUPERSEDED, last_error=reason
    )


def _own_claim(message: OutboxMessage) -> dict[str, Any]:
    """The row as this worker claimed it: a row the relay has since given to another worker is not ours to mark."""
    return {"pk": message.pk, "status": MessageStatus.SENDING, "claim_token": message.claim_token}


@transaction.atomic
def message_resend(*, message: OutboxMessage, actor: AbstractBaseUser | None) -> bool:
    """The office's "send again": back through the same queue and worker, as a new attempt.

    The attempt starts clean: no bounce mark and no message ids of the earlier send (a late report on that
    send then names nothing), and to the customer's address as it is now (the usual fix after a bounce).
    What the earlier send was and that it bounced stays in the journal: its "sent" and "bounce" entries,
    and this entry's data.
    """
    message = OutboxMessage.objects.select_for_update().filter(pk=message.pk).first()
    if message is None or message.status not in {MessageStatus.SENT, MessageStatus.FAILED}:
        return False
    earlier = {
        "message_id": message.provider_message_id,
        "to": message.to_email,
        "bounced_at": message.bounced_at.isoformat() if message.bounced_at else None,
        "bounce_kind": message.bounce_kind,
    }
    to_email = message.to_email
    if not message.is_staff_mail and message.customer_id is not None and message.customer.email:
        to_email = message.customer.email
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.QUEUED,
        attempts=0,
        next_attempt_at=timezone.now(),
        handed_at=None,
        to_email=to_email,
        provider_message_id="",
        esp_message_id="",
        bounced_at=None,
        bounce_kind="",
        bounce_detail="",
    )
    transaction.on_commit(lambda: hand_to_worker([message.pk]))
    if message.customer_id is None:
        return True
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Email queued again by the office: %(kind)s.") % {"kind": message.kind_label()}
    journal_record(
        customer=message.customer,
        appointment=message.appointment,
        action="message.resend_requested",
        summary=summary,
        actor=actor,
        data={"outbox_id": message.pk, "kind": message.kind, "to": to_email, "earlier": earlier},
    )
    return True


@transaction.atomic
def message_mark_bounced(*, message: OutboxMessage, kind: str, detail: str, occurred_at: datetime) -> bool:
    """Record that a sent mail bounced or was marked as spam; False (nothing changed) if it was recorded before.

    Providers report again and a returned delivery report may follow their webhook: the first report
    counts, later ones change nothing and signal nothing. After the commit `message_bounced` tells
    whoever follows up (the desk: "email bounced — call the customer").
    """
    if kind not in BounceKind.values:
        raise ValueError(f"unknown bounce kind {kind!r}")
    detail = detail.strip()[:2000]
    # Only a sent mail bounces: one queued again after a bounce is a new attempt, not yet reported on.
    updated = OutboxMessage.objects.filter(pk=message.pk, status=MessageStatus.SENT, bounced_at__isnull=True).update(
        bounced_at=occurred_at, bounce_kind=kind, bounce_detail=detail
    )
    if not updated:
        return False
    message.bounced_at, message.bounce_kind, message.bounce_detail = occurred_at, kind, detail
    # A staff mail that bounced concerns the office's own address, not the customer's journal.
    if message.customer_id is not None and not message.is_staff_mail:
        with translation.override(settings.LANGUAGE_CODE):
            if kind == BounceKind.COMPLAINT:
                summary = _("The customer marked our email as spam: %(subject)s") % {"subject": message.subject}
            else:
                summary = _("Email could not be delivered to %(address)s: %(subject)s") % {
                    "address": message.to_email,
                    "subject": message.subject,
                }
            if detail:
                summary += " (" + detail + ")"
        journal_record(
            customer=message.customer,
            appointment=message.appointment,
            action=f"message.{kind}",
            summary=summary,
            channel=Channel.EMAIL,
            direction=Direction.INTERNAL,
            data={
                "outbox_id": message.pk,
                "to": message.to_email,
                "kind": kind,
                "message_kind": message.kind,
                "subject": message.subject,
                "detail": detail,
            },
            occurred_at=occurred_at,
        )
    transaction.on_commit(lambda: _signal_bounced(message.pk))
    return True


def _signal_bounced(message_id: int) -> None:
    message = OutboxMessage.objects.select_related("customer", "recipient_user").get(pk=message_id)
    # A failing receiver must not hide the others; nor can it undo the mark, so it is logged, not raised.
    for _receiver, result in message_bounced.send_robust(sender=OutboxMessage, message=message):
        if isinstance(result, Exception):
            logger.error("A receiver of message_bounced failed for outbox %s: %r", message_id, result, exc_info=result)


def outbox_relay(*, now: datetime | None = None) -> int:
    """Hand over queued messages the broker never delivered, and free ones a dead worker held."""
    now = now or timezone.now()
    stuck = OutboxMessage.objects.filter(status=MessageStatus.SENDING, claimed_at__lt=now - SENDING_TIMEOUT)
    # A message whose worker died on every attempt gives up like any other failing message.
    stuck.filter(attempts__gte=settings.OUTBOX_MAX_ATTEMPTS).update(
        status=MessageStatus.FAILED, last_error="worker stopped while sending, on every attempt"
    )
    stuck.update(status=MessageStatus.QUEUED, handed_at=None, last_error="worker stopped while sending")
    due = list(
        OutboxMessage.objects.filter(status=MessageStatus.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(handed_at__isnull=True) | Q(handed_at__lt=now - RELAY_GRACE))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:RELAY_BATCH]
    )
    if due:
        hand_to_worker(due)
    return len(due)


# Reminders ----------------------------------------------------------------------


def reminder_due_at(window_start: datetime) -> datetime | None:
    """When the reminder for a window is due.

    DST policy: the day-before reminder goes out at the same local wall-clock
    time (e.g. 18:00) the day before, whatever the UTC offset did overnight; the
    N-hours-before reminder is N real hours before the window opens. With both
    configured, the earlier one is used.
    """
    candidates = []
    if settings.REMINDER_DAY_BEFORE_AT:
        hour, minute = (int(part) for part in settings.REMINDER_DAY_BEFORE_AT.split(":"))
        local_day = timezone.localtime(window_start).date() - timedelta(days=1)
        naive = datetime.combine(local_day, datetime.min.time()).replace(hour=hour, minute=minute)
        candidates.append(timezone.make_aware(naive))
    if settings.REMINDER_HOURS_BEFORE:
        # In UTC: Python subtracts wall-clock time from a datetime in a DST zone.
        candidates.append(window_start.astimezone(UTC) - timedelta(hours=settings.REMINDER_HOURS_BEFORE))
    return min(candidates) if candidates else None


def reminders_sweep(*, now: datetime | None = None) -> int:
    """Queue every message the clock makes due now (the reminders), for its appointment's current version.

    Which ones are due, the app that registered the kind says (its `due`, see notifications.registry);
    nothing waits in a queue for days, and the dedupe key (kind, appointment, version) makes it at most one.
    """
    now = now or timezone.now()
    queued = 0
    for registration in registered_kinds():
        if registration.due is None:
            continue
        for chunk in itertools.batched(registration.due(now), DELIVERY_BATCH):
            # One transaction and one hand-over per chunk, not per message.
            with transaction.atomic():
                messages = [
                    _outbox_row_create(kind=registration.kind, appointment=appointment) for appointment in chunk
                ]
                message_ids = [message.pk for message in messages if message is not None]
                if message_ids:
                    transaction.on_commit(lambda message_ids=message_ids: hand_to_worker(message_ids))
            queued += len(message_ids)
    return queued


# Delivery -----------------------------------------------------------------------

# Why a visit's other messages are void once the office asked the customer to choose a new time.
STALE_NEW_TIME_REQUESTED = superseded_reason("new_time")


def message_deliver(*, message_id: int) -> str:
    """Deliver one message (see `messages_deliver`); returns what became of it."""
    return messages_deliver(message_ids=[message_id]).get(message_id, "not claimed")


def messages_deliver(*, message_ids: Sequence[int]) -> dict[int, str]:
    """Claim, re-check, render and send a batch of messages; record what happened to each. Idempotent.

    One claim, one read and one SMTP connection serve the batch, but each
    message is marked sent right after its own send: a worker killed mid-batch
    can send again only the message it was in the middle of sending.
    Returns {message id: new status} for the messages this call claimed and
    still held when their turn came.
    """
    from django.core.mail import mailers

    from customers.models import Firm

    token = messages_claim(message_ids=message_ids)
    claimed = list(
        OutboxMessage.objects.filter(pk__in=message_ids, status=MessageStatus.SENDING, claim_token=token)
        .select_related(
            "customer__responsible__office_profile",
            "recipient_user__office_profile",
            *delivery_select_related(),
        )
        .order_by("pk")
    )
    if not claimed:
        return {}
    firm = Firm.objects.first()
    mailer = mailers["default"]
    outcomes = {}
    try:
        for message in claimed:
            outcome = _deliver_claimed(message, mailer=mailer, firm=firm)
            if outcome is not None:
                outcomes[message.pk] = outcome
    finally:
        mailer.close()
    return outcomes


def _deliver_claimed(message: OutboxMessage, *, mailer, firm) -> str | None:
    """Send one message of a claimed batch; its new status, or None if the relay gave it to another worker."""
    import smtplib

    from notifications.rendering import esp_message_id_of, message_id_of, render_message

    if not message_claim_renew(message=message):
        return None
    try:
        registration = kind_registration(message.kind)
    except UnregisteredKind as exc:
        return message_mark_attempt_failed(message=message, error=str(exc), permanent=True)
    if message.is_staff_mail and not message.recipient_user.is_active:
        message_mark_superseded(message=message, reason=superseded_reason("recipient_inactive"))
        return MessageStatus.SUPERSEDED
    reason = registration.stale_reason(message, now=timezone.now())
    if reason:
        message_mark_superseded(message=message, reason=reason)
        return MessageStatus.SUPERSEDED
    try:
        mail = render_message(message, firm=firm)
    except Exception as exc:
        logger.exception("Rendering outbox message %s failed", message.pk)
        return message_mark_attempt_failed(message=message, error=f"rendering failed: {exc!r}", permanent=True)
    # Sent outside any transaction: a slow SMTP server must not hold database locks.
    try:
        # Opened here, not by send_messages, which would close it again after each message.
        mailer.open()
        mailer.send_messages([mail])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        return message_mark_attempt_failed(
            message=message,
            error=f"recipient refused: {exc.recipients!r}",
            permanent=all(code >= 500 for code in codes),
        )
    except smtplib.SMTPResponseException as exc:
        mailer.close()  # the session may be in any state: the next message starts a fresh one
        return message_mark_attempt_failed(
            message=message, error=f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=exc.smtp_code >= 500
        )
    except (smtplib.SMTPException, OSError) as exc:
        mailer.close()
        return message_mark_attempt_failed(message=message, error=f"{type(exc).__name__}: {exc}", permanent=False)
    except ValueError as exc:
        # Raised before anything is sent, e.g. an address the SMTP backend cannot encode: retrying won't help.
        return message_mark_attempt_failed(message=message, error=f"cannot be sent: {exc}", permanent=True)
    message_mark_sent(
        message=message,
        subject=str(mail.subject),
        provider_message_id=message_id_of(mail),
        esp_message_id=esp_message_id_of(mail),
        sent_mime=mail.sent_bytes(),
    )
    return MessageStatus.SENT


@transaction.atomic
def outbox_anonymise(*, customer_id: int, personal: Collection[str]) -> int:
    """Remove a customer's personal data from every message about them; returns how many there were.

    Kept: kind, status, dates, attempts, language, the ids and codes in the message data (journal.services.shred
    with the `personal` words: name, email, phone, street). Gone: recipient, subject, the mail as sent, errors
    and bounce reports (they quote the address). Messages still waiting are voided: nobody is left to send to.
    One a worker is sending right now is voided too, its claim dropped: the worker's mark_sent or
    mark_attempt_failed then matches nothing and cannot write the subject, the mail or a journal entry back.
    """
    messages = OutboxMessage.objects.filter(customer_id=customer_id)
    messages.filter(status__in=[MessageStatus.QUEUED, MessageStatus.FAILED, MessageStatus.SENDING]).update(
        status=MessageStatus.SUPERSEDED, claim_token=""
    )
    OutboxMessage.objects.bulk_update(
        [
            OutboxMessage(pk=pk, context=shred(context or {}, personal=personal) or {})
            for pk, context in messages.values_list("pk", "context")
        ],
        ["context"],
    )
    return messages.update(to_email="", subject="", sent_mime=None, last_error="", bounce_detail="")


def sent_bodies_expire(*, now: datetime | None = None) -> int:
    """Clear the kept copy of every mail sent more than MESSAGE_BODY_RETENTION_DAYS ago; returns how many.

    Subject, recipient, dates and status stay (and the journal's fingerprint of the mail): the office still
    sees that and when a mail went out, no longer every word of it.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.MESSAGE_BODY_RETENTION_DAYS)
    return OutboxMessage.objects.filter(sent_at__lt=cutoff, sent_mime__isnull=False).update(sent_mime=None)
