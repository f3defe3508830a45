"""The desk's admin pages, one module per area."""

from desk.admin import inbound, promises  # noqa: F401
