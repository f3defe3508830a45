"""Raw RFC 5322 bytes → what the desk needs of a mail. Pure: no database, no settings beyond arguments.

The stdlib parser (policy.default) decodes RFC 2047 headers and transfer encodings; it accepts almost
anything, so "garbage" here means bytes that carry no sender at all. HTML is never kept as received:
its text is taken through nh3 (which drops script and style with their content), and the only HTML copy
kept is nh3's allow-list output.
"""

import email
import html as html_lib
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

import nh3


class ParseError(ValueError):
    """The bytes are not a mail we can read (no sender)."""


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class BounceReport:
    """What a delivery status notification (RFC 3464) says about one of our mails."""

    original_message_id: str
    recipient: str
    action: str  # failed, delayed, delivered, relayed, expanded
    status: str
    diagnostic: str

    @property
    def failed(self) -> bool:
        return self.action == "failed"


@dataclass(frozen=True)
class ParsedMail:
    from_name: str
    from_address: str
    to: list[tuple[str, str]]
    cc: list[tuple[str, str]]
    reply_to: list[tuple[str, str]]
    # Where the mail was delivered to, besides To/Cc (a plus-address token may only be in these).
    delivered_to: list[str]
    subject: str
    date: datetime | None
    message_id: str
    in_reply_to: str
    references: list[str]
    text: str
    reply_text: str
    html: str
    attachments: list[ParsedAttachment] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    is_auto_reply: bool = False
    # Our own mail coming back: it carries our marker header or our signed Message-ID, or comes from our
    # address as an automatic mail. A person writing from the firm's address (a colleague forwarding) is not.
    is_loop: bool = False
    from_own_address: bool = False
    bounce: BounceReport | None = None

    @property
    def is_bounce(self) -> bool:
        return self.bounce is not None

    @property
    def recipient_addresses(self) -> list[str]:
        return list(dict.fromkeys([addr for _name, addr in self.to + self.cc] + self.delivered_to))


# Subjects of out-of-office and other automatic answers, in the languages our customers write.
AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|abwesenheitsnotiz|afwezigheidsbericht|automatic reply|autoreply|auto-reply"
    r"|automatische antwort|automatisch antwoord|abwesend|niet aanwezig|vacation)\b",
    re.IGNORECASE,
)
AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
# A delivery report's sender when the report is not RFC 3464 shaped (old qmail, some Exchange servers).
DAEMON_SENDER = re.compile(r"^(mailer-daemon|postmaster)@", re.IGNORECASE)
MESSAGE_ID = re.compile(r"<[^<>\s]+>")

# The line a mail program writes above the quoted mail it answers; Gmail and Outlook wrap it onto a second line.
# A date is always in it: "Am Montag schrieb ich Ihnen:" in the customer's own text is not one.
ATTRIBUTION = re.compile(
    r"^\s*(am|on|op|le|el)\s(?=[^:]*\d).{4,300}?\s(schrieb|wrote|schreef|a écrit|escribió)\b.*:\s*$",
    re.IGNORECASE,
)
ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(original message|ursprüngliche nachricht|oorspronkelijk bericht|originalnachricht)\s*-{2,}\s*$",
    re.IGNORECASE,
)
# Outlook's header block above a quoted mail: "Von: …" followed by "Gesendet: …" (or its en/nl twins).
OUTLOOK_FROM = re.compile(r"^\s*\*?(von|from|van)\s*:\*?\s", re.IGNORECASE)
OUTLOOK_SENT = re.compile(r"^\s*\*?(gesendet|sent|verzonden|datum|date)\s*:\*?\s", re.IGNORECASE)
SIGNATURE = "-- "

BLOCK_TAGS = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h[1-6]|/blockquote|/table)\b[^>]*>", re.IGNORECASE)
SANITISED_TAGS = {
    "a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i", "li", "ol", "p",
    "pre", "span", "strong", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}  # fmt: skip


# The header every mail Doorstep sends carries (notifications.rendering.OWN_HEADER).
OWN_HEADER = "X-Doorstep"


def parse_mail(
    raw: bytes, *, own_addresses: tuple[str, ...] = (), is_our_message_id: Callable[[str], bool] | None = None
) -> ParsedMail:
    """Read `raw`. `own_addresses` are the firm's own senders; `is_our_message_id` tells a Message-ID
    Doorstep wrote (signed) from any other."""
    if not isinstance(raw, bytes | bytearray) or not raw.strip():
        raise ParseError("empty message")
    message = email.message_from_bytes(bytes(raw), policy=policy.default)
    if not message.keys():
        raise ParseError("no header fields")
    from_name, from_address = _first_address(_header(message, "From"))
    if not from_address:
        raise ParseError("no sender address")
    subject = _single_line(_header(message, "Subject"))
    text, html = _bodies(message)
    bounce = _bounce(message)
    own = {address.lower() for address in own_addresses if address}
    message_id = _message_id(_header(message, "Message-ID"))
    from_own_address = from_address.lower() in own
    is_auto_reply = _is_auto_reply(message, subject, from_address) or bounce is not None
    return ParsedMail(
        from_name=from_name,
        from_address=from_address,
        to=_addresses(message, "To"),
        cc=_addresses(message, "Cc"),
        reply_to=_addresses(message, "Reply-To"),
        delivered_to=[
            addr for name in ("Delivered-To", "X-Original-To", "Envelope-To") for _n, addr in _addresses(message, name)
        ],
        subject=subject,
        date=_date(_header(message, "Date")),
        message_id=message_id,
        in_reply_to=_message_id(_header(message, "In-Reply-To")),
        references=MESSAGE_ID.findall(_header(message, "References")),
        text=text,
        reply_text=reply_part(text),
        html=html,
        attachments=[] if bounce else _attachments(message),
        headers=[(_clean(name), _decoded_raw(value)) for name, value in message.raw_items()],
        is_auto_reply=is_auto_reply,
        is_loop=bool(_header(message, OWN_HEADER))
        or bool(message_id and is_our_message_id and is_our_message_id(message_id))
        or (from_own_address and _is_auto_submitted(message)),
        from_own_address=from_own_address,
        bounce=bounce,
    )


def _clean(value: str) -> str:
    """Text a database stores: no NUL (PostgreSQL refuses it), no lone surrogates (the stdlib's stand-ins for
    raw 8-bit bytes in a header, read here as the UTF-8 mail programs send)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        try:
            value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
    return value.replace("\x00", "")


def _safe_str(value) -> str:
    try:
        return _clean(str(value))
    except Exception:  # a header the policy cannot decode: keep its raw form rather than lose the mail
        return _clean(getattr(value, "_raw", "") or "")


def _decoded_raw(value: str) -> str:
    """A header as received, RFC 2047 decoded where that works (the policy's parser gave up on it)."""
    try:
        return _clean(str(make_header(decode_header(value))))
    except Exception:
        return _clean(str(value))


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
        return _safe_str(value) if value is not None else ""
    except Exception:
        # The stdlib parses a header when it is read and may trip over a malformed one (a broken group,
        # an address cut off): fall back to the raw value, decoded as far as it goes.
        for raw_name, raw_value in message.raw_items():
            if raw_name.lower() == name.lower():
                return _decoded_raw(raw_value)
        return ""


def _single_line(value: str) -> str:
    return " ".join(value.split())


def _addresses(message: EmailMessage, name: str) -> list[tuple[str, str]]:
    try:
        values = message.get_all(name) or []
    except Exception:
        values = [_header(message, name)]
    found = []
    for value in values:
        addresses = getattr(value, "addresses", None)
        if addresses is not None:
            found += [(_single_line(a.display_name), a.addr_spec) for a in addresses if isinstance(a, Address)]
        else:
            found += [(name, addr) for name, addr in getaddresses([_safe_str(value)])]
    return [(_clean(name), _clean(addr.strip())) for name, addr in found if "@" in (addr or "")]


def _first_address(value: str) -> tuple[str, str]:
    for name, addr in getaddresses([value]):
        if "@" in addr:
            return _single_line(_clean(name)), _clean(addr.strip())
    return "", ""


def _message_id(value: str) -> str:
    found = MESSAGE_ID.findall(value)
    value = value.strip()
    if found:
        value = found[0]
    elif value and not any(c.isspace() for c in value):
        value = f"<{value.strip('<>')}>"
    else:
        return ""
    # RFC 5322's line limit; a longer one is not a real id, and must not break storing the mail.
    return value[:998]


def _date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def _is_auto_submitted(message: EmailMessage) -> bool:
    auto_submitted = _header(message, "Auto-Submitted").strip().lower()
    return bool(auto_submitted) and auto_submitted.split(";")[0].strip() != "no"


def _is_auto_reply(message: EmailMessage, subject: str, from_address: str) -> bool:
    if _is_auto_submitted(message):
        return True
    if any(_header(message, name) for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder")):
        return True
    if _header(message, "Precedence").strip().lower() in AUTO_PRECEDENCE:
        return True
    if _header(message, "X-Auto-Response-Suppress") and _header(message, "X-MS-Exchange-Generated-Message-Source"):
        return True
    return bool(AUTO_REPLY_SUBJECT.search(subject)) or bool(DAEMON_SENDER.match(from_address))


def _part_text(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError, ValueError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    return content if isinstance(content, str) else content.decode("utf-8", errors="replace")


def _bodies(message: EmailMessage) -> tuple[str, str]:
    """The text (text/plain, else the text of the HTML) and the sanitised HTML (empty without HTML)."""
    try:
        return _readable_bodies(message)
    except Exception:
        # A structure the stdlib cannot walk: the bytes of the first part as text, which the office can read.
        payload = message.get_payload(decode=True) if not message.is_multipart() else b""
        return normalise_text((payload or b"").decode("utf-8", errors="replace")), ""


def _readable_bodies(message: EmailMessage) -> tuple[str, str]:
    plain = html = None
    try:
        plain = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
    except Exception:
        pass
    if plain is None and html is None and not message.is_multipart() and message.get_content_maintype() == "text":
        plain = message
    html_source = _part_text(html) if html is not None else ""
    if plain is not None:
        text = _part_text(plain)
    else:
        text = html_to_text(html_source)
    return normalise_text(text), sanitise_html(html_source) if html_source else ""


def normalise_text(text: str) -> str:
    text = _clean(text)
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(source: str) -> str:
    """The readable text of an HTML mail: nh3 keeps no tag at all (script and style lose their content),
    line breaks where blocks ended."""
    cleaned = nh3.clean(BLOCK_TAGS.sub("\n", source), tags=set(), attributes={})
    return normalise_text(html_lib.unescape(cleaned))


def sanitise_html(source: str) -> str:
    """An allow-list copy: formatting and links only; no script, style, forms, images (remote images track)."""
    return nh3.clean(
        source,
        tags=SANITISED_TAGS,
        attributes={"a": {"href"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def reply_part(text: str) -> str:
    """`text` without what it quotes: "> " lines, the "Am … schrieb …:" line and all below it, a
    signature after "-- "."""
    lines = text.split("\n")
    kept = []
    for index, line in enumerate(lines):
        if line == SIGNATURE or ORIGINAL_MESSAGE.match(line):
            break
        if any(ATTRIBUTION.match(" ".join(lines[index : index + n])) for n in (1, 2, 3)):
            break
        if OUTLOOK_FROM.match(line) and any(OUTLOOK_SENT.match(after) for after in lines[index + 1 : index + 3]):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return normalise_text("\n".join(kept))


def _is_body_part(part: EmailMessage) -> bool:
    return (
        part.get_content_type() in {"text/plain", "text/html"}
        and part.get_content_disposition() != "attachment"
        and not part.get_filename()
    )


def _leaves(part: EmailMessage):
    """Every non-container part, not descending into attached mails (message/rfc822 is one attachment)."""
    if part.get_content_maintype() == "multipart":
        for sub in part.iter_parts():
            yield from _leaves(sub)
    else:
        yield part


def _attachments(message: EmailMessage) -> list[ParsedAttachment]:
    try:
        if message.get_content_maintype() != "multipart":
            return []
        parts = list(_leaves(message))
    except Exception:
        return []
    found = []
    for part in parts:
        try:
            if _is_body_part(part):
                continue
            content_type = part.get_content_type()
            if content_type == "message/rfc822":
                inner = part.get_payload()
                inner = inner[0] if isinstance(inner, list) and inner else inner
                content = inner.as_bytes() if hasattr(inner, "as_bytes") else b""
            else:
                content = part.get_payload(decode=True) or b""
            filename = _safe_filename(part, content_type)
        except Exception:
            # A part too broken to read is still noted (and refused by its type), never silently dropped.
            payload = part.get_payload()
            content = payload.encode("utf-8", errors="replace") if isinstance(payload, str) else b""
            content_type, filename = "application/octet-stream", "attachment.bin"
        found.append(ParsedAttachment(filename=filename, content_type=content_type, content=content))
    return found


def _safe_filename(part: EmailMessage, content_type: str) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    # Only the last path component, no control characters: the name is shown and offered for download.
    name = re.sub(r"[\x00-\x1f\x7f]", "", _clean(name).replace("\\", "/").split("/")[-1]).strip(" .")
    if not name:
        name = "attachment" + (mimetypes.guess_extension(content_type) or ".bin")
    return name[:200]


def _bounce(message: EmailMessage) -> BounceReport | None:
    """The delivery report of a multipart/report; report-type=delivery-status (RFC 3464)."""
    try:
        return _delivery_report(message)
    except Exception:
        # Too broken to read as a report: kept as an automatic mail (its sender is a mailer daemon).
        return None


def _delivery_report(message: EmailMessage) -> BounceReport | None:
    if message.get_content_type() != "multipart/report":
        return None
    if (message.get_param("report-type") or "").lower() != "delivery-status":
        return None
    recipient = action = status = diagnostic = original_message_id = ""
    for part in message.iter_parts():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            for block in part.get_payload() or []:
                if not hasattr(block, "get"):
                    continue
                final = block.get("Final-Recipient") or block.get("Original-Recipient")
                recipient = recipient or _typed_address(final)
                action = action or str(block.get("Action") or "").strip().lower()
                status = status or str(block.get("Status") or "").strip()
                diagnostic = diagnostic or _single_line(str(block.get("Diagnostic-Code") or ""))
        elif content_type in {"message/rfc822", "text/rfc822-headers", "message/rfc822-headers"}:
            original_message_id = original_message_id or _returned_message_id(part)
    return BounceReport(
        original_message_id=_clean(original_message_id),
        recipient=_clean(recipient),
        action=_clean(action) or "failed",
        status=_clean(status),
        diagnostic=_clean(diagnostic)[:1000],
    )


def _typed_address(value) -> str:
    value = str(value or "")
    return value.split(";", 1)[-1].strip().strip("<>")


def _returned_message_id(part: EmailMessage) -> str:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        if hasattr(inner, "get"):
            return _message_id(_safe_str(inner.get("Message-ID") or ""))
        return ""
    headers = email.message_from_string(_part_text(part), policy=policy.default)
    return _message_id(_safe_str(headers.get("Message-ID") or ""))
