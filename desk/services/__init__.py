"""State changes of the desk. Views, admin actions and tasks load objects and call these."""

from desk.services.promises import (
    PromiseError,
    promise_keep,
    promise_make,
    promise_move,
    promise_reassign,
    promise_void,
)
from desk.services.requests import RequestError, request_email_instead, request_move_call, request_submit  # noqa: F401

__all__ = ["PromiseError", "promise_keep", "promise_make", "promise_move", "promise_reassign", "promise_void"]
