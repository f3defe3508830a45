"""The desk's admin pages, one module per area."""

from desk.admin import feedback, inbound, promises  # noqa: F401
