"""Until when a customer may move or cancel a visit online (`BOOKING_CHANGE_CUTOFF_HOURS`).

The firm plans the technicians' routes the day before; a visit moved or cancelled at the last
minute leaves a hole nobody can fill. So the links in the mails change a visit only until the
cut-off before its window opens; after that the customer calls. Two kinds of visit are the
firm's own business to rebook and have no cut-off: a missed one awaiting a new time (its window
has passed by definition), and one the office asked the customer to move ("please choose a new
time": the firm already gave up the old time).
"""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from appointments.formatting import format_day, format_time
from appointments.models import Appointment, AppointmentStatus

# The firm gave these windows up (or the visit never happened): the customer picks any time.
NO_CUTOFF_STATUSES = (AppointmentStatus.MISSED, AppointmentStatus.NEW_TIME)


def online_change_deadline(appointment: Appointment) -> datetime | None:
    """The last moment the customer may move or cancel the visit online; None where no cut-off applies."""
    if appointment.status in NO_CUTOFF_STATUSES:
        return None
    return appointment.window_start - timedelta(hours=settings.BOOKING_CHANGE_CUTOFF_HOURS)


def changeable_online(appointment: Appointment, *, now: datetime | None = None) -> bool:
    if appointment.status == AppointmentStatus.EN_ROUTE:
        return False  # the technician is driving to the door: whatever the setting, that is too late
    deadline = online_change_deadline(appointment)
    return deadline is None or (now or timezone.now()) < deadline


def deadline_text(appointment: Appointment) -> str:
    """'Mo, 30. November 2026, 20:00' in the active language; "" where no cut-off applies."""
    deadline = online_change_deadline(appointment)
    if deadline is None:
        return ""
    local = timezone.localtime(deadline)
    if local.time() == time(0, 0):
        # "until Monday, 00:00" reads as "Monday is still fine": name the evening before, as 24:00.
        return f"{format_day(local.date() - timedelta(days=1))}, 24:00"
    return f"{format_day(deadline)}, {format_time(deadline)}"


def online_change_context(appointment: Appointment) -> dict:
    """For a mail's "change or cancel" block, made when the mail is sent: until when the link works,
    or, past the cut-off, no link but the person to call (a link that only says "too late" is no help)."""
    if changeable_online(appointment):
        return {"change_until": deadline_text(appointment)}
    return {"manage_link": "", "change_too_late": True}
