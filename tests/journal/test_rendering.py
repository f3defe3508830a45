"""Entries are shown as sentences in the reader's language, built by the renderer their app registered."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy

from journal.admin import journal_timeline_html
from journal.rendering import action_label, entry_text, register_action, registered_actions
from journal.services import journal_record
from tests.factories import AppointmentFactory, CustomerFactory, OfficeUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry():
    """A test's own registrations go away after it."""
    from journal import rendering

    saved = registered_actions()
    yield
    rendering._actions.clear()
    rendering._actions.update(saved)


def test_an_action_registered_with_a_renderer_is_said_in_the_active_language(registry):
    register_action(
        "test.greeted",
        label=gettext_lazy("customer"),
        render=lambda entry: f"{translation.get_language()}: {entry.data['name']}",
    )
    entry = journal_record(customer=CustomerFactory(), action="test.greeted", data={"name": "Anna"})

    assert entry.summary == ""
    with translation.override("nl"):
        assert entry_text(entry) == "nl: Anna"
        assert action_label("test.greeted") == "klant"
    with translation.override("de"):
        assert entry_text(entry) == "de: Anna"


def test_data_lacking_what_the_renderer_needs_shows_the_stored_text_and_never_raises(registry):
    register_action("test.greeted", label="greeted", render=lambda entry: entry.data["name"])
    customer = CustomerFactory()
    old = journal_record(customer=customer, action="test.greeted", summary="Alter Text.")
    bare = journal_record(customer=customer, action="test.greeted")

    assert entry_text(old) == "Alter Text."
    assert entry_text(bare) == "greeted"


def test_an_action_nobody_registered_shows_its_stored_text_or_else_its_code():
    customer = CustomerFactory()

    assert entry_text(journal_record(customer=customer, action="test.unknown", summary="Etwas.")) == "Etwas."
    assert entry_text(journal_record(customer=customer, action="test.unknown")) == "test.unknown"
    assert action_label("test.unknown") == "test.unknown"


def test_a_contact_logged_by_the_office_is_shown_as_typed_in_every_language():
    entry = journal_record(
        customer=CustomerFactory(), action="contact.recorded", summary="x", data={"note": "Bitte ab 14 Uhr anrufen."}
    )

    for language in ("de", "nl", "en"):
        with translation.override(language):
            assert entry_text(entry) == "Bitte ab 14 Uhr anrufen."


def test_every_action_the_apps_write_today_is_registered_with_a_label():
    actions = registered_actions()

    for action in ["appointment.scheduled", "visit.missed", "customer.updated", "message.reminder"]:
        assert action in actions
    with translation.override("de"):
        assert action_label("message.reminder") == "E-Mail gesendet: Erinnerung"
        assert action_label("message.reminder.no_email") == "Erinnerung: keine E-Mail-Adresse"


def test_the_timeline_reads_all_its_entries_in_the_same_few_queries_however_many_there_are():
    visit = AppointmentFactory()
    office = OfficeUserFactory()

    def queries_for_timeline():
        with CaptureQueriesContext(connection) as queries:
            journal_timeline_html(visit.customer, length=100)
        return len(queries)

    for n in range(3):
        journal_record(customer=visit.customer, appointment=visit, action="contact.recorded", data={"note": f"{n}"})
    few = queries_for_timeline()
    for n in range(30):
        journal_record(
            customer=visit.customer, appointment=visit, action="contact.recorded", actor=office, data={"note": f"{n}"}
        )
        journal_record(customer=visit.customer, action="customer.updated", data={"changes": {"city": {}}})

    assert queries_for_timeline() == few


def test_the_journal_list_shows_each_entry_in_the_readers_language(admin_client_office):
    customer = CustomerFactory()
    journal_record(customer=customer, action="customer.created", summary="Kundendaten angelegt.")

    dutch = admin_client_office.get(reverse("admin:journal_journalentry_changelist"), HTTP_ACCEPT_LANGUAGE="nl")
    german = admin_client_office.get(reverse("admin:journal_journalentry_changelist"), HTTP_ACCEPT_LANGUAGE="de")

    assert "Klantgegevens aangemaakt." in dutch.content.decode()
    assert "Kundendaten angelegt." in german.content.decode()


def test_the_journal_list_reads_a_page_of_entries_in_the_same_queries_however_many(admin_client_office):
    customer = CustomerFactory()
    url = reverse("admin:journal_journalentry_changelist")
    journal_record(customer=customer, action="customer.created")
    admin_client_office.get(url)  # the session and the user, read once
    with CaptureQueriesContext(connection) as few:
        admin_client_office.get(url)
    for n in range(20):
        journal_record(customer=CustomerFactory(), action="contact.recorded", data={"note": f"{n}"})
    with CaptureQueriesContext(connection) as many:
        admin_client_office.get(url)

    assert len(many) == len(few)


def test_the_customer_page_shows_the_timeline_in_the_readers_language(admin_client_office):
    customer = CustomerFactory()
    journal_record(customer=customer, action="customer.updated", summary="x", data={"changes": {"city": {}}})
    page = reverse("admin:customers_customer_change", args=[customer.pk])

    assert "Klantgegevens gewijzigd: " in admin_client_office.get(page, HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Kundendaten geändert: " in admin_client_office.get(page, HTTP_ACCEPT_LANGUAGE="de").content.decode()


def test_the_visits_page_shows_what_the_journal_holds_about_that_visit_only(admin_client_office):
    visit = AppointmentFactory()
    other = AppointmentFactory(customer=visit.customer)
    for appointment, note in [(visit, "Zu diesem."), (other, "Zum anderen.")]:
        journal_record(
            customer=visit.customer, appointment=appointment, action="contact.recorded", data={"note": note}
        )

    page = admin_client_office.get(reverse("admin:appointments_appointment_change", args=[visit.pk])).content.decode()

    assert "Zu diesem." in page
    assert "Zum anderen." not in page


def test_an_entry_named_where_a_record_links_to_it_reads_in_local_time_and_the_readers_words(registry):
    # As a promise's change page shows the entry it was promised in.
    register_action("test.greeted", label=gettext_lazy("customer"))
    at = datetime(2026, 11, 30, 15, 10, tzinfo=ZoneInfo("UTC"))
    entry = journal_record(customer=CustomerFactory(), action="test.greeted", occurred_at=at)

    with translation.override("de"):
        assert str(entry) == "30.11.2026 16:10 · Kunde"
    with translation.override("nl"):
        assert "16:10" in str(entry) and str(entry).endswith(" · klant") and "test.greeted" not in str(entry)
