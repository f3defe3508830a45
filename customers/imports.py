"""Customers from a firm's spreadsheet, through django-import-export's upload → preview → confirm.

The library runs the flow the office needs (a dry run in a transaction it rolls back, a result per row, the
upload kept between preview and confirm); this module knows the firm's side: column headings in German,
Dutch or English, one country per row to read its phone number in, duplicates within the file and against
the customers already here. Every customer is made by customers.services.customer_create, whose journal
entry names the file and the row.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import tablib
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import resources
from import_export.formats.base_formats import Format

from customers.models import OFFICE_STAFF, Country, Customer, Language, PreferredChannel
from customers.phones import firm_region, parse_phone
from customers.services import CustomerError, customer_create
from customers.spreadsheets import ROW_COLUMN, SpreadsheetError, read_table

# Column headings a firm's spreadsheet uses, written as header_key() leaves them (lower case, no accents,
# spaces or punctuation). The model's own labels in German, Dutch and English are added (_aliases), so the
# office can import its own export.
HEADINGS = {
    "full_name": ["name", "fullname", "vollstandigername", "kunde", "kundenname", "naam", "volledigenaam", "klant",
                  "klantnaam", "customer", "customername"],
    "first_name": ["vorname", "voornaam", "firstname", "givenname"],
    "name_infix": ["tussenvoegsel", "tussenvoegsels"],
    "last_name": ["nachname", "familienname", "achternaam", "lastname", "surname", "familyname"],
    "email": ["email", "emailadresse", "emailadres", "emailaddress", "mail"],
    "phone": ["telefon", "telefonnummer", "tel", "festnetz", "telefoon", "telefoonnummer", "phone", "phonenumber",
              "telephone"],
    "mobile": ["mobil", "mobilnummer", "mobiltelefon", "handy", "handynummer", "mobiel", "mobielnummer",
               "mobieltelefoon", "mobile", "mobilephone", "cell"],
    "street": ["strasse", "strasseundhausnummer", "strasseundnr", "adresse", "anschrift", "straat", "adres",
               "straatenhuisnummer", "street", "address", "streetandnumber"],
    "house_number": ["hausnummer", "hausnr", "nr", "huisnummer", "huisnr", "housenumber", "number", "no"],
    "postcode": ["plz", "postleitzahl", "postcode", "postalcode", "zip", "zipcode"],
    "city": ["ort", "stadt", "wohnort", "plaats", "woonplaats", "city", "town"],
    "country": ["land", "country"],
    "preferred_language": ["sprache", "taal", "language"],
    "preferred_channel": ["kontaktweg", "bevorzugterkontakt", "contactvoorkeur", "voorkeurskanaal", "channel",
                          "preferredchannel"],
    "notes": ["notizen", "notiz", "bemerkung", "bemerkungen", "hinweis", "notities", "opmerking", "opmerkingen",
              "notes", "note", "remarks", "comments"],
    "responsible": ["zustandig", "verantwortlich", "sachbearbeiter", "verantwoordelijke", "behandelaar",
                    "responsible"],
}  # fmt: skip
MODEL_FIELDS = ("full_name", "email", "phone", "street", "postcode", "city", "country", "preferred_language",
                "preferred_channel", "notes", "responsible")  # fmt: skip
LANGUAGE_OF_COUNTRY = {Country.GERMANY: Language.GERMAN, Country.AUSTRIA: Language.GERMAN,
                       Country.NETHERLANDS: Language.DUTCH, Country.BELGIUM: Language.DUTCH}  # fmt: skip
ALSO_COUNTRY = {"d": "DE", "deu": "DE", "ger": "DE", "nld": "NL", "holland": "NL", "bel": "BE", "aut": "AT", "a": "AT"}
ALSO_CHANNEL = {"mail": "email", "telefon": "phone", "telefoon": "phone", "tel": "phone", "brief": "letter",
                "post": "letter"}  # fmt: skip
# What the import page lists as the columns it reads: (what, example headings).
COLUMNS_SHOWN = [
    (gettext_lazy("Name (required)"), "Name, Naam, Vorname + Nachname, Voornaam + Tussenvoegsel + Achternaam"),
    (gettext_lazy("Email"), "E-Mail, E-mailadres, Email"),
    (
        gettext_lazy("Phone (without country code: read in the row's country)"),
        "Telefon, Telefoon, Phone, Mobil, Mobiel",
    ),
    (gettext_lazy("Street and number (required)"), "Straße, Straat, Street, Adresse (+ Hausnummer, Huisnummer)"),
    (gettext_lazy("Postcode (required)"), "PLZ, Postleitzahl, Postcode, ZIP"),
    (gettext_lazy("City (required)"), "Ort, Plaats, Woonplaats, City"),
    (gettext_lazy("Country (DE, NL, BE, AT or its name; empty: the firm's country)"), "Land, Country"),
    (gettext_lazy("Language (de, nl, en; empty: the country's language)"), "Sprache, Taal, Language"),
    (gettext_lazy("Preferred channel (email, phone, letter)"), "Kontaktweg, Contactvoorkeur, Channel"),
    (gettext_lazy("Notes"), "Notizen, Bemerkung, Opmerkingen, Notes"),
    (gettext_lazy("Responsible office person (user name or email; empty: you)"), "Zuständig, Verantwoordelijke"),
]


def header_key(text: str) -> str:
    """'E-Mail-Adresse' → 'emailadresse', 'Straße' → 'strasse', 'Plaats ' → 'plaats'."""
    text = unicodedata.normalize("NFKD", str(text).casefold())
    return re.sub(r"[^a-z0-9]", "", "".join(char for char in text if not unicodedata.combining(char)))


def _aliases() -> dict[str, str]:
    known = {alias: name for name, aliases in HEADINGS.items() for alias in aliases}
    for language in Language.values:
        with translation.override(language):
            for name in MODEL_FIELDS:
                known.setdefault(header_key(str(Customer._meta.get_field(name).verbose_name)), name)
    return known


def columns_of(headers: list[str]) -> tuple[list[str], list[str]]:
    """The field each heading stands for ('' for none) and the headings that are not imported.

    Raises SpreadsheetError when no column holds the name, or two columns hold the same thing.
    """
    known = _aliases()
    fields, ignored, seen = [], [], {}
    for heading in headers:
        name = known.get(header_key(heading), "")
        if name and name in seen:
            raise SpreadsheetError(
                _("The columns “%(first)s” and “%(second)s” both hold the same thing. Please keep one of them.")
                % {"first": seen[name], "second": heading}
            )
        if name:
            seen[name] = heading
        elif heading:
            ignored.append(heading)
        fields.append(name)
    if "full_name" not in seen and "last_name" not in seen:
        raise SpreadsheetError(
            _(
                "No column with the customers' names was found. The first row of the file must hold the column "
                "headings, such as Name, E-Mail, Telefon, Straße, PLZ, Ort (the accepted headings are listed "
                "below)."
            )
        )
    return fields, ignored


def customer_dataset(data: bytes) -> tablib.Dataset:
    """The uploaded file with its headings replaced by the fields they stand for; `ignored_columns` lists the rest."""
    table = read_table(data)
    fields, ignored = columns_of(table.headers[:-1])
    dataset = tablib.Dataset(headers=[name or f"_ignored{index}" for index, name in enumerate(fields)] + [ROW_COLUMN])
    for row in table:
        dataset.append(row)
    dataset.ignored_columns = ignored
    return dataset


@dataclass
class PlannedRow:
    number: int
    fields: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    typed: str = ""  # the row as the office typed it, to find it in the file


class RowCleaner:
    """Turns a row of text cells into customer fields, collecting every error in the office's language."""

    def __init__(self, *, actor):
        self.actor = actor
        self.default_country = firm_region()
        self.countries = self._choices(Country, ALSO_COUNTRY)
        self.languages = self._choices(Language, {})
        self.channels = self._choices(PreferredChannel, ALSO_CHANNEL)
        self.responsibles = {}
        for user in get_user_model().objects.filter(OFFICE_STAFF):
            for key in (user.get_username(), user.email, user.get_full_name()):
                if key:
                    self.responsibles.setdefault(key.casefold(), user)

    @staticmethod
    def _choices(choices, extra: dict[str, str]) -> dict[str, str]:
        found = {header_key(value): value for value in choices.values} | extra
        for language in Language.values:
            with translation.override(language):
                found |= {header_key(str(label)): value for value, label in choices.choices}
        return found

    def clean(self, row: dict[str, Any]) -> PlannedRow:
        cells = {name: str(value or "").strip() for name, value in row.items() if name}
        typed = [cells.get(name, "") for name in ("full_name", "first_name", "last_name", "email", "phone", "street")]
        planned = PlannedRow(number=int(row[ROW_COLUMN]), fields={}, typed=" · ".join(cell for cell in typed if cell))
        put, errors = planned.fields, planned.errors

        name = cells.get("full_name") or " ".join(
            part for part in (cells.get("first_name"), cells.get("name_infix"), cells.get("last_name")) if part
        )
        put["full_name"] = " ".join(name.split())
        if not put["full_name"]:
            errors.append(_("The name is missing."))

        country = self.default_country
        if cells.get("country"):
            country = self.countries.get(header_key(cells["country"]))
            if country is None:
                errors.append(
                    _("Unknown country “%(value)s”. Please write one of: %(known)s.")
                    % {"value": cells["country"], "known": ", ".join(f"{c.value} ({c.label})" for c in Country)}
                )
                country = self.default_country
        put["country"] = country

        email = cells.get("email", "").lower()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                errors.append(_("“%(value)s” is not a valid email address.") % {"value": cells["email"]})
        put["email"] = email

        typed_phone = cells.get("phone") or cells.get("mobile", "")
        put["phone"] = ""
        if typed_phone:
            number = parse_phone(typed_phone, region=country)
            if number and number.is_valid():
                put["phone"] = number
            else:
                errors.append(
                    _(
                        "“%(value)s” is not a valid phone number in %(country)s. A number from another country "
                        "starts with + and its country code."
                    )
                    % {"value": typed_phone, "country": Country(country).label}
                )

        street = " ".join(part for part in (cells.get("street"), cells.get("house_number")) if part)
        postcode = cells.get("postcode", "").upper()
        if country == Country.GERMANY and postcode.isdigit() and len(postcode) == 4:
            postcode = "0" + postcode  # a spreadsheet kept 01067 (Dresden) as the number 1067
        put["street"], put["postcode"] = " ".join(street.split()), postcode
        put["city"] = " ".join(cells.get("city", "").split())
        for name in ("street", "postcode", "city"):
            if not put[name]:
                errors.append(_("%(field)s is missing.") % {"field": self._label(name)})

        put["preferred_language"] = self._choice(
            cells.get("preferred_language"), self.languages, LANGUAGE_OF_COUNTRY.get(country, Language.GERMAN), errors
        )
        default_channel = PreferredChannel.EMAIL if email else PreferredChannel.PHONE if typed_phone else "letter"
        put["preferred_channel"] = self._choice(cells.get("preferred_channel"), self.channels, default_channel, errors)
        put["notes"] = cells.get("notes", "")

        responsible = cells.get("responsible")
        put["responsible"] = self.actor
        if responsible:
            put["responsible"] = self.responsibles.get(responsible.casefold())
            if put["responsible"] is None:
                errors.append(
                    _("“%(value)s” is not a member of the office staff (user name, email or name).")
                    % {"value": responsible}
                )
        # Every text the row fills, so that the office learns which column is too long: the model's own check
        # would come later and name no column.
        for name, value in put.items():
            limit = Customer._meta.get_field(name).max_length
            if isinstance(value, str) and limit and len(value) > limit:
                errors.append(
                    _("%(field)s is longer than %(limit)s characters.") % {"field": self._label(name), "limit": limit}
                )
        return planned

    def _choice(self, typed: str | None, known: dict[str, str], default: str, errors: list[str]) -> str:
        if not typed:
            return default
        value = known.get(header_key(typed))
        if value is None:
            errors.append(_("“%(value)s” is not one of the accepted values.") % {"value": typed})
            return default
        return value

    @staticmethod
    def _label(name: str) -> str:
        return str(Customer._meta.get_field(name).verbose_name).capitalize()


def plan_rows(dataset: tablib.Dataset, *, actor) -> dict[int, PlannedRow]:
    """Every row cleaned, with duplicates within the file and against existing customers added to its errors."""
    cleaner = RowCleaner(actor=actor)
    planned = {}
    first_email, first_phone = {}, {}
    for values in dataset.dict:
        row = cleaner.clean(values)
        planned[row.number] = row
        email, phone = row.fields["email"], row.fields["phone"]
        if email and email in first_email:
            row.errors.append(_("The same email address as row %(row)s.") % {"row": first_email[email]})
        if phone and phone.as_e164 in first_phone:
            row.errors.append(_("The same phone number as row %(row)s.") % {"row": first_phone[phone.as_e164]})
        first_email.setdefault(email, row.number)
        if phone:
            first_phone.setdefault(phone.as_e164, row.number)
    first_email.pop("", None)
    _mark_existing(planned, first_email, first_phone)
    return planned


def _mark_existing(planned: dict[int, PlannedRow], emails: dict[str, int], phones: dict[str, int]) -> None:
    chunk = 500  # stays below SQLite's limit of variables per query
    email_list, phone_list = sorted(emails), sorted(phones)
    for start in range(0, len(email_list), chunk):
        found = (
            Customer.objects.annotate(email_key=Lower("email"))
            .filter(email_key__in=email_list[start : start + chunk])
            .values_list("email_key", "full_name")
        )
        for email, name in found:
            planned[emails[email]].errors.append(
                _("A customer with this email address exists already: %(name)s.") % {"name": name}
            )
    for start in range(0, len(phone_list), chunk):
        found = Customer.objects.filter(phone__in=phone_list[start : start + chunk]).values_list("phone", "full_name")
        for phone, name in found:
            planned[phones[phone.as_e164]].errors.append(
                _("A customer with this phone number exists already: %(name)s.") % {"name": name}
            )


class SpreadsheetFormat(Format):
    """One upload format for CSV and XLSX: the file's content says which it is, not its name."""

    def __init__(self, encoding=None):
        self.encoding = encoding  # read from the bytes (customers.spreadsheets), whatever the admin says

    def get_title(self):
        return "CSV / XLSX"

    def create_dataset(self, in_stream):
        return customer_dataset(in_stream)

    def can_import(self):
        return True


class CustomerImportResource(resources.ModelResource):
    """New customers only: a row that matches an existing customer is an error, never an update."""

    class Meta:
        model = Customer
        fields = ()
        skip_diff = True
        store_instance = True
        use_transactions = True

    def import_data(self, dataset, **kwargs):
        # Planned before the library's transaction begins: cleaning every row and looking up duplicates only
        # reads, and on SQLite (BEGIN IMMEDIATE) each write on the site would wait for it.
        self.plan = plan_rows(dataset, actor=kwargs.get("user"))
        return super().import_data(dataset, **kwargs)

    def get_or_init_instance(self, instance_loader, row):
        return self.init_instance(row), True

    def import_instance(self, instance, row, **kwargs):
        planned = self.plan[int(row[ROW_COLUMN])]
        for name, value in planned.fields.items():
            setattr(instance, name, value)
        instance.source_row = planned.number
        if planned.errors:
            raise ValidationError({NON_FIELD_ERRORS: planned.errors})

    def save_instance(self, instance, is_create, row, **kwargs):
        planned = self.plan[instance.source_row]
        try:
            saved = customer_create(
                fields=planned.fields,
                actor=kwargs.get("user"),
                imported_from={"file": kwargs.get("file_name") or "", "row": planned.number},
            )
        except CustomerError as error:
            planned.errors.append(error.message)
            raise ValidationError({NON_FIELD_ERRORS: [error.message]}) from error
        instance.pk = saved.pk

    def after_import(self, dataset, result, **kwargs):
        # Not the library's: it resets the id sequence to the highest id, which is only needed when a file
        # brings its own ids, and on PostgreSQL would hand out ids a concurrent insert already took.
        result.ignored_columns = getattr(dataset, "ignored_columns", [])
        result.error_rows = [row for row in self.plan.values() if row.errors]
