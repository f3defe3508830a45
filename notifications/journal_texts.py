"""What the outbox's journal entries say, built from their data in the reader's language (journal.rendering)."""

from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from journal.rendering import register_action
from notifications.models import MessageKind


def _kind(entry) -> str:
    return str(MessageKind(entry.data["kind"]).label)


def _sent(entry) -> str:
    return _("Email sent (%(kind)s): %(subject)s") % {"kind": _kind(entry), "subject": entry.data["subject"]}


def _not_sent(entry) -> str:
    return _("Not sent by email (no address on file): %(kind)s.") % {"kind": _kind(entry)}


def _resend(entry) -> str:
    text = _("Email queued again by the office: %(kind)s.") % {"kind": _kind(entry)}
    earlier = entry.data.get("earlier") or {}
    if earlier.get("to") and entry.data.get("to") and earlier["to"] != entry.data["to"]:
        text += " " + _("Now to %(address)s (before: %(earlier)s).") % {
            "address": entry.data["to"],
            "earlier": earlier["to"],
        }
    if earlier.get("bounced_at"):
        text += " " + _("The earlier send had bounced.")
    return text


def _sent_label(kind: MessageKind) -> str:
    return _("email sent: %(kind)s") % {"kind": kind.label}


def _not_sent_label(kind: MessageKind) -> str:
    return _("%(kind)s: no email address") % {"kind": kind.label}


def _staff_mail(entry) -> str:
    return _("Email to the office about this customer (%(kind)s): %(subject)s") % {
        "kind": _kind(entry),
        "subject": entry.data["subject"],
    }


def _bounced(entry) -> str:
    text = _("Email could not be delivered to %(address)s: %(subject)s") % {
        "address": entry.data["to"],
        "subject": entry.data["subject"],
    }
    return text + (f" ({entry.data['detail']})" if entry.data.get("detail") else "")


def _complained(entry) -> str:
    return _("The customer marked our email as spam: %(subject)s") % {"subject": entry.data["subject"]}


def register_journal_actions() -> None:
    # The kind is part of the action code (message.reminder): one registration per kind known today.
    for kind in MessageKind:
        register_action(f"message.{kind.value}", label=lazy(_sent_label, str)(kind), render=_sent)
        register_action(f"message.{kind.value}.no_email", label=lazy(_not_sent_label, str)(kind), render=_not_sent)
    register_action("message.resend_requested", label=gettext_lazy("email to be sent again"), render=_resend)
    register_action("message.staff_mail", label=gettext_lazy("email to the office"), render=_staff_mail)
    register_action("message.bounce", label=gettext_lazy("email bounced"), render=_bounced)
    register_action("message.complaint", label=gettext_lazy("email marked as spam"), render=_complained)
