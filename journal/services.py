from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
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
