"""A customer with something stored in every place Doorstep keeps personal data, and the search for it."""

import secrets
import zlib
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.utils import make_msgid

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import connection
from django.test import TestCase
from django.utils import timezone

from appointments.models import AppointmentStatus, BookingInvitation
from customers.services import customer_update
from desk.models import FeedbackRequest, WebRequest
from desk.services import inbound_receive
from journal.services import contact_record, journal_record
from tests.factories import (
    AppointmentFactory,
    CustomerFactory,
    FeedbackFactory,
    OutboxMessageFactory,
    PromiseFactory,
    ServiceTypeFactory,
    VisitAttemptFactory,
)


@dataclass
class Person:
    full_name: str
    email: str
    phone: str
    street: str
    # Where the technician's phone stood at her door: it tells where she lives.
    latitude: str
    longitude: str

    def words(self) -> list[str]:
        """What must not be found anywhere after an erasure (the surname alone too, the phone without +49)."""
        return [
            self.full_name,
            self.full_name.split()[-1],
            self.email,
            self.phone,
            self.phone[3:],
            self.street,
            self.latitude,
            self.longitude,
        ]


ANNA = Person(
    "Anna Beispielfrau", "anna.beispielfrau@example.de", "+4930555123456", "Geheimweg 17", "52.520008", "13.404954"
)
BERND = Person(
    "Bernd Vergleichsmann", "bernd.vergleich@example.nl", "+31612345678", "Kanaalstraat 3", "52.370216", "4.895168"
)


def inbound_mail(person: Person, *, subject: str, attachment: bool = True) -> bytes:
    message = EmailMessage()
    message["From"] = f"{person.full_name} <{person.email}>"
    message["To"] = "office@heizung-beispiel.de"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.de")
    message.set_content(
        f"Guten Tag,\n\nich wohne in der {person.street}, Telefon {person.phone}.\n\n{person.full_name}\n"
    )
    if attachment:
        message.add_attachment(
            b"%PDF-1.7\n" + f"Plan von {person.full_name}".encode() + bytes(range(256)),
            maintype="application",
            subtype="pdf",
            filename=f"{person.full_name.split()[-1]}-plan.pdf",
        )
    return message.as_bytes()


def sent_mime(person: Person, subject: str) -> bytes:
    message = EmailMessage()
    message["To"] = f"{person.full_name} <{person.email}>"
    message["Subject"] = subject
    message.set_content(f"Guten Tag {person.full_name},\n\nwir kommen in die {person.street}.\n")
    message.add_alternative(f"<p>Guten Tag {person.full_name}</p>", subtype="html")
    return message.as_bytes()


def customer_with_everything(person: Person, *, office):
    """Personal data in every table a customer's data can reach, written the ways the apps write it."""
    customer = CustomerFactory(
        full_name=person.full_name,
        email="old-" + person.email,
        phone=person.phone,
        street=person.street,
        notes=f"{person.full_name} hat einen Hund.",
        responsible=office,
    )
    # Sent before the office had the address: an unknown sender, never matched to the customer.
    unmatched = inbound_receive(raw=inbound_mail(person, subject="Anfrage", attachment=False), source="pipe")
    assert unmatched.customer_id is None
    # The journal keeps the old address in its data: the erasure must find it there too.
    customer = customer_update(customer=customer, changes={"email": person.email}, actor=office)
    contact_record(
        customer=customer, contact="phone_in", note=f"{person.full_name} ruft an: {person.phone}", actor=office
    )
    journal_record(customer=customer, action="test.free_text", data={"to": person.email, "street": person.street})
    service_type = ServiceTypeFactory()
    done = AppointmentFactory(
        customer=customer,
        service_type=service_type,
        status=AppointmentStatus.COMPLETED,
        notes=f"Schlüssel bei Nachbarn von {person.full_name}",
        completed_at=timezone.now() - timedelta(days=3),
    )
    AppointmentFactory(
        customer=customer,
        service_type=service_type,
        status=AppointmentStatus.CANCELLED,
        cancel_reason=f"Ruft an: {person.phone}",
    )
    attempt = VisitAttemptFactory(
        appointment__customer=customer,
        appointment__service_type=service_type,
        note=f"Niemand in der {person.street}",
        latitude=Decimal(person.latitude),
        longitude=Decimal(person.longitude),
        location_accuracy_m=12,
    )
    # The journal entry of the attempt as it was written before the journal kept only that a location was taken.
    journal_record(
        customer=customer,
        appointment=attempt.appointment,
        action="visit.missed",
        channel="visit",
        occurred_at=timezone.now() - timedelta(days=2),
        data={
            "waited_minutes": 10,
            "card_left": True,
            "note": "",
            "latitude": person.latitude,
            "longitude": person.longitude,
            "location_accuracy_m": 12,
        },
    )
    BookingInvitation.objects.create(
        customer=customer,
        service_type=service_type,
        nonce="n" * 32,
        message=f"Liebe {person.full_name}",
        expires_at=timezone.now() + timedelta(days=7),
    )
    OutboxMessageFactory(
        customer=customer,
        appointment=done,
        appointment_version=1,
        to_email=person.email,
        subject=f"Ihr Termin, {person.full_name}",
        sent_at=timezone.now() - timedelta(days=4),
        sent_mime=zlib.compress(sent_mime(person, f"Ihr Termin, {person.full_name}")),
        bounce_detail=f"550 {person.email} unknown",
    )
    PromiseFactory(customer=customer, owner=office, note=f"{person.full_name} Angebot schicken")
    feedback = FeedbackFactory(
        customer=customer,
        owner=office,
        appointment=done,
        comment=f"Sehr gut. {person.full_name}",
        state="closed",
        closed_at=timezone.now(),
        closed_reason=f"{person.full_name} hat angerufen, {person.phone}",
    )
    FeedbackRequest.objects.create(appointment=done, customer=customer, secret="s" * 24, feedback=feedback)
    web_request(person, customer, about=f"Heizung in der {person.street} kaputt")
    # Attachment files are written once the mail is committed (desk.services.inbound).
    with TestCase.captureOnCommitCallbacks(execute=True):
        mail = inbound_receive(raw=inbound_mail(person, subject=f"Frage von {person.full_name}"), source="pipe")
    assert mail.customer_id == customer.pk
    admin_changed(customer, by=office)
    return customer, attempt


def admin_changed(obj, *, by, message: str = "[]") -> None:
    """A change of `obj` in the admin's history, as the admin writes it."""
    LogEntry.objects.log_actions(
        user_id=by.pk, queryset=[obj], action_flag=CHANGE, change_message=message, single_object=True
    )


def web_request(person: Person, customer, *, about: str) -> WebRequest:
    """A request from the website page, matched to `customer`, as `person` typed it."""
    return WebRequest.objects.create(
        received_at=timezone.now(),
        full_name=person.full_name,
        email=person.email,
        phone=person.phone,
        street=person.street,
        postcode=customer.postcode,
        city=customer.city,
        country="DE",
        language="de",
        about=about,
        customer=customer,
        match="matched",
        link_secret=secrets.token_urlsafe(24),
    )


def customer_who_wrote_from_other_addresses(person: Person, *, office):
    """A customer who mailed from the address she typed in her web request (her record was made from it) and
    from the one she had next, both before the office had her on file: unknown senders, never matched. The
    office has since changed her address twice. Returns her and the addresses."""
    typed = person.email.replace("@", ".formular@")
    for address, subject in [(person.email, "Anfrage von früher"), (typed, "Nachtrag zum Formular")]:
        mail = inbound_receive(
            raw=inbound_mail(replace(person, email=address), subject=subject, attachment=False), source="pipe"
        )
        assert mail.customer_id is None
    customer = CustomerFactory(
        full_name=person.full_name, email=typed, phone=person.phone, street=person.street, responsible=office
    )
    web_request(replace(person, email=typed), customer, about="Bitte um Rückruf")
    customer = customer_update(customer=customer, changes={"email": person.email}, actor=office)
    customer = customer_update(customer=customer, changes={"email": person.email.replace("@", ".neu@")}, actor=office)
    return customer, [person.email, typed]


def customer_near_someone_elses_mail(person: Person, other: Person, *, office):
    """A customer whose record once held another customer's address (typed by mistake, then corrected), whose
    web request a helper filed from the helper's own address, and who mailed from an address she had before.
    Each of them mailed the office, unmatched. Returns her and the helper's address."""
    earlier = inbound_receive(raw=inbound_mail(person, subject="Anfrage von früher", attachment=False), source="pipe")
    CustomerFactory(full_name=other.full_name, email=other.email, responsible=office)
    customer = CustomerFactory(full_name=person.full_name, email=other.email, street=person.street, responsible=office)
    # Two customers have the address, so the mail is nobody's until the office says whose it is.
    mistyped = inbound_receive(raw=inbound_mail(other, subject="Frage von Bernd", attachment=False), source="pipe")
    customer = customer_update(customer=customer, changes={"email": person.email}, actor=office)
    helper = replace(person, full_name="Sohn Beispielmann", email="sohn.beispiel@example.de")
    web_request(helper, customer, about="Für meine Mutter")
    on_behalf = inbound_receive(
        raw=inbound_mail(helper, subject="Nachricht vom Sohn", attachment=False), source="pipe"
    )
    customer = customer_update(customer=customer, changes={"email": person.email.replace("@", ".neu@")}, actor=office)
    assert earlier.customer_id is None and mistyped.customer_id is None and on_behalf.customer_id is None
    return customer, helper.email


def traces(words: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, word) for every column of every table in the database that holds one of `words`,
    read as text and case-insensitively: the database itself, not what the models say it holds."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                name = connection.ops.quote_name(column.name)
                for word in words:
                    cursor.execute(
                        f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)} "  # noqa: S608 - names from introspection
                        f"WHERE LOWER(CAST({name} AS TEXT)) LIKE %s",
                        [f"%{word.lower()}%"],
                    )
                    if cursor.fetchone()[0]:
                        found.append((table, column.name, word))
    return found
