"""The desk's admin pages, one module per area."""

from desk.admin import feedback, inbound, promises, requests  # noqa: F401
