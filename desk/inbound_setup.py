"""The inbound area's receivers: providers' inbound webhooks (anymail) and notifications' bounce signal."""

import logging

from anymail.signals import inbound
from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.signals import message_bounced

logger = logging.getLogger(__name__)


def inbound_received(sender, event, esp_name, **kwargs):
    """A provider posted a mail (anymail checked its basic auth or signature first)."""
    from desk.services import InboundError, inbound_receive

    message = event.message
    if message is None:
        return
    envelope_recipient = getattr(message, "envelope_recipient", None)
    if envelope_recipient and "X-Original-To" not in message:
        # The address it was delivered to (a reply address may be only there, e.g. when Bcc'd).
        message["X-Original-To"] = envelope_recipient
    try:
        inbound_receive(raw=message.as_bytes(), source=f"webhook:{esp_name.lower()}"[:40])
    except InboundError as error:
        # Garbage or too large: the provider would only post it again; it is logged, not stored.
        logger.warning("Inbound mail from %s refused: %s", esp_name, error.code)
    # A database error propagates: the webhook answers 500 and the provider posts the mail again later.


def open_call_promise(sender, message, **kwargs):
    """Our mail to a customer bounced or was marked as spam: someone calls them (once per message)."""
    from desk.models import Promise, PromiseKind
    from desk.owners import owner_for
    from desk.services import promise_make
    from desk.working_time import add_working_time
    from journal.models import JournalEntry

    if message.customer_id is None or message.is_staff_mail:
        return
    entry = (
        JournalEntry.objects.filter(
            customer_id=message.customer_id, action__in=["message.bounce", "message.complaint"]
        )
        .filter(data__outbox_id=message.pk)
        .order_by("-occurred_at", "-id")
        .first()
    )
    with transaction.atomic():
        if entry is not None and Promise.objects.filter(kind=PromiseKind.CALL_BOUNCED, made_in=entry).exists():
            return
        owner = owner_for(customer=message.customer)
        if owner is None:
            logger.error("No office staff to call customer %s about bounced mail %s", message.customer_id, message.pk)
            return
        with translation.override(settings.LANGUAGE_CODE):
            promise_make(
                customer=message.customer,
                kind=PromiseKind.CALL_BOUNCED,
                owner=owner,
                due_at=add_working_time(timezone.now(), settings.REPLY_WITHIN),
                appointment=message.appointment,
                note=_("Our email “%(subject)s” to %(address)s did not arrive (%(detail)s).")
                % {"subject": message.subject, "address": message.to_email, "detail": message.bounce_detail},
                made_in=entry,
            )


# The journal's sentences, from each entry's data in the reader's language (no queries) ----------------


def _sender(entry) -> str:
    data = entry.data
    return f"{data['from_name']} <{data['from']}>" if data.get("from_name") else data["from"]


def render_received(entry) -> str:
    return _("Email from %(sender)s: %(subject)s") % {"sender": _sender(entry), "subject": entry.data["subject"]}


def render_auto_reply(entry) -> str:
    return _("Automatic reply from %(sender)s: %(subject)s") % {
        "sender": _sender(entry),
        "subject": entry.data["subject"],
    }


def render_dismissed(entry) -> str:
    return _("No reply needed to the email “%(subject)s”: %(reason)s") % {
        "subject": entry.data["subject"],
        "reason": entry.data["reason"],
    }


JOURNAL_ACTIONS = {
    "inbound.received": (gettext_lazy("email received"), render_received),
    "inbound.auto_reply": (gettext_lazy("automatic reply"), render_auto_reply),
    "inbound.assigned": (gettext_lazy("email assigned by the office"), render_received),
    "inbound.dismissed": (gettext_lazy("email needs no reply"), render_dismissed),
}


def setup() -> None:
    from journal.rendering import register_action

    for action, (label, render) in JOURNAL_ACTIONS.items():
        register_action(action, label=label, render=render)

    inbound.connect(inbound_received, dispatch_uid="desk.inbound_received")
    message_bounced.connect(open_call_promise, dispatch_uid="desk.inbound.open_call_promise")
