import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from journal.models import AppendOnlyError, JournalEntry
from journal.services import _erasure_sanctioned, journal_entries_erase, journal_record
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


# The one sanctioned way past the triggers: an erasure of one customer's personal data (migration 0004).


def _raw_update(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_erasure_empties_the_text_and_keeps_only_codes_and_dates_of_that_customers_entries(entry):
    other = journal_record(customer=CustomerFactory(), action="contact.recorded", summary="Frau Kurz rief an.")
    data = {"note": "Frau Lang, Tel. 030 1234", "status": "scheduled", "at": "2026-11-20T09:15:00+01:00", "n": 3}
    written = journal_record(customer=entry.customer, action="contact.recorded", summary="Frau Lang", data=data)

    assert journal_entries_erase(customer_id=entry.customer_id, personal=["Frau Lang"]) == 2

    written.refresh_from_db()
    other.refresh_from_db()
    assert written.summary == "" and written.data == {"status": "scheduled", "at": "2026-11-20T09:15:00+01:00", "n": 3}
    assert other.summary == "Frau Kurz rief an."


def test_a_code_holding_a_personal_word_goes_too(entry):
    written = journal_record(customer=entry.customer, action="x", data={"login": "meyer", "kind": "reminder"})

    journal_entries_erase(customer_id=entry.customer_id, personal=["Meyer"])

    written.refresh_from_db()
    assert written.data == {"kind": "reminder"}


def test_during_an_erasure_another_customers_entries_stay_refused(entry):
    other = journal_record(customer=CustomerFactory(), action="contact.recorded", summary="Frau Kurz rief an.")

    with pytest.raises(DatabaseError), transaction.atomic(), _erasure_sanctioned(entry.customer_id):
        _raw_update("UPDATE journal_journalentry SET summary = '' WHERE id = %s", [other.pk])

    other.refresh_from_db()
    assert other.summary == "Frau Kurz rief an."


@pytest.mark.parametrize(
    "change", ["action = 'forged'", "occurred_at = '2000-01-01 00:00:00'", "direction = 'out'", "channel = 'web'"]
)
def test_an_erasure_may_not_change_what_happened_when(entry, change):
    with pytest.raises(DatabaseError), transaction.atomic(), _erasure_sanctioned(entry.customer_id):
        _raw_update(f"UPDATE journal_journalentry SET summary = '', {change} WHERE id = %s", [entry.pk])

    entry.refresh_from_db()
    assert entry.summary == "Kunde rief an."


def test_once_the_erasure_is_over_the_same_transaction_is_refused_again(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        with _erasure_sanctioned(entry.customer_id):
            _raw_update("UPDATE journal_journalentry SET summary = '' WHERE id = %s", [entry.pk])
        _raw_update("UPDATE journal_journalentry SET summary = 'x' WHERE id = %s", [entry.pk])

    entry.refresh_from_db()
    assert entry.summary == "Kunde rief an."


def test_a_refusal_during_an_erasure_surfaces_as_itself_and_the_erasure_ends_with_it(entry):
    other = journal_record(customer=CustomerFactory(), action="contact.recorded", summary="Frau Kurz rief an.")

    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        with _erasure_sanctioned(entry.customer_id):
            _raw_update("UPDATE journal_journalentry SET summary = '' WHERE id = %s", [other.pk])

    # Not PostgreSQL's "current transaction is aborted" from cleaning up after it.
    assert "append-only" in str(refused.value)
    with pytest.raises(DatabaseError), transaction.atomic():
        _raw_update("UPDATE journal_journalentry SET summary = '' WHERE id = %s", [entry.pk])


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has no delete trigger (Django's test flush deletes rows, migration 0002): the PostgreSQL pass",
)
def test_on_postgresql_a_delete_stays_refused_even_during_an_erasure(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), _erasure_sanctioned(entry.customer_id):
        _raw_update("DELETE FROM journal_journalentry WHERE id = %s", [entry.pk])

    assert JournalEntry.objects.filter(pk=entry.pk).exists()
