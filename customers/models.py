import holidays
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField


class Language(models.TextChoices):
    GERMAN = "de", _("German")
    DUTCH = "nl", _("Dutch")
    ENGLISH = "en", _("English")


class Country(models.TextChoices):
    GERMANY = "DE", _("Germany")
    NETHERLANDS = "NL", _("Netherlands")
    BELGIUM = "BE", _("Belgium")
    AUSTRIA = "AT", _("Austria")


def holiday_subdivisions(country: str) -> dict[str, str]:
    """The regions with their own public holidays in `country` (code -> name), as the holidays package knows them.

    Only Germany's states are offered: the package's Dutch and Belgian "subdivisions" are school-holiday
    regions and communities, not regions with other public holidays.
    """
    if country != Country.GERMANY:
        return {}
    names = {code: name for name, code in holidays.DE.subdivisions_aliases.items()}
    # Augsburg is a city with one holiday more than the rest of Bavaria.
    names["Augsburg"] = "Augsburg (Bayern)"
    return {code: names.get(code, code) for code in holidays.DE.subdivisions}


# Who may be named to customers as their contact: active office staff. Technicians are staff users too
# (their profile needs it), but they work on /technician/ and are never a customer's contact.
OFFICE_STAFF = Q(is_staff=True, is_active=True, technician__isnull=True)


class PreferredChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    LETTER = "letter", _("Letter")


class Firm(models.Model):
    """The trades firm itself: its name and how customers reach the office."""

    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("office email"))
    phone = PhoneNumberField(_("office phone"))
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=12, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    website = models.URLField(_("website"), blank=True)
    country = models.CharField(
        _("country"),
        max_length=2,
        choices=Country.choices,
        default=Country.GERMANY,
        help_text=_(
            "Phone numbers of the firm, the office and the technicians typed without a country code are read as "
            "numbers of this country."
        ),
    )
    holiday_subdivision = models.CharField(
        _("public holidays of"),
        max_length=10,
        blank=True,
        choices=[(Country.GERMANY.label, sorted(holiday_subdivisions(Country.GERMANY).items(), key=lambda c: c[1]))],
        help_text=_(
            "The state whose public holidays the firm keeps, besides the nationwide ones. Leave it empty for "
            "nationwide holidays only. Customers are never offered a public holiday."
        ),
    )

    calendar_feed_shows_contact = models.BooleanField(
        _("technicians' calendars show customers' phone and email"),
        default=False,
        help_text=_(
            "Technicians' calendar links always show the customer's name and the site address. Their phone "
            "number and email are left out unless this is ticked: calendars are often shared with family or "
            "colleagues."
        ),
    )

    class Meta:
        verbose_name = _("firm")
        verbose_name_plural = _("firm")

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.holiday_subdivision and self.holiday_subdivision not in holiday_subdivisions(self.country):
            raise ValidationError(
                {
                    "holiday_subdivision": _(
                        "%(subdivision)s is not a region of %(country)s. Choose one of its regions or leave it empty."
                    )
                    % {"subdivision": self.holiday_subdivision, "country": self.get_country_display()}
                }
            )

    @property
    def postal_address(self) -> str:
        return f"{self.street}, {self.postcode} {self.city}" if self.street else ""


class OfficeProfile(models.Model):
    """Direct contact details of an office person, named in every customer message."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="office_profile",
        verbose_name=_("user"),
    )
    direct_phone = PhoneNumberField(_("direct phone"))
    direct_email = models.EmailField(_("direct email"), blank=True, help_text=_("Defaults to the user's email."))

    class Meta:
        verbose_name = _("office contact details")
        verbose_name_plural = _("office contact details")

    def __str__(self):
        return self.user.get_full_name() or self.user.get_username()

    @property
    def email(self) -> str:
        return self.direct_email or self.user.email


class Customer(models.Model):
    full_name = models.CharField(_("full name"), max_length=200)
    email = models.EmailField(_("email"), blank=True, db_index=True)
    phone = PhoneNumberField(_("phone"), blank=True, db_index=True)
    street = models.CharField(_("street and number"), max_length=200)
    postcode = models.CharField(_("postcode"), max_length=12, db_index=True)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices, default=Country.GERMANY)
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.GERMAN
    )
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=PreferredChannel.choices, default=PreferredChannel.EMAIL
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="responsible_for_customers",
        limit_choices_to=OFFICE_STAFF,
        verbose_name=_("responsible office person"),
    )
    notes = models.TextField(_("notes"), blank=True)
    # Asked once after each completed visit unless they said "don't ask me again" (or told the office).
    feedback_requests = models.BooleanField(
        _("ask for feedback after visits"),
        default=True,
        help_text=_("Untick when the customer does not want to be asked how a visit went."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["full_name", "id"]
        indexes = [models.Index(fields=["full_name"], name="customer_full_name_idx")]

    def __str__(self):
        return self.full_name

    @property
    def first_name(self) -> str:
        return self.full_name.split()[0] if self.full_name.strip() else ""

    @property
    def postal_address(self) -> str:
        return f"{self.street}, {self.postcode} {self.city}"
