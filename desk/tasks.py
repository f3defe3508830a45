"""Thin tasks for the desk: services do the work; none is scheduled with an ETA."""

from celery import shared_task

from desk.services.promises import promises_warn


@shared_task(name="desk.tasks.warn_about_promises", ignore_result=True)
def warn_about_promises() -> dict[str, int]:
    """Beat, every few minutes: owners told of promises due soon or late, leads of those left late."""
    return promises_warn()
