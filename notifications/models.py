import email
import email.message
import email.policy
import zlib

from django.db import models
from django.utils.translation import gettext_lazy as _


class MessageKind(models.TextChoices):
    CONFIRMATION = "confirmation", _("booking confirmation")
    CHANGE = "change", _("change confirmation")
    CANCELLATION = "cancellation", _("cancellation")
    REMINDER = "reminder", _("reminder")
    INVITATION = "invitation", _("invitation to book")
    RESCHEDULE_REQUEST = "reschedule_request", _("request to choose a new time")
    ON_MY_WAY = "on_my_way", _("technician on the way")
    MISSED_VISIT = "missed_visit", _("missed visit: we were at your door")
    # The office desk's mails to customers.
    REQUEST_REPLY = "request_reply", _("reply to a request: who calls when")
    CALL_TIME_CHANGED = "call_time_changed", _("call time changed")
    PROMISE_STATUS = "promise_status", _("status: no answer yet")
    FEEDBACK_REQUEST = "feedback_request", _("request for feedback")
    FEEDBACK_ACK = "feedback_ack", _("feedback received")
    FEEDBACK_REPLY = "feedback_reply", _("answer to feedback")
    # The desk's mails to office staff.
    PROMISE_DUE_SOON = "promise_due_soon", _("staff: promise due soon")
    PROMISE_LATE = "promise_late", _("staff: promise late")
    PROMISE_ESCALATED = "promise_escalated", _("staff: promise left late (to a lead)")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    # The appointment changed before the message went out; a newer message replaces it.
    SUPERSEDED = "superseded", _("superseded")


class OutboxMessage(models.Model):
    """One message to one customer, written in the transaction that caused it.

    The row is the source of truth: Celery only carries its id, and a relay
    re-hands rows that are still queued, so a lost broker message delays a
    mail but never loses it. The dedupe key makes queuing the same message for
    the same appointment version twice a no-op.
    """

    kind = models.CharField(_("kind"), max_length=20, choices=MessageKind.choices)
    status = models.CharField(_("status"), max_length=12, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    dedupe_key = models.CharField(_("deduplication key"), max_length=120, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="outbox_messages", verbose_name=_("customer")
    )
    appointment = models.ForeignKey(
        "appointments.Appointment",
        on_delete=models.PROTECT,
        related_name="outbox_messages",
        null=True,
        blank=True,
        verbose_name=_("appointment"),
    )
    invitation = models.ForeignKey(
        "appointments.BookingInvitation",
        on_delete=models.PROTECT,
        related_name="outbox_messages",
        null=True,
        blank=True,
        verbose_name=_("booking invitation"),
    )
    appointment_version = models.PositiveIntegerField(_("appointment version"), null=True, blank=True)
    to_email = models.EmailField(_("recipient"))
    language = models.CharField(_("language"), max_length=2)
    context = models.JSONField(_("message data"), default=dict, blank=True)
    subject = models.CharField(_("subject"), max_length=250, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    provider_message_id = models.CharField(_("message ID"), max_length=250, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    handed_at = models.DateTimeField(_("passed to the sending process"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("sending since"), null=True, blank=True)
    # Set with each claim: tells the worker that claimed a batch which rows are its own.
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # The whole mail (headers, text, HTML, .ics) in the very bytes handed to the mail server, zlib-compressed:
    # what the customer was told, even after the visit has changed. Empty for mails never sent, and for
    # those sent before Doorstep kept them.
    sent_mime = models.BinaryField(_("mail as sent"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_status_due_idx"),
            models.Index(fields=["appointment", "kind"], name="outbox_appointment_kind_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} → {self.to_email} ({self.get_status_display()})"

    @staticmethod
    def pack_sent_mime(raw: bytes) -> bytes:
        return zlib.compress(raw, 9)

    def sent_mime_bytes(self) -> bytes | None:
        """The mail exactly as it was handed to the mail server, or None if it was not kept."""
        return zlib.decompress(self.sent_mime) if self.sent_mime else None

    def sent_mail(self) -> email.message.EmailMessage | None:
        """The kept mail, parsed: subject, text, HTML and attachments as the customer's mail program reads them."""
        raw = self.sent_mime_bytes()
        return email.message_from_bytes(raw, policy=email.policy.default) if raw is not None else None
