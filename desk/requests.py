"""Reading side of website requests: the customer's link, the call times offered, who calls and when.

The link to move the call names the request and a random secret stored with it; the secret is compared
in constant time. It works while the call is still ahead and still a call (not turned into an email).
"""

import hmac
import secrets
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from appointments.closed_days import closed_days
from desk.models import PromiseState, Reachability, RequestStatus, WebRequest
from desk.working_time import office_hours

# Offered call times: on the hour, from this long after now, over this many office days.
CALL_SLOT_LEAD = timedelta(hours=1)
CALL_SLOT_DAYS = 5
CALL_SLOT_STEP = timedelta(hours=1)
NOON = time(12, 0)
# What "mornings" and "afternoons" mean, inside the office's hours.
REACH_HOURS = {
    Reachability.MORNINGS: (time(0, 0), NOON),
    Reachability.AFTERNOONS: (NOON, time(23, 59)),
}


def new_link_secret() -> str:
    return secrets.token_urlsafe(32)


def request_link(web_request: WebRequest) -> str:
    return settings.SITE_URL + reverse("requests:call", args=[web_request.pk, web_request.link_secret])


def request_from_link(pk: int, secret: str) -> WebRequest | None:
    """The request the link names, if its secret is right; None for anything else (never says which part)."""
    web_request = WebRequest.objects.select_related("customer", "promise__owner__office_profile").filter(pk=pk).first()
    expected = web_request.link_secret if web_request is not None else new_link_secret()
    if not hmac.compare_digest(expected.encode(), (secret or "").encode()) or web_request is None:
        return None
    return web_request


def call_changeable(web_request: WebRequest, *, now: datetime) -> bool:
    """The customer may still move the call or ask for email: it is still a call, open, and ahead."""
    promise = web_request.promise
    return (
        web_request.status == RequestStatus.CALL_BACK
        and promise is not None
        and promise.state == PromiseState.OPEN
        and promise.due_at > now
    )


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


def within_reach(moment: datetime, reachable: str) -> datetime:
    """`moment`, or the first office time after it inside the hours the customer said suit them best."""
    if reachable not in REACH_HOURS:
        return moment
    reach_from, reach_to = REACH_HOURS[reachable]
    for opens, closes in office_periods(timezone.localtime(moment).date(), 60):
        day, zone = opens.date(), opens.tzinfo
        start = max(opens, datetime.combine(day, reach_from, tzinfo=zone))
        end = min(closes, datetime.combine(day, reach_to, tzinfo=zone))
        if start < end and moment < end:
            return max(moment, start)
    return moment


def rounded_up(moment: datetime, step: timedelta = timedelta(minutes=15)) -> datetime:
    """`moment` on the next quarter hour: a customer is told "at 08:30", not "at 08:23"."""
    local = timezone.localtime(moment)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    steps = -(-(local - midnight) // step)
    return midnight + steps * step


def before_closing(moment: datetime, step: timedelta = timedelta(minutes=15)) -> datetime:
    """`moment`, or the last quarter hour before the office closes when it falls at (or after) closing.

    A deadline of "one working day" often ends exactly at closing time (a request sent before opening,
    or on a weekend); a customer told "we call you at 17:00" would wait for a call the office cannot make.
    Earlier keeps the firm's promise; later would break it.
    """
    for opens, closes in office_periods(timezone.localtime(moment).date(), 0):
        if moment >= closes:
            return max(opens, closes - step)
    return moment


def call_slots(*, now: datetime) -> list[datetime]:
    """The call times a customer may choose: on the hour inside office hours, over the next few office days."""
    earliest = now + CALL_SLOT_LEAD
    slots: list[datetime] = []
    days = 0
    for opens, closes in office_periods(timezone.localtime(now).date(), 60):
        if closes <= earliest:
            continue
        days += 1
        if days > CALL_SLOT_DAYS:
            break
        slot = opens
        while slot < closes:
            if slot >= earliest:
                slots.append(slot)
            slot += CALL_SLOT_STEP
    return slots
