"""Thin tasks: ids in, rows re-read, services do the work. None is scheduled with an ETA."""

from celery import shared_task

from notifications.services import messages_deliver, outbox_relay, reminders_sweep


@shared_task(name="notifications.tasks.send_messages", ignore_result=True)
def send_messages(message_ids: list[int]) -> dict[int, str]:
    return messages_deliver(message_ids=message_ids)


@shared_task(name="notifications.tasks.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    return outbox_relay()


@shared_task(name="notifications.tasks.sweep_reminders", ignore_result=True)
def sweep_reminders() -> int:
    return reminders_sweep()
