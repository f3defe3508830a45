"""Bounce and complaint reports from mail providers, through django-anymail's tracking webhooks.

Anymail checks the provider's signature or basic auth (settings.ANYMAIL) before anything reaches this
receiver. The report names the mail by the provider's own id (kept as esp_message_id when the mail was
sent) or by our Message-ID (provider_message_id).
"""

import logging

from anymail.signals import EventType, tracking
from django.dispatch import receiver
from django.utils import timezone

from notifications.models import BounceKind
from notifications.replies import message_for_tracking_event
from notifications.services import message_mark_bounced

logger = logging.getLogger(__name__)

BOUNCE_EVENTS = {
    EventType.BOUNCED: BounceKind.BOUNCE,
    # The provider refused to send it at all (e.g. an address on its suppression list): also undelivered.
    EventType.REJECTED: BounceKind.BOUNCE,
    EventType.COMPLAINED: BounceKind.COMPLAINT,
}


@receiver(tracking, dispatch_uid="notifications.webhooks.tracking_event_received")
def tracking_event_received(sender, event, esp_name, **kwargs):
    kind = BOUNCE_EVENTS.get(event.event_type)
    if kind is None:
        return
    message = message_for_tracking_event(event.message_id or "")
    if message is None:
        # Not ours (another system sending through the same account), from before ids were kept, or about a
        # send the office has since sent again.
        logger.info("%s %s report for unknown message %r ignored", esp_name, event.event_type, event.message_id)
        return
    detail = " – ".join(
        str(part)
        for part in dict.fromkeys([esp_name, event.reject_reason, event.description, event.mta_response])
        if part
    )
    message_mark_bounced(message=message, kind=kind, detail=detail, occurred_at=event.timestamp or timezone.now())
