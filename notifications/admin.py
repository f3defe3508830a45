import hashlib
import logging

from django.contrib import admin, messages
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config.admin_actions import CheckedSelectionMixin, RecordAdminMixin
from config.security import with_style_attributes
from customers.models import Language
from notifications.models import BounceKind, OutboxMessage
from notifications.registry import kind_label, registered_kinds
from notifications.rendering import render_message
from notifications.services import message_resend
from notifications.superseded import last_error_display

logger = logging.getLogger(__name__)


class LanguageFilter(admin.SimpleListFilter):
    """The mail's language by name: the field stores a bare code ("nl") without choices."""

    title = _("language")
    parameter_name = "language"

    def lookups(self, request, model_admin):
        return Language.choices

    def queryset(self, request, queryset):
        return queryset.filter(language=self.value()) if self.value() else queryset


class KindFilter(admin.SimpleListFilter):
    """Every kind by its name, staff mails an app registered included (the field's choices know only today's)."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return sorted(
            ((registration.kind, kind_label(registration.kind)) for registration in registered_kinds()),
            key=lambda choice: choice[1],
        )

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


class BounceFilter(admin.SimpleListFilter):
    """Mails that did not arrive after they were sent: the office calls these customers."""

    title = _("bounced")
    parameter_name = "bounced"

    def lookups(self, request, model_admin):
        return [("any", _("bounced or marked as spam")), *BounceKind.choices, ("no", _("no bounce reported"))]

    def queryset(self, request, queryset):
        if self.value() == "any":
            return queryset.filter(bounced_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(bounced_at__isnull=True)
        if self.value() in BounceKind.values:
            return queryset.filter(bounce_kind=self.value())
        return queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(CheckedSelectionMixin, RecordAdminMixin, admin.ModelAdmin):
    # Fits an office screen (1280 px): the recipient under the customer; version and attempts are on the page.
    list_display = ["created_at", "kind_name", "customer_and_recipient", "status_and_sent", "short_error"]
    list_filter = ["status", BounceFilter, KindFilter, LanguageFilter]
    list_select_related = ["customer", "recipient_user"]
    search_fields = [
        "to_email",
        "customer__full_name",
        "subject",
        "=appointment__id",
        "=provider_message_id",
        "=esp_message_id",
    ]
    actions = ["send_again"]
    list_per_page = 100
    fields = [
        "kind_name",
        "status",
        "bounce_display",
        "customer",
        "recipient_user",
        "appointment",
        "invitation",
        "appointment_version",
        "to_email",
        "language_name",
        "subject",
        "attempts",
        "last_error_display",
        "provider_message_id",
        "esp_message_id",
        "created_at",
        "handed_at",
        "claimed_at",
        "next_attempt_at",
        "sent_at",
        "preview",
    ]

    @admin.display(description=_("kind"), ordering="kind")
    def kind_name(self, message):
        return message.kind_label()

    @admin.display(description=_("recipient"), ordering="customer__full_name")
    def customer_and_recipient(self, message):
        if message.is_staff_mail:
            user = message.recipient_user
            name = _("%(name)s (office)") % {"name": user.get_full_name() or user.get_username()}
            about = (
                format_html(
                    '<span class="secondary">{}</span>',
                    _("about %(customer)s") % {"customer": message.customer.full_name},
                )
                if message.customer_id
                else ""
            )
            return format_html('{}<span class="secondary">{}</span>{}', name, message.to_email, about)
        return format_html('{}<span class="secondary">{}</span>', message.customer.full_name, message.to_email)

    @admin.display(description=_("status"), ordering="status")
    def status_and_sent(self, message):
        # When it went out under its state: a column of its own pushed the reason out of a 1280 px screen.
        # A bounce shows here too, in red: the mail was sent but did not arrive.
        if message.sent_at is None:
            return message.get_status_display()
        bounce = (
            format_html(
                '<strong class="bounced">{}</strong>',
                self._bounce_label(message),
            )
            if message.bounced_at
            else ""
        )
        return format_html(
            '{}<span class="secondary">{}</span>{}',
            message.get_status_display(),
            formats.date_format(timezone.localtime(message.sent_at), "SHORT_DATETIME_FORMAT"),
            bounce,
        )

    @staticmethod
    def _bounce_label(message) -> str:
        when = formats.date_format(timezone.localtime(message.bounced_at), "SHORT_DATETIME_FORMAT")
        if message.bounce_kind == BounceKind.COMPLAINT:
            return _("marked as spam %(when)s") % {"when": when}
        return _("bounced %(when)s") % {"when": when}

    @admin.display(description=_("bounce"))
    def bounce_display(self, message):
        if message.bounced_at is None:
            return _("No bounce reported.")
        if message.bounce_detail:
            return format_html("{} – {}", self._bounce_label(message), message.bounce_detail)
        return self._bounce_label(message)

    @admin.display(description=_("language"))
    def language_name(self, message):
        return Language(message.language).label if message.language in Language.values else message.language

    @admin.display(description=_("last error"))
    def short_error(self, message):
        error = last_error_display(message.last_error)
        return (error[:80] + "…") if len(error) > 80 else error

    @admin.display(description=_("last error"))
    def last_error_display(self, message):
        return last_error_display(message.last_error)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # A bounce heads the page, above every field: the office must not read on as if the mail arrived.
        message = self.get_object(request, object_id) if request.method == "GET" else None
        if message is not None and message.bounced_at is not None:
            self.message_user(request, self._bounce_banner(message), messages.ERROR)
        # The mail preview (a srcdoc frame) shows the mail's own inline styles.
        return with_style_attributes(super().change_view(request, object_id, form_url, extra_context))

    @staticmethod
    def _bounce_banner(message) -> str:
        when = formats.date_format(timezone.localtime(message.bounced_at), "DATETIME_FORMAT")
        if message.bounce_kind == BounceKind.COMPLAINT:
            text = _(
                "Marked as spam by the recipient on %(when)s: do not rely on email for this customer; call them."
            ) % {"when": when}
        else:
            text = _("This email bounced on %(when)s: it did not reach %(address)s. Check the address, or call.") % {
                "when": when,
                "address": message.to_email,
            }
        return f"{text} {message.bounce_detail}".strip()

    def get_queryset(self, request):
        # The kept mails are read one at a time on their own page, never for the list.
        return super().get_queryset(request).defer("sent_mime")

    @admin.display(description=_("Email"))
    def preview(self, message):
        """The mail as sent, if it was kept; otherwise, and labelled so, a preview from today's data."""
        context = {"message": message, **self._kept_mail(message)}
        if "kept" not in context:
            context.update(self._todays_preview(message))
        return render_to_string("admin/notifications/preview.html", context)

    def _kept_mail(self, message) -> dict:
        try:
            raw = message.sent_mime_bytes()
            if raw is None:
                return {}
            kept = message.sent_mail()
            html_part, text_part = kept.get_body(("html",)), kept.get_body(("plain",))
            return {
                "kept": True,
                "subject": kept["Subject"],
                "headers": [
                    (_("From"), kept["From"]),
                    (_("To"), kept["To"]),
                    (_("Reply to"), kept["Reply-To"]),
                    (_("Date"), kept["Date"]),
                    (_("message ID"), kept["Message-ID"]),
                ],
                "text": text_part.get_content() if text_part else "",
                # Links open in a new tab: our pages refuse to be framed (X-Frame-Options: DENY).
                "html": '<base target="_blank">' + html_part.get_content() if html_part else "",
                "attachments": [
                    {
                        "filename": part.get_filename() or "",
                        "type": part.get_content_type(),
                        "content": part.get_content(),
                    }
                    for part in kept.iter_attachments()
                ],
                "sha256": hashlib.sha256(raw).hexdigest(),
            }
        except Exception as exc:  # noqa: BLE001 - a damaged copy must not take the page down
            logger.exception("Reading the kept copy of outbox message %s failed", message.pk)
            return {"kept_error": repr(exc)}

    def _todays_preview(self, message) -> dict:
        try:
            # A savepoint: on PostgreSQL a failed query must not abort the rest of the page's transaction.
            with transaction.atomic():
                mail = render_message(message)
        except Exception as exc:  # noqa: BLE001 - the page must show a broken message, not fail with it
            logger.exception("Previewing outbox message %s failed", message.pk)
            return {"error": repr(exc)}
        html = next((content for content, mimetype in mail.alternatives if mimetype == "text/html"), "")
        return {
            "subject": mail.subject,
            "headers": [(_("To"), ", ".join(mail.to)), (_("Reply to"), ", ".join(mail.reply_to))],
            "text": mail.body,
            "html": '<base target="_blank">' + html,
        }

    @admin.action(description=_("Send the selected messages again"), permissions=["change"])
    def send_again(self, request, queryset):
        queued = sum(message_resend(message=message, actor=request.user) for message in queryset)
        skipped = queryset.count() - queued
        if queued:
            self.message_user(
                request,
                ngettext("%(count)d message queued again.", "%(count)d messages queued again.", queued)
                % {"count": queued},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request, _("Messages that are still queued or were superseded are not sent again."), messages.WARNING
            )
