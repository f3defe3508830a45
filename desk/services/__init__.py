"""State changes of the desk. Views, admin actions and tasks load objects and call these."""

from desk.services.feedback import FeedbackError, feedback_receive, feedback_reply, feedback_request_queue  # noqa: F401
from desk.services.promises import (
    PromiseError,
    promise_keep,
    promise_make,
    promise_move,
    promise_reassign,
    promise_report_no_answer,
    promise_void,
    promises_warn,
)
from desk.services.requests import RequestError, request_email_instead, request_move_call, request_submit  # noqa: F401

__all__ = ["PromiseError", "promise_keep", "promise_make", "promise_move", "promise_reassign", "promise_void"]
__all__ += ["promise_report_no_answer", "promises_warn"]
from desk.services.inbound import InboundError, inbound_assign, inbound_dismiss, inbound_receive  # noqa: E402,F401
