"""Turn an outbox row into the email the customer receives, in their language."""

import email.headerregistry
import email.message
import email.policy
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from customers.models import Firm
from customers.selectors import firm_contact, responsible_contact
from notifications.models import OutboxMessage
from notifications.registry import KindRegistration, kind_registration
from notifications.replies import new_message_id, reply_address

# Set on every mail we send; a mail that comes in carrying it is our own coming back.
OWN_HEADER = "X-Doorstep"
# The customer's own pages: a staff mail carrying one would let its reader act as the customer.
SELF_SERVICE_PATHS = ("/booking/", "/r/")


class StaffMailCarriesCustomerLink(ValueError):
    """A staff mail's template data put a customer's self-service link into the mail."""


def single_line(text: str) -> str:
    """Headers and subjects are one line: CR/LF from a name or note never start a new header."""
    return " ".join(text.split())


def contact_context(message: OutboxMessage, *, firm: Firm | None) -> dict:
    return {"firm": firm_contact(firm), "responsible": responsible_contact(message.customer, firm=firm)}


def message_context(message: OutboxMessage, *, firm: Firm | None, registration: KindRegistration) -> dict:
    """What every mail has, plus the data its kind's app registered (notifications.registry)."""
    if message.is_staff_mail:
        return staff_message_context(message, firm=firm, registration=registration)
    context = {
        # The mail's own language: there is no request whose LANGUAGE_CODE a template could read.
        "language": message.language,
        "text_direction": "rtl" if translation.get_language_info(message.language)["bidi"] else "ltr",
        "customer_name": single_line(message.customer.full_name),
        **contact_context(message, firm=firm),
    }
    context.update(registration.context(message))
    return context


def staff_message_context(message: OutboxMessage, *, firm: Firm | None, registration: KindRegistration) -> dict:
    """A mail to an office person: who it is for and, if any, which customer it is about; no contact person."""
    user = message.recipient_user
    context = {
        "language": message.language,
        "text_direction": "rtl" if translation.get_language_info(message.language)["bidi"] else "ltr",
        "firm": firm_contact(firm),
        "recipient_name": single_line(user.get_full_name() or user.get_username()),
        "customer_name": single_line(message.customer.full_name) if message.customer_id else "",
        "site_url": settings.SITE_URL,
    }
    context.update(registration.context(message))
    return context


def customer_reply_to(message: OutboxMessage, context: dict) -> list[str]:
    """Replies go to the inbound address naming this message when one is set up, else to the contact person."""
    address = reply_address(message)
    if address is None:
        return [context["responsible"]["email"]]
    # The contact person's name on the reply address: the customer still writes to a person.
    return [str(email.headerregistry.Address(display_name=context["responsible"]["name"], addr_spec=address))]


def refuse_customer_links(message: OutboxMessage, *bodies: str) -> None:
    for body in bodies:
        for path in SELF_SERVICE_PATHS:
            if settings.SITE_URL + path in body:
                raise StaffMailCarriesCustomerLink(
                    f"staff mail {message.kind} carries a customer's self-service link ({path}); it is not sent"
                )


class CachedHeaderRegistry(email.headerregistry.HeaderRegistry):
    """The standard registry, minus building a new header class on every header set.

    `HeaderRegistry[name]` creates a fresh class with type() each time; a mail
    sets about 17 headers, and class creation was a tenth of the CPU a message
    costs to send (bench/reminders.py). The classes are the same each time, so
    one per header name is kept.
    """

    def __init__(self):
        super().__init__()
        self._classes = {}

    def __getitem__(self, name):
        key = name.lower()
        if key not in self._classes:
            self._classes[key] = super().__getitem__(name)
        return self._classes[key]


_FAST_POLICIES: dict[email.policy.Policy, email.policy.Policy] = {}


class RecordingMessage(email.message.EmailMessage):
    """Remembers the bytes it was last serialised to: those the backend handed the mail server."""

    serialised: bytes | None = None

    def as_bytes(self, *args, **kwargs):
        self.serialised = super().as_bytes(*args, **kwargs)
        return self.serialised


class OutgoingMail(EmailMultiAlternatives):
    """Django's multipart mail, built with the caller's policy plus cached header classes.

    Built once per policy, and the built message remembers its serialisation: the
    outbox keeps exactly the bytes the backend gave the mail server, without
    serialising the mail a second time.
    """

    def message(self, *, policy=email.policy.default):
        built = self.__dict__.setdefault("_built", {})
        if policy not in built:
            fast = policy
            if isinstance(policy, email.policy.EmailPolicy):
                if policy not in _FAST_POLICIES:
                    _FAST_POLICIES[policy] = policy.clone(header_factory=CachedHeaderRegistry())
                fast = _FAST_POLICIES[policy]
            built[policy] = super().message(policy=fast)
            built[policy].__class__ = RecordingMessage
        self._last_built = built[policy]
        return self._last_built

    def sent_bytes(self) -> bytes:
        """The mail as the backend serialised it; for a backend that builds nothing, as SMTP would send it.

        A backend that builds the message but does not serialise it (Django's locmem) gets the
        serialisation of the very object it built: its Date, Message-ID and boundaries are fixed.
        """
        built = getattr(self, "_last_built", None) or self.message(policy=email.policy.SMTP)
        return built.serialised if built.serialised is not None else built.as_bytes()


def render_message(message: OutboxMessage, *, firm: Firm | None = None) -> OutgoingMail:
    """The mail for `message`; a sender of many passes the firm, read once, instead of once per mail."""
    registration = kind_registration(message.kind)
    firm = firm or Firm.objects.first()
    with translation.override(message.language):
        context = message_context(message, firm=firm, registration=registration)
        template_dir = f"emails/{message.kind}"
        subject = single_line(render_to_string(f"{template_dir}/subject.txt", context))
        text_body = render_to_string(f"{template_dir}/body.txt", context)
        html_body = render_to_string(f"{template_dir}/body.html", context)
        attachments = registration.attachments(message, context)
    if message.is_staff_mail:
        refuse_customer_links(message, subject, text_body, html_body)
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    mail = OutgoingMail(
        subject=subject,
        body=text_body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_email],
        reply_to=[] if message.is_staff_mail else customer_reply_to(message, context),
        headers={
            # Signed: a reply quoting it finds this message, and it coming back to us is recognised as a loop.
            "Message-ID": new_message_id(message, domain=host),
            "Auto-Submitted": "auto-generated",
            # Our marker, kept by a mail server that forwards or returns the whole mail (desk.inbound: a loop).
            OWN_HEADER: "outbox",
            # RFC 3282: the language of the whole mail, for mail programs that read it (spelling, reading aloud).
            "Content-Language": message.language,
        },
    )
    mail.attach_alternative(html_body, "text/html")
    # For the log line of notifications.backends.ConsoleSummaryBackend; not part of the mail.
    mail.outbox_id, mail.kind = message.pk, message.kind
    for attachment in attachments:
        part = email.message.MIMEPart()
        # Bytes, so line ends the format requires (CRLF in an .ics, RFC 5545) survive untouched.
        part.set_content(
            attachment.content,
            maintype=attachment.maintype,
            subtype=attachment.subtype,
            params=dict(attachment.params),
            disposition="attachment",
            filename=attachment.filename,
        )
        mail.attach(part)
    return mail


def message_id_of(mail: EmailMultiAlternatives) -> str:
    return mail.extra_headers["Message-ID"]


def esp_message_id_of(mail: EmailMultiAlternatives) -> str:
    """The provider's own id for the sent mail, where an anymail backend reported one ("" for plain SMTP)."""
    status = getattr(mail, "anymail_status", None)
    found = getattr(status, "message_id", None)
    if isinstance(found, set):
        # One id per recipient; ours have one recipient.
        found = next(iter(found)) if len(found) == 1 else None
    return str(found)[:250] if found else ""
