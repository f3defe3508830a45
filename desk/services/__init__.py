"""State changes of the desk. Views, admin actions and tasks load objects and call these."""

from desk.services.feedback import FeedbackError, feedback_receive, feedback_reply, feedback_request_queue  # noqa: F401
from desk.services.promises import (
    PromiseError,
    promise_keep,
    promise_make,
    promise_move,
    promise_reassign,
    promise_void,
)

__all__ = ["PromiseError", "promise_keep", "promise_make", "promise_move", "promise_reassign", "promise_void"]
