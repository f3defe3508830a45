"""Logging a contact keeps and makes promises: "this contact keeps:" one of the customer's open promises,
"and we promised:" a new one, in the same step as the journal entry; bad input stores nothing."""

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from desk.models import Promise, PromiseKind, PromiseState
from journal.models import JournalEntry
from journal.services import ContactError, contact_record
from tests.factories import CustomerFactory, OfficeUserFactory, PromiseFactory

pytestmark = pytest.mark.django_db
ADD = reverse("admin:journal_journalentry_add")


def contact_url(customer):
    return reverse("admin:journal_journalentry_contact", args=[customer.pk])


def customer_page(customer):
    return reverse("admin:customers_customer_change", args=[customer.pk])


def posted(**changes):
    an_hour_ago = timezone.localtime() - timedelta(hours=1)
    return {
        "contact": "phone_out",
        "appointment": "",
        "note": "Rückruf: Angebot kommt bis Donnerstag.",
        "occurred_at": an_hour_ago.strftime("%Y-%m-%dT%H:%M"),
        **changes,
    }


def select(page: str, name: str) -> str:
    return re.search(rf'<select name="{name}".*?</select>', page, re.S).group(0)


def tomorrow_at(hour: int):
    return (timezone.localtime() + timedelta(days=1)).replace(hour=hour, minute=0, second=0, microsecond=0)


def promised(moment, **changes):
    return {
        "promise_kind": PromiseKind.SEND_QUOTE,
        "promise_due_at_0": moment.strftime("%Y-%m-%d"),
        "promise_due_at_1": moment.strftime("%H:%M"),
        **changes,
    }


def test_the_form_offers_the_customers_open_promises_by_kind_due_time_and_owner(admin_client_office):
    owner = OfficeUserFactory(first_name="Sandra", last_name="Brinkmann")
    customer = CustomerFactory(responsible=owner)
    due = tomorrow_at(10)
    promise = PromiseFactory(customer=customer, owner=owner, due_at=due)
    closed = PromiseFactory(customer=customer, state=PromiseState.DONE, closed_at=timezone.now())
    someone_elses = PromiseFactory()

    page = admin_client_office.get(f"{contact_url(customer)}?keeps_promise={promise.pk}").content.decode()

    kept = select(page, "keeps_promise")
    assert f'<option value="{promise.pk}" selected>zurückrufen · fällig ' in kept
    assert f"{due:%H:%M} · Sandra Brinkmann</option>" in kept
    assert f'<option value="{closed.pk}"' not in kept
    assert f'<option value="{someone_elses.pk}"' not in kept
    # Whoever is the customer's contact keeps what is promised, unless the clerk names someone else.
    assert f'<option value="{owner.pk}" selected>Sandra Brinkmann</option>' in page


def test_the_customers_page_offers_the_same_choices_in_its_quick_form(admin_client_office):
    promise = PromiseFactory()

    page = admin_client_office.get(customer_page(promise.customer)).content.decode()

    assert f'<option value="{promise.pk}">zurückrufen · fällig ' in page
    assert 'name="promise_kind" form="journal-contact"' in page


def test_a_customer_without_an_open_promise_is_not_offered_an_empty_choice_of_promises(admin_client_office):
    customer = CustomerFactory()
    PromiseFactory(customer=customer, state=PromiseState.DONE, closed_at=timezone.now())

    quick_forms = [
        admin_client_office.get(url).content.decode() for url in (customer_page(customer), contact_url(customer))
    ]
    add_page = admin_client_office.get(f"{ADD}?customer={customer.pk}").content.decode()

    for page in quick_forms:
        assert "Dieser Kontakt löst ein" not in page
    assert 'class="form-row hidden field-keeps_promise"' in add_page  # the admin's own way to leave it out
    for page in [*quick_forms, add_page]:
        assert '<select name="keeps_promise"' not in page
        assert 'name="promise_kind"' in page  # a promise can still be made in the contact


def test_the_call_that_keeps_a_promise_closes_it_and_the_clerk_is_back_on_my_desk(admin_client_office, office_user):
    promise = PromiseFactory(owner=office_user)
    back = reverse("desk:page") + "?view=team"

    response = admin_client_office.post(contact_url(promise.customer), posted(keeps_promise=promise.pk, next=back))

    assert response.status_code == 302 and response.url == back
    promise.refresh_from_db()
    entry = JournalEntry.objects.get(action="contact.recorded")
    assert (promise.state, promise.kept_by) == (PromiseState.DONE, entry)
    assert JournalEntry.objects.filter(action="promise.kept", data__entry_id=entry.pk).exists()
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Der Kontakt steht im Journal von {promise.customer}. Zusage erledigt: zurückrufen."
    ]


def test_a_promise_made_in_the_call_is_owned_by_the_customers_contact_and_made_in_that_entry(
    admin_client_office,
):
    owner = OfficeUserFactory()
    customer = CustomerFactory(responsible=owner)
    due = tomorrow_at(12)

    response = admin_client_office.post(
        contact_url(customer), posted(**promised(due, promise_owner="", promise_note="Wärmepumpe 9 kW"))
    )

    assert response.status_code == 302 and response.url == customer_page(customer)
    promise = Promise.objects.get()
    entry = JournalEntry.objects.get(action="contact.recorded")
    assert (promise.kind, promise.owner, promise.due_at, promise.note) == (
        PromiseKind.SEND_QUOTE,
        owner,
        due,
        "Wärmepumpe 9 kW",
    )
    assert (promise.made_in, promise.state, promise.customer) == (entry, PromiseState.OPEN, customer)


def test_one_call_keeps_a_promise_and_makes_the_next(admin_client_office, office_user):
    promise = PromiseFactory(owner=office_user)
    colleague = OfficeUserFactory()

    admin_client_office.post(
        contact_url(promise.customer),
        posted(keeps_promise=promise.pk, **promised(tomorrow_at(9), promise_owner=colleague.pk)),
    )

    promise.refresh_from_db()
    new = Promise.objects.get(state=PromiseState.OPEN)
    assert promise.state == PromiseState.DONE
    assert (new.owner, new.made_in) == (colleague, promise.kept_by)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"keeps_promise": "999999"}, "Diese Zusage gibt es nicht (mehr)."),
        ({"promise_kind": "call_back"}, "Bitte geben Sie Datum und Uhrzeit an, bis wann es zugesagt ist."),
        ({"promise_kind": "", "promise_note": "irgendwas"}, "Bitte wählen Sie, was zugesagt wurde."),
        ({"promise_kind": "call_bounced"}, "Bitte eine gültige Auswahl treffen."),
        (
            promised(timezone.localtime() - timedelta(days=1)),
            "Dieser Zeitpunkt ist vorbei: Eine Zusage ist in der Zukunft fällig.",
        ),
    ],
)
def test_bad_input_shows_a_clear_message_and_stores_nothing(admin_client_office, changes, message):
    customer = CustomerFactory()

    response = admin_client_office.post(contact_url(customer), posted(**changes))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not JournalEntry.objects.exists()
    assert not Promise.objects.exists()


def test_a_promise_of_another_customer_cannot_be_kept(admin_client_office):
    customer, someone_elses = CustomerFactory(), PromiseFactory()

    response = admin_client_office.post(contact_url(customer), posted(keeps_promise=someone_elses.pk))

    assert "Diese Zusage gehört zu einem anderen Kunden." in response.content.decode()
    someone_elses.refresh_from_db()
    assert someone_elses.state == PromiseState.OPEN
    assert not JournalEntry.objects.exists()


def test_a_promise_closed_meanwhile_is_not_kept_twice(admin_client_office):
    promise = PromiseFactory(state=PromiseState.VOIDED, closed_at=timezone.now())

    response = admin_client_office.post(contact_url(promise.customer), posted(keeps_promise=promise.pk))

    assert "Diese Zusage ist schon abgeschlossen (hinfällig)." in response.content.decode()
    assert not JournalEntry.objects.exists()


def test_a_refusal_while_applying_undoes_the_entry_too(office_user):
    promise = PromiseFactory(state=PromiseState.DONE, closed_at=timezone.now())

    with pytest.raises(ContactError):
        contact_record(
            customer=promise.customer,
            contact="phone_out",
            note="Zurückgerufen.",
            actor=office_user,
            extension_data={"keeps_promise": promise, "promise_kind": ""},
        )

    assert not JournalEntry.objects.exists()


def test_a_service_caller_keeps_a_promise_the_one_way_the_form_does(office_user):
    promise = PromiseFactory()
    said = {"customer": promise.customer, "contact": "phone_out", "note": "Zurückgerufen.", "actor": office_user}

    with pytest.raises(TypeError):
        contact_record(**said, keeps_promise=promise.pk)  # stored an id and kept nothing
    entry = contact_record(**said, extension_data={"keeps_promise": promise})

    promise.refresh_from_db()
    assert promise.state == PromiseState.DONE and promise.kept_by == entry
    assert JournalEntry.objects.filter(action="contact.recorded").count() == 1


def test_a_next_address_elsewhere_leads_back_to_the_customer(admin_client_office):
    customer = CustomerFactory()

    response = admin_client_office.post(contact_url(customer), posted(next="https://evil.example/"))

    assert response.url == customer_page(customer)


def test_the_journals_add_page_keeps_and_makes_promises_too(admin_client_office):
    promise = PromiseFactory()
    yesterday = timezone.localtime() - timedelta(days=1)
    due = tomorrow_at(11)

    page = admin_client_office.get(f"{ADD}?customer={promise.customer.pk}&keeps_promise={promise.pk}")
    response = admin_client_office.post(
        f"{ADD}?customer={promise.customer.pk}",
        {
            "customer": promise.customer.pk,
            "contact": "email_out",
            "appointment": "",
            "note": "Infos geschickt.",
            "occurred_at_0": yesterday.strftime("%Y-%m-%d"),
            "occurred_at_1": "09:15",
            "keeps_promise": promise.pk,
            **promised(due, promise_kind=PromiseKind.CHECK),
        },
    )

    assert f'<option value="{promise.pk}" selected>' in page.content.decode()
    assert response.status_code == 302 and response.url == customer_page(promise.customer)
    promise.refresh_from_db()
    assert promise.state == PromiseState.DONE
    assert Promise.objects.get(state=PromiseState.OPEN).kind == PromiseKind.CHECK


def test_my_desk_links_each_promise_to_the_form_that_keeps_it_and_back(admin_client_office, office_user):
    promise = PromiseFactory(owner=office_user, due_at=timezone.now() - timedelta(hours=1))

    quote = PromiseFactory(owner=office_user, due_at=timezone.now() + timedelta(hours=1), kind=PromiseKind.SEND_QUOTE)

    page = admin_client_office.get(reverse("desk:page")).content.decode()

    assert (
        f"{contact_url(promise.customer)}?keeps_promise={promise.pk}&amp;next=%2Fdesk%2F&amp;contact=phone_out" in page
    )
    # A quote is sent by email: the form comes with that chosen.
    assert f"?keeps_promise={quote.pk}&amp;next=%2Fdesk%2F&amp;contact=email_out" in page


def test_the_customers_open_promises_each_link_to_the_form_that_keeps_them(admin_client_office):
    promise = PromiseFactory()

    page = admin_client_office.get(customer_page(promise.customer)).content.decode()

    # Back to the customer afterwards; a promise to call back is kept by a call to them.
    back = urlencode({"next": customer_page(promise.customer)})
    link = f'href="{contact_url(promise.customer)}?keeps_promise={promise.pk}&amp;{back}&amp;contact=phone_out">'
    assert f"{link}Anruf erfassen, der sie einlöst</a>" in page
