"""Customers (and, from appointments.admin, visits) out to CSV or XLSX, headed in the office's language.

django-import-export turns the admin's filtered list into rows; the formats here write them with every
formula-like cell escaped (customers.spreadsheets), which the library's own formats do only for a leading
"=" and only when a setting asks.
"""

from django.utils import timezone
from django.utils.text import capfirst, slugify
from import_export import fields, resources
from import_export.admin import ExportMixin
from import_export.formats.base_formats import Format
from import_export.forms import ExportForm

from customers.models import Customer
from customers.spreadsheets import csv_separator, export_csv, export_xlsx


class _Export(Format):
    title = extension = content_type = ""

    def get_title(self):
        return self.title

    def get_extension(self):
        return self.extension

    def get_content_type(self):
        return self.content_type

    def can_export(self):
        return True


class CsvExport(_Export):
    title, extension, content_type = "CSV", "csv", "text/csv; charset=utf-8"

    def export_data(self, dataset, **kwargs):
        # Written in the export's request, in the office's language: its Excel opens the file by double-click.
        return export_csv(dataset, separator=csv_separator())

    def is_binary(self):
        return False

    def get_read_mode(self):
        return "r"


class XlsxExport(_Export):
    title, extension = "XLSX (Excel)", "xlsx"
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def export_data(self, dataset, **kwargs):
        return export_xlsx(dataset, title=dataset.title or "Doorstep")


class SpreadsheetExportMixin(ExportMixin):
    """Export of the admin's list as it is filtered, as CSV or XLSX, named in the office's language."""

    export_form_class = ExportForm  # the format only; every column of the resource is exported

    def get_export_formats(self):
        return [CsvExport, XlsxExport]

    def get_export_filename(self, request, queryset, file_format):
        name = slugify(str(self.model._meta.verbose_name_plural)) or self.model._meta.model_name
        return f"{name}-{timezone.localdate().isoformat()}.{file_format.get_extension()}"


def label(model, name: str):
    """The model field's label, translated when the export is written (the office's language)."""
    return capfirst(model._meta.get_field(name).verbose_name)


class TitledResource(resources.ModelResource):
    def after_export(self, queryset, dataset, **kwargs):
        dataset.title = str(self._meta.model._meta.verbose_name_plural).capitalize()


class CustomerExportResource(TitledResource):
    id = fields.Field(attribute="pk", column_name="ID")
    full_name = fields.Field(attribute="full_name", column_name=label(Customer, "full_name"))
    email = fields.Field(attribute="email", column_name=label(Customer, "email"))
    phone = fields.Field(column_name=label(Customer, "phone"))
    street = fields.Field(attribute="street", column_name=label(Customer, "street"))
    postcode = fields.Field(attribute="postcode", column_name=label(Customer, "postcode"))
    city = fields.Field(attribute="city", column_name=label(Customer, "city"))
    country = fields.Field(column_name=label(Customer, "country"))
    preferred_language = fields.Field(column_name=label(Customer, "preferred_language"))
    preferred_channel = fields.Field(column_name=label(Customer, "preferred_channel"))
    responsible = fields.Field(column_name=label(Customer, "responsible"))
    notes = fields.Field(attribute="notes", column_name=label(Customer, "notes"))

    class Meta:
        model = Customer
        fields = ("id", "full_name", "email", "phone", "street", "postcode", "city", "country", "preferred_language",
                  "preferred_channel", "responsible", "notes")  # fmt: skip

    def get_queryset(self):
        return Customer.objects.select_related("responsible")

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("responsible")

    def dehydrate_phone(self, customer):
        return customer.phone.as_international if customer.phone else ""

    def dehydrate_country(self, customer):
        return customer.get_country_display()

    def dehydrate_preferred_language(self, customer):
        return customer.get_preferred_language_display()

    def dehydrate_preferred_channel(self, customer):
        return customer.get_preferred_channel_display()

    def dehydrate_responsible(self, customer):
        return customer.responsible.get_username()
