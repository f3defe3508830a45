"""Thin tasks for the desk: services do the work; none is scheduled with an ETA."""

from celery import shared_task

from desk.services.feedback import feedback_requests_queue
from desk.services.promises import promises_warn


@shared_task(name="desk.tasks.warn_about_promises", ignore_result=True)
def warn_about_promises() -> dict[str, int]:
    """Beat, every few minutes: owners told of promises due soon or late, leads of those left late."""
    return promises_warn()


@shared_task(name="desk.tasks.queue_feedback_requests", ignore_result=True)
def queue_feedback_requests() -> int:
    """Every 15 minutes: ask customers of visits completed FEEDBACK_REQUEST_DELAY ago how it went.

    Idempotent: one FeedbackRequest per visit is the dedupe, and each visit is re-read under a lock.
    """
    return feedback_requests_queue()
