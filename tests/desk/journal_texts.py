"""Rendering a desk entry as a reader sees it, with a stored summary that must not be what shows."""

from django.utils import translation

from journal.models import JournalEntry
from journal.rendering import entry_text


def read(action: str, data: dict, language: str) -> str:
    """The entry's sentence in `language`; its stored summary "x" shows only if no renderer could say it."""
    entry = JournalEntry(action=action, data=data, summary="x")
    with translation.override(language):
        return entry_text(entry)
