"""Every entry about a website request reads as a sentence in the reader's language, built from its data."""

from tests.desk.journal_texts import read
from tests.factories import local_dt

ENTRIES = {
    "request.received": {"about": "Heizung  macht\nGeräusche", "possible_duplicate_of_id": 12},
    "request.call_moved": {"due_at": local_dt(2, 14).isoformat()},
    "request.email_instead": {"email": "anna@example.org"},
}


def test_every_request_action_is_said_in_german_dutch_and_english():
    for action, data in ENTRIES.items():
        texts = {language: read(action, data, language) for language in ("de", "nl", "en")}
        assert "x" not in texts.values(), action
        assert len(set(texts.values())) == 3, (action, texts)
    assert read("request.received", ENTRIES["request.received"], "en").startswith(
        "Request from the website: Heizung macht Geräusche"
    )
