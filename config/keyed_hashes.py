"""HMACs of our own short codes (reply addresses, Message-IDs, printed cards) that survive a key rotation.

Django's signer accepts what SECRET_KEY_FALLBACKS signed; our codes are truncated HMACs in formats of their
own (an address some servers lower-case, a code typed by hand), so they check the fallbacks here. A code is
always made with the current key: once the old key leaves the fallbacks, what it signed stops working.
"""

from django.conf import settings
from django.utils.crypto import salted_hmac


def keyed_digest(key_salt: str, value: str, *, secret: str | None = None) -> bytes:
    return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").digest()


def keyed_digests(key_salt: str, value: str) -> list[bytes]:
    """The digest under SECRET_KEY, then under each of SECRET_KEY_FALLBACKS: every one a genuine code may carry."""
    return [
        keyed_digest(key_salt, value, secret=secret)
        for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    ]
