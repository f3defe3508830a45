from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ErasureReason(models.TextChoices):
    """Why the data was erased, as a code: the record itself must hold no personal data (no free text)."""

    CUSTOMER_REQUEST = "customer_request", _("The customer asked for erasure")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("The customer withdrew consent or objected")
    NO_LONGER_NEEDED = "no_longer_needed", _("The data is no longer needed")
    LEGAL_OBLIGATION = "legal_obligation", _("A legal obligation or an authority's order")


class Erasure(models.Model):
    """The record that a customer's personal data was erased: who, when, why and how much; nothing personal.

    One per customer (what is left of the record is no longer anybody's data to erase again).
    """

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.PROTECT, related_name="erasure", verbose_name=_("customer record")
    )
    erased_at = models.DateTimeField(_("erased"), default=timezone.now)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("erased by"),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=ErasureReason.choices)
    # How many records of each kind were anonymised: {"visits": 3, "journal_entries": 12, ...}.
    counts = models.JSONField(_("records anonymised"), default=dict, blank=True)

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        ordering = ["-erased_at", "-id"]
        permissions = [
            ("export_customer_data", _("Can export all data stored about a customer")),
            ("erase_customer_data", _("Can erase a customer's personal data")),
        ]

    def __str__(self):
        return f"#{self.customer_id} · {timezone.localtime(self.erased_at):%Y-%m-%d %H:%M}"
