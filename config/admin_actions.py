"""Admin actions that ask for one more thing first (a reason, a note, a new time), shared by the apps' admins."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _


class ActionFormMixin:
    """An action shows `form` for the selected rows, then reports what it did and what it refused."""

    action_form_template = "admin/appointments/action_form.html"

    def _action_page(self, request, queryset, form, action: str, title: str, *, appointments=(), back_url=None):
        context = {
            "back_url": back_url,
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "form": form,
            "action": action,
            "appointments": appointments,
            "objects": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, self.action_form_template, context)

    def _report(self, request, done: int, errors: list[str], success_message: str):
        if done:
            self.message_user(request, success_message % {"count": done}, messages.SUCCESS)
        for error in errors:
            self.message_user(request, error, messages.ERROR)


class RecordAdminMixin:
    """Rows that are records of what happened (an outbox mail, an invitation, a missed visit).

    Nobody adds, edits or deletes them here; every field is read-only. Actions that
    act through a service (send again, close a follow-up) still require the change
    permission: it holds for the list, never for a single row's form.
    """

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


class PrefillMixin:
    """An add page opened with ?field=value (the pages link to each other so) takes only what the field can.

    Django hands the raw text to the widget, and an autocomplete or date widget fails on text it cannot
    read (?customer=abc was a 500): such a value is left out and the field starts empty. A date-and-time
    field split in two takes one ISO value (?window_start=2026-12-01T08:00, local time unless it says).
    """

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        fields = self.get_form(request).base_fields
        for name in [name for name in initial if name in fields and name in request.GET]:
            if isinstance(fields[name], forms.SplitDateTimeField) and isinstance(initial[name], str):
                try:
                    moment = parse_datetime(initial[name])
                except ValueError:
                    moment = None
                if moment is None:
                    del initial[name]
                else:
                    initial[name] = moment if timezone.is_aware(moment) else timezone.make_aware(moment)
                continue
            try:
                fields[name].clean(initial[name])
            except (ValidationError, ValueError, TypeError):
                del initial[name]
        return initial


class CheckedSelectionMixin:
    """An action posted with a selection that is not a row id (edited or truncated form data) changes
    nothing and says so; Django would run the action's query and fail with a 500."""

    def response_action(self, request, queryset, **kwargs):
        for value in request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME):
            try:
                self.opts.pk.to_python(value)
            except ValidationError:
                self.message_user(
                    request,
                    _("The selection could not be read; nothing was changed. Please select the rows again."),
                    messages.WARNING,
                )
                return None
        return super().response_action(request, queryset, **kwargs)
