import email
import email.message
import email.policy
import zlib

from django.conf import settings
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


class BounceKind(models.TextChoices):
    BOUNCE = "bounce", _("bounced")
    # The recipient marked the mail as spam: their provider tells the sender so.
    COMPLAINT = "complaint", _("marked as spam")


class OutboxMessage(models.Model):
    """One message to one customer (or, with `recipient_user`, to one office person), written in the
    transaction that caused it.

    The row is the source of truth: Celery only carries its id, and a relay
    re-hands rows that are still queued, so a lost broker message delays a
    mail but never loses it. The dedupe key makes queuing the same message for
    the same appointment version twice a no-op.
    """

    # Apps register further kinds (notifications.registry), e.g. the desk's staff mails: the choices
    # only label today's customer mails.
    kind = models.CharField(_("kind"), max_length=40, choices=MessageKind.choices)
    status = models.CharField(_("status"), max_length=12, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    dedupe_key = models.CharField(_("deduplication key"), max_length=120, unique=True)
    # A staff mail may concern no customer at all; every customer mail has one.
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="outbox_messages",
        null=True,
        blank=True,
        verbose_name=_("customer"),
    )
    # Set for a mail to an office person (a promise due, an escalation): not a mail to the customer.
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="staff_outbox_messages",
        null=True,
        blank=True,
        verbose_name=_("office recipient"),
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
    # Our Message-ID as sent: replies (In-Reply-To, References) and bounce reports are matched on it.
    provider_message_id = models.CharField(_("message ID"), max_length=250, blank=True, db_index=True)
    # The provider's own id for the latest send (anymail's message.anymail_status.message_id), for providers
    # whose tracking webhooks report theirs (Postmark, SES) rather than ours. Empty for plain SMTP.
    esp_message_id = models.CharField(_("provider's message ID"), max_length=250, blank=True, db_index=True)
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
    # Reported after the send by the provider or a returned delivery report; `status` stays "sent".
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)
    bounce_kind = models.CharField(_("bounce"), max_length=10, choices=BounceKind.choices, blank=True)
    bounce_detail = models.TextField(_("bounce report"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_status_due_idx"),
            models.Index(fields=["appointment", "kind"], name="outbox_appointment_kind_idx"),
        ]
        constraints = [
            # To a customer, or (a staff mail) to an office person: never to nobody.
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False) | models.Q(recipient_user__isnull=False),
                name="outbox_customer_or_staff_recipient",
            ),
        ]

    def __str__(self):
        return f"{self.kind_label()} → {self.to_email} ({self.get_status_display()})"

    @property
    def is_staff_mail(self) -> bool:
        return self.recipient_user_id is not None

    def kind_label(self) -> str:
        """The kind's name for the office: today's customer mails by their choice, others as registered."""
        from notifications.registry import kind_label

        return kind_label(self.kind)

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
