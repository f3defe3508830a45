"""State changes of the desk, one module per area. Views, admin actions and tasks load objects and call these."""

from desk.services.feedback import FeedbackError, feedback_receive, feedback_reply, feedback_request_queue
from desk.services.inbound import InboundError, inbound_assign, inbound_dismiss, inbound_receive
from desk.services.page import desk_mark_seen
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
from desk.services.requests import RequestError, request_email_instead, request_move_call, request_submit

__all__ = [
    "FeedbackError",
    "feedback_receive",
    "feedback_reply",
    "feedback_request_queue",
    "InboundError",
    "PromiseError",
    "RequestError",
    "desk_mark_seen",
    "feedback_receive",
    "feedback_reply",
    "feedback_request_queue",
    "inbound_assign",
    "inbound_dismiss",
    "inbound_receive",
    "promise_keep",
    "promise_make",
    "promise_move",
    "promise_reassign",
    "promise_report_no_answer",
    "promise_void",
    "promises_warn",
    "request_email_instead",
    "request_move_call",
    "request_submit",
]
