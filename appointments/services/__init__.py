"""Every change of an appointment goes through here: validated, atomic, journalled.

By topic: `rules` (what every change is checked against), `scheduling` (booking, moving, editing),
`replanning` (the plan inside the promise), `visits` (a visit's life after booking), `booking`
(invitations and what customers do online), `follow_up` (missed visits the office follows up).
"""

from appointments.services.replanning import (
    PlanMove,
    appointment_change_duration,
    appointment_plan_move,
    appointment_replan,
)
from appointments.services.rules import (
    CLOCK_SKEW_ALLOWED,
    LONGEST_ETA,
    LONGEST_WAIT_MINUTES,
    OVERLAP_CONSTRAINT,
    AppointmentError,
    has_window_opened,
    is_visit_day,
)
from appointments.services.scheduling import (
    DETAIL_FIELDS,
    RESCHEDULABLE,
    appointment_reschedule,
    appointment_schedule,
    appointment_update_details,
    invitation_close,
)
from appointments.services.visits import (
    TRANSITIONS,
    _transition,
    appointment_cancel,
    appointment_confirm,
    visit_arrive,
    visit_complete,
    visit_mark_missed,
    visit_start_trip,
)

__all__ = [
    "CLOCK_SKEW_ALLOWED",
    "DETAIL_FIELDS",
    "LONGEST_ETA",
    "LONGEST_WAIT_MINUTES",
    "OVERLAP_CONSTRAINT",
    "RESCHEDULABLE",
    "TRANSITIONS",
    "AppointmentError",
    "PlanMove",
    "_transition",
    "appointment_cancel",
    "appointment_change_duration",
    "appointment_confirm",
    "appointment_plan_move",
    "appointment_replan",
    "appointment_reschedule",
    "appointment_schedule",
    "appointment_update_details",
    "has_window_opened",
    "invitation_close",
    "is_visit_day",
    "visit_arrive",
    "visit_complete",
    "visit_mark_missed",
    "visit_start_trip",
]
