from datetime import timedelta

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
