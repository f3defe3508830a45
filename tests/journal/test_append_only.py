import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from journal.models import AppendOnlyError, JournalEntry
from journal.services import journal_record
from tests.factories import AppointmentFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry():
    return journal_record(customer=CustomerFactory(), action="contact.recorded", summary="Kunde rief an.")


def test_an_entry_cannot_be_saved_again(entry):
    entry.summary = "Geändert"

    with pytest.raises(AppendOnlyError):
        entry.save()


def test_entries_cannot_be_bulk_updated_or_deleted(entry):
    with pytest.raises(AppendOnlyError):
        JournalEntry.objects.filter(pk=entry.pk).update(summary="Geändert")
    with pytest.raises(AppendOnlyError):
        JournalEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AppendOnlyError):
        entry.delete()


def test_the_database_refuses_an_update_behind_the_orms_back(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE journal_journalentry SET summary = 'x' WHERE id = %s", [entry.pk])

    entry.refresh_from_db()
    assert entry.summary == "Kunde rief an."


def test_admin_offers_no_change_or_delete(admin_client_office, entry):
    change_page = admin_client_office.get(reverse("admin:journal_journalentry_change", args=[entry.pk]))
    delete_page = admin_client_office.get(reverse("admin:journal_journalentry_delete", args=[entry.pk]))

    assert change_page.status_code == 200
    assert b'name="_save"' not in change_page.content
    assert delete_page.status_code == 403


def test_office_records_a_phone_call_in_the_journal(admin_client_office, office_user):
    customer = CustomerFactory()

    response = admin_client_office.post(
        reverse("admin:journal_journalentry_add"),
        {
            "customer": customer.pk,
            "contact": "phone_in",
            "note": "Kunde bittet um Rückruf morgen früh.",
            "occurred_at_0": "2026-11-20",
            "occurred_at_1": "09:15",
        },
    )

    assert response.status_code == 302
    entry = JournalEntry.objects.get(customer=customer)
    assert entry.action == "contact.recorded"
    assert entry.actor == office_user
    assert entry.channel == "phone"


def test_a_contact_cannot_name_another_customers_appointment(admin_client_office):
    customer = CustomerFactory()
    foreign = AppointmentFactory()

    response = admin_client_office.post(
        reverse("admin:journal_journalentry_add"),
        {
            "customer": customer.pk,
            "appointment": foreign.pk,
            "contact": "phone_in",
            "note": "Rückruf",
            "occurred_at_0": "2026-11-20",
            "occurred_at_1": "09:15",
        },
    )

    assert response.status_code == 200
    assert not JournalEntry.objects.exists()
