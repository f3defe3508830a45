import re
from collections.abc import Collection
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from journal.contacts import contact_extensions
from journal.models import Channel, Direction, JournalEntry


@dataclass(frozen=True)
class ContactKind:
    label: Promise
    channel: str
    direction: str


# How a person got in touch, as a clerk says it: the channel and its direction in one choice.
CONTACT_KINDS = {
    "phone_in": ContactKind(gettext_lazy("phone call from the customer"), Channel.PHONE, Direction.INBOUND),
    "phone_out": ContactKind(gettext_lazy("phone call to the customer"), Channel.PHONE, Direction.OUTBOUND),
    "email_in": ContactKind(gettext_lazy("email from the customer"), Channel.EMAIL, Direction.INBOUND),
    "email_out": ContactKind(gettext_lazy("email to the customer"), Channel.EMAIL, Direction.OUTBOUND),
    "letter_in": ContactKind(gettext_lazy("letter from the customer"), Channel.LETTER, Direction.INBOUND),
    "letter_out": ContactKind(gettext_lazy("letter to the customer"), Channel.LETTER, Direction.OUTBOUND),
    "office_visit": ContactKind(gettext_lazy("visit at the office"), Channel.VISIT, Direction.INBOUND),
}


def recorded_actor(actor: AbstractBaseUser | None) -> AbstractBaseUser | None:
    """The user to store as the one who acted: None for the system, a customer's link or an anonymous request."""
    return actor if actor is not None and actor.is_authenticated else None


# One INSERT is atomic by itself; inside a caller's transaction a savepoint would only add two round trips.
@transaction.atomic(savepoint=False)
def journal_record(
    *,
    customer,
    action: str,
    summary: str = "",
    channel: str = Channel.SYSTEM,
    direction: str = Direction.INTERNAL,
    appointment=None,
    actor: AbstractBaseUser | None = None,
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> JournalEntry:
    """Append one entry to the customer's contact journal.

    `action` and `data` say what happened; the text a reader sees is built from them in the reader's
    language (journal.rendering). `summary` is an optional fixed text, the fallback where no renderer fits.
    """
    return JournalEntry.objects.create(
        customer=customer,
        appointment=appointment,
        channel=channel,
        direction=direction,
        action=action,
        summary=summary,
        data=data or {},
        actor=recorded_actor(actor),
        occurred_at=occurred_at or timezone.now(),
    )


# A contact logged a few minutes ahead by a clock running fast is fine; later than that is a typo.
CONTACT_CLOCK_SKEW = timedelta(minutes=5)
CONTACT_NOTE_MAX_LENGTH = 5000


class ContactError(Exception):
    """A logged contact was refused. `message` is translated and safe to show to the user."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def contact_check(*, customer, appointment, note: str, occurred_at: datetime | None) -> None:
    """Raise ContactError for a contact that cannot be stored; the form asks this before the service runs."""
    if not note.strip():
        raise ContactError(_("Please note what was said or agreed."), field="note")
    if len(note) > CONTACT_NOTE_MAX_LENGTH:
        raise ContactError(
            _("Please keep the note to %(most)s characters.") % {"most": CONTACT_NOTE_MAX_LENGTH}, field="note"
        )
    if appointment is not None and appointment.customer_id != customer.pk:
        raise ContactError(_("This appointment belongs to another customer."), field="appointment")
    if occurred_at is not None and occurred_at > timezone.now() + CONTACT_CLOCK_SKEW:
        raise ContactError(_("That time lies in the future."), field="occurred_at")


@transaction.atomic
def contact_record(
    *,
    customer,
    contact: str,
    note: str,
    actor: AbstractBaseUser | None,
    appointment=None,
    occurred_at: datetime | None = None,
    extension_data: dict[str, Any] | None = None,
) -> JournalEntry:
    """A contact the office had with the customer (`contact`: a code of CONTACT_KINDS), in its own words.

    `extension_data`: the cleaned values of the fields other apps add to the form (journal.contacts); each
    extension applies them in this transaction, so a refusal (ContactError) leaves nothing stored, not even
    the entry. What a contact does beyond itself goes this way only: the promise it keeps is the desk's
    `{"keeps_promise": promise}` (desk.forms_contact), which the journal neither reads nor stores.
    """
    if contact not in CONTACT_KINDS:
        raise ContactError(_("Please choose how the contact took place."), field="contact")
    contact_check(customer=customer, appointment=appointment, note=note, occurred_at=occurred_at)
    note = note.strip()
    channel, direction = CONTACT_KINDS[contact].channel, CONTACT_KINDS[contact].direction
    data: dict[str, Any] = {"contact": contact, "note": note}
    entry = journal_record(
        customer=customer,
        appointment=appointment,
        channel=channel,
        direction=direction,
        action="contact.recorded",
        # The typed words, never translated: the fallback for raw readers says exactly what the person wrote.
        summary=note,
        data=data,
        actor=actor,
        occurred_at=occurred_at,
    )
    if extension_data is not None:
        for extension in contact_extensions():
            extension.apply(entry, extension_data, actor)
    return entry


# What an erasure keeps of an entry's data: numbers, yes/no, dates and codes (an action, a status, a field's
# name, a hash). Free text (a note, a subject, a name, an address) goes: the journal cannot know which of it
# is personal, and the renderers fall back to the action's label without it.
_CODE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?")


def shred(value: Any, *, personal: Collection[str]) -> Any:
    """`value` (JSON data) with only numbers, yes/no, dates and codes kept, and none containing a `personal`
    word (compared case-insensitively). Used for journal data and for other apps' stored message data."""
    personal = [word.casefold() for word in personal if word and word.strip()]
    kept = _shredded(value, personal)
    return None if kept is _DROPPED else kept


def _shredded(value: Any, personal: list[str]) -> Any:
    if isinstance(value, dict):
        kept = {key: _shredded(item, personal) for key, item in value.items()}
        return {key: item for key, item in kept.items() if item is not _DROPPED}
    if isinstance(value, list):
        return [item for item in (_shredded(item, personal) for item in value) if item is not _DROPPED]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str) and (_CODE.fullmatch(value) or _ISO_TIME.fullmatch(value)):
        folded = value.casefold()
        if not any(word in folded for word in personal):
            return value
    return _DROPPED


_DROPPED = object()


@contextmanager
def _erasure_sanctioned(customer_id: int):
    """The one way past the journal's triggers (migration 0004): for this customer, in this transaction.
    Taken only to remove personal data: by the erasure, and by journal_data_forget."""
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgresql:
            cursor.execute("SELECT set_config('doorstep.erasure', %s, true)", [str(customer_id)])
        else:
            cursor.execute("INSERT INTO journal_erasure_in_progress (customer_id) VALUES (%s)", [customer_id])
        try:
            yield
        finally:
            if not postgresql:
                # SQLite's transaction stays usable after a failed statement: the marker goes either way.
                cursor.execute("DELETE FROM journal_erasure_in_progress WHERE customer_id = %s", [customer_id])
        # Only after success: after an error PostgreSQL's transaction is aborted, any statement fails and would
        # hide the real error, and the transaction-local setting ends with the rollback anyway.
        if postgresql:
            cursor.execute("SELECT set_config('doorstep.erasure', '', true)")


@transaction.atomic
def journal_data_forget(
    *,
    action: str,
    keys: Collection[str],
    noted_as: str,
    customer_id: int | None = None,
    occurred_before: datetime | None = None,
) -> int:
    """Drop `keys` from the data of `action`'s entries; where one of them held a value, `noted_as` is set to
    true instead, so the entry still says there was one. Returns how many entries changed.

    For personal data the law wants gone while the entry stays: a door's location once its retention has
    passed, or on an erasure. It only removes, so it goes the erasure's way past the triggers (one customer
    at a time) without letting anything new be written into the journal.
    """
    entries = JournalEntry.objects.filter(action=action, data__has_any_keys=list(keys))
    if customer_id is not None:
        entries = entries.filter(customer_id=customer_id)
    if occurred_before is not None:
        entries = entries.filter(occurred_at__lt=occurred_before)
    by_customer: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for pk, owner, data in entries.values_list("pk", "customer_id", "data").order_by("customer_id", "pk"):
        by_customer.setdefault(owner, []).append((pk, data))
    for owner, rows in by_customer.items():
        changed = []
        for pk, data in rows:
            kept = {key: value for key, value in data.items() if key not in keys}
            if any(data.get(key) is not None for key in keys):
                kept[noted_as] = True
            changed.append(JournalEntry(pk=pk, data=kept))
        with _erasure_sanctioned(owner):
            _entries_rewrite(changed, fields=["data"])
    return sum(len(rows) for rows in by_customer.values())


@transaction.atomic
def journal_entries_erase(*, customer_id: int, personal: Collection[str]) -> int:
    """Remove the personal data from one customer's entries; returns how many entries there were.

    The entries stay (what happened when, by whom, which action): their `summary` is emptied and their
    `data` keeps only numbers, dates and codes, without any of the `personal` words (name, email, phone,
    street, matched case-insensitively). Only privacy.services.customer_erase calls this.
    """
    entries = [
        JournalEntry(pk=pk, summary="", data=shred(data or {}, personal=personal))
        for pk, data in JournalEntry.objects.filter(customer_id=customer_id).values_list("pk", "data")
    ]
    with _erasure_sanctioned(customer_id):
        _entries_rewrite(entries, fields=["summary", "data"])
    return len(entries)


def _entries_rewrite(entries: list[JournalEntry], *, fields: list[str]) -> None:
    """Write `fields` of `entries` in one statement (per batch). The journal's own queryset refuses every
    update (append-only), so a plain one does it: only inside _erasure_sanctioned, which the triggers let by."""
    models.QuerySet(JournalEntry).bulk_update(entries, fields)
