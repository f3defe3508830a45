from datetime import datetime

from django.utils import formats, timezone


def format_window(start: datetime, end: datetime) -> str:
    """'Mi, 4. März 2026, 13:00–17:00' in the active language and the firm's time zone."""
    start, end = timezone.localtime(start), timezone.localtime(end)

    def day(moment: datetime) -> str:
        return f"{formats.date_format(moment, 'D')}, {formats.date_format(moment, 'DATE_FORMAT')}"

    if start.date() == end.date():
        return f"{day(start)}, {formats.time_format(start, 'H:i')}–{formats.time_format(end, 'H:i')}"
    return f"{day(start)}, {formats.time_format(start, 'H:i')} – {day(end)}, {formats.time_format(end, 'H:i')}"
