from datetime import timedelta
from pathlib import Path

import pytest

from tests.factories import CustomerFactory, FirmFactory, OfficeUserFactory, ServiceTypeFactory, TechnicianFactory


@pytest.fixture
def firm(db):
    return FirmFactory()


@pytest.fixture
def office(db):
    return OfficeUserFactory(first_name="Sandra", last_name="Brinkmann", email="s.brinkmann@firm.example")


@pytest.fixture
def service_type(db):
    return ServiceTypeFactory(
        name="Boiler maintenance",
        name_de="Heizungswartung",
        name_nl="CV-ketel onderhoud",
        duration=timedelta(hours=1),
        arrival_window=timedelta(hours=4),
    )


@pytest.fixture
def technician(service_type):
    technician = TechnicianFactory(service_types=[service_type], display_name="Jan Verhaag")
    return technician


@pytest.fixture
def customer(office, firm):
    return CustomerFactory(
        full_name="Anna Schmitz", email="anna@example.com", responsible=office, preferred_language="de"
    )


# A staff mail kind of the tests' own: the desk registers its real ones from its AppConfig.ready().
STAFF_KIND = "test_staff_note"
TEST_TEMPLATES = Path(__file__).resolve().parent / "templates"


def staff_note_context(message):
    return {"note": message.context.get("note", ""), "link": message.context.get("link", "")}


@pytest.fixture
def staff_kind(settings):
    from notifications import registry

    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], TEST_TEMPLATES]}]
    registry.register_kind(
        STAFF_KIND,
        context=staff_note_context,
        stale_reason=lambda message, now: "",
        audience=registry.Audience.STAFF,
        label="test note to the office",
    )
    yield STAFF_KIND
    registry._kinds.pop(STAFF_KIND, None)
