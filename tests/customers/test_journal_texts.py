"""What the journal says about a customer's record is built from the entry's data, in the reader's language."""

import pytest

from customers.services import customer_create, customer_phone_reread, customer_update
from journal.models import JournalEntry
from tests.factories import CustomerFactory, OfficeUserFactory
from tests.journal.reading import as_read_in

pytestmark = pytest.mark.django_db


def test_a_new_customer_reads_in_german_dutch_and_english():
    customer = customer_create(
        fields={
            "full_name": "Anna Schmitz",
            "email": "anna@example.com",
            "street": "Hauptstraße 1",
            "postcode": "47533",
            "city": "Kleve",
            "responsible": OfficeUserFactory(),
        },
        actor=None,
    )

    entry = JournalEntry.objects.get(customer=customer, action="customer.created")
    assert [as_read_in(language, entry) for language in ("de", "nl", "en")] == [
        "Kundendaten angelegt.",
        "Klantgegevens aangemaakt.",
        "Customer record created.",
    ]


def test_changed_fields_are_named_in_the_readers_language():
    customer = CustomerFactory()

    customer_update(customer=customer, changes={"city": "Nijmegen", "postcode": "6511 AA"}, actor=None)

    entry = JournalEntry.objects.get(customer=customer, action="customer.updated")
    assert as_read_in("en", entry) == "Customer record changed: city, postcode."
    assert as_read_in("nl", entry).startswith("Klantgegevens gewijzigd: ")
    assert as_read_in("nl", entry) != as_read_in("de", entry)


def test_a_reread_phone_number_names_the_country_in_the_readers_language():
    customer = CustomerFactory(country="NL", phone="+49628471937")

    customer_phone_reread(customer=customer, actor=None)

    entry = JournalEntry.objects.get(customer=customer)
    assert as_read_in("nl", entry) == (
        "Telefoonnummer gelezen in het land van de klant (Nederland): +49 6284 71937 is nu +31 6 28471937."
    )
    assert as_read_in("en", entry).startswith("Phone number read in the customer's country (Netherlands): ")
