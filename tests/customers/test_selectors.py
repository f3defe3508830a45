import pytest

from customers.models import Customer
from customers.selectors import responsible_contact
from tests.factories import CustomerFactory, FirmFactory, OfficeUserFactory, TechnicianFactory

pytestmark = pytest.mark.django_db


def test_the_responsible_persons_direct_line_and_mail_are_named():
    firm = FirmFactory()
    office = OfficeUserFactory(first_name="Sandra", last_name="Brinkmann", email="s.brinkmann@firm.example")

    contact = responsible_contact(CustomerFactory(responsible=office), firm=firm)

    assert contact == {"name": "Sandra Brinkmann", "phone": "+49 2821 123456", "email": "s.brinkmann@firm.example"}


def test_someone_who_has_left_is_not_named_and_gets_no_replies_the_office_does():
    firm = FirmFactory()
    office = OfficeUserFactory(first_name="Sandra", last_name="Brinkmann", email="s.brinkmann@firm.example")
    office.is_active = False
    office.save(update_fields=["is_active"])

    contact = responsible_contact(CustomerFactory(responsible=office), firm=firm)

    assert contact == {"name": "Haustechnik Test GmbH", "phone": "+49 2821 100000", "email": "office@firm.example"}


def test_a_technician_left_as_responsible_person_is_never_named_to_the_customer():
    firm = FirmFactory()
    technician = TechnicianFactory()
    customer = CustomerFactory()
    # Only rows from before technicians were refused can be like this: the service refuses it now.
    Customer.objects.filter(pk=customer.pk).update(responsible=technician.user)
    customer.refresh_from_db()

    contact = responsible_contact(customer, firm=firm)

    assert contact == {"name": "Haustechnik Test GmbH", "phone": "+49 2821 100000", "email": "office@firm.example"}
