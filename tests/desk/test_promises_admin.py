"""The promises' admin: a list to work from, a form that starts from a customer, and a page whose buttons
change a promise only through the desk's services; bad input gets a clear message and changes nothing."""

import html
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from desk.models import PostcodeArea, Promise, PromiseKind, PromiseState
from desk.services import promise_make
from journal.models import JournalEntry
from notifications.models import MessageKind, OutboxMessage
from tests.factories import (
    AppointmentFactory,
    CustomerFactory,
    OfficeUserFactory,
    TechnicianFactory,
    local_dt,
)

pytestmark = pytest.mark.django_db
LIST = reverse("admin:desk_promise_changelist")
ADD = reverse("admin:desk_promise_add")


@pytest.fixture
def client_office(client, office):
    client.force_login(office)
    return client


@pytest.fixture
def customer(office):
    return CustomerFactory(full_name="Anna Schmitz", phone="+4930123456", responsible=office, preferred_language="de")


def make(customer, due_at, **kwargs):
    return promise_make(
        customer=customer,
        kind=kwargs.pop("kind", PromiseKind.CALL_BACK),
        owner=customer.responsible,
        due_at=due_at,
        **kwargs,
    )


def action_url(promise, name):
    return reverse("admin:desk_promise_action", args=[promise.pk, name])


def split(moment):
    local = timezone.localtime(moment)
    return {"_0": local.strftime("%Y-%m-%d"), "_1": local.strftime("%H:%M")}


def dt_fields(name, moment):
    return {f"{name}{suffix}": value for suffix, value in split(moment).items()}


# The list ----------------------------------------------------------------------------------------------


def test_the_list_marks_late_promises_and_filters_mine_overdue_and_due_today(client_office, office, customer):
    late = make(customer, timezone.now() - timedelta(hours=2), note="Rückruf wegen Therme")
    later = make(customer, local_dt(3, 10))
    colleague_customer = CustomerFactory(responsible=OfficeUserFactory(username="kollegin"))
    theirs = make(colleague_customer, local_dt(2, 10))

    page = client_office.get(LIST).content.decode()
    assert page.count("promise-late") == 1 and "Rückruf wegen Therme" in page

    mine = client_office.get(LIST, {"owner": "mine"}).context["cl"].result_list
    assert {p.pk for p in mine} == {late.pk, later.pk}
    overdue = client_office.get(LIST, {"due": "overdue"}).context["cl"].result_list
    assert [p.pk for p in overdue] == [late.pk]
    assert theirs.pk not in [p.pk for p in client_office.get(LIST, {"due": "today"}).context["cl"].result_list]


def test_the_list_finds_promises_by_the_customers_name_or_phone(client_office, customer):
    promise = make(customer, local_dt(1, 10))
    make(CustomerFactory(full_name="Bert Janssen"), local_dt(1, 11))

    for term in ("Schmitz", "030 123456"):
        found = client_office.get(LIST, {"q": term}).context["cl"].result_list
        assert [p.pk for p in found] == [promise.pk], term


# Making one -----------------------------------------------------------------------------------------------


def test_the_add_form_from_a_customer_offers_their_visits_by_label_and_their_owner(client_office, office, customer):
    visit = AppointmentFactory(customer=customer)
    AppointmentFactory()  # someone else's

    page = client_office.get(ADD, {"customer": customer.pk})

    form = page.context["adminform"].form
    assert list(form.fields["appointment"].queryset) == [visit]
    assert f"D-{visit.pk} · " in page.content.decode()
    assert form.initial["owner"] == office and form.initial["customer"] == customer


def test_making_a_promise_in_the_admin_goes_through_the_service(client_office, office, customer):
    visit = AppointmentFactory(customer=customer)
    due = local_dt(2, 10)

    response = client_office.post(
        ADD + f"?customer={customer.pk}",
        {
            "customer": customer.pk,
            "kind": PromiseKind.CALL_BEFORE_VISIT,
            "appointment": visit.pk,
            "owner": office.pk,
            "note": "Zugang über den Hof klären",
            **dt_fields("due_at", due),
        },
    )

    assert response.status_code == 302
    promise = Promise.objects.get()
    assert (promise.appointment, promise.due_at, promise.created_by) == (visit, due, office)
    assert JournalEntry.objects.filter(action="promise.made", customer=customer).exists()


def test_a_visit_of_another_customer_or_a_technician_as_owner_is_a_clear_error(client_office, office, customer):
    technician = TechnicianFactory().user
    response = client_office.post(
        ADD,
        {
            "customer": customer.pk,
            "kind": PromiseKind.CALL_BACK,
            "appointment": AppointmentFactory().pk,
            "owner": technician.pk,
            **dt_fields("due_at", local_dt(2, 10)),
        },
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "appointment" in errors and "owner" in errors
    assert not Promise.objects.exists()


def test_a_bad_customer_id_in_the_link_opens_an_empty_form_not_an_error(client_office):
    assert client_office.get(ADD, {"customer": "abc"}).status_code == 200
    assert client_office.get(ADD, {"customer": "999999"}).status_code == 200


# The buttons -----------------------------------------------------------------------------------------------


def keep_link(client, promise) -> str:
    page = client.get(reverse("admin:desk_promise_change", args=[promise.pk])).content.decode()
    return html.unescape(re.search(r'<a class="button default promise-keep" href="([^"]+)"', page).group(1))


def test_the_promise_page_is_read_only_with_a_link_to_keep_it_and_four_buttons(client_office, customer):
    promise = make(customer, local_dt(1, 10))

    page = client_office.get(reverse("admin:desk_promise_change", args=[promise.pk])).content.decode()

    for name in ("move", "hand-over", "void", "no-answer"):
        assert action_url(promise, name) in page
    assert "Anruf erfassen, der sie einlöst" in page
    assert 'name="_save"' not in page
    # Kept only by logging the contact in the journal's form: the page has no form of its own for it.
    assert client_office.get(action_url(promise, "keep")).status_code == 404


def test_keeping_logs_the_contact_in_the_journals_form_and_comes_back_to_the_promise(client_office, office, customer):
    visit = AppointmentFactory(customer=customer)
    promise = make(customer, local_dt(1, 10), appointment=visit)
    promise_page = reverse("admin:desk_promise_change", args=[promise.pk])
    link = keep_link(client_office, promise)

    form = client_office.get(link).context["form"]
    assert link.startswith(reverse("admin:journal_journalentry_contact", args=[customer.pk]))
    assert (form["keeps_promise"].value(), form["appointment"].value(), form["contact"].value()) == (
        str(promise.pk),
        str(visit.pk),
        "phone_out",
    )
    response = client_office.post(
        link,
        {
            "contact": "phone_out",
            "appointment": visit.pk,
            "note": "Angebot besprochen.",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "keeps_promise": promise.pk,
            "next": promise_page,
        },
    )

    assert response.status_code == 302 and response.url == promise_page
    promise.refresh_from_db()
    assert promise.state == PromiseState.DONE
    assert promise.kept_by.summary == "Angebot besprochen." and promise.kept_by.channel == "phone"
    assert (promise.kept_by.actor, promise.kept_by.appointment) == (office, visit)
    assert "Diese Zusage ist abgeschlossen" in client_office.get(promise_page).content.decode()


def test_moving_handing_over_and_voiding_go_through_the_services(client_office, office, customer):
    promise = make(customer, local_dt(1, 10))
    colleague = OfficeUserFactory(username="kollegin", first_name="Kim", last_name="Kollege")

    assert client_office.post(action_url(promise, "hand-over"), {"owner": colleague.pk}).status_code == 302
    response = client_office.post(action_url(promise, "move"), {**dt_fields("due_at", local_dt(2, 9)), "reason": ""})
    assert response.status_code == 302
    moved = Promise.objects.get(replaces=promise)
    assert response["Location"].endswith(reverse("admin:desk_promise_change", args=[moved.pk]))
    assert (moved.owner, moved.due_at) == (colleague, local_dt(2, 9))
    assert client_office.post(action_url(moved, "void"), {"reason": "Kunde hat abgesagt"}).status_code == 302
    moved.refresh_from_db()
    assert moved.state == PromiseState.VOIDED and moved.closed_reason == "Kunde hat abgesagt"


@pytest.mark.parametrize(
    "name, data",
    [
        ("move", {"due_at_0": "2020-01-01", "due_at_1": "10:00"}),
        ("move", {"due_at_0": "kein Datum", "due_at_1": "10:00"}),
        ("void", {"reason": ""}),
        ("no-answer", {"waiting_for": "", "next_contact_at_0": "2099-01-01", "next_contact_at_1": "10:00"}),
        ("no-answer", {"waiting_for": "x" * 301, "next_contact_at_0": "2099-01-01", "next_contact_at_1": "10:00"}),
        ("no-answer", {"waiting_for": "Angebot", "next_contact_at_0": "2020-01-01", "next_contact_at_1": "10:00"}),
        ("hand-over", {"owner": "999999"}),
    ],
)
def test_bad_input_on_a_button_says_what_is_wrong_and_changes_nothing(client_office, customer, name, data):
    promise = make(customer, local_dt(1, 10))
    entries = JournalEntry.objects.count()

    response = client_office.post(action_url(promise, name), data)

    assert response.status_code == 400
    assert response.context["form"].errors
    promise.refresh_from_db()
    assert promise.state == PromiseState.OPEN
    assert JournalEntry.objects.count() == entries and OutboxMessage.objects.count() == 0


def test_a_button_on_a_closed_promise_says_so(client_office, customer):
    promise = make(customer, local_dt(1, 10))
    client_office.post(action_url(promise, "void"), {"reason": "erledigt"})

    response = client_office.post(action_url(promise, "void"), {"reason": "nochmal"}, follow=True)

    assert "schon abgeschlossen" in response.content.decode()
    assert JournalEntry.objects.filter(action="promise.voided").count() == 1


def test_an_unknown_button_is_not_found(client_office, customer):
    promise = make(customer, local_dt(1, 10))
    assert client_office.get(action_url(promise, "delete")).status_code == 404


def test_no_answer_yet_from_the_page_queues_the_customer_note_and_moves_the_promise(client_office, customer):
    promise = make(customer, local_dt(1, 10))
    next_contact = local_dt(3, 12)

    response = client_office.post(
        action_url(promise, "no-answer"),
        {"waiting_for": "das Angebot des Herstellers", **dt_fields("next_contact_at", next_contact)},
    )

    assert response.status_code == 302
    assert Promise.objects.get(replaces=promise).due_at == next_contact
    assert OutboxMessage.objects.get().kind == MessageKind.PROMISE_STATUS


# The customer's page -------------------------------------------------------------------------------------


def test_the_customer_page_lists_open_promises_and_links_to_make_one(client_office, customer):
    open_one = make(customer, local_dt(1, 10), note="Angebot Therme")
    closed = make(customer, local_dt(1, 11), kind=PromiseKind.SEND_QUOTE)
    client_office.post(action_url(closed, "void"), {"reason": "erledigt"})

    page = client_office.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()

    assert reverse("admin:desk_promise_change", args=[open_one.pk]) in page
    assert reverse("admin:desk_promise_change", args=[closed.pk]) not in page
    assert f"{ADD}?customer={customer.pk}" in page


def test_postcode_areas_are_managed_in_the_admin(client_office, office):
    response = client_office.post(reverse("admin:desk_postcodearea_add"), {"prefix": "475", "owner": office.pk})

    assert response.status_code == 302
    assert PostcodeArea.objects.get().owner == office
    assert "475" in client_office.get(reverse("admin:desk_postcodearea_changelist")).content.decode()


@pytest.mark.parametrize(
    "changes",
    [
        {"due_at_0": "2020-01-01", "due_at_1": "10:00"},
        {"note": "x" * 10_000},
        {"owner": ""},
    ],
)
def test_the_add_form_refuses_a_due_time_in_the_past_and_other_bad_input_with_a_message(
    client_office, office, customer, changes
):
    data = {
        "customer": customer.pk,
        "kind": PromiseKind.CALL_BACK,
        "owner": office.pk,
        "note": "<script>alert(1)</script>",
        **dt_fields("due_at", local_dt(2, 10)),
        **changes,
    }

    response = client_office.post(ADD + f"?customer={customer.pk}", data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Promise.objects.exists() and not JournalEntry.objects.exists()
