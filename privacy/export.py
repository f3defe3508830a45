"""Everything stored about one customer, as a ZIP: one JSON file per kind, the mails as .eml, the attachments,
and a summary page a person can read (GDPR Art. 15 and 20). Reads only; recording the export is a service.

The summary is in the customer's language: the export is their copy of their data, and the office hands it
to them. The JSON keeps the stored values as they are (codes, ISO times), which any program reads.
"""

import json
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from appointments.models import Appointment, BookingInvitation, VisitAttempt
from customers.models import Customer
from desk.models import Feedback, InboundAttachment, Promise, WebRequest
from desk.services.privacy import customer_inbound_mails
from journal.models import JournalEntry
from journal.rendering import entry_text
from notifications.models import OutboxMessage

# Secrets of links and internal bookkeeping: not data about the customer, and a working link in a file that
# gets mailed around would be a key to their bookings.
NOT_EXPORTED = {"nonce", "link_secret", "secret", "dedupe_key", "claim_token", "sent_mime", "raw_compressed"}
# The kinds, in the order of the summary, with the name each file stands for.
KINDS = {
    "customer": _("customer record"),
    "visits": _("visits"),
    "invitations": _("invitations to book"),
    "door_attempts": _("missed visits (at the door)"),
    "journal": _("journal entries"),
    "messages": _("messages sent"),
    "promises": _("promises"),
    "requests": _("website requests"),
    "inbound_mails": _("mails received"),
    # The list's word (German "Rückmeldungen"), as the other kinds are plurals; see Feedback.Meta.
    "feedback": pgettext_lazy("plural", "feedback"),
}
# Kept in memory up to this size, then on disk: attachments may add up to many megabytes.
SPOOL_BYTES = 8 * 1024 * 1024


def _person(user) -> str | None:
    return (user.get_full_name() or user.get_username()) if user is not None else None


def _row(obj: Model, **extra: Any) -> dict[str, Any]:
    """The stored fields as they are, with each choice's label beside its code."""
    row = {}
    for model_field in obj._meta.concrete_fields:
        if model_field.name in NOT_EXPORTED:
            continue
        value = getattr(obj, model_field.attname)
        row[model_field.attname] = str(value) if model_field.name in ("phone", "file") else value
        if model_field.choices and value not in (None, ""):
            row[f"{model_field.name}_label"] = str(getattr(obj, f"get_{model_field.name}_display")())
    return {**row, **extra}


def _mail_parts(message: OutboxMessage) -> dict[str, Any]:
    kept = message.sent_mail()
    if kept is None:
        return {"body_text": None, "body_html": None, "attachments": []}
    text, html = kept.get_body(("plain",)), kept.get_body(("html",))
    return {
        "body_text": text.get_content() if text else "",
        "body_html": html.get_content() if html else "",
        "attachments": [part.get_filename() or part.get_content_type() for part in kept.iter_attachments()],
    }


def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("._")[:80] or "file"


@dataclass
class CustomerExport:
    """What is stored about one customer, read once: counts for the pages, rows for the files."""

    customer: Customer
    kinds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    files: list[tuple[str, Any]] = field(
        default_factory=list
    )  # (path in the ZIP, a FieldFile or what reads the bytes)

    def counts(self) -> dict[str, int]:
        return {kind: len(rows) for kind, rows in self.kinds.items()}

    def labelled_counts(self) -> list[tuple[str, str, int]]:
        """(file, what it holds, how many) for the office's pages."""
        return [(f"{kind}.json", KINDS[kind], len(self.kinds[kind])) for kind in KINDS]


def customer_export_read(customer: Customer) -> CustomerExport:
    # In her language, like the summary: the labels beside the codes and the journal's sentences are read
    # here, and the office's language would leave her with words she may not read.
    with translation.override(customer.preferred_language):
        return _export_read(customer)


def _export_read(customer: Customer) -> CustomerExport:
    export = CustomerExport(customer=customer)
    language = customer.preferred_language
    export.kinds["customer"] = [_row(customer, responsible_name=_person(customer.responsible))]
    visits = Appointment.objects.filter(customer=customer).select_related("service_type", "technician")
    export.kinds["visits"] = [
        _row(
            visit,
            service_type_name=visit.service_type.localized_name(language),
            technician_name=visit.technician.display_name if visit.technician else None,
        )
        for visit in visits.order_by("window_start", "pk")
    ]
    export.kinds["invitations"] = [
        _row(invitation, service_type_name=invitation.service_type.localized_name(language))
        for invitation in BookingInvitation.objects.filter(customer=customer).select_related("service_type")
    ]
    export.kinds["door_attempts"] = [
        _row(attempt, technician_name=attempt.technician.display_name)
        for attempt in VisitAttempt.objects.filter(appointment__customer=customer)
        .select_related("technician")
        .order_by("at", "pk")
    ]
    export.kinds["journal"] = [
        _row(entry, text=entry_text(entry), actor_name=_person(entry.actor))
        for entry in JournalEntry.objects.filter(customer=customer)
        .select_related("actor")
        .order_by("occurred_at", "pk")
    ]
    messages = []
    for message in OutboxMessage.objects.filter(customer=customer).order_by("created_at", "pk"):
        messages.append(_row(message, kind_label=message.kind_label(), **_mail_parts(message)))
        if message.sent_mime:
            export.files.append((f"messages/{message.pk}.eml", message.sent_mime_bytes))
    export.kinds["messages"] = messages
    export.kinds["promises"] = [
        _row(promise, owner_name=_person(promise.owner))
        for promise in Promise.objects.filter(customer=customer).select_related("owner").order_by("created_at", "pk")
    ]
    export.kinds["requests"] = [_row(request) for request in WebRequest.objects.filter(customer=customer)]
    mails = list(customer_inbound_mails(customer_id=customer.pk).order_by("received_at", "pk"))
    attachments: dict[int, list[dict[str, Any]]] = {}
    for attachment in InboundAttachment.objects.filter(mail__in=mails).order_by("pk"):
        path = (
            f"inbound_mails/{attachment.mail_id}/{attachment.pk}-{_safe_name(attachment.name)}"
            if attachment.file
            else None
        )
        attachments.setdefault(attachment.mail_id, []).append(_row(attachment, path_in_export=path))
        if path:
            export.files.append((path, attachment.file))
    export.kinds["inbound_mails"] = []
    for mail in mails:
        export.kinds["inbound_mails"].append(
            _row(mail, attachments=attachments.get(mail.pk, []), raw_in_export=f"inbound_mails/{mail.pk}.eml")
        )
        export.files.append((f"inbound_mails/{mail.pk}.eml", lambda mail=mail: mail.raw))
    export.kinds["feedback"] = [
        _row(feedback) for feedback in Feedback.objects.filter(customer=customer).order_by("received_at", "pk")
    ]
    return export


def summary_html(export: CustomerExport) -> str:
    with translation.override(export.customer.preferred_language):
        return render_to_string(
            "privacy/export_summary.html",
            {"export": export, "customer": export.customer, "kinds": export.kinds, "now": timezone.now()},
        )


def customer_export_zip(export: CustomerExport):
    """The ZIP in a temporary file (in memory while small), rewound for reading."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("summary.html", summary_html(export))
        for kind, rows in export.kinds.items():
            archive.writestr(f"{kind}.json", json.dumps(rows, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
        for path, content in export.files:
            if callable(content):
                archive.writestr(path, content())
                continue
            try:
                with content.open("rb") as source, archive.open(path, "w") as target:
                    while chunk := source.read(1024 * 1024):
                        target.write(chunk)
            except FileNotFoundError:
                archive.writestr(path + ".missing.txt", "The file was no longer in storage.")
    spool.seek(0)
    return spool
