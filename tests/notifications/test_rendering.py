import email
import email.policy
import re

import pytest
import vobject
from django.core.mail import EmailMultiAlternatives
from django.utils import formats, timezone, translation

from appointments.formatting import format_window
from appointments.services import appointment_cancel, appointment_reschedule, appointment_schedule
from appointments.services.booking import booking_invite
from notifications.models import MessageKind, OutboxMessage
from notifications.rendering import OutgoingMail, render_message
from notifications.services import message_queue
from tests.factories import CustomerFactory, TechnicianFactory, local_dt

pytestmark = pytest.mark.django_db

KINDS = [MessageKind.CONFIRMATION, MessageKind.CHANGE, MessageKind.CANCELLATION, MessageKind.REMINDER]
# How the window's day reads in each language (local_dt(3, 8) is some weekday; check the month name instead).
WHEN_WORD = {"de": "Wann", "nl": "Wanneer", "en": "When"}


def message_for(kind, *, customer, service_type, technician, office):
    appointment = appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(3, 8), actor=office
    )
    if kind == MessageKind.CHANGE:
        appointment_reschedule(appointment=appointment, window_start=local_dt(4, 12), actor=office)
    elif kind == MessageKind.CANCELLATION:
        appointment_cancel(appointment=appointment, reason="storniert", actor=office)
    elif kind == MessageKind.REMINDER:
        message_queue(kind=MessageKind.REMINDER, appointment=appointment)
    return OutboxMessage.objects.get(kind=kind)


# The kinds sent from the office's desk; "on my way" and "not home" are in test_visit_messages.py.
DESK_KINDS = [*KINDS, MessageKind.INVITATION, MessageKind.RESCHEDULE_REQUEST]
# Another language than the mail's is active while it renders, as in a worker or an admin page.
ACTIVE_ELSEWHERE = {"de": "en", "nl": "de", "en": "de"}


def desk_message_for(kind, *, customer, service_type, technician, office):
    if kind == MessageKind.INVITATION:
        booking_invite(customer=customer, service_type=service_type, actor=office)
        return OutboxMessage.objects.get(kind=kind)
    if kind == MessageKind.RESCHEDULE_REQUEST:
        appointment = appointment_schedule(
            customer=customer,
            service_type=service_type,
            technician=technician,
            window_start=local_dt(3, 8),
            actor=office,
        )
        return message_queue(kind=kind, appointment=appointment)
    return message_for(kind, customer=customer, service_type=service_type, technician=technician, office=office)


@pytest.mark.parametrize("language", ["de", "nl", "en"])
@pytest.mark.parametrize("kind", DESK_KINDS)
def test_html_declares_the_mails_language_and_dates_follow_it_whatever_is_active(
    kind, language, office, firm, service_type, technician
):
    customer = CustomerFactory(preferred_language=language, responsible=office)
    message = desk_message_for(
        kind, customer=customer, service_type=service_type, technician=technician, office=office
    )

    with translation.override(ACTIVE_ELSEWHERE[language]):
        mail = render_message(message)
    html = mail.alternatives[0][0]

    assert f'<html lang="{language}" dir="ltr">' in html
    assert email.message_from_bytes(mail.message().as_bytes(), policy=email.policy.default)["Content-Language"] == (
        language
    )
    if message.appointment is not None:
        appointment = message.appointment
        with translation.override(language):
            window = format_window(appointment.window_start, appointment.window_end)
        for body in (mail.body, html):
            assert window in body
    else:
        with translation.override(language):
            valid_until = formats.date_format(timezone.localtime(message.invitation.expires_at), "DATE_FORMAT")
        for body in (mail.body, html):
            assert valid_until in body


@pytest.mark.parametrize("language", ["de", "nl", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_message_names_people_window_and_site_in_the_customers_language(
    kind, language, office, firm, service_type, technician
):
    customer = CustomerFactory(
        full_name="Anna Schmitz",
        preferred_language=language,
        responsible=office,
        street="Hafenstraße 3",
        postcode="47533",
        city="Kleve",
    )
    message = message_for(kind, customer=customer, service_type=service_type, technician=technician, office=office)

    mail = render_message(message)
    html = mail.alternatives[0][0]
    window_hours = "12:00–16:00" if kind == MessageKind.CHANGE else "08:00–12:00"

    assert window_hours in mail.subject
    assert mail.reply_to == ["s.brinkmann@firm.example"]
    assert "no-reply" not in mail.from_email and "noreply" not in mail.from_email
    for body in (mail.body, html):
        assert "Sandra Brinkmann" in body
        assert "+49 2821 123456" in body  # the responsible person's direct line
        assert "s.brinkmann@firm.example" in body
        assert "Jan Verhaag" in body
        assert "Hafenstraße 3, 47533 Kleve" in body
        assert window_hours in body
        assert service_type.localized_name(language) in body
    assert WHEN_WORD[language] in mail.body


def test_change_mail_strikes_through_the_old_window(office, firm, service_type, technician, customer):
    message = message_for(
        MessageKind.CHANGE, customer=customer, service_type=service_type, technician=technician, office=office
    )

    mail = render_message(message)

    assert "<del" in mail.alternatives[0][0]
    assert "08:00–12:00</del>" in mail.alternatives[0][0]
    assert "08:00–12:00" in mail.body and "12:00–16:00" in mail.body


def test_a_change_of_technician_alone_does_not_call_the_same_window_no_longer_valid(
    office, firm, service_type, technician, customer
):
    """The board moves a visit to another lane inside its window: the customer keeps the time, only
    the technician changes, and the mail must not cross out the window it confirms."""
    mia = TechnicianFactory(service_types=[service_type], display_name="Mia Kempkes")
    appointment = appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(3, 8), actor=office
    )
    appointment_reschedule(appointment=appointment, window_start=local_dt(3, 8), technician=mia, actor=office)

    mail = render_message(OutboxMessage.objects.get(kind=MessageKind.CHANGE))

    html = mail.alternatives[0][0]
    assert "<del" not in html
    with translation.override("de"):
        no_longer_valid = translation.gettext("No longer valid: %(previous_window)s") % {"previous_window": ""}
    assert no_longer_valid.strip() not in mail.body
    for body in (mail.body, html):
        assert "Mia Kempkes" in body and "Jan Verhaag" in body
        assert "08:00–12:00" in body


def test_markup_and_line_breaks_from_customer_data_are_escaped(office, firm, service_type, technician):
    customer = CustomerFactory(
        full_name="Eve <script>alert(1)</script>\r\nBcc: victim@example.com",
        preferred_language="en",
        responsible=office,
    )
    # The service's name is what reaches the subject line of a confirmation.
    service_type.name = "Boiler check\r\nBcc: victim@example.com"
    service_type.save(update_fields=["name"])
    message = message_for(
        MessageKind.CONFIRMATION, customer=customer, service_type=service_type, technician=technician, office=office
    )

    mail = render_message(message)
    raw = mail.message().as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)

    assert "<script>" not in mail.alternatives[0][0]
    assert "&lt;script&gt;" in mail.alternatives[0][0]
    assert parsed["Bcc"] is None
    assert parsed["Subject"].endswith(": Boiler check Bcc: victim@example.com")
    assert parsed["To"] == customer.email


def test_mail_carries_an_ics_whose_mime_method_matches(office, firm, service_type, technician, customer):
    message = message_for(
        MessageKind.CANCELLATION, customer=customer, service_type=service_type, technician=technician, office=office
    )

    parsed = email.message_from_bytes(render_message(message).message().as_bytes(), policy=email.policy.default)
    calendar_parts = [part for part in parsed.walk() if part.get_content_type() == "text/calendar"]

    assert len(calendar_parts) == 1
    assert calendar_parts[0].get_param("method") == "CANCEL"
    assert b"METHOD:CANCEL\r\n" in calendar_parts[0].get_payload(decode=True)


def test_reminders_carry_no_calendar_file(office, firm, service_type, technician, customer):
    message = message_for(
        MessageKind.REMINDER, customer=customer, service_type=service_type, technician=technician, office=office
    )

    parsed = email.message_from_bytes(render_message(message).message().as_bytes(), policy=email.policy.default)

    assert not [part for part in parsed.walk() if part.get_content_type() == "text/calendar"]


@pytest.mark.parametrize("kind", [MessageKind.CONFIRMATION, MessageKind.REMINDER])
def test_cached_header_classes_build_exactly_the_bytes_django_builds(kind, office, firm, service_type, technician):
    customer = CustomerFactory(full_name="Jörg Weiß <Büro>", preferred_language="de", responsible=office)
    mail = render_message(
        message_for(kind, customer=customer, service_type=service_type, technician=technician, office=office)
    )
    plain = EmailMultiAlternatives(
        subject=mail.subject,
        body=mail.body,
        from_email=mail.from_email,
        to=mail.to,
        reply_to=mail.reply_to,
        headers=mail.extra_headers,
        alternatives=mail.alternatives,
        attachments=mail.attachments,
    )

    def comparable(built: bytes) -> bytes:
        # Each build draws its own MIME boundary and stamps its own Date.
        return re.sub(rb"Date: [^\r\n]*", b"Date: -", re.sub(rb"=+\d+==", b"BOUNDARY", built))

    assert isinstance(mail, OutgoingMail)
    assert comparable(mail.message(policy=email.policy.SMTP).as_bytes()) == comparable(
        plain.message(policy=email.policy.SMTP).as_bytes()
    )


ARRIVAL_WINDOW = {"de": "Ankunftszeitfenster", "nl": "Aankomsttijdvak", "en": "Arrival window"}


@pytest.mark.parametrize("language", ["de", "nl", "en"])
@pytest.mark.parametrize("kind", [MessageKind.CONFIRMATION, MessageKind.CHANGE, MessageKind.CANCELLATION])
def test_calendar_texts_are_in_the_mails_language_and_say_so(kind, language, office, firm, service_type, technician):
    customer = CustomerFactory(preferred_language=language, responsible=office)
    message = message_for(kind, customer=customer, service_type=service_type, technician=technician, office=office)

    with translation.override(ACTIVE_ELSEWHERE[language]):
        mail = render_message(message)
    parsed = email.message_from_bytes(mail.message().as_bytes(), policy=email.policy.default)
    part = next(part for part in parsed.walk() if part.get_content_type() == "text/calendar")
    event = vobject.readOne(part.get_payload(decode=True).decode()).vevent

    assert event.summary.value.startswith(service_type.localized_name(language))
    assert ARRIVAL_WINDOW[language] in event.description.value
    with translation.override(language):
        assert format_window(message.appointment.window_start, message.appointment.window_end) in (
            event.description.value
        )
    for field in (event.summary, event.description, event.location):
        assert field.params["LANGUAGE"] == [language]
