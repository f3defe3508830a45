"""The desk's admin pages, one module per area."""

from desk.admin import requests  # noqa: F401
