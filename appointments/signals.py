"""What other apps may follow about a visit without appointments/ knowing them (the desk's promises).

Sent inside the service's transaction, after the visit row is saved: a receiver's writes commit or roll
back with the change itself, and an error in a receiver undoes the change (nothing is left half-done).
"""

from django.dispatch import Signal

# The visit got another window (office, board, the customer's link, a missed visit rebooked). Arguments:
# appointment (as saved), old_window_start, old_window_end, previous_status, actor.
# Not sent for a re-order inside the window: the customer's time did not change.
visit_time_changed = Signal()

# The firm gave up the visit's window and asked the customer to choose a new one (status NEW_TIME).
# Arguments: appointment, actor.
visit_time_withdrawn = Signal()

# The visit was cancelled. Arguments: appointment, reason, actor.
visit_cancelled = Signal()

# A new visit for the same service and site answers a missed one (the missed visit keeps its time on record).
# Arguments: appointment (the missed visit), rebooked_as (the new visit), actor.
visit_rebooked = Signal()
