"""A day's worth of the office's data with realistic long names, for tests that look at the admin as a clerk does."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from appointments.models import AppointmentStatus, BookingInvitation
from customers.models import Customer
from journal.services import journal_record
from notifications.models import MessageKind, MessageStatus, OutboxMessage
from tests.factories import (
    AppointmentFactory,
    CustomerFactory,
    FirmFactory,
    OfficeUserFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    VisitAttemptFactory,
    local_dt,
)

# Real names from the firm's area: a homeowners' association with its managing agent (95 characters).
LONG_NAME = "Wohnungseigentümergemeinschaft Hagsche Straße 34–38, c/o Hausverwaltung Terhorst & Söhne GmbH"
LONG_EMAIL = "weg.hagsche-strasse-34-38@hausverwaltung-terhorst-und-soehne.example.de"
LOGIN = ("office-scene", "secret-password")


@dataclass
class Scene:
    office: object
    customer: Customer
    dutch_customer: Customer
    appointment: object
    attempt: object
    invitation: BookingInvitation
    journal_entry: object
    superseded: OutboxMessage


def office_scene() -> Scene:
    FirmFactory()
    office = OfficeUserFactory(username=LOGIN[0], first_name="Sandra", last_name="Brinkmann")
    service_type = ServiceTypeFactory(
        name="Gas safety inspection", name_de="Gas-Sicherheitsprüfung", name_nl="Gasveiligheidskeuring"
    )
    heat_pump = ServiceTypeFactory(
        name="Heat pump installation and commissioning",
        name_de="Wärmepumpen-Installation und Inbetriebnahme",
        name_nl="Installatie en inbedrijfstelling warmtepomp",
    )
    technician = TechnicianFactory(
        display_name="Jan-Hendrik Verhaag-Terhorst", service_types=[service_type, heat_pump]
    )
    customer = CustomerFactory(
        full_name=LONG_NAME,
        email=LONG_EMAIL,
        street="Hagsche Straße 34–38",
        postcode="47533",
        city="Kleve-Materborn",
        responsible=office,
        notes="Schlüssel beim Hausmeister, Herrn Terhorst, Erdgeschoss links.",
    )
    dutch_customer = CustomerFactory(
        full_name="Gerrit-Jan van den Berg-Vermeulen",
        email="gerrit-jan.vandenberg-vermeulen@voorbeeld-woningbouwvereniging.example.nl",
        street="Heuvelsestraat 112",
        postcode="6566 EM",
        city="Millingen aan de Rijn",
        country="NL",
        preferred_language="nl",
        responsible=office,
    )
    appointment = None
    for day, (status, who, service) in enumerate(
        [
            (AppointmentStatus.SCHEDULED, customer, heat_pump),
            (AppointmentStatus.REQUESTED, dutch_customer, service_type),
            (AppointmentStatus.CANCELLED, customer, service_type),
            (AppointmentStatus.SCHEDULED, dutch_customer, heat_pump),
        ],
        start=1,
    ):
        visit = AppointmentFactory(
            customer=who,
            service_type=service,
            technician=technician,
            status=status,
            window_start=local_dt(day, 8),
            notes="Zugang über den Hof, Heizungsraum im Keller",
        )
        appointment = appointment or visit
    missed = AppointmentFactory(
        customer=customer,
        service_type=service_type,
        technician=technician,
        status=AppointmentStatus.MISSED,
        window_start=local_dt(-5, 8),
    )
    attempt = VisitAttemptFactory(
        appointment=missed,
        note="Zweimal geklingelt, Karte in den Briefkasten",
        follow_up_flagged_at=timezone.now() - timedelta(days=1),
    )
    invitation = BookingInvitation.objects.create(
        customer=dutch_customer,
        service_type=service_type,
        message="Uw jaarlijkse gasveiligheidskeuring staat weer gepland.",
        created_by=office,
        expires_at=timezone.now() + timedelta(days=14),
        nonce="scene",
    )
    journal_entry = journal_record(
        customer=customer,
        appointment=appointment,
        action="contact.recorded",
        channel="phone",
        direction="in",
        summary="Herr Terhorst rief an: Zugang zum Heizungsraum nur mit dem Hausmeister, 30 Minuten vorher anrufen.",
        actor=office,
    )
    superseded = OutboxMessage.objects.create(
        kind=MessageKind.REMINDER,
        status=MessageStatus.SUPERSEDED,
        dedupe_key="scene:reminder",
        customer=customer,
        appointment=appointment,
        appointment_version=1,
        to_email=customer.email,
        language="de",
        last_error="appointment is at version 2, message was for 1",
    )
    OutboxMessage.objects.create(
        kind=MessageKind.CONFIRMATION,
        status=MessageStatus.FAILED,
        dedupe_key="scene:confirmation",
        customer=dutch_customer,
        appointment=appointment,
        appointment_version=1,
        to_email=dutch_customer.email,
        language="nl",
        attempts=5,
        last_error="SMTP 550: b'5.1.1 <gerrit-jan.vandenberg-vermeulen@voorbeeld-woningbouwvereniging.example.nl>: "
        "Recipient address rejected: User unknown in virtual mailbox table'",
    )
    return Scene(office, customer, dutch_customer, appointment, attempt, invitation, journal_entry, superseded)
