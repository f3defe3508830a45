"""Read by gunicorn from the working directory (whatever its command line says): its own log lines (the
master's, errors, the access log) in the same format as Django's, LOG_FORMAT and LOG_LEVEL included."""

import os

from config.logging_setup import logging_config

logconfig_dict = logging_config(
    log_format=os.environ.get("LOG_FORMAT", "text"), level=os.environ.get("LOG_LEVEL", "INFO")
)
