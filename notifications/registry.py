"""What notifications/ must be told about each kind of message by the app that queues it.

The outbox sends mails but knows nothing of what they are about. The app that queues a kind registers,
from its AppConfig.ready(), the template's data for it, its attachments, when a queued one is no longer
true, and (for kinds the clock queues rather than an event) which ones are due. So notifications/
imports nothing from those apps: they depend on it, never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from notifications.models import OutboxMessage


class UnregisteredKind(LookupError):
    """A kind nobody registered: no mail could ever be rendered for it."""


@dataclass(frozen=True)
class Attachment:
    """A file sent with the mail, in the very bytes given (an .ics keeps its CRLF line ends)."""

    content: bytes
    maintype: str
    subtype: str
    filename: str
    params: Mapping[str, str] = field(default_factory=dict)


def _no_attachments(message: OutboxMessage, context: dict[str, Any]) -> Sequence[Attachment]:
    return ()


class Audience:
    """Who a kind of message is for. A staff mail is never queued for a customer, nor the other way round."""

    CUSTOMER = "customer"
    STAFF = "staff"


@dataclass(frozen=True)
class KindRegistration:
    kind: str
    # The template's data for one message, added to what every mail has (language, customer, firm,
    # responsible person). Called in the message's language.
    context: Callable[[OutboxMessage], dict[str, Any]]
    # Right before the send: "" while the message is still true, else the coded reason
    # (notifications.superseded.superseded_reason) it is voided with. Re-reads from the database what it
    # decides on: the batch was read before the mails ahead of this one went out.
    stale_reason: Callable[..., str]
    # Files sent with the mail, given the message and its full template data. Called in the message's language.
    attachments: Callable[[OutboxMessage, dict[str, Any]], Sequence[Attachment]] = _no_attachments
    # What rendering reads through the message's foreign keys, joined once for a whole delivery batch.
    select_related: tuple[str, ...] = ()
    # For a kind the clock queues (a reminder): at `now`, the appointments whose message of this kind is due
    # and not yet queued for their current version. The reminder sweep queues them.
    due: Callable[[datetime], Iterable[Any]] | None = None
    # Customer mails get the contact person, a reply address and the firm's footer; staff mails go to one
    # office person (notifications.services.staff_message_queue) and carry none of a customer's links.
    audience: str = Audience.CUSTOMER
    # The kind's name for the office (outbox list, journal); today's customer kinds have theirs in MessageKind.
    label: Any = None


_kinds: dict[str, KindRegistration] = {}
_reason_labels: dict[str, Mapping[str, Any]] = {}


def register_kind(
    kind: str,
    *,
    context: Callable[[OutboxMessage], dict[str, Any]],
    stale_reason: Callable[..., str],
    attachments: Callable[[OutboxMessage, dict[str, Any]], Sequence[Attachment]] | None = None,
    select_related: Sequence[str] = (),
    due: Callable[[datetime], Iterable[Any]] | None = None,
    audience: str = Audience.CUSTOMER,
    label: Any = None,
) -> None:
    """Tell the outbox how messages of `kind` are rendered and when one is no longer true.

    Registering a kind again replaces it: Django may run an AppConfig's ready() more than once.
    A staff mail's kind says `audience=Audience.STAFF` and gives its `label` (lazily translated).
    """
    if audience not in (Audience.CUSTOMER, Audience.STAFF):
        raise ValueError(f"unknown audience {audience!r}")
    if len(str(kind)) > 40:
        raise ValueError(f"kind {str(kind)!r} is longer than the 40 characters the outbox stores")
    _kinds[str(kind)] = KindRegistration(
        kind=str(kind),
        context=context,
        stale_reason=stale_reason,
        attachments=attachments or _no_attachments,
        select_related=tuple(select_related),
        due=due,
        audience=audience,
        label=label,
    )


def kind_registration(kind: str) -> KindRegistration:
    try:
        return _kinds[str(kind)]
    except KeyError:
        raise UnregisteredKind(
            f"Message kind {str(kind)!r} is not registered: the app that queues it must call "
            f"notifications.registry.register_kind({str(kind)!r}, context=..., stale_reason=...) "
            "from its AppConfig.ready()."
        ) from None


def kind_label(kind: str) -> str:
    """The kind's name for the office: its MessageKind label, else the registered label, else the code."""
    from notifications.models import MessageKind

    if kind in MessageKind.values:
        return str(MessageKind(kind).label)
    registration = _kinds.get(str(kind))
    return str(registration.label) if registration is not None and registration.label else str(kind)


def registered_kinds() -> list[KindRegistration]:
    return list(_kinds.values())


def delivery_select_related() -> list[str]:
    """Every registered kind's joins, each once, in registration order."""
    return list(dict.fromkeys(path for registration in _kinds.values() for path in registration.select_related))


def register_reason_labels(key: str, labels: Mapping[str, Any]) -> None:
    """How a value stored in a stale reason's data is shown to the office, e.g. a status code by its label.

    `labels` maps stored values to (lazily translated) labels: register_reason_labels("status", dict(Status.choices)).
    """
    _reason_labels[key] = labels


def reason_label(key: str, value: str) -> Any:
    """The label registered for `value` under `key`; the value itself if none was."""
    return _reason_labels.get(key, {}).get(value, value)
