import pytest

from tests.factories import CustomerFactory, FirmFactory, OfficeUserFactory, ServiceTypeFactory, TechnicianFactory


@pytest.fixture
def setup(db):
    """The firm, Sandra in the office, Jan who does boiler maintenance, and Anna, a German-speaking customer."""
    FirmFactory(phone="+492821100000", email="office@firm.example")
    office = OfficeUserFactory(first_name="Sandra", last_name="Brinkmann", email="s.brinkmann@firm.example")
    service_type = ServiceTypeFactory(name_de="Heizungswartung")
    technician = TechnicianFactory(service_types=[service_type], display_name="Jan Verhaag")
    customer = CustomerFactory(
        full_name="Anna Schmitz",
        responsible=office,
        preferred_language="de",
        phone="+4930987654",
        email="anna@example.com",
    )
    return {"office": office, "service_type": service_type, "technician": technician, "customer": customer}
