"""A technician's realistic day for the day sheet tests: eight visits, real-world names, notes."""

from datetime import date, timedelta

from django.utils import timezone

from appointments.models import TimeOff
from tests.factories import (
    AppointmentFactory,
    CustomerFactory,
    FirmFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    local_dt,
)

LONG_NAME = (
    "Wohnungseigentümergemeinschaft Kaiser-Friedrich-Straße 117–121 c/o Hausverwaltung "
    "Müller-Lüdenscheidt & Söhne GmbH"
)
LONG_STREET = "Oberbürgermeister-Dr.-Heinrich-Kleinschmidt-Straße 1234a, Hinterhaus, 3. Obergeschoss links"


def next_tuesday_offset() -> int:
    """Days from today to the next Tuesday: a working day of the factory's technician, never today."""
    today = timezone.localdate()
    return (1 - today.weekday()) % 7 or 7


def sheet_scene(*, visits: int = 8, long_names: bool = False) -> dict:
    offset = next_tuesday_offset()
    day: date = timezone.localdate() + timedelta(days=offset)
    FirmFactory(name="Haustechnik Verhaag GmbH")
    service_type = ServiceTypeFactory(
        name="Boiler maintenance",
        name_de="Heizungswartung",
        name_nl="CV-onderhoud",
        duration=timedelta(minutes=45),
        arrival_window=timedelta(hours=2),
        buffer_after=timedelta(minutes=15),
    )
    technician = TechnicianFactory(display_name="Jan Verhaag")
    TimeOff.objects.create(
        technician=technician, starts_at=local_dt(offset, 15), ends_at=local_dt(offset, 16, 30), reason="Arzt"
    )
    appointments = []
    for index in range(visits):
        planned = local_dt(offset, 7, 30) + timedelta(hours=index)
        customer = CustomerFactory(
            full_name=LONG_NAME if long_names else f"Kunde {index + 1} Schmitz",
            phone=f"+49282112345{index:02d}",
            notes="Hund im Garten, bitte an der Seitentür klingeln." if index % 2 == 0 else "",
        )
        appointments.append(
            AppointmentFactory(
                customer=customer,
                service_type=service_type,
                technician=technician,
                # The promise opens before the planned start, by more for later visits.
                window_start=planned - timedelta(minutes=30),
                window_end=planned + timedelta(minutes=90),
                planned_start=planned,
                site_street=LONG_STREET if long_names else f"Hauptstraße {index + 1}",
                site_postcode="47533",
                site_city="Kleve",
                notes="Gaszähler im Keller, Schlüssel beim Nachbarn (Nr. 5)." if index % 3 == 0 else "",
            )
        )
    return {
        "day": day,
        "offset": offset,
        "technician": technician,
        "appointments": appointments,
        "service_type": service_type,
    }
