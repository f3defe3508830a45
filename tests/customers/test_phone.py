import pytest
from django.urls import reverse

from customers.models import Customer
from customers.services import CustomerError, customer_create
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def customer_fields(**overrides):
    fields = {
        "full_name": "Anna Schmitz",
        "email": "anna@example.de",
        "phone": "030 1234567",
        "street": "Lindenallee 4",
        "postcode": "10115",
        "city": "Berlin",
        "responsible": UserFactory(),
    }
    return {**fields, **overrides}


def test_german_national_number_is_stored_in_international_form():
    customer = customer_create(fields=customer_fields(phone="030 1234567"), actor=None)

    customer.refresh_from_db()
    assert customer.phone.as_e164 == "+49301234567"


def test_dutch_number_with_country_code_is_kept():
    customer = customer_create(fields=customer_fields(phone="+31 24 123 4567"), actor=None)

    customer.refresh_from_db()
    assert customer.phone.as_e164 == "+31241234567"


def test_letters_in_a_phone_number_are_refused_by_the_service():
    with pytest.raises(CustomerError) as error:
        customer_create(fields=customer_fields(phone="12ab"), actor=None)

    assert error.value.message == "Die eingegebene Telefonnummer ist ungültig."
    assert not Customer.objects.exists()


def test_letters_in_a_phone_number_get_a_form_error_in_german(admin_client_office, office_user):
    response = admin_client_office.post(
        reverse("admin:customers_customer_add"),
        {
            **customer_fields(phone="12ab", responsible=office_user.pk),
            "country": "DE",
            "preferred_language": "de",
            "preferred_channel": "email",
        },
        HTTP_ACCEPT_LANGUAGE="de",
    )

    assert response.status_code == 200
    assert "Telefonnummer" in response.content.decode()
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    "typed", ["030 1234567", "+49 30 1234567", "0301234567", "(030) 123-4567", "1234567", "+49301234567"]
)
def test_admin_finds_a_customer_by_phone_in_any_formatting(admin_client_office, typed):
    wanted = CustomerFactory(full_name="Bernd Phone", phone="+49301234567")
    CustomerFactory(full_name="Other Person", phone="+49221998877")

    response = admin_client_office.get(reverse("admin:customers_customer_changelist"), {"q": typed})

    assert list(response.context["cl"].result_list) == [wanted]


def test_admin_search_by_postcode_and_name_still_works(admin_client_office):
    wanted = CustomerFactory(full_name="Clara Post", postcode="47533")
    CustomerFactory(full_name="Dirk Else", postcode="46446")

    by_postcode = admin_client_office.get(reverse("admin:customers_customer_changelist"), {"q": "47533"})
    by_name = admin_client_office.get(reverse("admin:customers_customer_changelist"), {"q": "clara"})

    assert list(by_postcode.context["cl"].result_list) == [wanted]
    assert list(by_name.context["cl"].result_list) == [wanted]
