"""Reading side of website requests: the customer's link, the call times offered, who calls and when.

The link to move the call names the request and a random secret stored with it; the secret is compared
in constant time. It works while the call is still ahead and still a call (not turned into an email).
"""

import hmac
import secrets
from datetime import datetime, time, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from desk.models import PromiseState, Reachability, RequestStatus, WebRequest
from desk.working_time import QUARTER, add_working_time, office_periods, on_the_quarter

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


def in_reach(moment: datetime, reachable: str) -> bool:
    """Whether `moment` falls into the part of the day the customer said suits them (any time does)."""
    if reachable not in REACH_HOURS:
        return True
    reach_from, reach_to = REACH_HOURS[reachable]
    return reach_from <= timezone.localtime(moment).time() < reach_to


def before_closing(moment: datetime, step: timedelta = QUARTER) -> datetime:
    """`moment`, or the last quarter hour before the office closes when it falls at (or after) closing.

    A deadline of "one working day" often ends exactly at closing time (a request sent before opening,
    or on a weekend); a customer told "we call you at 17:00" would wait for a call the office cannot make.
    Earlier keeps the firm's promise; later would break it.
    """
    for opens, closes in office_periods(timezone.localtime(moment).date(), 0):
        if moment >= closes:
            return max(opens, closes - step)
    return moment


def callback_deadline(now: datetime) -> datetime:
    """The latest call time inside the firm's promise (REQUEST_CALLBACK_WITHIN of office time from `now`)."""
    # Rounded down: a deadline rounded up would be a promise broken by minutes.
    return before_closing(on_the_quarter(add_working_time(now, settings.REQUEST_CALLBACK_WITHIN), up=False))


def callback_due(*, now: datetime, reachable: str) -> datetime:
    """When to call back a request sent at `now` by someone best reached `reachable`.

    Any time: at the promise's deadline. Mornings or afternoons: the earliest quarter hour of that part of
    an office day from CALL_SLOT_LEAD after now on, as long as it is inside the promise; the promise
    comes first, so when that part of the day has no office time left before the deadline, the call
    stays at the deadline (the reply says so, see call_outside_reach).
    """
    deadline = callback_deadline(now)
    if reachable not in REACH_HOURS:
        return deadline
    reach_from, reach_to = REACH_HOURS[reachable]
    earliest = on_the_quarter(now + CALL_SLOT_LEAD, up=True)
    days = (timezone.localtime(deadline).date() - timezone.localtime(now).date()).days
    for opens, closes in office_periods(timezone.localtime(now).date(), days):
        day, zone = opens.date(), opens.tzinfo
        start = on_the_quarter(max(opens, datetime.combine(day, reach_from, tzinfo=zone), earliest), up=True)
        end = min(closes, datetime.combine(day, reach_to, tzinfo=zone))
        if start > deadline:
            break
        if start < end:
            return start
    return deadline


def call_outside_reach(web_request: WebRequest) -> str:
    """The customer's preferred part of the day ("mornings", "afternoons") when the call is not in it,
    else "". The call is at a time the customer did not prefer, because their preferred part of the day had no
    office time left inside the firm's promise: the customer is told that the promise came first.
    A call moved since (by the customer, or the office) is at a time somebody chose: not this case."""
    promise = web_request.promise
    outside = (
        web_request.status == RequestStatus.CALL_BACK
        and promise is not None
        and promise.replaces_id is None
        and not in_reach(promise.due_at, web_request.reachable)
    )
    return web_request.reachable if outside else ""


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
