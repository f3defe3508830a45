"""Recording a contact by hand: from the customer's page, about one of their visits, and back to the customer."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from journal.models import JournalEntry
from journal.services import journal_record
from tests.factories import AppointmentFactory, CustomerFactory, PromiseFactory

pytestmark = pytest.mark.django_db
ADD = reverse("admin:journal_journalentry_add")


def entry(customer, appointment, **changes):
    return {
        "customer": customer.pk,
        "appointment": appointment.pk if appointment else "",
        "contact": "phone_in",
        "note": "Kunde bittet um Rückruf am Nachmittag.",
        "occurred_at_0": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "occurred_at_1": "09:15",
        **changes,
    }


def test_the_visit_is_chosen_from_the_customers_own_visits(admin_client_office):
    visit = AppointmentFactory()
    someone_elses = AppointmentFactory()

    page = admin_client_office.get(f"{ADD}?customer={visit.customer.pk}").content.decode()

    assert "vForeignKeyRawIdAdminField" not in page  # no raw id box
    assert f'<option value="{visit.pk}">D-{visit.pk} · ' in page
    assert f'<option value="{someone_elses.pk}">' not in page


def test_only_the_ways_a_person_gets_in_touch_are_offered_with_their_direction(admin_client_office):
    page = admin_client_office.get(f"{ADD}?customer={CustomerFactory().pk}").content.decode()

    assert '<option value="phone_in" selected>Anruf vom Kunden</option>' in page
    assert '<option value="letter_out">' in page and '<option value="office_visit">' in page
    assert '<option value="system"' not in page
    assert '<option value="web"' not in page


def test_a_contact_about_another_customers_visit_is_refused(admin_client_office):
    customer = CustomerFactory()

    response = admin_client_office.post(f"{ADD}?customer={customer.pk}", entry(customer, AppointmentFactory()))

    assert response.status_code == 200
    assert not JournalEntry.objects.exists()


def test_a_contact_recorded_from_the_customers_page_returns_to_it(admin_client_office):
    visit = AppointmentFactory()

    response = admin_client_office.post(f"{ADD}?customer={visit.customer.pk}", entry(visit.customer, visit))

    assert response.status_code == 302
    assert response.url == reverse("admin:customers_customer_change", args=[visit.customer.pk])
    assert JournalEntry.objects.get().appointment == visit


def test_the_journal_filter_names_actions_in_the_office_language(admin_client_office):
    visit = AppointmentFactory()
    journal_record(customer=visit.customer, action="contact.recorded", summary="Anruf")
    journal_record(customer=visit.customer, action="message.reminder", summary="Erinnerung gesendet")

    page = admin_client_office.get(reverse("admin:journal_journalentry_changelist")).content.decode()

    assert "Kontakt vom Büro erfasst" in page
    assert "E-Mail gesendet: Erinnerung" in page
    assert ">contact.recorded<" not in page


def test_the_contact_form_labels_start_with_a_capital_like_the_others(admin_client_office):
    form = admin_client_office.get(f"{ADD}?customer={CustomerFactory().pk}").context["adminform"].form

    assert [str(form.fields[name].label)[0].isupper() for name in form.fields] == [True] * len(form.fields)


def test_the_add_page_keeps_the_promise_the_contact_keeps(admin_client_office):
    promise = PromiseFactory()
    customer = promise.customer

    page = admin_client_office.get(f"{ADD}?customer={customer.pk}&keeps_promise={promise.pk}").content.decode()
    admin_client_office.post(f"{ADD}?customer={customer.pk}", entry(customer, None, keeps_promise=str(promise.pk)))

    assert f'<option value="{promise.pk}" selected>' in page
    logged = JournalEntry.objects.get(action="contact.recorded")
    # The promise says which contact kept it; the contact's own data is what was said.
    assert logged.data == {"contact": "phone_in", "note": "Kunde bittet um Rückruf am Nachmittag."}
    promise.refresh_from_db()
    assert promise.kept_by == logged


CHANGELIST = reverse("admin:journal_journalentry_changelist")


def listed(response) -> set[int]:
    return {entry.pk for entry in response.context["cl"].result_list}


def test_the_search_finds_entries_that_store_action_and_data_only(admin_client_office):
    customer = CustomerFactory(full_name="Petra Neumann")
    mail = journal_record(
        customer=customer,
        action="inbound.received",
        data={"subject": "Heizung tropft im Keller", "from": "petra@example.de", "from_name": "Petra Neumann"},
    )
    contact = journal_record(
        customer=customer, action="contact.recorded", data={"contact": "phone_in", "note": "Rückruf wegen Öltank"}
    )
    other = journal_record(
        customer=customer, action="contact.recorded", data={"contact": "phone_in", "note": "Termin bestätigt"}
    )

    by_subject = admin_client_office.get(CHANGELIST, {"q": "tropft"})
    by_words = admin_client_office.get(CHANGELIST, {"q": "KELLER heizung"})
    by_umlaut = admin_client_office.get(CHANGELIST, {"q": "öltank"})
    by_phrase = admin_client_office.get(CHANGELIST, {"q": '"wegen Öltank"'})
    by_name = admin_client_office.get(CHANGELIST, {"q": "Neumann"})

    assert listed(by_subject) == listed(by_words) == {mail.pk}
    assert listed(by_umlaut) == listed(by_phrase) == {contact.pk}
    assert listed(by_name) == {mail.pk, contact.pk, other.pk}


def test_searching_the_journal_costs_no_more_queries_with_more_entries(
    admin_client_office, django_assert_max_num_queries
):
    def entries(count):
        for number in range(count):
            journal_record(
                customer=CustomerFactory(),
                action="inbound.received",
                data={"subject": f"Anfrage {number}", "from": "a@example.de"},
            )

    entries(2)
    with django_assert_max_num_queries(50) as few:
        admin_client_office.get(CHANGELIST, {"q": "Anfrage"})
    entries(20)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = admin_client_office.get(CHANGELIST, {"q": "Anfrage"})

    assert len(listed(response)) == 22
    assert len(many.captured_queries) == len(few.captured_queries)
