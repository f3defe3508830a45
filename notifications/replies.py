"""Finding the outbox message a reply or a bounce report is about.

Three ways in, for the desk's inbound mail: the reply address (settings.INBOUND_REPLY_ADDRESS, e.g.
"office+{token}@mail.firm.example", carries a token naming the message), our Message-ID quoted in
In-Reply-To/References, and the Message-ID a bounce report names. The token is the message's id and an
HMAC of it (SECRET_KEY): lower-case letters and digits only, as some mail servers lower-case addresses.
"""

import base64
import re
from email.utils import getaddresses

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import base36_to_int, int_to_base36

from journal.models import JournalEntry
from notifications.models import OutboxMessage

TOKEN_PLACEHOLDER = "{token}"
# 80 bits: guessing a valid token for some message is out of reach; the address stays short.
SIGNATURE_LENGTH = 16
_SALT = "notifications.reply-address"
# The longest id base36 writes for a 64-bit key.
_TOKEN = re.compile(rf"(?P<id>[0-9a-z]{{1,13}})(?P<signature>[a-z2-7]{{{SIGNATURE_LENGTH}}})")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def _signature(message_id: int) -> str:
    digest = salted_hmac(_SALT, str(message_id), algorithm="sha256").digest()
    return base64.b32encode(digest).decode().lower()[:SIGNATURE_LENGTH]


def reply_token(message: OutboxMessage) -> str:
    return int_to_base36(message.pk) + _signature(message.pk)


def _pattern() -> str:
    pattern = settings.INBOUND_REPLY_ADDRESS
    if pattern and pattern.count(TOKEN_PLACEHOLDER) != 1:
        raise ImproperlyConfigured(f"INBOUND_REPLY_ADDRESS must contain {TOKEN_PLACEHOLDER} exactly once.")
    return pattern


def reply_address(message: OutboxMessage) -> str | None:
    """The address replies to `message` go to, naming it; None while INBOUND_REPLY_ADDRESS is not set."""
    pattern = _pattern()
    return pattern.replace(TOKEN_PLACEHOLDER, reply_token(message)) if pattern else None


def message_for_reply_address(address: str) -> OutboxMessage | None:
    """The message whose reply address this is ("Name <office+…@…>" or the bare address); None if none is."""
    pattern = _pattern()
    if not pattern or not isinstance(address, str):
        return None
    addresses = [addr for _name, addr in getaddresses([address]) if addr]
    if len(addresses) != 1:
        return None
    before, after = pattern.split(TOKEN_PLACEHOLDER)
    match = re.fullmatch(
        re.escape(before) + r"(?P<token>[0-9a-z]+)" + re.escape(after), addresses[0].strip(), flags=re.IGNORECASE
    )
    if match is None:
        return None
    token = _TOKEN.fullmatch(match["token"].lower())
    if token is None:
        return None
    message_id = base36_to_int(token["id"])
    if not constant_time_compare(token["signature"], _signature(message_id)):
        return None
    return OutboxMessage.objects.filter(pk=message_id).first()


def message_ids_in(values: list[str]) -> list[str]:
    """Every <Message-ID> in the given header values, in order, each once; a bare id gets its brackets."""
    found = []
    for value in values or []:
        if not isinstance(value, str):
            continue
        ids = _MESSAGE_ID.findall(value)
        if not ids and value.strip() and not any(char.isspace() for char in value.strip()):
            ids = [f"<{value.strip().strip('<>')}>"]
        found += ids
    return list(dict.fromkeys(found))


def message_for_references(message_ids: list[str]) -> OutboxMessage | None:
    """The message of ours that In-Reply-To/References names; the most recent reference wins.

    Each value may be a whole header ("<a@x> <b@y>"). A message sent again has a new Message-ID; a reply
    to its earlier send is found through the send recorded in the journal.
    """
    ids = message_ids_in(message_ids)
    if not ids:
        return None
    by_id = {
        message.provider_message_id: message for message in OutboxMessage.objects.filter(provider_message_id__in=ids)
    }
    earlier_sends = {}
    if len(by_id) < len(ids):
        entries = JournalEntry.objects.filter(action__startswith="message.", data__message_id__in=ids)
        earlier_sends = {
            entry["data"]["message_id"]: entry["data"].get("outbox_id")
            for entry in entries.order_by("occurred_at").values("data")
        }
    # References lists the thread oldest first and In-Reply-To is the one answered: read from the end.
    for message_id in reversed(ids):
        if message_id in by_id:
            return by_id[message_id]
        if earlier_sends.get(message_id):
            return OutboxMessage.objects.filter(pk=earlier_sends[message_id]).first()
    return None


def message_for_bounce(original_message_id: str) -> OutboxMessage | None:
    """The message a bounce report (a provider's webhook, a returned delivery report) names by its Message-ID."""
    return message_for_references([original_message_id]) if original_message_id else None
