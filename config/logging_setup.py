"""LOGGING for web, worker and beat: every line with time, level and logger; one JSON object a line with
LOG_FORMAT=json (python-json-logger) for a log collector.

Everything goes to the root logger's one handler on stderr. Django's runserver and request loggers and
gunicorn's own come with handlers of their own; they are routed to the root here so that their lines look
like all the others (gunicorn.conf.py hands this dict to gunicorn, config/celery.py to the worker and beat).
"""

import logging

from django.core.exceptions import ImproperlyConfigured
from pythonjsonlogger.core import RESERVED_ATTRS

from config.logging_sentry import scrub_text

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


class SecretsOutOfPaths(logging.Filter):
    """Django's lines about requests ("Not Found: /feedback/<token>/", runserver's request line) with a
    link's secret named instead of shown and without the query string, as in Sentry's events."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub_text(record.getMessage())
        record.args = ()
        return True


def logging_config(*, log_format: str = "text", level: str = "INFO", task_level: str = "INFO") -> dict:
    routed = {"handlers": [], "propagate": True}
    # On the loggers that log requests themselves (a logger's filters see only its own records).
    without_secrets = {**routed, "filters": ["secrets_out_of_paths"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter(log_format.strip().lower() or "text")},
        "filters": {"secrets_out_of_paths": {"()": "config.logging_setup.SecretsOutOfPaths"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "default"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's defaults give these their own handlers (and "django" a second console one in DEBUG,
            # which printed every warning twice); errors reach Sentry through the root.
            "django": {**routed, "level": level},
            "django.request": {**without_secrets, "level": level},
            "gunicorn.error": {**routed, "level": level},
            # One line per request (runserver's, and gunicorn's with --access-logfile; gunicorn's is made
            # without secrets by config/gunicorn_logging.py).
            "django.server": {**without_secrets, "level": "INFO"},
            "gunicorn.access": {**routed, "level": "INFO"},
            # WeasyPrint logs every step of every PDF at INFO.
            "weasyprint.progress": {"level": "WARNING"},
            # A worker logs "received" and "succeeded" for every task at INFO. `make run` sets WARNING: its
            # console then shows one line per sent mail (notifications.mail); failures still show.
            "celery.worker.strategy": {"level": task_level},
            "celery.app.trace": {"level": task_level},
        },
    }
