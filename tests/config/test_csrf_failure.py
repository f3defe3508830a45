"""A refused form (CSRF) gets a friendly page in the visitor's language, never Django's page about DEBUG."""

import pytest
from django.test import Client
from django.urls import reverse

from appointments.links import invitation_token
from appointments.services.booking import booking_invite
from tests.factories import CustomerFactory, FirmFactory, OfficeUserFactory, ServiceTypeFactory, TechnicianFactory

pytestmark = pytest.mark.django_db
BOOK = reverse("selfservice:book")


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


def assert_friendly(response, *, says: str):
    body = response.content.decode()
    assert response.status_code == 403
    assert says in body
    assert "DEBUG" not in body and "CSRF" not in body
    assert response["Cache-Control"] == "no-store"


def test_a_customer_whose_form_is_refused_reads_why_in_their_language_with_the_office_contact(csrf_client):
    FirmFactory(phone="+492821100000", email="office@firm.example")
    office = OfficeUserFactory()
    service_type = ServiceTypeFactory()
    TechnicianFactory(service_types=[service_type])
    customer = CustomerFactory(preferred_language="nl", responsible=office)
    invitation = booking_invite(customer=customer, service_type=service_type, actor=office)
    csrf_client.get(reverse("selfservice:open", args=[invitation_token(invitation)]))

    response = csrf_client.post(BOOK, {"window": "2026-12-01T08:00:00+01:00"}, HTTP_ACCEPT_LANGUAGE="de")

    assert_friendly(response, says="Uw formulier kon niet worden verzonden")
    body = response.content.decode()
    assert 'lang="nl"' in body
    assert "+49 2821 100000" in body and "office@firm.example" in body
    assert f'href="{reverse("selfservice:page")}"' in body  # the way back


def test_a_visitor_without_a_session_reads_the_page_in_the_browsers_language(csrf_client):
    FirmFactory()

    response = csrf_client.post(BOOK, {}, HTTP_ACCEPT_LANGUAGE="en")

    assert_friendly(response, says="Your form could not be sent")
    assert 'lang="en"' in response.content.decode()


def test_a_refused_form_before_the_firm_is_set_up_is_no_500(csrf_client):
    response = csrf_client.post(BOOK, {}, HTTP_ACCEPT_LANGUAGE="de")

    assert_friendly(response, says="Ihr Formular konnte nicht gesendet werden")


@pytest.mark.parametrize(
    ("url", "back"),
    [(reverse("technician:login"), reverse("technician:day")), (reverse("admin:login"), reverse("admin:index"))],
)
def test_staff_pages_get_a_neutral_page_with_a_way_back(csrf_client, url, back):
    FirmFactory(email="office@firm.example")

    response = csrf_client.post(url, {"username": "tech.jan", "password": "x"}, HTTP_ACCEPT_LANGUAGE="de")

    assert_friendly(response, says="Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.")
    body = response.content.decode()
    assert f'href="{back}"' in body
    assert "office@firm.example" not in body  # the office needs no contact of itself


def test_the_way_back_is_the_page_the_form_was_on(csrf_client):
    response = csrf_client.post(
        reverse("admin:login"), {}, HTTP_REFERER="http://testserver/admin/customers/customer/7/change/"
    )

    assert 'href="http://testserver/admin/customers/customer/7/change/"' in response.content.decode()


def test_a_foreign_referer_is_no_way_back(csrf_client):
    response = csrf_client.post(reverse("admin:login"), {}, HTTP_REFERER="https://evil.example/phish")

    assert "evil.example" not in response.content.decode()
