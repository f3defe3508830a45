"""Housekeeping for the project as a whole."""

from importlib import import_module

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from config.services import heartbeat_record


@shared_task(name="config.tasks.clear_expired_sessions", ignore_result=True)
def clear_expired_sessions() -> None:
    """What `manage.py clearsessions` does. Django never deletes an expired session by itself, and
    every link a mail scanner opens writes one."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()


WORKER_HEARTBEAT = "worker"


@shared_task(name="config.tasks.record_heartbeat", ignore_result=True)
def record_heartbeat() -> None:
    """Beat sends this every minute; the readiness check reads how long ago a worker last ran it."""
    heartbeat_record(name=WORKER_HEARTBEAT, at=timezone.now())
