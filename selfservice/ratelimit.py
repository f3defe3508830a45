"""Counters in the cache (Redis in production) for link guessing and booking floods.

The limits protect the firm from noise, not customers from each other: only failures
(a wrong or dead link) are counted per IP, so an office or a mobile carrier behind one
address never locks out a customer whose link is genuine. And they fail open: if the
cache is down or hangs, nobody is limited and every page still works.
"""

import logging
import threading
import time
from collections.abc import Mapping

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

# During an outage every request fails the same way: say so once a minute per process, not per request.
OUTAGE_LOG_INTERVAL_SECONDS = 60


class _OutageLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logged_at: float | None = None
        self._unlogged = 0

    def failed(self, error: Exception) -> None:
        with self._lock:
            now = time.time()
            if self._logged_at is not None and now - self._logged_at < OUTAGE_LOG_INTERVAL_SECONDS:
                self._unlogged += 1
                return
            unlogged, self._unlogged, self._logged_at = self._unlogged, 0, now
        logger.warning(
            "Rate limits are off: the cache did not answer (%s: %s; %d more failures since the last warning)",
            type(error).__name__,
            error,
            unlogged,
        )

    def reset(self) -> None:
        with self._lock:
            self._logged_at, self._unlogged = None, 0


outage_log = _OutageLog()


def client_ip(request) -> str:
    return client_ip_in(request.META)


def client_ip_in(environ: Mapping[str, str]) -> str:
    """The client's address in a request's META or a WSGI environ (gunicorn's access log reads it too)."""
    if settings.SECURE_PROXY_SSL_HEADER and environ.get("HTTP_X_FORWARDED_FOR"):
        # Behind our own proxy the last hop it appended is the client.
        return environ["HTTP_X_FORWARDED_FOR"].split(",")[-1].strip()
    return environ.get("REMOTE_ADDR", "")


def limited(bucket: str, who: str, *, limit: int, period_seconds: int) -> bool:
    """Count one hit of `who` (an IP, a link); True once more than `limit` hits fell into the current period.

    False whenever the cache fails: a cache outage must not take the customers' pages down with it.
    """
    key = f"ratelimit:{bucket}:{who}"
    try:
        if cache.add(key, 1, timeout=period_seconds):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=period_seconds)
                count = 1
    except Exception as error:  # noqa: BLE001 - whatever the cache client raises (refused, timeout, OOM)
        outage_log.failed(error)
        return False
    return count > limit


def bad_link_limited(request) -> bool:
    """Count a link that did not verify; True once this IP sent too many of them."""
    return limited(
        "bad-link",
        client_ip(request),
        limit=settings.RATELIMIT_BAD_LINKS,
        period_seconds=settings.RATELIMIT_PERIOD_SECONDS,
    )
