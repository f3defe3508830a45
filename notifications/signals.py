"""What the outbox tells other apps; it imports none of them, they listen."""

from django.dispatch import Signal

# Sent once per outbox message, after the commit that marked it bounced or marked as spam
# (notifications.services.message_mark_bounced). Receivers get `message=` (an OutboxMessage).
message_bounced = Signal()
