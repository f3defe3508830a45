"""State changes of the desk. Views, admin actions and tasks load objects and call these."""

from desk.services.promises import (
    PromiseError,
    promise_keep,
    promise_make,
    promise_move,
    promise_reassign,
    promise_void,
)

__all__ = ["PromiseError", "promise_keep", "promise_make", "promise_move", "promise_reassign", "promise_void"]
from desk.services.page import desk_mark_seen  # noqa: E402, F401
