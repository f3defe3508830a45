"""What other apps add to the "log a contact" form, without the journal knowing them.

The desk adds "this contact keeps:" (an open promise of the customer) and "and we promised:" (a new one).
An extension registers, from its app's `ready()`:

- `fields(customer) -> dict[name, forms.Field]`: extra fields of the form (customer None: not chosen yet);
- `clean(customer, cleaned_data)`: raise journal.services.ContactError(message, field=name) for bad input;
- `apply(entry, cleaned_data, actor)`: runs inside contact_record's transaction right after the entry is
  written; raising ContactError undoes the entry too, so the contact and what it changed are one step;
- `done(cleaned_data) -> str`: optional, a sentence for the clerk's success message ("" for nothing).

Registering the same name twice replaces the first (a test may register its own).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ContactExtension:
    fields: Callable[[Any], dict]
    clean: Callable[[Any, dict], None]
    apply: Callable[[Any, dict, Any], None]
    done: Callable[[dict], str] | None = None


_extensions: dict[str, ContactExtension] = {}


def register_contact_extension(name: str, extension: ContactExtension) -> None:
    _extensions[name] = extension


def contact_extensions() -> list[ContactExtension]:
    return list(_extensions.values())
