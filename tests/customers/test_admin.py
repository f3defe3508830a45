"""The customer pages of the office: inviting in the customer's language, booking a visit from the customer."""

import pytest
from django.urls import reverse

from appointments.models import BookingInvitation
from tests.factories import CustomerFactory, ServiceTypeFactory, TechnicianFactory

pytestmark = pytest.mark.django_db
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
