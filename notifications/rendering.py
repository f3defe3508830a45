"""Turn an outbox row into the email the customer receives, in their language."""

import email.headerregistry
import email.message
import email.policy
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation

from appointments.cutoff import online_change_context
from appointments.formatting import format_day, format_time, format_window
from appointments.links import absolute_link, appointment_token, invitation_token
from appointments.models import Appointment, VisitAttempt
from customers.models import Firm
from customers.selectors import firm_contact, responsible_contact
from notifications.calendar import METHOD_CANCEL, METHOD_REQUEST, render_ics
from notifications.models import MessageKind, OutboxMessage

ICS_METHODS = {
    MessageKind.CONFIRMATION: METHOD_REQUEST,
    MessageKind.CHANGE: METHOD_REQUEST,
    MessageKind.CANCELLATION: METHOD_CANCEL,
}


def single_line(text: str) -> str:
    """Headers and subjects are one line: CR/LF from a name or note never start a new header."""
    return " ".join(text.split())


def contact_context(message: OutboxMessage, *, firm: Firm | None) -> dict:
    return {"firm": firm_contact(firm), "responsible": responsible_contact(message.customer, firm=firm)}


def message_context(message: OutboxMessage, *, firm: Firm | None) -> dict:
    appointment = message.appointment
    customer = message.customer
    context = {
        # The mail's own language: there is no request whose LANGUAGE_CODE a template could read.
        "language": message.language,
        "text_direction": "rtl" if translation.get_language_info(message.language)["bidi"] else "ltr",
        "customer_name": single_line(customer.full_name),
        **contact_context(message, firm=firm),
    }
    if message.invitation is not None:
        invitation = message.invitation
        context.update(
            {
                "service": invitation.service_type.localized_name(message.language),
                "personal_note": single_line(invitation.message),
                "booking_link": absolute_link(invitation_token(invitation)),
                "valid_until": formats.date_format(timezone.localtime(invitation.expires_at), "DATE_FORMAT"),
            }
        )
    if appointment is not None:
        previous = message.context.get("previous") or {}
        context.update(
            {
                "reference": f"D-{appointment.pk}",
                "service": appointment.service_type.localized_name(message.language),
                "technician_name": single_line(appointment.technician.display_name if appointment.technician else ""),
                "window": format_window(appointment.window_start, appointment.window_end),
                "site_address": single_line(appointment.site_address),
                "previous_window": (
                    format_window(
                        timezone.datetime.fromisoformat(previous["window_start"]),
                        timezone.datetime.fromisoformat(previous["window_end"]),
                    )
                    if previous.get("window_start")
                    else ""
                ),
                "previous_technician_name": message.context.get("previous_technician_name", ""),
                # A request for a new time says why, in the office's words as they were when it was sent.
                "new_time_reason": message.context.get("reason", ""),
                # Made at send time from the current state: it works until the visit changes again.
                # Not while the technician is on the way: there is nothing left to change online.
                "manage_link": (
                    absolute_link(appointment_token(appointment))
                    if message.kind not in (MessageKind.CANCELLATION, MessageKind.ON_MY_WAY)
                    else ""
                ),
            }
        )
        if context["manage_link"]:
            context.update(online_change_context(appointment))
        if message.kind == MessageKind.ON_MY_WAY:
            context.update(on_my_way_context(message, appointment))
        elif message.kind == MessageKind.MISSED_VISIT:
            context.update(missed_visit_context(message, appointment))
    return context


def on_my_way_context(message: OutboxMessage, appointment: Appointment) -> dict:
    expected = message.context.get("expected_arrival")
    return {
        # "" when the technician gave no time: the mail then names the booked window.
        "expected_arrival": format_time(timezone.datetime.fromisoformat(expected)) if expected else "",
    }


def missed_visit_context(message: OutboxMessage, appointment: Appointment) -> dict:
    """The facts of the attempt at the door, as the technician recorded them."""
    attempt = (
        VisitAttempt.objects.select_related("technician").filter(pk=message.context.get("attempt_id")).first()
        if message.context.get("attempt_id")
        else None
    )
    at = attempt.at if attempt else appointment.missed_at
    technician = attempt.technician if attempt else appointment.technician
    context = {
        "technician_name": single_line(technician.display_name if technician else ""),
        "attempt_day": format_day(at) if at else "",
        "attempt_time": format_time(at) if at else "",
        "waited_minutes": attempt.waited_minutes if attempt else 0,
        "card_left": attempt.card_left if attempt else False,
    }
    if attempt:
        # The window the visit was booked for, as the attempt recorded it.
        context["window"] = format_window(attempt.window_start, attempt.window_end)
    return context


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
    firm = firm or Firm.objects.first()
    with translation.override(message.language):
        context = message_context(message, firm=firm)
        template_dir = f"emails/{message.kind}"
        subject = single_line(render_to_string(f"{template_dir}/subject.txt", context))
        text_body = render_to_string(f"{template_dir}/body.txt", context)
        html_body = render_to_string(f"{template_dir}/body.html", context)
        ics = None
        if message.appointment is not None and message.kind in ICS_METHODS:
            ics = render_ics(
                appointment=message.appointment,
                method=ICS_METHODS[message.kind],
                summary=f"{context['service']} – {context['firm']['name']}".strip(" –"),
                description=render_to_string("emails/calendar_description.txt", context).strip(),
                location=context["site_address"],
                language=message.language,
            )
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    mail = OutgoingMail(
        subject=subject,
        body=text_body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_email],
        reply_to=[context["responsible"]["email"]],
        headers={
            "Message-ID": make_msgid(domain=host),
            "Auto-Submitted": "auto-generated",
            # RFC 3282: the language of the whole mail, for mail programs that read it (spelling, reading aloud).
            "Content-Language": message.language,
        },
    )
    mail.attach_alternative(html_body, "text/html")
    # For the log line of notifications.backends.ConsoleSummaryBackend; not part of the mail.
    mail.outbox_id, mail.kind = message.pk, message.kind
    if ics is not None:
        part = email.message.MIMEPart()
        method = ICS_METHODS[message.kind]
        # Bytes, so the CRLF line ends that RFC 5545 requires survive untouched.
        part.set_content(
            ics,
            maintype="text",
            subtype="calendar",
            params={"method": method, "charset": "utf-8"},
            disposition="attachment",
            filename="cancel.ics" if method == METHOD_CANCEL else "invite.ics",
        )
        mail.attach(part)
    return mail


def message_id_of(mail: EmailMultiAlternatives) -> str:
    return mail.extra_headers["Message-ID"]
