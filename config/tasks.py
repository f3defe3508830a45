"""Housekeeping for the project as a whole."""

from importlib import import_module

from celery import shared_task
from django.conf import settings


@shared_task(name="config.tasks.clear_expired_sessions", ignore_result=True)
def clear_expired_sessions() -> None:
    """What `manage.py clearsessions` does. Django never deletes an expired session by itself, and
    every link a mail scanner opens writes one."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
