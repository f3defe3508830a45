from celery import shared_task

from desk.services.feedback import feedback_requests_queue


@shared_task(name="desk.tasks.queue_feedback_requests", ignore_result=True)
def queue_feedback_requests() -> int:
    """Every 15 minutes: ask customers of visits completed FEEDBACK_REQUEST_DELAY ago how it went.

    Idempotent: one FeedbackRequest per visit is the dedupe, and each visit is re-read under a lock.
    """
    return feedback_requests_queue()
