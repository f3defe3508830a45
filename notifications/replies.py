"""Finding the outbox message a reply or a bounce report is about.

Three ways in, for the desk's inbound mail: the reply address (settings.INBOUND_REPLY_ADDRESS, e.g.
"office+{token}@mail.firm.example", carries a token naming the message), our Message-ID quoted in
In-Reply-To/References, and the Message-ID a bounce report names. The token is the message's id and an
HMAC of it (SECRET_KEY; one made under a key now in SECRET_KEY_FALLBACKS still counts): lower-case letters
and digits only, as some mail servers lower-case addresses.

Our Message-IDs are signed the same way (`<id.nonce.signature@host>`, a salt of their own): anyone can
write a References header, so only an id whose signature holds names one of our mails. A provider's
tracking webhook is authenticated by anymail, so its report may also name the provider's own id.
"""

import base64
import re
import secrets
from email.utils import getaddresses

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int, int_to_base36

from config.keyed_hashes import keyed_digests
from notifications.models import OutboxMessage

TOKEN_PLACEHOLDER = "{token}"
# 80 bits: guessing a valid token for some message is out of reach; the address stays short.
SIGNATURE_LENGTH = 16
_SALT = "notifications.reply-address"
# The longest id base36 writes for a 64-bit key.
_TOKEN = re.compile(rf"(?P<id>[0-9a-z]{{1,13}})(?P<signature>[a-z2-7]{{{SIGNATURE_LENGTH}}})")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_MESSAGE_ID_SALT = "notifications.message-id"
# No length to save in a header: 120 bits.
MESSAGE_ID_SIGNATURE_LENGTH = 24
_OUR_MESSAGE_ID = re.compile(
    rf"<(?P<id>[0-9a-z]{{1,13}})\.(?P<nonce>[0-9a-f]{{16}})\.(?P<signature>[a-z2-7]{{{MESSAGE_ID_SIGNATURE_LENGTH}}})"
    r"@[^<>\s@]+>"
)


def _keyed_signatures(salt: str, value: str, length: int) -> list[str]:
    """Under the current key first: a reply to a mail sent before a key rotation still finds its message.
    Lower-case base32, as some mail servers lower-case what they carry."""
    return [base64.b32encode(digest).decode().lower()[:length] for digest in keyed_digests(salt, value)]


def _signatures(message_id: int) -> list[str]:
    return _keyed_signatures(_SALT, str(message_id), SIGNATURE_LENGTH)


def _any_matches(signature: str, expected: list[str]) -> bool:
    # Every candidate is compared, so the time taken does not tell which key (if any) matched.
    return sum(constant_time_compare(signature, candidate) for candidate in expected) > 0


def reply_token(message: OutboxMessage) -> str:
    return int_to_base36(message.pk) + _signatures(message.pk)[0]


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
    if not _any_matches(token["signature"], _signatures(message_id)):
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


def _message_id_signatures(outbox_id: int, nonce: str) -> list[str]:
    return _keyed_signatures(_MESSAGE_ID_SALT, f"{outbox_id}.{nonce}", MESSAGE_ID_SIGNATURE_LENGTH)


def new_message_id(message: OutboxMessage, *, domain: str) -> str:
    """A Message-ID for one send of `message`: unique per send, and naming the message under our signature."""
    nonce = secrets.token_hex(8)
    return f"<{int_to_base36(message.pk)}.{nonce}.{_message_id_signatures(message.pk, nonce)[0]}@{domain}>"


def outbox_id_of(message_id: str) -> int | None:
    """The outbox id one of our Message-IDs names ("<…>" or bare), if its signature holds; else None."""
    if not isinstance(message_id, str):
        return None
    ids = message_ids_in([message_id])
    if len(ids) != 1:
        return None
    # Some systems lower-case what they quote; ours is lower-case throughout.
    match = _OUR_MESSAGE_ID.fullmatch(ids[0].lower())
    if match is None:
        return None
    outbox_id = base36_to_int(match["id"])
    if not _any_matches(match["signature"], _message_id_signatures(outbox_id, match["nonce"])):
        return None
    return outbox_id


def is_our_message_id(message_id: str) -> bool:
    """Did Doorstep write this Message-ID (the signature holds)? True even if the message is gone since."""
    return outbox_id_of(message_id) is not None


def message_for_references(message_ids: list[str]) -> OutboxMessage | None:
    """The message of ours that In-Reply-To/References names; the most recent reference wins.

    Each value may be a whole header ("<a@x> <b@y>"). Only a Message-ID whose signature holds counts: a
    forged References header naming another customer's mail names nothing. Every send of a message has
    its own Message-ID, each naming the message: a reply to an earlier send finds it too.
    """
    # References lists the thread oldest first and In-Reply-To is the one answered: read from the end.
    outbox_ids = [outbox_id for outbox_id in map(outbox_id_of, reversed(message_ids_in(message_ids))) if outbox_id]
    if not outbox_ids:
        return None
    found = OutboxMessage.objects.in_bulk(outbox_ids)
    return next((found[outbox_id] for outbox_id in outbox_ids if outbox_id in found), None)


def _same_send(message: OutboxMessage, message_id: str) -> bool:
    """Does `message_id` name the message's latest send? A report on a send before "send again" does not."""
    return bool(message.provider_message_id) and message_ids_in([message.provider_message_id]) == message_ids_in(
        [message_id]
    )


def message_for_bounce(original_message_id: str) -> OutboxMessage | None:
    """The message a returned delivery report (arriving by mail, so unauthenticated) names by its Message-ID:
    only one of ours whose signature holds, and only while it names the message's latest send."""
    outbox_id = outbox_id_of(original_message_id) if original_message_id else None
    message = OutboxMessage.objects.filter(pk=outbox_id).first() if outbox_id else None
    return message if message is not None and _same_send(message, original_message_id) else None


def message_for_tracking_event(reported_id: str) -> OutboxMessage | None:
    """The message a provider's (authenticated) tracking webhook reports on: by the provider's own message id
    (Postmark, SES, SendGrid report theirs) or by our Message-ID, with or without its angle brackets.

    Both are the latest send's: a late report on a send before "send again" names nothing.
    """
    reported_id = (reported_id or "").strip() if isinstance(reported_id, str) else ""
    if not reported_id:
        return None
    bare = reported_id.strip("<>")
    if not bare:
        return None
    return (
        OutboxMessage.objects.filter(
            Q(esp_message_id__in={reported_id, bare}) | Q(provider_message_id__in={reported_id, bare, f"<{bare}>"})
        )
        .order_by("-pk")
        .first()
    )
