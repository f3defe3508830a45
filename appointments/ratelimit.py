"""Per-IP counters in the cache (Redis in production) for link guessing and booking floods."""

from django.conf import settings
from django.core.cache import cache


def client_ip(request) -> str:
    if settings.SECURE_PROXY_SSL_HEADER and request.META.get("HTTP_X_FORWARDED_FOR"):
        # Behind our own proxy the last hop it appended is the client.
        return request.META["HTTP_X_FORWARDED_FOR"].split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def limited(request, bucket: str, *, limit: int, period_seconds: int) -> bool:
    """Count one hit; True once the client has used up `limit` hits in the current period."""
    key = f"ratelimit:{bucket}:{client_ip(request)}"
    if cache.add(key, 1, timeout=period_seconds):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=period_seconds)
        return False
    return count > limit


def is_blocked(request, bucket: str, *, limit: int) -> bool:
    return (cache.get(f"ratelimit:{bucket}:{client_ip(request)}") or 0) >= limit
