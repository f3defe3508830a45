"""Who the card tests print for, and ways to read the PDFs.

Shared by the rendering tests (tests/appointments/test_cards.py) and the technician's
downloads of them (tests/technicians/test_cards.py).
"""

import io
from datetime import timedelta

from pypdf import PdfReader

from appointments.models import AppointmentStatus
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


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def one_line(text: str) -> str:
    """Card text with the line breaks of the layout taken out, for values that may wrap."""
    return " ".join(text.split())


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def card_scene() -> dict:
    FirmFactory(name="Haustechnik Verhaag GmbH", phone="+492821100000", email="office@firm.example")
    office = OfficeUserFactory(first_name="Sandra", last_name="Brinkmann", email="sandra@firm.example")
    # Two-hour windows: visits at 8, 10, 12 and 14 o'clock do not overlap (PostgreSQL refuses overlaps).
    service_type = ServiceTypeFactory(
        name="Boiler maintenance",
        name_de="Heizungswartung",
        name_nl="CV-onderhoud",
        duration=timedelta(hours=1),
        arrival_window=timedelta(hours=2),
        buffer_after=timedelta(0),
    )
    technician = TechnicianFactory(display_name="Jan Verhaag")
    customer = CustomerFactory(full_name="Anna Schmitz", responsible=office, preferred_language="en")
    return {"office": office, "service_type": service_type, "technician": technician, "customer": customer}


def missed_attempt(setup, *, customer=None, minute=2):
    appointment = AppointmentFactory(
        customer=customer or setup["customer"],
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=local_dt(-1, 8),
        status=AppointmentStatus.MISSED,
    )
    return VisitAttemptFactory(appointment=appointment, at=local_dt(-1, 10, minute))
