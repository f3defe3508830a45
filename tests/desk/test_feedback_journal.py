"""Every feedback entry reads as a sentence in the reader's language, built from its data."""

from tests.desk.journal_texts import read
from tests.factories import local_dt

ENTRIES = {
    "feedback.received": {
        "channel": "link",
        "owner_name": "Sandra Meier",
        "due_at": local_dt(2, 12).isoformat(),
        "rating": 2,
        "comment": "Techniker kam zu spät.",
    },
    "feedback.replied": {"in_time": True},
    "feedback.closed": {"reason": "Doppelt erfasst.", "late": False},
}


def test_every_feedback_action_is_said_in_german_dutch_and_english():
    for action, data in ENTRIES.items():
        texts = {language: read(action, data, language) for language in ("de", "nl", "en")}
        assert "x" not in texts.values(), action
        assert len(set(texts.values())) == 3, (action, texts)
    assert read("feedback.received", ENTRIES["feedback.received"], "nl").endswith("2/5 Techniker kam zu spät.")


def test_feedback_closed_after_its_deadline_says_so():
    assert read("feedback.closed", {"reason": "Nicht erreichbar.", "late": True}, "en") == (
        "Feedback closed without reply, after the deadline: Nicht erreichbar."
    )
