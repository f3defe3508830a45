"""The office's pages for a customer's personal data: export it, erase it, and the register of erasures.

Reached from the customer's page (buttons for staff with the permission). The download is a GET that changes
nothing; the POST before it records the export in the customer's journal and hands out a signed ticket
that the download checks, so every download was recorded.
"""

from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from config.admin_actions import RecordAdminMixin
from customers.models import Customer
from privacy.export import customer_export_read, customer_export_zip
from privacy.forms import ErasureForm
from privacy.models import Erasure
from privacy.services import PrivacyError, customer_erase, customer_export_record, erasure_refusal

TICKET_SALT = "privacy.export-download"
# Long enough for a slow browser to follow the redirect; a copied link is dead soon after.
TICKET_MAX_AGE = 300


@admin.register(Erasure)
class ErasureAdmin(RecordAdminMixin, admin.ModelAdmin):
    list_display = ["customer_id", "erased_at", "erased_by", "reason"]
    list_filter = ["reason"]
    list_select_related = ["erased_by"]
    fields = ["customer", "erased_at", "erased_by", "reason", "counts"]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("customer/<int:customer_id>/export/", view(self.export_view), name="privacy_customer_export"),
            path(
                "customer/<int:customer_id>/export/download/",
                view(self.download_view),
                name="privacy_customer_export_download",
            ),
            path("customer/<int:customer_id>/erase/", view(self.erase_view), name="privacy_customer_erase"),
            *super().get_urls(),
        ]

    def _customer(self, request, customer_id: int, permission: str) -> Customer:
        if not request.user.has_perm(f"privacy.{permission}"):
            raise PermissionDenied
        return get_object_or_404(Customer.objects.select_related("responsible"), pk=customer_id)

    def _page(self, request, template: str, customer: Customer, title: str, **context):
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": Customer._meta,
                "original": customer,
                "customer": customer,
                **context,
            },
        )

    def export_view(self, request, customer_id: int):
        customer = self._customer(request, customer_id, "export_customer_data")
        export = customer_export_read(customer)
        if request.method == "POST":
            entry = customer_export_record(customer=customer, by=request.user, kinds=export.counts())
            ticket = signing.dumps({"customer": customer.pk, "entry": entry.pk}, salt=TICKET_SALT)
            url = reverse("admin:privacy_customer_export_download", args=[customer.pk])
            return HttpResponseRedirect(f"{url}?ticket={ticket}", status=303)
        return self._page(
            request,
            "admin/privacy/export.html",
            customer,
            _("Export all data stored about %(name)s") % {"name": customer.full_name},
            counts=export.labelled_counts(),
            files=len(export.files),
        )

    def download_view(self, request, customer_id: int):
        customer = self._customer(request, customer_id, "export_customer_data")
        try:
            ticket = signing.loads(request.GET.get("ticket", ""), salt=TICKET_SALT, max_age=TICKET_MAX_AGE)
        except signing.BadSignature:
            ticket = None
        if not ticket or ticket.get("customer") != customer.pk:
            messages.error(request, _("That download link has expired. Start the export again."))
            return HttpResponseRedirect(reverse("admin:privacy_customer_export", args=[customer.pk]))
        archive = customer_export_zip(customer_export_read(customer))
        response = FileResponse(
            archive, as_attachment=True, filename=f"customer-{customer.pk}-data.zip", content_type="application/zip"
        )
        response["Cache-Control"] = "no-store"
        return response

    def erase_view(self, request, customer_id: int):
        customer = self._customer(request, customer_id, "erase_customer_data")
        refusal = erasure_refusal(customer)
        form = ErasureForm(request.POST if request.method == "POST" and not refusal else None, customer=customer)
        if form.is_valid():
            try:
                customer_erase(customer=customer, by=request.user, reason=form.cleaned_data["reason"])
            except PrivacyError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request, _("The personal data of this customer was erased. The records stay, anonymised.")
                )
                return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[customer.pk]))
        return self._page(
            request,
            "admin/privacy/erase.html",
            customer,
            _("Erase the personal data of %(name)s") % {"name": customer.full_name},
            form=form,
            refusal=refusal.message if refusal else None,
            counts=customer_export_read(customer).labelled_counts(),
        )
