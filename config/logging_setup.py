"""LOGGING for web, worker and beat: every line with time, level and logger; one JSON object a line with
LOG_FORMAT=json (python-json-logger) for a log collector.

Everything goes to the root logger's one handler on stderr, whose formatter keeps links' secrets out of
every line (`WithoutSecrets`, `JsonWithoutSecrets`). Django's runserver and request loggers and
gunicorn's own come with handlers of their own; they are routed to the root here so that their lines look
like all the others (gunicorn.conf.py hands this dict to gunicorn, config/celery.py to the worker and beat).
"""

import logging

from django.core.exceptions import ImproperlyConfigured
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from config.logging_sentry import scrub_text, scrub_value

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Records from Django's request and runserver loggers carry the request object; it is no field to keep.
NOT_FIELDS = [*RESERVED_ATTRS, "request", "server_time"]


def formatter(log_format: str) -> dict:
    if log_format not in FORMATS:
        raise ImproperlyConfigured(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")
    if log_format == "json":
        return {
            "()": "config.logging_setup.JsonWithoutSecrets",
            "fmt": ["levelname", "name", "message"],
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
            "reserved_attrs": NOT_FIELDS,
        }
    return {"()": "config.logging_setup.WithoutSecrets", "fmt": TEXT_FORMAT}


# Not a filter on the loggers that log requests: a logger's filters see only its own records, and paths turn
# up in many (django.security.csrf's "Forbidden (...): /request/call/5/<secret>/", an exception's text,
# a stack). The handler's formatter sees every record, message, exception and stack alike.
class WithoutSecrets(logging.Formatter):
    """A line with a link's secret named instead of shown and without query strings, as in Sentry's events."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub_text(super().format(record))


class JsonWithoutSecrets(JsonFormatter):
    """Each field (message, exc_info, stack_info, extras) scrubbed before it is encoded as JSON."""

    def process_log_record(self, log_data: dict) -> dict:
        return scrub_value(super().process_log_record(log_data))


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
            "django.request": {**routed, "level": level},
            "gunicorn.error": {**routed, "level": level},
            # One line per request (runserver's, and gunicorn's with --access-logfile; gunicorn's is made
            # without secrets by config/gunicorn_logging.py).
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
