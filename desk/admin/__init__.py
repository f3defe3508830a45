"""The desk's admin pages, one module per area."""
