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
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F, Model, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from journal.models import Channel, Direction
from journal.services import journal_record
from notifications.models import MessageKind, MessageStatus, OutboxMessage
from notifications.registry import UnregisteredKind, delivery_select_related, kind_registration, registered_kinds
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
) -> OutboxMessage | None:
    """Queue one message about `appointment` (as it is now) or `invitation`; None if queued before.

    A message about neither (a reply to a request, a status note on a promise) names its own `dedupe`
    key, unique per thing it answers: queuing the same key twice is a no-op.
    """
    message = _outbox_row_create(
        kind=kind, appointment=appointment, customer=customer, invitation=invitation, context=context, dedupe=dedupe
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
) -> OutboxMessage | None:
    if dedupe is None and appointment is None and invitation is None:
        raise ValueError("A message about no appointment or invitation needs its own dedupe key.")
    # Before anything is written: a kind nobody registered could never be rendered (UnregisteredKind).
    kind_registration(kind)
    customer = customer or (appointment.customer if appointment else invitation.customer)
    if not customer.email:
        with translation.override(settings.LANGUAGE_CODE):
            summary = _("Not sent by email (no address on file): %(kind)s.") % {"kind": MessageKind(kind).label}
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
                language=customer.preferred_language,
                context=context or {},
                next_attempt_at=timezone.now(),
            )
    except IntegrityError:
        return None


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
def message_mark_sent(*, message: OutboxMessage, subject: str, provider_message_id: str, sent_mime: bytes) -> bool:
    """Record the delivery, the mail exactly as sent, and its journal entry together, once."""
    now = timezone.now()
    updated = OutboxMessage.objects.filter(**_own_claim(message)).update(
        status=MessageStatus.SENT,
        sent_at=now,
        subject=subject[:250],
        provider_message_id=provider_message_id,
        last_error="",
        sent_mime=OutboxMessage.pack_sent_mime(sent_mime),
    )
    if not updated:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Email sent: %(subject)s") % {"subject": subject}
    journal_record(
        customer=message.customer,
        appointment=message.appointment,
        action=f"message.{message.kind}",
        summary=summary,
        channel=Channel.EMAIL,
        direction=Direction.OUTBOUND,
        data={
            "outbox_id": message.pk,
            "kind": message.kind,
            # As sent, in the customer's language: the journal shows what they read.
            "subject": subject,
            "to": message.to_email,
            "message_id": provider_message_id,
            "version": message.appointment_version,
            # The journal cannot be edited: this fingerprint shows the kept mail is the one sent,
            # and still names this send after "send again" has replaced the kept copy.
            "sha256": hashlib.sha256(sent_mime).hexdigest(),
        },
        occurred_at=now,
    )
    return True


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
    """The office's "send again": back through the same queue and worker."""
    updated = OutboxMessage.objects.filter(
        pk=message.pk, status__in=[MessageStatus.SENT, MessageStatus.FAILED]
    ).update(status=MessageStatus.QUEUED, attempts=0, next_attempt_at=timezone.now(), handed_at=None)
    if not updated:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Email queued again by the office: %(kind)s.") % {"kind": message.get_kind_display()}
    journal_record(
        customer=message.customer,
        appointment=message.appointment,
        action="message.resend_requested",
        summary=summary,
        actor=actor,
        data={"outbox_id": message.pk, "kind": message.kind},
    )
    transaction.on_commit(lambda: hand_to_worker([message.pk]))
    return True


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
        .select_related("customer__responsible__office_profile", *delivery_select_related())
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

    from notifications.rendering import message_id_of, render_message

    if not message_claim_renew(message=message):
        return None
    try:
        registration = kind_registration(message.kind)
    except UnregisteredKind as exc:
        return message_mark_attempt_failed(message=message, error=str(exc), permanent=True)
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
        sent_mime=mail.sent_bytes(),
    )
    return MessageStatus.SENT
