"""Thin tasks: ids in, rows re-read, services do the work. None is scheduled with an ETA."""

from celery import shared_task

from notifications.services import message_deliver, messages_deliver, outbox_relay, reminders_sweep


@shared_task(name="notifications.tasks.send_messages", ignore_result=True)
def send_messages(message_ids: list[int]) -> dict[int, str]:
    return messages_deliver(message_ids=message_ids)


# Kept for tasks published by an earlier release that may still wait in the broker.
@shared_task(name="notifications.tasks.send_message", ignore_result=True)
def send_message(message_id: int) -> str:
    return message_deliver(message_id=message_id)


@shared_task(name="notifications.tasks.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    return outbox_relay()


@shared_task(name="notifications.tasks.sweep_reminders", ignore_result=True)
def sweep_reminders() -> int:
    return reminders_sweep()
