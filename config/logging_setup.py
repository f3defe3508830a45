"""LOGGING for web, worker and beat: every line with time, level and logger; one JSON object a line with
LOG_FORMAT=json (python-json-logger) for a log collector.

Everything goes to the root logger's one handler on stderr. Django's runserver and request loggers and
gunicorn's own come with handlers of their own; they are routed to the root here so that their lines look
like all the others (gunicorn.conf.py hands this dict to gunicorn, config/celery.py to the worker and beat).
"""

from django.core.exceptions import ImproperlyConfigured
from pythonjsonlogger.core import RESERVED_ATTRS

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Records from Django's request and runserver loggers carry the request object; it is no field to keep.
NOT_FIELDS = [*RESERVED_ATTRS, "request", "server_time"]


def formatter(log_format: str) -> dict:
    if log_format not in FORMATS:
        raise ImproperlyConfigured(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")
    if log_format == "json":
        return {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["levelname", "name", "message"],
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
            "reserved_attrs": NOT_FIELDS,
        }
    return {"format": TEXT_FORMAT}


def logging_config(*, log_format: str = "text", level: str = "INFO", task_level: str = "INFO") -> dict:
    routed = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter(log_format.strip().lower() or "text")},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "default"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's defaults give these their own handlers (and "django" a second console one in DEBUG,
            # which printed every warning twice); errors reach Sentry through the root.
            "django": {**routed, "level": level},
            "gunicorn.error": {**routed, "level": level},
            # One line per request (runserver's, and gunicorn's with --access-logfile).
            "django.server": {**routed, "level": "INFO"},
            "gunicorn.access": {**routed, "level": "INFO"},
            # WeasyPrint logs every step of every PDF at INFO.
            "weasyprint.progress": {"level": "WARNING"},
            # A worker logs "received" and "succeeded" for every task at INFO. `make run` sets WARNING: its
            # console then shows one line per sent mail (notifications.mail); failures still show.
            "celery.worker.strategy": {"level": task_level},
            "celery.app.trace": {"level": task_level},
        },
    }
