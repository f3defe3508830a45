"""The slow-changing inputs of every free-window page, kept across requests: the firm, the working hours
of the technicians who do a service, the firm's closures. Read-only.

Issue #11: building their three queries cost a customer's booking page more than the database answering
them, on every request, for rows the office changes a few times a year. Each process keeps what it read
under the version it saw in the Django cache (one small value; Redis when there is one, so every worker
sees a bump); any save or delete of these rows, from the admin or anywhere else, puts a new version there
when its transaction commits (the signals below). A page reads the version first and the rows after it,
so what it keeps is never older than the version it keeps it under.

Never kept: what is read inside a transaction (it may still roll back: tests, services), nor when the
cache cannot be read (Redis down: the page reads the database, as before). With the local-memory cache
(no Redis) the version is per process: fine for one web process (runserver, the Procfile); several
workers without Redis see another worker's change after at most MAX_AGE_SECONDS.
"""

import logging
import secrets
import threading
import time as clock
from collections import defaultdict
from datetime import date, time

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from appointments.models import Closure, ServiceType, Technician, WorkingPeriod
from customers.models import Firm

logger = logging.getLogger(__name__)

VERSION_KEY = "doorstep:plan-inputs:version"
# The longest a process trusts what it keeps without a version it can see change (see above).
MAX_AGE_SECONDS = 60
# After the cache failed to answer, this process reads the database without asking it for this long: a hung
# Redis costs its socket timeout, which no page should wait for more than once in a while.
CACHE_PAUSE_SECONDS = 30
_cache_paused_until = 0.0

_lock = threading.Lock()
# {"version": str, "at": monotonic seconds, "firm": (Firm | None,), "closures": [...], "hours": {service id: ...}}
# Replaced, never emptied in place: a request still filling the previous one only fills what nobody reads.
_kept: dict = {}

WorkingHours = dict[int, dict[int, list[tuple[time, time]]]]


def _current_version() -> str | None:
    """The version in the cache, a new one if it has none; None if the cache cannot be read."""
    global _cache_paused_until
    if clock.monotonic() < _cache_paused_until:
        return None
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, secrets.token_hex(8), timeout=None)
            version = cache.get(VERSION_KEY)
    except Exception as error:  # noqa: BLE001  (Redis down or hung: the database still answers)
        _cache_paused_until = clock.monotonic() + CACHE_PAUSE_SECONDS
        logger.warning(
            "Working hours, closures and the firm are read from the database for %d s: the cache did not answer (%s)",
            CACHE_PAUSE_SECONDS,
            error,
        )
        return None
    return version


def _kept_for_now() -> dict | None:
    """The process's kept inputs, emptied when the version moved on; None when nothing may be kept now."""
    if connection.in_atomic_block:
        return None
    version = _current_version()
    if version is None:
        return None
    global _kept
    with _lock:
        if _kept.get("version") != version or clock.monotonic() - _kept.get("at", 0) > MAX_AGE_SECONDS:
            _kept = {"version": version, "at": clock.monotonic(), "hours": {}}
        return _kept


def firm() -> Firm | None:
    """Firm.objects.first(), as every customer page shows it. Read-only: never save the returned row."""
    kept = _kept_for_now()
    if kept is not None and "firm" in kept:
        return kept["firm"][0]
    row = Firm.objects.first()
    if kept is not None:
        kept["firm"] = (row,)
    return row


def closures(first_day: date, last_day: date) -> list[tuple[date, date, str]]:
    """(first day, last day, reason) of each closure that meets [first_day, last_day]."""
    kept = _kept_for_now()
    if kept is None:
        return list(
            Closure.objects.filter(first_day__lte=last_day, last_day__gte=first_day).values_list(
                "first_day", "last_day", "reason"
            )
        )
    if "closures" not in kept:
        # A firm closes a few days a year: all of them are fewer rows than one week of visits.
        kept["closures"] = list(Closure.objects.order_by("first_day").values_list("first_day", "last_day", "reason"))
    return [closure for closure in kept["closures"] if closure[0] <= last_day and closure[1] >= first_day]


def working_hours(service_type: ServiceType) -> WorkingHours:
    """Each active technician who does the service (by name) with their working hours by weekday, in order.

    One who has no working hours is never free, so is left out. The caller must not change what it gets."""
    kept = _kept_for_now()
    if kept is not None and service_type.pk in kept["hours"]:
        return kept["hours"][service_type.pk]
    hours: WorkingHours = {}
    for technician_id, weekday, starts, ends in (
        WorkingPeriod.objects.filter(technician__is_active=True, technician__service_types=service_type)
        .order_by("technician__display_name", "technician_id", "starts")
        .values_list("technician_id", "weekday", "starts", "ends")
    ):
        hours.setdefault(technician_id, defaultdict(list))[weekday].append((starts, ends))
    hours = {technician_id: dict(by_day) for technician_id, by_day in hours.items()}
    if kept is not None:
        kept["hours"][service_type.pk] = hours
    return hours


def _publish_new_version() -> None:
    global _kept
    with _lock:
        _kept = {}
    try:
        cache.set(VERSION_KEY, secrets.token_hex(8), timeout=None)
    except Exception as error:  # noqa: BLE001  (other processes fall back on MAX_AGE_SECONDS)
        logger.warning(
            "Other processes see the new working hours, closures or firm within %d s: the cache did not answer (%s)",
            MAX_AGE_SECONDS,
            error,
        )


def changed(**_kwargs) -> None:
    """A row the kept inputs come from changed: every process reads them again once this commits."""
    transaction.on_commit(_publish_new_version)


def connect_signals() -> None:
    for model in (Firm, Closure, WorkingPeriod, Technician, ServiceType):
        post_save.connect(changed, sender=model, dispatch_uid=f"plan-inputs-save-{model.__name__}")
        post_delete.connect(changed, sender=model, dispatch_uid=f"plan-inputs-delete-{model.__name__}")
    m2m_changed.connect(changed, sender=Technician.service_types.through, dispatch_uid="plan-inputs-services")
