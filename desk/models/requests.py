from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from customers.models import Country, Language

# What a customer may write about; the form says so before it refuses more.
ABOUT_MAX_LENGTH = 2000


class Reachability(models.TextChoices):
    ANY_TIME = "any", _("any time during office hours")
    MORNINGS = "mornings", _("mornings")
    AFTERNOONS = "afternoons", _("afternoons")


class MatchOutcome(models.TextChoices):
    """How the request found its customer (see desk.services.requests for the rule)."""

    NEW = "new", _("new customer")
    MATCHED = "matched", _("existing customer")
    POSSIBLE_DUPLICATE = "duplicate", _("possible duplicate: new record, check it")


class RequestStatus(models.TextChoices):
    CALL_BACK = "call_back", _("we call back")
    EMAIL_INSTEAD = "email_instead", _("answer by email instead")


class WebRequest(models.Model):
    """A request sent from the public page: exactly what was typed, and what the desk made of it."""

    received_at = models.DateTimeField(_("received"), db_index=True)
    full_name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    phone = PhoneNumberField(_("phone"), blank=True)
    street = models.CharField(_("street and number"), max_length=200)
    postcode = models.CharField(_("postcode"), max_length=12)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    about = models.TextField(_("what it is about"), max_length=ABOUT_MAX_LENGTH)
    reachable = models.CharField(
        _("best reached"), max_length=12, choices=Reachability.choices, default=Reachability.ANY_TIME
    )
    reachable_note = models.CharField(_("reachability note"), max_length=200, blank=True)

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="web_requests", verbose_name=_("customer")
    )
    match = models.CharField(_("matched"), max_length=10, choices=MatchOutcome.choices)
    # The existing record whose email or phone the request shares, while name or address differ.
    possible_duplicate_of = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("possible duplicate of"),
    )
    # The current callback promise (a moved promise is replaced: this follows it).
    promise = models.ForeignKey(
        "desk.Promise",
        on_delete=models.PROTECT,
        related_name="web_requests",
        null=True,
        blank=True,
        verbose_name=_("promise"),
    )
    status = models.CharField(
        _("status"), max_length=15, choices=RequestStatus.choices, default=RequestStatus.CALL_BACK
    )
    # The secret of the customer's link to move the call; compared in constant time, never shown in the admin.
    link_secret = models.CharField(max_length=64, editable=False)

    class Meta:
        verbose_name = _("website request")
        verbose_name_plural = _("website requests")
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.full_name} ({self.received_at:%Y-%m-%d})"

    @property
    def is_possible_duplicate(self) -> bool:
        return self.possible_duplicate_of_id is not None
