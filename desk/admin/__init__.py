"""The desk's admin pages, one module per area."""

from desk.admin import promises  # noqa: F401
