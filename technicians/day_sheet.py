"""The technician's day sheet: one day's visits on A4 paper, in the order they are planned, with room to write.

A heating technician keeps it on the clipboard in the van: where to be when, whom to call,
what the office noted, and boxes for the arrival and finish times, notes and the customer's
signature. Printed in the language given (the technician pages' language, or the firm's).

Rendered like the door cards (appointments.cards): WeasyPrint with the cards' narrowed URL
fetcher and shared font configuration, so nothing on the sheet can make the server fetch a
URL or read a file. The sheet has its own stylesheet (technician/day_sheet_styles.html).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from weasyprint import HTML

from appointments.cards import FETCHER, STATIC_BASE_URL, font_config, with_emoji_font
from appointments.closed_days import closed_reason
from appointments.formatting import format_day, format_time
from appointments.models import Appointment, AppointmentStatus, Technician, local_midnight
from appointments.planning import working_periods_on
from customers.models import Firm

Status = AppointmentStatus
# Nobody drives to these: requested ones are not confirmed yet, cancelled ones and those whose
# time the office gave up (the customer chooses anew) are off (as on "My day" for the coming days).
NOT_ON_THE_SHEET = (Status.REQUESTED, Status.CANCELLED, Status.NEW_TIME)


@dataclass
class SheetVisit:
    """One visit as the sheet prints it, already formatted in the sheet's language."""

    number: int
    window: str
    planned: str
    customer_name: SafeString
    address: SafeString
    phone: str
    service: SafeString
    customer_notes: SafeString
    visit_notes: SafeString
    status: str
    reference: str


def _phone(customer) -> str:
    """International form, kept on one line: a number split over two lines is misread."""
    if not customer.phone:
        return ""
    return customer.phone.as_international.replace(" ", "\N{NO-BREAK SPACE}")


def _note(text: str) -> SafeString:
    """A note with its line breaks, escaped, emoji in their font."""
    text = text.strip()
    if not text:
        return mark_safe("")
    return mark_safe("<br>".join(with_emoji_font(line) for line in text.splitlines()))


def sheet_visits(*, technician: Technician, day: date):
    """The technician's visits whose window starts on `day` (local time), in the planned order of the round."""
    return (
        Appointment.objects.filter(technician=technician)
        .starting_on(day)
        .exclude(status__in=NOT_ON_THE_SHEET)
        .select_related("customer", "service_type")
        .order_by("planned_start", "id")
    )


def _sheet_visit(number: int, appointment: Appointment, language: str) -> SheetVisit:
    customer = appointment.customer
    return SheetVisit(
        number=number,
        window=f"{format_time(appointment.window_start)}–{format_time(appointment.window_end)}",
        planned=f"{format_time(appointment.planned_start)}–{format_time(appointment.planned_end)}",
        customer_name=with_emoji_font(customer.full_name),
        address=with_emoji_font(appointment.site_address),
        phone=_phone(customer),
        service=with_emoji_font(appointment.service_type.localized_name(language)),
        customer_notes=_note(customer.notes),
        visit_notes=_note(appointment.notes),
        status="" if appointment.status == Status.SCHEDULED else appointment.get_status_display(),
        reference=f"D-{appointment.pk}",
    )


def _working_hours(technician: Technician, day: date) -> str:
    periods = working_periods_on(day, technician.working_periods.order_by("starts"))
    return ", ".join(f"{format_time(start)}–{format_time(end)}" for start, end in periods)


def _time_off(technician: Technician, day: date) -> list[str]:
    """Time off that touches `day`, its part of the day; a whole day reads "all day"."""
    day_start, day_end = local_midnight(day), local_midnight(day + timedelta(days=1))
    entries = []
    for time_off in technician.time_off.filter(starts_at__lt=day_end, ends_at__gt=day_start).order_by("starts_at"):
        start, end = max(time_off.starts_at, day_start), min(time_off.ends_at, day_end)
        if start == day_start and end == day_end:
            when = _("all day")
        elif end == day_end:
            when = _("from %(time)s") % {"time": format_time(start)}
        else:
            when = f"{format_time(start)}–{format_time(end)}"
        entries.append(f"{when} ({time_off.reason})" if time_off.reason else when)
    return entries


def _css_string(text: str) -> str:
    """`text` as a CSS string literal, safe inside a <style> element (no "</style>" can end it)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ").replace("\n", " ")
    return f'"{escaped}"'


def _page_counter_css() -> SafeString:
    """The footer's "Page 1 of 2" as a CSS `content` value: the translated words around the page counters."""
    page, pages = "\x00page\x00", "\x00pages\x00"
    text = _("Page %(page)s of %(pages)s") % {"page": page, "pages": pages}
    parts = []
    for piece in text.split("\x00"):
        if piece == "page":
            parts.append("counter(page)")
        elif piece == "pages":
            parts.append("counter(pages)")
        elif piece:
            parts.append(_css_string(piece))
    return mark_safe(" ".join(parts))


def render_day_sheet(*, technician: Technician, day: date, language: str) -> bytes:
    """The day sheet of `technician` for `day`, in `language`; a day without visits gives a sheet that says so."""
    with translation.override(language):
        visits = [
            _sheet_visit(number, appointment, language)
            for number, appointment in enumerate(sheet_visits(technician=technician, day=day), start=1)
        ]
        firm = Firm.objects.first()
        footer = f"{technician.display_name} · {format_day(day)}"
        html = render_to_string(
            "technician/day_sheet.html",
            {
                "language": language,
                "firm": firm,
                "technician": technician,
                "technician_name": with_emoji_font(technician.display_name),
                "day": format_day(day),
                "visits": visits,
                "working_hours": _working_hours(technician, day),
                "time_off": _time_off(technician, day),
                "closed": closed_reason(day) or "",
                "page_counter": _page_counter_css(),
                "footer": mark_safe(_css_string(footer)),
            },
        )
    document = HTML(string=html, base_url=STATIC_BASE_URL, url_fetcher=FETCHER)
    return document.write_pdf(font_config=font_config())
