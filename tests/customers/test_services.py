import pytest

from customers.models import Customer
from customers.services import customer_create, customer_phone_reread, customer_update
from journal.models import JournalEntry
from tests.factories import CustomerFactory, OfficeUserFactory, TechnicianFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_creating_a_customer_opens_their_journal():
    actor = OfficeUserFactory()
    customer = customer_create(
        fields={
            "full_name": "Jan de Vries",
            "street": "Molenstraat 1",
            "postcode": "6511 AB",
            "city": "Nijmegen",
            "country": "NL",
            "preferred_language": "nl",
            "responsible": actor,
        },
        actor=actor,
    )

    entry = JournalEntry.objects.get(customer=customer)
    assert entry.action == "customer.created"
    assert entry.actor == actor


def test_updating_a_customer_journals_what_changed():
    customer = CustomerFactory(city="Kleve")
    actor = OfficeUserFactory()

    customer_update(customer=customer, changes={"city": "Goch", "notes": "Schlüssel beim Nachbarn"}, actor=actor)

    entry = JournalEntry.objects.get(customer=customer, action="customer.updated")
    assert entry.data["changes"]["city"] == {"old": "Kleve", "new": "Goch"}
    assert set(entry.data["changes"]) == {"city", "notes"}


def test_saving_unchanged_customer_writes_no_journal_entry():
    customer = CustomerFactory(city="Kleve")

    customer_update(customer=customer, changes={"city": "Kleve"}, actor=None)

    assert not JournalEntry.objects.exists()


def test_responsible_person_must_be_office_staff():
    from customers.services import CustomerError

    customer = CustomerFactory()
    outsider = UserFactory(is_staff=False)

    with pytest.raises(CustomerError):
        customer_update(customer=customer, changes={"responsible": outsider}, actor=None)


def test_a_technician_cannot_be_made_responsible_for_a_customer():
    from customers.services import CustomerError

    customer = CustomerFactory()
    technician = TechnicianFactory()

    with pytest.raises(CustomerError) as error:
        customer_update(customer=customer, changes={"responsible": technician.user}, actor=None)

    assert error.value.code == "responsible_not_office"
    customer.refresh_from_db()
    assert customer.responsible != technician.user


def test_a_new_customer_cannot_get_a_technician_as_responsible_person():
    from customers.services import CustomerError

    technician = TechnicianFactory()

    with pytest.raises(CustomerError):
        customer_create(
            fields={
                "full_name": "Jan de Vries",
                "street": "Molenstraat 1",
                "postcode": "6511 AB",
                "city": "Nijmegen",
                "responsible": technician.user,
            },
            actor=None,
        )

    assert not Customer.objects.exists()


def test_rereading_a_confirmed_phone_number_in_the_customers_country_is_journalled():
    customer = CustomerFactory(country="NL", phone="+49628471937")
    actor = OfficeUserFactory()

    customer_phone_reread(customer=customer, actor=actor)

    customer.refresh_from_db()
    assert customer.phone.as_e164 == "+31628471937"
    entry = JournalEntry.objects.get(customer=customer)
    assert (entry.action, entry.actor) == ("customer.phone_reread", actor)
    assert entry.data == {"old": "+49628471937", "new": "+31628471937", "country": "NL"}


def test_a_number_that_reads_the_same_in_the_customers_country_is_not_reread():
    from customers.services import CustomerError

    customer = CustomerFactory(country="NL", phone="+31628471937")

    with pytest.raises(CustomerError):
        customer_phone_reread(customer=customer, actor=None)

    assert not JournalEntry.objects.exists()
