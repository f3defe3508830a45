import secrets
import zlib

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class InboundStatus(models.TextChoices):
    NEW = "new", _("awaiting a reply")
    ANSWERED = "answered", _("answered")
    TRIAGE = "triage", _("to sort out")
    IGNORED = "ignored", _("no reply needed")


class InboundKind(models.TextChoices):
    MAIL = "mail", _("mail")
    AUTO_REPLY = "auto_reply", _("automatic reply")
    BOUNCE = "bounce", _("delivery failure report")
    LOOP = "loop", _("our own mail")


class MatchedBy(models.TextChoices):
    REPLY_ADDRESS = "reply_address", _("the reply address of our mail")
    REFERENCES = "references", _("our mail it quotes (References)")
    SENDER = "sender", _("the sender's address")
    BOUNCE = "bounce", _("our mail the report names")
    OFFICE = "office", _("the office")


class InboundMail(models.Model):
    """A mail that came in (by the MTA pipe or a provider's webhook), as received and as the desk read it."""

    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    source = models.CharField(_("came in by"), max_length=40)
    kind = models.CharField(_("kind"), max_length=12, choices=InboundKind.choices, default=InboundKind.MAIL)
    status = models.CharField(_("status"), max_length=10, choices=InboundStatus.choices, default=InboundStatus.NEW)
    # Why it needs sorting out or needs no reply ("unknown sender", "automatic reply", the office's reason).
    status_reason = models.TextField(_("why"), blank=True)
    from_name = models.CharField(_("sender's name"), max_length=200, blank=True)
    from_email = models.EmailField(_("sender"), max_length=254, db_index=True)
    to = models.TextField(_("to"), blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    message_id = models.CharField(_("message ID"), max_length=998, blank=True)
    # sha256 of sender and Message-ID (of the whole mail when it has none): a redelivered mail is stored once.
    dedupe_key = models.CharField(max_length=64, unique=True, editable=False)
    in_reply_to = models.CharField(_("in reply to"), max_length=998, blank=True)
    references = models.TextField(_("references"), blank=True)
    headers = models.JSONField(_("headers"), default=list, blank=True)
    text = models.TextField(_("text"), blank=True)
    reply_text = models.TextField(_("reply without quoted text"), blank=True)
    # Never the HTML as received: nh3's allow-list output only.
    html = models.TextField(_("sanitised HTML"), blank=True)
    raw_compressed = models.BinaryField(_("raw mail (zlib)"), editable=False)
    raw_size = models.PositiveIntegerField(_("size"), default=0)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="inbound_mails",
        null=True,
        blank=True,
        verbose_name=_("customer"),
    )
    appointment = models.ForeignKey(
        "appointments.Appointment",
        on_delete=models.PROTECT,
        related_name="inbound_mails",
        null=True,
        blank=True,
        verbose_name=_("visit"),
    )
    # Our mail it answers or reports as undeliverable, when the reply address or References named it.
    outbox_message = models.ForeignKey(
        "notifications.OutboxMessage",
        on_delete=models.SET_NULL,
        related_name="inbound_mails",
        null=True,
        blank=True,
        verbose_name=_("in answer to"),
    )
    matched_by = models.CharField(_("matched by"), max_length=20, choices=MatchedBy.choices, blank=True)
    promise = models.ForeignKey(
        "desk.Promise",
        on_delete=models.SET_NULL,
        related_name="inbound_mails",
        null=True,
        blank=True,
        verbose_name=_("reply promise"),
    )
    journal_entry = models.ForeignKey(
        "journal.JournalEntry",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("journal entry"),
    )
    bounce_recipient = models.CharField(_("undeliverable address"), max_length=254, blank=True)
    bounce_message_id = models.CharField(_("undelivered message ID"), max_length=998, blank=True)

    class Meta:
        verbose_name = _("inbound mail")
        verbose_name_plural = _("inbound mails")
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "-received_at"], name="inbound_status_idx")]

    def __str__(self):
        return f"{self.from_email}: {self.subject}"

    @property
    def raw(self) -> bytes:
        return zlib.decompress(bytes(self.raw_compressed))

    @staticmethod
    def compress(raw: bytes) -> bytes:
        return zlib.compress(raw, level=6)


def attachment_path(instance, filename: str) -> str:
    # A random name on disk: the sender's file name is shown and offered for download, never used as a path.
    return f"inbound/{timezone.now():%Y/%m}/{secrets.token_hex(16)}"


class InboundAttachment(models.Model):
    mail = models.ForeignKey(InboundMail, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("mail"))
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=120)
    size = models.PositiveBigIntegerField(_("size"))
    # Empty when refused (too large, a type we do not keep, too many): the mail is kept, the file noted.
    file = models.FileField(_("file"), upload_to=attachment_path, blank=True, max_length=200)
    refused_reason = models.CharField(_("refused because"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self):
        return self.name

    @property
    def refused(self) -> bool:
        return bool(self.refused_reason)
