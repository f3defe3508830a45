"""Reading an entry as a person in a given language does, from its data alone."""

from django.utils import translation

from journal.models import JournalEntry
from journal.rendering import entry_text


def as_read_in(language: str, entry: JournalEntry) -> str:
    """The entry's text for a reader in `language`, with its stored text replaced by "x": what shows is built
    from the action and data, or is "x" where it could not be."""
    from_data_only = JournalEntry(
        action=entry.action,
        data=entry.data,
        occurred_at=entry.occurred_at,
        channel=entry.channel,
        direction=entry.direction,
        summary="x",
    )
    with translation.override(language):
        return entry_text(from_data_only)
