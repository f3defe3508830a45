"""gunicorn's settings, from the environment (docker-compose.yml: `gunicorn -c config/gunicorn.conf.py ...`)."""

import os
import re

from config.logging_setup import logging_config


def _seconds(text: str) -> float:
    """nginx's way of writing a duration ("60s", "2m", "90") in seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*", text)
    if not match:
        raise ValueError(f"not a duration: {text!r}")
    number, unit = float(match[1]), match[2] or "s"
    return number * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# WEB_CONCURRENCY is gunicorn's own name for the number of worker processes. Each web container runs
# this many; scale out with `docker compose up --scale web=N` instead of one huge container.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# A worker is replaced now and then, so a slow leak (WeasyPrint's font caches, say) never grows for weeks.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
accesslog = "-"
# Without the links' secrets, with the visitor's address (config/gunicorn_logging.py).
logger_class = "config.gunicorn_logging.AccessLogWithoutSecrets"
# gunicorn's own lines (the master's, errors, the access log) in the format of Django's, worker's and beat's.
logconfig_dict = logging_config(
    log_format=os.environ.get("LOG_FORMAT", "text"), level=os.environ.get("LOG_LEVEL", "INFO")
)

proxy_timeout = _seconds(os.environ.get("PROXY_TIMEOUT", "60s"))
if timeout >= proxy_timeout:
    # Otherwise a request the proxy already answered with 504 keeps a worker busy until gunicorn's own
    # timeout: the user retries, and the next worker renders the same PDF again.
    raise RuntimeError(
        f"GUNICORN_TIMEOUT ({timeout} s) must be shorter than the proxy's PROXY_TIMEOUT ({proxy_timeout:g} s)."
    )
