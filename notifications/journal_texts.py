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
    return _("Email queued again by the office: %(kind)s.") % {"kind": _kind(entry)}


def _sent_label(kind: MessageKind) -> str:
    return _("email sent: %(kind)s") % {"kind": kind.label}


def _not_sent_label(kind: MessageKind) -> str:
    return _("%(kind)s: no email address") % {"kind": kind.label}


def register_journal_actions() -> None:
    # The kind is part of the action code (message.reminder): one registration per kind known today.
    for kind in MessageKind:
        register_action(f"message.{kind.value}", label=lazy(_sent_label, str)(kind), render=_sent)
        register_action(f"message.{kind.value}.no_email", label=lazy(_not_sent_label, str)(kind), render=_not_sent)
    register_action("message.resend_requested", label=gettext_lazy("email to be sent again"), render=_resend)
