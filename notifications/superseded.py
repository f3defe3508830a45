"""Why the outbox did not send a message: stored as a code with its data, read in the reader's language.

`OutboxMessage.last_error` holds "superseded:<code>" followed by " key=value" pairs (values without
spaces), so the office sees the reason in its own language. Rows written before the codes hold English
sentences; they are recognised and translated the same way, and any other text (an SMTP error) is
shown as stored.
"""

import re

from django.utils.translation import gettext_lazy as _

from notifications.registry import reason_label

PREFIX = "superseded:"

REASONS = {
    "booked": _("Not sent: the customer has already booked."),
    "invitation_expired": _("Not sent: the invitation has expired."),
    "version": _(
        "Not sent: the appointment was changed after this message was written "
        "(it is now at version %(current)s, the message was for version %(queued)s)."
    ),
    "status": _("Not sent: the appointment is now “%(status)s”."),
    "started": _("Not sent: the visit had already started."),
    "rebooked": _("Not sent: a new visit was booked instead."),
    "passed": _("Not sent: the visit's time had passed."),
    "new_time": _("Not sent: the office asked the customer to choose a new time."),
    "recipient_inactive": _("Not sent: the office recipient's account is no longer active."),
    "feedback_opted_out": _("Not sent: the customer asked not to be asked for feedback."),
    "changed_again": _("Not sent: the customer changed the call again since (a newer message says so)."),
    "promise_closed": _("Not sent: the promise was kept, moved or voided in the meantime."),
}

# The English sentences stored before the codes, with the code each one stands for.
LEGACY = [
    (re.compile(r"appointment is at version (?P<current>\d+), message was for (?P<queued>\w+)"), "version"),
    (re.compile(r"appointment is (?P<status>\w+)"), "status"),
    (re.compile(r"the customer has already booked"), "booked"),
    (re.compile(r"the invitation has expired"), "invitation_expired"),
    (re.compile(r"the visit has started"), "started"),
    (re.compile(r"a new visit was booked instead"), "rebooked"),
    (re.compile(r"the visit's time has passed"), "passed"),
]
CODED = re.compile(rf"{PREFIX}(?P<code>\w+)(?P<data>(?: \w+=\S*)*)")


def superseded_reason(code: str, **data) -> str:
    """What to store for a message that is no longer true: superseded_reason("version", current=2, queued=1)."""
    if code not in REASONS:
        raise ValueError(f"unknown reason {code!r}")
    return PREFIX + code + "".join(f" {key}={value}" for key, value in data.items())


def _parse(text: str) -> tuple[str, dict[str, str]] | None:
    if coded := CODED.fullmatch(text):
        data = dict(pair.split("=", 1) for pair in coded["data"].split())
        return coded["code"], data
    for pattern, code in LEGACY:
        if legacy := pattern.fullmatch(text):
            return code, legacy.groupdict()
    return None


def last_error_display(text: str) -> str:
    """`last_error` as the reader should see it: a stale reason in their language, anything else as stored."""
    parsed = _parse(text)
    if parsed is None or parsed[0] not in REASONS:
        return text
    code, data = parsed
    # Values the queuing app gave labels for (a visit's status) read as labels; others as stored.
    data = {key: reason_label(key, value) for key, value in data.items()}
    try:
        return str(REASONS[code]) % data
    except (KeyError, TypeError, ValueError):
        # A row written by other code with other data: better raw than a broken page.
        return text
