"""The .ics that goes with confirmations, changes and cancellations.

One stable UID per appointment and SEQUENCE = version, so calendars update the
entry instead of growing duplicates; METHOD:CANCEL removes it. No ORGANIZER
(the customer's calendar must not try to reply to us) and never a secret link
in DESCRIPTION: calendars get shared.
"""

from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

METHOD_REQUEST = "REQUEST"
METHOD_CANCEL = "CANCEL"
METHOD_PUBLISH = "PUBLISH"  # a file the customer downloads, not an invitation to answer


def appointment_uid(appointment) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"appointment-{appointment.pk}@{host}"


def render_ics(
    *, appointment, method: str, summary: str, description: str, location: str, language: str | None = None
) -> bytes:
    start = timezone.localtime(appointment.window_start)
    end = timezone.localtime(appointment.window_end)
    calendar = Calendar.new(method=method, prodid="-//Doorstep//Appointments//EN")
    event = Event.new(
        uid=appointment_uid(appointment),
        # A cancellation changes neither time nor technician, so the version
        # stays; calendars only apply a CANCEL whose SEQUENCE is higher than the
        # last REQUEST they saw.
        sequence=appointment.version + (1 if method == METHOD_CANCEL else 0),
        stamp=timezone.now(),
        start=start,
        end=end,
        summary=summary,
        description=description,
        location=location,
        status="CANCELLED" if method == METHOD_CANCEL else "CONFIRMED",
    )
    if language:
        # The texts' language (RFC 5545 LANGUAGE), like <html lang> in the mail: for screen readers and spelling.
        for name in ("SUMMARY", "DESCRIPTION", "LOCATION"):
            if name in event:
                event[name].params["LANGUAGE"] = language
    calendar.add_component(event)
    # A short VTIMEZONE covering the visit, not the library's default 1970–2038.
    calendar.add_missing_timezones(
        first_date=start.date() - timedelta(days=1), last_date=end.date() + timedelta(days=1)
    )
    return calendar.to_ical()
