"""A mail backend that answers like an API provider through anymail: the mail gets the provider's own id."""

from types import SimpleNamespace

from django.core.mail.backends.locmem import EmailBackend

PROVIDER_MESSAGE_ID = "b7bc2f4a-e38e-4336-af7d-e6c392c2f817"


class ProviderLikeBackend(EmailBackend):
    def send_messages(self, messages):
        sent = super().send_messages(messages)
        for message in messages:
            # What anymail sets after a send: the id the provider's tracking webhooks will report.
            message.anymail_status = SimpleNamespace(message_id=PROVIDER_MESSAGE_ID, status={"sent"})
        return sent
