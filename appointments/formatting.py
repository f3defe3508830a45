from datetime import date, datetime, timedelta

from django.utils import formats, timezone
from django.utils.translation import gettext


def format_day(day: datetime | date) -> str:
    """'Mi, 4. März 2026' in the active language; a datetime is taken in the firm's time zone."""
    if isinstance(day, datetime):
        day = timezone.localtime(day)
    return f"{formats.date_format(day, 'D')}, {formats.date_format(day, 'DATE_FORMAT')}"


def format_time(moment: datetime) -> str:
    """'13:05' in the firm's time zone."""
    return formats.time_format(timezone.localtime(moment), "H:i")


def format_window(start: datetime, end: datetime) -> str:
    """'Mi, 4. März 2026, 13:00–17:00' in the active language and the firm's time zone."""
    if timezone.localtime(start).date() == timezone.localtime(end).date():
        return f"{format_day(start)}, {format_time(start)}–{format_time(end)}"
    return f"{format_day(start)}, {format_time(start)} – {format_day(end)}, {format_time(end)}"


def format_short_day(day: datetime | date) -> str:
    """'Mi 4.3.2026': a day as a list column shows it, narrower than format_day."""
    if isinstance(day, datetime):
        day = timezone.localtime(day)
    return f"{formats.date_format(day, 'D')} {formats.date_format(day, 'SHORT_DATE_FORMAT')}"


def format_window_short(start: datetime, end: datetime) -> str:
    """'Mi 4.3.2026, 13:00–17:00' for list columns; a window over midnight keeps both days."""
    if timezone.localtime(start).date() == timezone.localtime(end).date():
        return f"{format_short_day(start)}, {format_time(start)}–{format_time(end)}"
    return f"{format_short_day(start)}, {format_time(start)} – {format_short_day(end)}, {format_time(end)}"


def format_duration(duration: timedelta) -> str:
    """'1 h 30 min', '45 min', '2 h' in the active language."""
    minutes = round(duration.total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(gettext("%(hours)s h") % {"hours": hours})
    if minutes or not hours:
        parts.append(gettext("%(minutes)s min") % {"minutes": minutes})
    return " ".join(parts)
