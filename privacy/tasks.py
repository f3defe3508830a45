"""Retention, run by beat every night: thin tasks, the owning apps' services do the work."""

from celery import shared_task

from accounts.services import sign_in_records_expire
from appointments.services.privacy import door_locations_expire
from notifications.services import sent_bodies_expire


@shared_task(name="privacy.tasks.expire_door_locations", ignore_result=True)
def expire_door_locations() -> int:
    return door_locations_expire()


@shared_task(name="privacy.tasks.expire_message_bodies", ignore_result=True)
def expire_message_bodies() -> int:
    return sent_bodies_expire()


@shared_task(name="privacy.tasks.expire_sign_in_records", ignore_result=True)
def expire_sign_in_records() -> int:
    return sign_in_records_expire()
