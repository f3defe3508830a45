"""The technician's day as a plan: where a visit goes inside its promised window.

The customer is promised an arrival window (08:00–12:00); the office plans each visit at a
planned start inside that window, for its expected duration, followed by the service's
buffer (travel, tidying up). The technician is busy over [planned start, planned end +
buffer), so a window holds as many visits as fit one after another. A job may run past its
window's end, never past the working period it starts in.

Pure arithmetic on sorted intervals: the callers load the data (availability for many
days at once, the services for one technician under a lock).
"""

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from django.utils import timezone

# Far enough to hold any visit: a plan that ignores working hours still needs an end.
NO_END = timedelta(days=2)


class Busy:
    """A technician's busy intervals, sorted and merged, for fast overlap questions: UTC datetimes, or
    seconds since 1970 (availability), never the two mixed."""

    def __init__(self, intervals: Iterable[tuple[datetime, datetime]]):
        merged: list[list[datetime]] = []
        for start, end in sorted(intervals):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = [start for start, _end in merged]
        self.ends = [end for _start, end in merged]

    def is_free(self, start: datetime, end: datetime) -> bool:
        # The first busy interval ending after `start` is the only one that can overlap.
        index = bisect_left(self.ends, start)
        while index < len(self.ends) and self.ends[index] == start:
            index += 1  # half-open: ending exactly at `start` is fine
        return index >= len(self.starts) or self.starts[index] >= end

    def ends_between(self, first: datetime, last: datetime) -> list[datetime]:
        """The ends of busy intervals in [first, last): the moments a later visit can start."""
        return self.ends[bisect_left(self.ends, first) : bisect_left(self.ends, last)]


def earliest_start(
    *,
    window_start: datetime,
    window_end: datetime,
    needed: timedelta,
    periods: Sequence[tuple[datetime, datetime]],
    busy: Busy,
) -> datetime | None:
    """The earliest planned start inside [window_start, window_end) where `needed` (duration plus
    buffer) fits inside one of `periods` (sorted working periods) without meeting `busy`; None if
    the window is full.
    """
    return first_fit(
        window_start=in_utc(window_start),
        window_end=in_utc(window_end),
        needed=needed,
        periods=[(in_utc(period_start), in_utc(period_end)) for period_start, period_end in periods],
        busy=busy,
    )


def first_fit(*, window_start, window_end, needed, periods, busy: Busy):
    """earliest_start's rule on instants of one kind: UTC datetimes (with a timedelta `needed`), or
    seconds since 1970 (with `needed` in seconds), as availability works out many days at once.

    A free stretch begins either where the window or a working period begins, or where something
    busy ends, so those are the only starts worth trying.
    """
    for period_start, period_end in periods:
        first = max(window_start, period_start)
        if first >= window_end:
            continue
        for start in (first, *busy.ends_between(first, window_end)):
            if start + needed <= period_end and busy.is_free(start, start + needed):
                return start
    return None


def first_fits(*, windows, needed, periods, busy: Busy) -> list:
    """first_fit for each of `windows` (on instants of one kind), with the same answers: one search over the
    whole day first.

    Its answer is the earliest moment anything fits that day (a free stretch begins where a period begins
    or something busy ends, and those are the starts it tries). Nothing fits in a window that ends by then,
    a window that contains it fits there, and only the windows after it need a search of their own: a full
    day costs one search per technician, not one per window.
    """

    def search(window_start, window_end):
        return first_fit(window_start=window_start, window_end=window_end, needed=needed, periods=periods, busy=busy)

    if not all(end <= start for (_start, end), (start, _end) in pairwise(periods)):
        # first_fit answers by the order of the periods: only sorted, separate periods have one earliest moment.
        return [search(window_start, window_end) for window_start, window_end in windows]
    earliest = search(periods[0][0], periods[-1][1]) if periods else None
    fits = []
    for window_start, window_end in windows:
        if earliest is None or window_end <= earliest:
            fits.append(None)
        elif window_start <= earliest:
            fits.append(earliest)
        else:
            fits.append(search(window_start, window_end))
    return fits


def in_utc(moment: datetime) -> datetime:
    """`moment` for arithmetic: adding a duration to a local time adds wall-clock time, an hour off across
    a DST change, where the technician is busy for the real length of the job."""
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


def anywhere_in(window_start: datetime) -> list[tuple[datetime, datetime]]:
    """A "working period" without limits: the office may plan outside working hours (it is warned)."""
    return [(window_start, window_start + NO_END)]


def fits_at(*, start: datetime, needed: timedelta, periods: Sequence[tuple[datetime, datetime]], busy: Busy) -> bool:
    """Does a visit planned at `start` fit inside one working period and meet nothing busy?"""
    start = in_utc(start)
    return busy.is_free(start, start + needed) and any(
        period_start <= start and start + needed <= period_end for period_start, period_end in periods
    )


def working_periods_on(day: date, periods) -> list[tuple[datetime, datetime]]:
    """The technician's working periods (WorkingPeriod rows, in order) that fall on `day`, as aware datetimes."""
    return [
        (
            timezone.make_aware(datetime.combine(day, period.starts)),
            timezone.make_aware(datetime.combine(day, period.ends)),
        )
        for period in periods
        if period.weekday == day.weekday()
    ]
