import pytest

from customers.services import customer_create, customer_update
from journal.models import JournalEntry
from tests.factories import CustomerFactory, OfficeUserFactory, UserFactory

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
