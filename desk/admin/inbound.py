"""Inbound mail in the admin: the list (triage first to hand), the mail as text, its attachments as
downloads for the office only, and the two decisions — whose mail (and which of their visits) it is, or that
it needs no reply (one mail, or several from the list)."""

import io
import logging

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from appointments.models import Appointment
from config.admin_actions import ActionFormMixin, CheckedSelectionMixin
from customers.models import Customer
from desk.inbound.parse import ParseError, parse_mail
from desk.models import InboundAttachment, InboundMail, InboundStatus
from desk.services.inbound import InboundError, inbound_assign, inbound_dismiss, inbound_dismiss_many
from journal.forms import VisitChoiceField

# Never served as received: a type a browser would run or render as a page becomes a plain download.
DOWNLOAD_UNSAFE_TYPES = {"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml"}

logger = logging.getLogger(__name__)


def download_type(content_type: str) -> str:
    content_type = (content_type or "").lower()
    if not content_type or content_type in DOWNLOAD_UNSAFE_TYPES or "javascript" in content_type:
        return "application/octet-stream"
    return content_type


def _from_raw_mail(mail: InboundMail, attachment: InboundAttachment):
    """A kept attachment whose file is not written yet (it is written once its row is committed): its bytes
    from the raw mail, which holds every attachment in the order the rows were made."""
    position = list(mail.attachments.order_by("pk").values_list("pk", flat=True)).index(attachment.pk)
    try:
        parsed = parse_mail(mail.raw)
    except ParseError:
        return None
    if position >= len(parsed.attachments):
        return None
    return io.BytesIO(parsed.attachments[position].content)


class AssignForm(forms.Form):
    """Two steps without script: the customer first; then, if they have visits, which one the mail is about
    (or none), offered from that customer's visits. `visit_step` says the visit was offered and chosen."""

    visit_step = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        # The field is built here: the autocomplete widget needs the admin site, and gets its choices from it.
        self.fields["customer"] = forms.ModelChoiceField(
            queryset=Customer.objects.all(),
            label=_("customer"),
            widget=AutocompleteSelect(InboundMail._meta.get_field("customer"), admin_site),
        )
        customer_id = self.data.get("customer") if self.is_bound else None
        self.visits = Appointment.objects.none()
        if customer_id and str(customer_id).isdigit():
            self.visits = (
                Appointment.objects.filter(customer_id=customer_id)
                .select_related("service_type")
                .order_by("-window_start")
            )
        if self.visits:
            self.fields["appointment"] = VisitChoiceField(
                label=_("appointment"),
                queryset=self.visits,
                required=False,
                empty_label=_("(no particular visit)"),
                help_text=_(
                    "The customer's visits, latest first: the reply promise and the journal entry concern it."
                ),
                error_messages={"invalid_choice": _("Please choose one of this customer's visits.")},
            )

    def visit_to_choose(self) -> bool:
        """The customer is chosen and has visits, which were not offered yet: show them before assigning."""
        return "appointment" in self.fields and not self.cleaned_data.get("visit_step")

    def offer_visits(self):
        """The same form again with the chosen customer and their visits, for the second step."""
        data = self.data.copy()
        data["visit_step"] = "1"
        self.data = data
        return self


class DismissForm(forms.Form):
    reason = forms.CharField(
        label=_("why no reply is needed"),
        max_length=500,
        help_text=_("E.g. spam, a thank-you, already settled on the phone."),
    )


@admin.register(InboundMail)
class InboundMailAdmin(CheckedSelectionMixin, ActionFormMixin, admin.ModelAdmin):
    list_display = ["received_at", "sender", "subject", "customer_link", "status_display"]
    actions = ["no_reply_needed"]
    action_form_template = "desk/inbound/dismiss_many.html"
    list_display_links = ["subject"]
    list_filter = ["status", "kind", "source"]
    search_fields = ["from_email", "from_name", "subject"]
    date_hierarchy = "received_at"
    list_select_related = ["customer"]
    fieldsets = [
        (None, {"fields": ["decide", "sender", "to", "subject", "sent_at", "received_at", "source", "kind"]}),
        (_("Whose mail"), {"fields": ["customer", "appointment", "outbox_message", "matched_by", "status",
                                      "status_reason", "promise"]}),
        (_("Content"), {"fields": ["reply_text_shown", "text_shown", "attachment_links"]}),
        (_("Delivery"), {"classes": ["collapse"], "fields": ["message_id", "in_reply_to", "references",
                                                             "bounce_recipient", "bounce_message_id",
                                                             "raw_size", "headers_shown"]}),
    ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        # Nothing is edited here: what came in stays as it came, decisions go through the services.
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Nothing to save on this page: the decisions have their own forms.
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        return super().change_view(request, object_id, form_url, extra_context)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("from"), ordering="from_email")
    def sender(self, mail):
        return f"{mail.from_name} <{mail.from_email}>" if mail.from_name else mail.from_email

    @admin.display(description=_("customer"), ordering="customer__full_name")
    def customer_link(self, mail):
        if mail.customer is None:
            return "–"
        url = reverse("admin:customers_customer_change", args=[mail.customer_id])
        return format_html('<a href="{}">{}</a>', url, mail.customer.full_name)

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, mail):
        if mail.status == InboundStatus.TRIAGE:
            return format_html("<strong>{}</strong>", mail.get_status_display())
        return mail.get_status_display()

    @staticmethod
    def _text(value: str):
        # Escaped by format_html; the line breaks of the mail kept by CSS, not by building HTML from it.
        return format_html('<div class="inbound-text pre-wrap">{}</div>', value or "–")

    @admin.display(description=_("reply without quoted text"))
    def reply_text_shown(self, mail):
        return self._text(mail.reply_text)

    @admin.display(description=_("whole text"))
    def text_shown(self, mail):
        return self._text(mail.text)

    @admin.display(description=_("headers"))
    def headers_shown(self, mail):
        return self._text("\n".join(f"{name}: {value}" for name, value in mail.headers))

    @admin.display(description=_("attachments"))
    def attachment_links(self, mail):
        rows = []
        for attachment in mail.attachments.all():
            size = filesizeformat(attachment.size)
            if attachment.refused:
                rows.append(
                    format_html(
                        "<li>{} ({}, {}) – {}: {}</li>",
                        attachment.name,
                        attachment.content_type,
                        size,
                        gettext("refused"),
                        attachment.refused_reason,
                    )
                )
            else:
                url = reverse("admin:desk_inboundmail_attachment", args=[mail.pk, attachment.pk])
                rows.append(
                    format_html(
                        '<li><a href="{}" download>{}</a> ({}, {})</li>',
                        url,
                        attachment.name,
                        attachment.content_type,
                        size,
                    )
                )
        if not rows:
            return "–"
        return format_html("<ul>{}</ul>", format_html_join("", "{}", ((row,) for row in rows)))

    @admin.display(description=_("decide"))
    def decide(self, mail):
        links = []
        if mail.status == InboundStatus.TRIAGE:
            links.append((reverse("admin:desk_inboundmail_assign", args=[mail.pk]), gettext("Assign to a customer")))
        if mail.status in {InboundStatus.NEW, InboundStatus.TRIAGE}:
            links.append((reverse("admin:desk_inboundmail_dismiss", args=[mail.pk]), gettext("No reply needed")))
        if not links:
            return mail.get_status_display()
        return format_html_join(" ", '<a class="button" href="{}">{}</a>', links)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/assign/", view(self.assign_view), name="desk_inboundmail_assign"),
            path("<path:object_id>/no-reply/", view(self.dismiss_view), name="desk_inboundmail_dismiss"),
            path(
                "<path:object_id>/attachment/<int:attachment_id>/",
                view(self.attachment_view),
                name="desk_inboundmail_attachment",
            ),
            *super().get_urls(),
        ]

    def _mail(self, request, object_id) -> InboundMail:
        mail = self.get_object(request, unquote(object_id))
        if mail is None:
            raise Http404
        return mail

    def attachment_view(self, request, object_id, attachment_id):
        """The file as a download (never shown inline), to those who may see the mail."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        mail = self._mail(request, object_id)
        attachment = get_object_or_404(InboundAttachment, pk=attachment_id, mail=mail)
        if attachment.refused:
            raise Http404
        content = None
        if attachment.file:
            try:
                content = attachment.file.open("rb")
            except FileNotFoundError:
                # The file went missing (a container without the shared var/, a restore without the media
                # archive): the raw mail still holds it.
                logger.warning(
                    "inbound attachment %s: file %s missing, served from the raw mail",
                    attachment.pk,
                    attachment.file.name,
                )
        if content is None:
            content = _from_raw_mail(mail, attachment)
        if content is None:
            raise Http404
        response = FileResponse(
            content,
            as_attachment=True,
            filename=attachment.name,
            content_type=download_type(attachment.content_type),
        )
        # Should a browser open it anyway, nothing in it runs.
        response["Content-Security-Policy"] = "sandbox; default-src 'none'"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def _decision(self, request, object_id, *, form_class, title, apply, form_kwargs=None):
        if not self.has_change_permission(request):
            raise PermissionDenied
        mail = self._mail(request, object_id)
        change_url = reverse("admin:desk_inboundmail_change", args=[mail.pk])
        form = form_class(request.POST if request.method == "POST" else None, **(form_kwargs or {}))
        if request.method == "POST" and form.is_valid():
            if getattr(form, "visit_to_choose", None) and form.visit_to_choose():
                # The customer is chosen: now which of their visits, on the same page.
                form = form.offer_visits()
            else:
                try:
                    apply(mail, form.cleaned_data)
                except InboundError as error:
                    form.add_error(None, error.message)
                else:
                    self.message_user(request, gettext("Saved."), messages.SUCCESS)
                    return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "mail": mail,
            "form": form,
            "media": self.media + form.media,
            "back_url": change_url,
        }
        return TemplateResponse(request, "desk/inbound/decide.html", context)

    def assign_view(self, request, object_id):
        return self._decision(
            request,
            object_id,
            form_class=AssignForm,
            form_kwargs={"admin_site": self.admin_site},
            title=gettext("Assign the mail to a customer"),
            apply=lambda mail, data: inbound_assign(
                mail=mail, customer=data["customer"], appointment=data.get("appointment"), actor=request.user
            ),
        )

    def dismiss_view(self, request, object_id):
        return self._decision(
            request,
            object_id,
            form_class=DismissForm,
            title=gettext("No reply needed"),
            apply=lambda mail, data: inbound_dismiss(mail=mail, reason=data["reason"], actor=request.user),
        )

    @admin.action(description=_("No reply needed"), permissions=["change"])
    def no_reply_needed(self, request, queryset):
        """Several mails at once (spam, thank-yous): one reason for all, each journalled and its promise voided."""
        mails = list(queryset.order_by("pk"))
        form = DismissForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._action_page(request, mails, form, "no_reply_needed", gettext("No reply needed"))
        try:
            closed, skipped = inbound_dismiss_many(mails=mails, reason=form.cleaned_data["reason"], actor=request.user)
        except InboundError as error:
            self.message_user(request, error.message, messages.ERROR)
            return None
        if closed:
            self.message_user(
                request,
                ngettext(
                    "%(count)d mail needs no reply; its reply promise is voided.",
                    "%(count)d mails need no reply; their reply promises are voided.",
                    len(closed),
                )
                % {"count": len(closed)},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d mail was answered or closed already and was left as it was.",
                    "%(count)d mails were answered or closed already and were left as they were.",
                    len(skipped),
                )
                % {"count": len(skipped)},
                messages.WARNING,
            )
        return None
