"""The admin's customer import: upload, a preview with every row's errors, confirm or cancel.

django-import-export's ImportMixin runs the steps; this adds what a firm's office needs around them: an
upload limit that refuses a large file while it arrives (IMPORT_MAX_UPLOAD_MB), messages that say what is
wrong with a file, all-or-nothing on confirm, a cancel that deletes the kept upload, and uploads kept for a day at
most (customers.import_uploads: they hold personal data).
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.csrf import csrf_exempt
from import_export.admin import ImportMixin
from import_export.forms import ConfirmImportForm, ImportForm

from customers.import_uploads import ImportUploadStorage
from customers.imports import COLUMNS_SHOWN, CustomerImportResource, SpreadsheetFormat
from customers.spreadsheets import SpreadsheetError


def upload_limit_bytes() -> int:
    return settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024


class UploadLimitHandler(FileUploadHandler):
    """Stops reading a file upload past the limit: the rest of the request is skipped, never stored.

    Django would otherwise write the whole upload to a temporary file before the view could refuse it.
    """

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # The browser says how large the request is: a file far over the limit stops at its first chunk.
        if content_length and content_length > self.limit + 64 * 1024:
            self.request.upload_too_large = True

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit or getattr(self.request, "upload_too_large", False):
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


class CustomerImportForm(ImportForm):
    def __init__(self, formats, resources, *, too_large: bool = False, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.too_large = too_large
        field = self.fields["import_file"]
        field.label = gettext_lazy("Spreadsheet (CSV or XLSX)")
        # Checked in clean_import_file, so that a refused large file gets its own message.
        field.required = False
        field.widget.attrs["accept"] = ".csv,.xlsx,.txt,text/csv"
        field.help_text = gettext_lazy("At most %(size)s MB.") % {"size": settings.IMPORT_MAX_UPLOAD_MB}

    def clean_import_file(self):
        if self.too_large:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB and was not read. Please split it into smaller files.")
                % {"size": settings.IMPORT_MAX_UPLOAD_MB},
                code="too_large",
            )
        upload = self.cleaned_data.get("import_file")
        if not upload:
            raise forms.ValidationError(_("Please choose a file."), code="required")
        return upload


class CustomerImportMixin(ImportMixin):
    import_template_name = "admin/customers/customer/import.html"
    import_form_class = CustomerImportForm
    tmp_storage_class = ImportUploadStorage
    skip_admin_log = True  # each customer's journal records the import
    import_error_display = ("message",)

    def get_import_formats(self):
        return [SpreadsheetFormat]

    def get_import_resource_classes(self, request):
        return [CustomerImportResource]

    def has_import_permission(self, request):
        return self.has_add_permission(request)

    def get_urls(self):
        info = self.get_model_info()
        limited = csrf_exempt(self._upload_limited(self.admin_site.admin_view(self.import_action)))
        return [path("import/", limited, name="{}_{}_import".format(*info)), *super().get_urls()]

    @staticmethod
    def _upload_limited(view):
        # The handler must be in place before anything reads the request body, CSRF's check included:
        # this view is exempt from the middleware's check and admin_view() runs it inside instead.
        def limited(request, *args, **kwargs):
            if request.method == "POST":
                request.upload_handlers.insert(0, UploadLimitHandler(request, upload_limit_bytes()))
            return view(request, *args, **kwargs)

        return limited

    def get_import_form_kwargs(self, request):
        return {**super().get_import_form_kwargs(request), "too_large": getattr(request, "upload_too_large", False)}

    def get_import_data_kwargs(self, **kwargs):
        # All or nothing: a row that fails on confirm (a customer added meanwhile) rolls back every row.
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def get_import_context_data(self, **kwargs):
        return {**super().get_import_context_data(**kwargs), "columns_shown": COLUMNS_SHOWN, "preview_rows": 100}

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, SpreadsheetError):
            form.add_error("import_file", e.message)
        else:
            form.add_error(
                "import_file",
                _("This file is not a spreadsheet. Please upload a CSV file or an Excel workbook (.xlsx)."),
            )

    def process_import(self, request, **kwargs):
        if request.method != "POST":
            return super().process_import(request, **kwargs)
        # Checked before the upload is touched: a refused request must not cancel or claim the office's preview.
        if not self.has_import_permission(request):
            raise PermissionDenied
        changelist = reverse("admin:{}_{}_changelist".format(*self.get_model_info()))
        form = ConfirmImportForm(request.POST)
        if "cancel" in request.POST:
            if form.is_valid():
                ImportUploadStorage(name=form.cleaned_data["import_file_name"]).remove()
            messages.info(request, _("Import cancelled. Nothing was imported."))
            return HttpResponseRedirect(changelist)
        if form.is_valid():
            claimed = ImportUploadStorage(name=form.cleaned_data["import_file_name"]).claim()
            if claimed is None:
                messages.warning(
                    request,
                    _(
                        "This preview was imported or cancelled already, or is older than a day. Nothing was "
                        "imported now."
                    ),
                )
                return HttpResponseRedirect(changelist)
            post = request.POST.copy()
            post["import_file_name"] = claimed
            request.POST = post
        return super().process_import(request, **kwargs)

    def import_action(self, request, **kwargs):
        request.FILES  # noqa: B018 (reads the upload, through UploadLimitHandler, which flags a large one)
        if getattr(request, "upload_too_large", False):
            if not self.has_import_permission(request):
                raise PermissionDenied
            # Whatever came after the file in the request was not read either: the form stands on its own.
            form = self._import_form(request, data={"format": "0", "resource": "0"}, files={}, too_large=True)
            form.is_valid()
            return self._import_page(request, form)
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        form = context.get("form")
        if not context.get("confirm_form") and form is not None and hasattr(form, "cleaned_data"):
            # No preview to confirm: the kept upload is not needed (it holds personal data).
            upload = form.cleaned_data.get("import_file")
            if getattr(upload, "tmp_storage_name", None):
                ImportUploadStorage(name=upload.tmp_storage_name).remove()
        return response

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            return self._import_page(request, self._import_form(request), result=result, nothing_imported=True)
        return super().process_result(result, request)

    def _import_form(self, request, **kwargs):
        return self.get_import_form_class(request)(
            self.get_import_formats(), self.get_import_resource_classes(request), **kwargs
        )

    def _import_page(self, request, form, **extra):
        context = {
            **self.get_import_context_data(),
            **self.admin_site.each_context(request),
            "title": _("Import"),
            "form": form,
            "opts": self.model._meta,
            "import_error_display": self.import_error_display,
            **extra,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.import_template_name], context)

    def add_success_message(self, result, request):
        count = result.totals["new"]
        messages.success(
            request,
            ngettext("%(count)d customer imported.", "%(count)d customers imported.", count) % {"count": count},
        )
