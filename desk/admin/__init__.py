"""The desk's admin pages, one module per area."""

from desk.admin import inbound  # noqa: E402,F401
