from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from journal.rendering import action_label


class Channel(models.TextChoices):
    EMAIL = "email", _("email")
    PHONE = "phone", _("phone")
    LETTER = "letter", _("letter")
    VISIT = "visit", _("visit")
    WEB = "web", _("web")
    SYSTEM = "system", _("system")


class Direction(models.TextChoices):
    INBOUND = "in", _("from the customer")
    OUTBOUND = "out", _("to the customer")
    INTERNAL = "internal", _("internal")


class AppendOnlyError(Exception):
    pass


class JournalEntryQuerySet(models.QuerySet):
    # The journal is the firm's proof of what happened when; a correction is a
    # new entry, so bulk edits and deletes are refused here and by the database.
    def update(self, **kwargs):
        raise AppendOnlyError("Journal entries cannot be changed; add a correcting entry instead.")

    def delete(self):
        raise AppendOnlyError("Journal entries cannot be deleted.")


class JournalEntry(models.Model):
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="journal_entries", verbose_name=_("customer")
    )
    appointment = models.ForeignKey(
        "appointments.Appointment",
        on_delete=models.PROTECT,
        related_name="journal_entries",
        null=True,
        blank=True,
        verbose_name=_("appointment"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    summary = models.TextField(_("summary"))
    data = models.JSONField(_("data"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("by"),
    )
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    objects = JournalEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="journal_customer_time_idx"),
            models.Index(fields=["-occurred_at", "-id"], name="journal_time_idx"),
        ]

    def __str__(self):
        # Shown where a record links to its entry (a promise's "promised in"): the office's time and words.
        when = date_format(timezone.localtime(self.occurred_at), "SHORT_DATETIME_FORMAT")
        return f"{when} · {action_label(self.action)}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("Journal entries cannot be changed; add a correcting entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Journal entries cannot be deleted.")
