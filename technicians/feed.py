"""The technician's calendar feed: their visits as an iCalendar file their phone subscribes to.

A subscribed calendar replaces everything it showed with each fetch, so the feed only has to be right
at the moment it is read: a cancelled or given-up visit is simply left out (phones handle a vanished
event better than a STATUS:CANCELLED one, which several show struck through or not at all). Each visit
keeps one UID, so a calendar that does merge by UID updates its entry in place.

Times are the plan (planned start to planned end), not the window the customer was promised: that is
what the technician's day is built from. The window is in the description.

What a shared calendar may show: the service, the site address and the customer's name (the technician
rings at that door), the visit's notes and a link to the visit's page (which needs the technician's
sign-in). The customer's phone and email only when the firm allows it (Firm.calendar_feed_shows_contact).
"""

from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, Timezone, vDuration

from appointments.availability import booking_days
from appointments.formatting import format_time, format_window
from appointments.models import Appointment, AppointmentStatus, Technician, local_midnight
from customers.models import Firm

# How far back the feed reaches: last week's visits stay visible for the technician's records.
DAYS_BACK = 14
# The visits My day shows: not a requested one (not confirmed, nobody drives there yet), nor a cancelled
# one or one whose window the firm gave up; done and missed visits stay, as the day's record.
SHOWN_STATUSES = (
    AppointmentStatus.SCHEDULED,
    AppointmentStatus.EN_ROUTE,
    AppointmentStatus.ON_SITE,
    AppointmentStatus.COMPLETED,
    AppointmentStatus.MISSED,
)
# A hint to the calendar app how often to fetch again; iPhones and Google use their own schedule anyway.
REFRESH_INTERVAL = timedelta(hours=1)


def _host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def visit_uid(appointment: Appointment) -> str:
    """Stable for the visit, whatever is changed, and not the customer invitation's UID
    (notifications.calendar.appointment_uid): the two are different events in different calendars,
    and a calendar that sees both (someone forwards the customer's mail) must not merge them."""
    return f"technician-visit-{appointment.pk}@{_host()}"


def feed_range(now: datetime | None = None) -> tuple[date, date]:
    """First and last day the feed covers: two weeks back to the booking horizon."""
    today = timezone.localdate(now or timezone.now())
    _first_bookable, last_day = booking_days(now=now)
    return today - timedelta(days=DAYS_BACK), last_day


def feed_visits(technician: Technician, first_day: date, last_day: date):
    """One query whatever the number of visits."""
    return (
        Appointment.objects.filter(
            technician=technician,
            status__in=SHOWN_STATUSES,
            planned_start__gte=local_midnight(first_day),
            planned_start__lt=local_midnight(last_day + timedelta(days=1)),
        )
        .select_related("customer", "service_type")
        .order_by("planned_start", "id")
    )


def _description(appointment: Appointment, *, show_contact: bool) -> str:
    start, end = timezone.localtime(appointment.window_start), timezone.localtime(appointment.window_end)
    if start.date() == end.date():
        window = f"{format_time(start)}–{format_time(end)}"
    else:
        window = format_window(start, end)
    customer = appointment.customer
    lines = [
        _("Arrival window %(window)s") % {"window": window},
        _("Customer: %(name)s") % {"name": customer.full_name},
        _("Status: %(status)s") % {"status": appointment.get_status_display()},
    ]
    if show_contact:
        if customer.phone:
            lines.append(_("Phone: %(phone)s") % {"phone": customer.phone.as_international})
        if customer.email:
            lines.append(_("Email: %(email)s") % {"email": customer.email})
    if appointment.notes.strip():
        lines.append(_("Notes: %(notes)s") % {"notes": appointment.notes.strip()})
    lines.append(_("Open the visit: %(url)s") % {"url": visit_url(appointment)})
    return "\n".join(lines)


def visit_url(appointment: Appointment) -> str:
    return settings.SITE_URL + reverse("technician:visit", args=[appointment.pk])


def visit_event(appointment: Appointment, *, show_contact: bool, language: str) -> Event:
    service = appointment.service_type.localized_name(language)
    event = Event.new(
        uid=visit_uid(appointment),
        # Without METHOD (a published calendar, not an invitation) DTSTAMP is when the entry last changed
        # (RFC 5545 3.8.7.2): updated_at moves with every change, a re-plan included, so the file only
        # changes when a visit does (and the ETag with it). SEQUENCE follows the version like the
        # customer's invitations; a re-plan keeps the version, but subscribed calendars replace the
        # whole feed and need no rising SEQUENCE to take the new time.
        stamp=appointment.updated_at,
        last_modified=appointment.updated_at,
        sequence=appointment.version,
        start=timezone.localtime(appointment.planned_start),
        end=timezone.localtime(appointment.planned_end),
        summary=f"{service} · {appointment.site_postcode} {appointment.site_city}",
        location=f"{appointment.site_address}, {appointment.get_site_country_display()}",
        description=_description(appointment, show_contact=show_contact),
        url=visit_url(appointment),
        status="CONFIRMED",
    )
    for name in ("SUMMARY", "DESCRIPTION", "LOCATION"):
        event[name].params["LANGUAGE"] = language
    return event


def render_feed(*, technician: Technician, firm: Firm | None, now: datetime | None = None) -> bytes:
    """The technician's feed in the firm's language (technicians have no language of their own)."""
    first_day, last_day = feed_range(now)
    language = settings.LANGUAGE_CODE
    show_contact = bool(firm and firm.calendar_feed_shows_contact)
    with translation.override(language):
        name = _("Visits: %(technician)s") % {"technician": technician.display_name}
        calendar = Calendar.new(
            prodid="-//Doorstep//Technician calendar//EN",
            # A fixed UID: the random default would change the file (and its ETag) on every fetch.
            uid=f"technician-{technician.pk}-calendar@{_host()}",
            name=f"{firm.name} · {name}" if firm else name,
            refresh_interval=REFRESH_INTERVAL,
        )
        calendar.add("X-PUBLISHED-TTL", vDuration(REFRESH_INTERVAL))  # RFC 7986's REFRESH-INTERVAL for older clients
        # Always the zone, also for an empty feed (a VCALENDAR needs at least one component), and only
        # for the feed's days rather than the library's default 1970-2038.
        calendar.add_component(
            Timezone.from_tzid(
                settings.TIME_ZONE,
                first_date=first_day - timedelta(days=1),
                last_date=last_day + timedelta(days=2),
            )
        )
        for appointment in feed_visits(technician, first_day, last_day):
            calendar.add_component(visit_event(appointment, show_contact=show_contact, language=language))
    return calendar.to_ical()
