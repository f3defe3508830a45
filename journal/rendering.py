"""What a journal entry says, in the reader's language.

An entry stores what happened: its `action` code and structured `data` (ids, ISO times, names, codes,
changed field names). The sentence a person reads is built when the entry is shown, in the language
active at that moment, so a clerk reading in German and one reading in Dutch each see their own. The
stored `summary` is the text in the office language of the day it was written: kept for readers of the
raw data, and the fallback for entries written before their action had a renderer.

The app that writes an action registers it, from its `AppConfig.ready()`; journal/ imports none of them:

    from journal.rendering import register_action

    def render_promise_made(entry) -> str:
        return _("Promised: %(what)s by %(due)s.") % {"what": ..., "due": ...}

    register_action("promise.made", label=_("promise made"), render=render_promise_made)

- `label`: a short lazy text naming the action (the journal's filter, a column header's worth).
- `render(entry) -> str`: the sentence, from `entry.action`, `entry.data`, `entry.occurred_at`,
  `entry.channel`/`direction` and nothing else: no queries (a timeline renders many entries at once; the
  actor is already joined). It may raise KeyError, TypeError or ValueError when the data lacks what it
  needs; `entry_text` then shows the stored summary instead. Without `render`, the label is the text.
- Registering the same action twice replaces the first (a test may register its own).

Writing an entry: `journal.services.journal_record(customer=..., action=..., data={...})`; `summary` is
optional (default ""), fill it only where raw-data readers need a sentence. Keep `data` JSON-serialisable
(datetimes as `.isoformat()`); free text a person typed (a note, a reason) goes into data as typed and is
shown as is, never translated. A contact the office logs (`contact.recorded`) keeps its text in
`data["note"]` (older ones may carry `data["keeps_promise"]`, the id of the promise they kept).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise

Renderer = Callable[[Any], str]


@dataclass(frozen=True)
class ActionRendering:
    label: str | Promise
    render: Renderer | None = None


_actions: dict[str, ActionRendering] = {}


def register_action(action: str, *, label: str | Promise, render: Renderer | None = None) -> None:
    _actions[action] = ActionRendering(label=label, render=render)


def registered_actions() -> dict[str, ActionRendering]:
    return dict(_actions)


def action_label(action: str) -> str:
    """The action's name in the active language; an action nobody registered is shown as its code."""
    registration = _actions.get(action)
    return str(registration.label) if registration else action


def entry_text(entry) -> str:
    """The entry as a sentence in the active language, or its stored summary where that cannot be built."""
    registration = _actions.get(entry.action)
    if registration is None:
        return entry.summary or entry.action
    if registration.render is None:
        return entry.summary or str(registration.label)
    try:
        text = registration.render(entry)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        # Old entries, or data written before the renderer knew a key: the stored text still tells it.
        text = ""
    return text or entry.summary or str(registration.label)
