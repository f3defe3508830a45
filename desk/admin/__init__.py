"""The desk's admin pages, one module per area."""

from desk.admin import promises  # noqa: F401
from desk.admin import inbound  # noqa: E402,F401
