"""What the outbox tells other apps; it imports none of them, they listen."""

from django.dispatch import Signal

# Sent once per outbox message, after the commit that marked it bounced or marked as spam
# (notifications.services.message_mark_bounced). Receivers get `message=` (an OutboxMessage, its customer
# and recipient_user read along); `message.is_staff_mail` tells a bounced mail to an office person from
# one to a customer. A receiver that raises is logged and does not stop the others.
message_bounced = Signal()
