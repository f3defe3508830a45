"""The customer pages of the office: who may be responsible, inviting in the customer's language,
booking a visit from the customer."""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from appointments.models import BookingInvitation, Technician
from customers.models import Customer
from journal.models import JournalEntry
from tests.factories import (
    CustomerFactory,
    OfficeUserFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_only_office_staff_are_offered_as_responsible_person(admin_client_office, office_user):
    clerk = OfficeUserFactory(username="clerk")
    technician = TechnicianFactory(user=UserFactory(username="tech.jan"))
    gone = UserFactory(username="gone", is_active=False)

    response = admin_client_office.get(reverse("admin:customers_customer_add"))

    offered = set(response.context["adminform"].form.fields["responsible"].queryset)
    assert offered == {office_user, clerk}
    assert technician.user not in offered and gone not in offered


def test_posting_a_technician_as_responsible_person_is_refused(admin_client_office, office_user):
    technician = TechnicianFactory()
    customer = CustomerFactory(responsible=office_user)

    response = admin_client_office.post(
        reverse("admin:customers_customer_change", args=[customer.pk]),
        {
            "full_name": customer.full_name,
            "phone": "",
            "street": customer.street,
            "postcode": customer.postcode,
            "city": customer.city,
            "country": "DE",
            "preferred_language": "de",
            "preferred_channel": "email",
            "responsible": technician.user.pk,
            "appointments-TOTAL_FORMS": "0",
            "appointments-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "responsible" in response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.responsible == office_user


def report_responsible_not_office():
    migration = importlib.import_module("customers.migrations.0002_firm_country_and_office_responsible")
    migration.report_responsible_not_office(apps, None)


def test_the_migration_reports_customers_of_a_technician_and_reassigns_nobody(capsys):
    office = OfficeUserFactory()
    technician = TechnicianFactory(user=UserFactory(first_name="Jan", last_name="Verhaag"))
    fine = CustomerFactory(responsible=office)
    wrong = CustomerFactory(full_name="Klaus Hendricks")
    Customer.objects.filter(pk=wrong.pk).update(responsible=technician.user)

    report_responsible_not_office()

    wrong.refresh_from_db()
    assert wrong.responsible == technician.user
    entry = JournalEntry.objects.get(customer=wrong)
    assert entry.action == "customer.responsible_not_office"
    assert entry.data == {"responsible": technician.user.pk, "reason": "technician"}
    assert "Jan Verhaag" in entry.summary
    assert not JournalEntry.objects.filter(customer=fine).exists()
    printed = capsys.readouterr().out
    assert f"customer {wrong.pk} (Klaus Hendricks): {technician.user.username} is technician" in printed


def technician_add_form(user):
    return {
        "user": user.pk,
        "display_name": "Sandra Brinkmann",
        "mobile_phone": "+49 151 40718263",
        "is_active": "on",
        **{
            f"{prefix}-{key}": "0"
            for prefix in ("working_periods", "time_off")
            for key in ("TOTAL_FORMS", "INITIAL_FORMS")
        },
    }


def test_a_user_responsible_for_customers_cannot_become_a_technician(admin_client_office):
    clerk = UserFactory(username="clerk")
    CustomerFactory(responsible=clerk)

    response = admin_client_office.post(reverse("admin:appointments_technician_add"), technician_add_form(clerk))

    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    assert not Technician.objects.exists()


def test_an_office_administrator_cannot_become_a_technician(admin_client_office):
    administrator = OfficeUserFactory(username="chefin")

    response = admin_client_office.post(
        reverse("admin:appointments_technician_add"), technician_add_form(administrator)
    )

    assert response.status_code == 200
    assert not Technician.objects.exists()


def test_a_staff_user_without_customers_becomes_a_technician(admin_client_office):
    newcomer = UserFactory(username="tech.mia")

    response = admin_client_office.post(reverse("admin:appointments_technician_add"), technician_add_form(newcomer))

    assert response.status_code == 302
    assert Technician.objects.get().user == newcomer


CHANGELIST = reverse("admin:customers_customer_changelist")


@pytest.fixture
def service_type():
    service_type = ServiceTypeFactory()
    TechnicianFactory(service_types=[service_type])
    return service_type


def invite(client, customers, **data):
    return client.post(
        CHANGELIST,
        {"action": "invite_to_book", "_selected_action": [customer.pk for customer in customers], **data},
        headers={"accept-language": "de"},
    )


def test_the_invitation_form_says_in_which_language_to_write_the_note(admin_client_office, service_type):
    dutch = CustomerFactory(full_name="Gerrit van den Berg", preferred_language="nl")

    page = invite(admin_client_office, [dutch]).content.decode()

    assert "Gerrit van den Berg" in page
    assert "Niederländisch" in page
    assert "Schreiben Sie die Notiz auf Niederländisch" in page


def test_a_note_for_customers_of_different_languages_is_refused(admin_client_office, service_type):
    customers = [CustomerFactory(preferred_language="de"), CustomerFactory(preferred_language="nl")]

    response = invite(
        admin_client_office, customers, apply="1", service_type=service_type.pk, note="Ihre Wartung ist fällig."
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "in verschiedenen Sprachen" in page
    assert not BookingInvitation.objects.exists()


def test_customers_of_different_languages_are_invited_without_a_note(admin_client_office, service_type):
    customers = [CustomerFactory(preferred_language="de"), CustomerFactory(preferred_language="nl")]

    invite(admin_client_office, customers, apply="1", service_type=service_type.pk, note="")

    assert BookingInvitation.objects.count() == 2


def test_the_customers_page_books_a_visit_for_them(admin_client_office):
    customer = CustomerFactory(full_name="Anna Schmitz")

    page = admin_client_office.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    book = f"{reverse('admin:appointments_appointment_add')}?customer={customer.pk}"
    form = admin_client_office.get(book).content.decode()

    assert f'href="{book}"' in page
    assert f'<option value="{customer.pk}" selected>Anna Schmitz' in form
