"""Logging a contact from the customer's page: a few choices, what was said, back to the customer."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from journal.models import JournalEntry
from journal.services import journal_record
from tests.factories import AppointmentFactory, CustomerFactory, PromiseFactory

pytestmark = pytest.mark.django_db


def contact_url(customer):
    return reverse("admin:journal_journalentry_contact", args=[customer.pk])


def customer_page(customer):
    return reverse("admin:customers_customer_change", args=[customer.pk])


def posted(for_customer, **changes):
    an_hour_ago = timezone.localtime() - timedelta(hours=1)
    return {
        "contact": "phone_out",
        "appointment": "",
        "note": "Rückruf: Termin passt, Hund wird weggesperrt.",
        "occurred_at": an_hour_ago.strftime("%Y-%m-%dT%H:%M"),
        **changes,
    }


def test_the_customers_page_offers_the_quick_form_with_their_visits_by_name(admin_client_office):
    visit = AppointmentFactory()
    someone_elses = AppointmentFactory()

    page = admin_client_office.get(customer_page(visit.customer)).content.decode()

    assert f'<form id="journal-contact" method="post" action="{contact_url(visit.customer)}">' in page
    assert '<option value="phone_in">Anruf vom Kunden</option>' in page
    assert '<option value="office_visit">Besuch im Büro</option>' in page
    assert f'<option value="{visit.pk}">D-{visit.pk} · ' in page
    assert f'<option value="{someone_elses.pk}">' not in page
    assert 'type="datetime-local"' in page
    assert 'form="journal-contact"' in page


def test_a_logged_call_lands_in_the_journal_and_the_clerk_is_back_on_the_customers_page(
    admin_client_office, office_user
):
    visit = AppointmentFactory()

    response = admin_client_office.post(contact_url(visit.customer), posted(visit.customer, appointment=visit.pk))

    assert response.status_code == 302 and response.url == customer_page(visit.customer)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Der Kontakt steht im Journal von {visit.customer}."
    ]
    entry = JournalEntry.objects.get()
    assert (entry.action, entry.channel, entry.direction) == ("contact.recorded", "phone", "out")
    assert (entry.appointment, entry.actor, entry.customer) == (visit, office_user, visit.customer)
    assert entry.data == {
        "contact": "phone_out",
        "note": "Rückruf: Termin passt, Hund wird weggesperrt.",
    }
    assert timezone.now() - timedelta(hours=1, minutes=2) < entry.occurred_at < timezone.now()
    page = admin_client_office.get(customer_page(visit.customer)).content.decode()
    assert "Rückruf: Termin passt, Hund wird weggesperrt." in page


def test_a_visit_at_the_office_is_a_visit_from_the_customer(admin_client_office):
    customer = CustomerFactory()

    admin_client_office.post(contact_url(customer), posted(customer, contact="office_visit"))

    assert (JournalEntry.objects.get().channel, JournalEntry.objects.get().direction) == ("visit", "in")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"note": "   "}, "Bitte notieren Sie, was besprochen oder vereinbart wurde."),
        ({"note": "x" * 5001}, "Bitte fassen Sie die Notiz in höchstens 5000 Zeichen."),
        ({"contact": "system"}, "Bitte wählen Sie, wie der Kontakt stattfand."),
        ({"occurred_at": "morgen"}, "Bitte ein gültiges Datum und Uhrzeit eingeben."),
        ({"occurred_at": "2099-01-01T10:00"}, "Dieser Zeitpunkt liegt in der Zukunft."),
        ({"keeps_promise": "abc"}, "Diese Zusage gibt es nicht (mehr)."),
        ({"appointment": "999999"}, "Bitte wählen Sie einen Termin dieses Kunden."),
    ],
)
def test_bad_input_is_shown_again_with_a_clear_message_and_nothing_is_stored(admin_client_office, changes, message):
    customer = CustomerFactory()

    response = admin_client_office.post(contact_url(customer), posted(customer, **changes))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not JournalEntry.objects.exists()


def test_a_visit_of_another_customer_cannot_be_named(admin_client_office):
    customer = CustomerFactory()

    response = admin_client_office.post(contact_url(customer), posted(customer, appointment=AppointmentFactory().pk))

    assert response.status_code == 200
    assert not JournalEntry.objects.exists()


def test_the_customer_is_the_one_in_the_address_not_one_slipped_into_the_form(admin_client_office):
    customer, other = CustomerFactory(), CustomerFactory()

    admin_client_office.post(contact_url(customer), posted(customer, customer=other.pk))

    assert JournalEntry.objects.get().customer == customer


def test_opening_the_form_changes_nothing_and_carries_the_promise_it_keeps(admin_client_office):
    promise = PromiseFactory()

    page = admin_client_office.get(f"{contact_url(promise.customer)}?keeps_promise={promise.pk}").content.decode()

    assert f'<option value="{promise.pk}" selected>' in page
    assert not JournalEntry.objects.exists()


def test_an_unknown_customer_is_not_found_and_a_technician_may_not_log(client, admin_client_office):
    from tests.factories import TechnicianFactory

    assert admin_client_office.get(reverse("admin:journal_journalentry_contact", args=[999999])).status_code == 404
    technician = TechnicianFactory()
    technician.user.is_staff = True
    technician.user.save()
    client.force_login(technician.user)
    customer = CustomerFactory()

    response = client.post(contact_url(customer), posted(customer))

    assert response.status_code in (302, 403)
    assert not JournalEntry.objects.exists()


def test_a_contact_logged_at_the_suggested_time_shows_first_in_the_timeline(admin_client_office):
    customer = CustomerFactory()
    journal_record(customer=customer, action="customer.created", summary="Kundendaten angelegt.")

    admin_client_office.post(
        contact_url(customer),
        posted(customer, occurred_at=timezone.localtime().strftime("%Y-%m-%dT%H:%M"), note="Gerade angerufen."),
    )

    assert JournalEntry.objects.filter(customer=customer).first().data["note"] == "Gerade angerufen."
