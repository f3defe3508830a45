"""A mail backend for runs without a mail server (`make run`, the embedded default)."""

import email.policy
import logging
import threading
from urllib.parse import urljoin

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

logger = logging.getLogger("notifications.mail")


class ConsoleSummaryBackend(BaseEmailBackend):
    """One log line per mail (kind, recipient, subject, outbox id) instead of the whole mail.

    Clicking through the demo sends hundreds of mails; printed whole, they bury
    everything else on the console. The mail itself is kept on its outbox row, as
    it would have gone out, and the line links to it in the admin.
    `EMAIL_URL=console://` prints whole mails again.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()

    def send_messages(self, email_messages):
        with self._lock:
            for message in email_messages:
                # Built as the SMTP backend builds it: a header that would fail there fails here too,
                # and the bytes the outbox keeps are the ones a mail server would have received.
                message.message(policy=email.policy.SMTP)
                logger.info("%s", summary_line(message))
        return len(email_messages)


def summary_line(message) -> str:
    """'Mail confirmation, outbox 54, to anna@example.com: "Subject" – <admin link>' on one line."""
    outbox_id = getattr(message, "outbox_id", None)
    kind = getattr(message, "kind", None)
    parts = ["Mail"]
    if kind:
        parts.append(f" {kind}")
    if outbox_id is not None:
        parts.append(f", outbox {outbox_id}")
    parts.append(f", to {', '.join(message.recipients())}: “{' '.join(str(message.subject).split())}”")
    if outbox_id is not None:
        path = reverse("admin:notifications_outboxmessage_change", args=[outbox_id])
        parts.append(f" – full mail: {urljoin(settings.SITE_URL, path)}")
    return "".join(parts)
