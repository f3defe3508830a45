"""Office time: deadlines such as "within one working day" counted in the office's hours only.

A promise made on Friday at 16:30 with one working day to keep it is due Monday at 16:30, not Saturday;
public holidays and the firm's closures (appointments.closed_days) do not count either.
"""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from appointments.closed_days import closed_days

# Far enough for any deadline the desk sets (a few working days), even across Christmas and New Year.
SEARCH_DAYS = 60


def _parse_hours(text: str) -> tuple[time, time] | None:
    text = text.strip()
    if not text:
        return None
    opens, closes = (time.fromisoformat(part.strip()) for part in text.split("-"))
    return opens, closes


def office_hours() -> list[tuple[time, time] | None]:
    """Opening and closing time for each weekday, Monday first; None on a day the office is shut."""
    return [_parse_hours(text) for text in settings.OFFICE_HOURS]


def office_day_length() -> timedelta:
    """The longest office day: "one working day" as a duration."""
    lengths = [
        datetime.combine(date.min, closes) - datetime.combine(date.min, opens)
        for opens, closes in filter(None, office_hours())
    ]
    return max(lengths, default=timedelta(hours=8))


def office_periods(first_day: date, days: int):
    """(opens, closes) of each office day from `first_day` on, for `days` calendar days, in the firm's zone."""
    hours = office_hours()
    closed = closed_days(first_day, first_day + timedelta(days=days))
    zone = timezone.get_current_timezone()
    for offset in range(days + 1):
        day = first_day + timedelta(days=offset)
        if day in closed or hours[day.weekday()] is None:
            continue
        opens, closes = hours[day.weekday()]
        yield datetime.combine(day, opens, tzinfo=zone), datetime.combine(day, closes, tzinfo=zone)


def add_working_time(start: datetime, duration: timedelta) -> datetime:
    """The moment `duration` of office time after `start` (which may be outside office hours)."""
    remaining = duration
    start_day = timezone.localtime(start).date()
    last = start
    for opens, closes in office_periods(start_day, SEARCH_DAYS):
        begin = max(opens, start)
        if begin >= closes:
            continue
        if remaining <= closes - begin:
            return begin + remaining
        remaining -= closes - begin
        last = closes
    # Beyond the search (an office that is never open): count plain time rather than fail.
    return last + remaining


def working_time_between(start: datetime, end: datetime) -> timedelta:
    """Office time from `start` to `end` (zero if `end` is not later)."""
    if end <= start:
        return timedelta(0)
    total = timedelta(0)
    days = (timezone.localtime(end).date() - timezone.localtime(start).date()).days
    for opens, closes in office_periods(timezone.localtime(start).date(), days):
        begin, finish = max(opens, start), min(closes, end)
        if finish > begin:
            total += finish - begin
    return total


QUARTER = timedelta(minutes=15)


def on_the_quarter(moment: datetime, *, up: bool) -> datetime:
    """`moment` on the quarter hour of the firm's clock, the next one (`up`) or the one before."""
    local = timezone.localtime(moment)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    steps, rest = divmod(local - midnight, QUARTER)
    return midnight + QUARTER * (steps + 1 if up and rest else steps)


def last_quarter(closes: datetime) -> datetime:
    """The last quarter hour before closing: something due at closing time is due when nobody is there."""
    last = on_the_quarter(closes, up=False)
    return last - QUARTER if last == closes else last


def office_quarter_at_or_after(moment: datetime) -> datetime:
    """The first quarter hour at or after `moment` at which the office is open."""
    for opens, closes in office_periods(timezone.localtime(moment).date(), SEARCH_DAYS):
        candidate = max(on_the_quarter(moment, up=True), on_the_quarter(opens, up=True))
        if candidate <= last_quarter(closes):
            return candidate
    return on_the_quarter(moment, up=True)


def office_quarter_at_or_before(moment: datetime) -> datetime:
    """The last quarter hour at or before `moment` at which the office is open."""
    first_day = timezone.localtime(moment).date() - timedelta(days=SEARCH_DAYS)
    for opens, closes in reversed(list(office_periods(first_day, SEARCH_DAYS))):
        candidate = min(on_the_quarter(moment, up=False), last_quarter(closes))
        if candidate >= opens:
            return candidate
    return on_the_quarter(moment, up=False)
