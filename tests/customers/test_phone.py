import pytest
from django.urls import reverse

from customers.models import Customer, Firm, OfficeProfile
from customers.services import CustomerError, customer_create, customer_update
from tests.factories import CustomerFactory, FirmFactory, TechnicianFactory, UserFactory

pytestmark = pytest.mark.django_db

INLINE_PREFIXES = ("working_periods", "time_off")
NO_UPCOMING_VISITS = {"appointments-TOTAL_FORMS": "0", "appointments-INITIAL_FORMS": "0"}


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


# Numbers are read in the customer's own country ---------------------------------------------------------


def test_a_dutch_customers_national_number_is_read_as_dutch():
    customer = customer_create(fields=customer_fields(phone="06 28471937", country="NL"), actor=None)

    customer.refresh_from_db()
    assert customer.phone.as_e164 == "+31628471937"


def test_a_number_typed_with_a_country_code_is_kept_whatever_the_country():
    customer = customer_create(fields=customer_fields(phone="+49 2821 24817", country="NL"), actor=None)

    customer.refresh_from_db()
    assert customer.phone.as_e164 == "+49282124817"


def test_moving_a_customer_abroad_with_a_new_national_number_reads_it_in_the_new_country():
    customer = CustomerFactory(country="DE", phone="+49301234567")

    customer_update(customer=customer, changes={"country": "BE", "phone": "0470 12 34 56"}, actor=None)

    customer.refresh_from_db()
    assert customer.phone.as_e164 == "+32470123456"


def add_customer_in_admin(client, **overrides):
    return client.post(
        reverse("admin:customers_customer_add"),
        {
            **customer_fields(**overrides),
            "preferred_language": "nl",
            "preferred_channel": "email",
            **NO_UPCOMING_VISITS,
        },
        HTTP_ACCEPT_LANGUAGE="de",
    )


def test_the_admin_reads_a_new_customers_number_in_the_country_on_the_same_form(admin_client_office, office_user):
    response = add_customer_in_admin(
        admin_client_office, phone="06 28471937", country="NL", responsible=office_user.pk
    )

    assert response.status_code == 302
    assert Customer.objects.get().phone.as_e164 == "+31628471937"


def test_a_number_that_is_no_number_of_the_customers_country_gets_an_error_and_nothing_is_saved(
    admin_client_office, office_user
):
    response = add_customer_in_admin(admin_client_office, phone="06 2847", country="NL", responsible=office_user.pk)

    assert response.status_code == 200
    assert "phone" in response.context["adminform"].form.errors
    assert not Customer.objects.exists()


def test_the_admin_shows_a_dutch_customers_number_as_the_dutch_write_it(admin_client_office):
    customer = CustomerFactory(country="NL", phone="+31628471937")

    response = admin_client_office.get(reverse("admin:customers_customer_change", args=[customer.pk]))

    assert response.context["adminform"].form["phone"].value() is not None
    assert 'value="06 28471937"' in response.content.decode()


def test_editing_a_customer_without_touching_the_number_keeps_it(admin_client_office, office_user):
    customer = CustomerFactory(country="NL", phone="+31628471937", responsible=office_user)

    response = admin_client_office.post(
        reverse("admin:customers_customer_change", args=[customer.pk]),
        {
            **customer_fields(phone="06 28471937", country="NL", responsible=office_user.pk),
            "full_name": customer.full_name,
            "preferred_language": "nl",
            "preferred_channel": "email",
            **NO_UPCOMING_VISITS,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.phone.as_e164 == "+31628471937"


def test_the_firms_number_is_read_in_the_firms_country(admin_client_office):
    response = admin_client_office.post(
        reverse("admin:customers_firm_add"),
        {"name": "Installatiebedrijf Jansen", "email": "info@jansen.example", "phone": "024 3234567", "country": "NL"},
    )

    assert response.status_code == 302
    assert Firm.objects.get().phone.as_e164 == "+31243234567"


def test_an_office_persons_direct_line_is_read_in_the_firms_country(admin_client_office):
    FirmFactory(country="NL")
    clerk = UserFactory()

    response = admin_client_office.post(
        reverse("admin:auth_user_change", args=[clerk.pk]),
        {
            "username": clerk.username,
            "first_name": clerk.first_name,
            "last_name": clerk.last_name,
            "email": clerk.email,
            "is_active": "on",
            "is_staff": "on",
            "date_joined_0": "2026-01-05",
            "date_joined_1": "08:00:00",
            "office_profile-TOTAL_FORMS": "1",
            "office_profile-INITIAL_FORMS": "0",
            "office_profile-0-direct_phone": "024 323 4568",
            "office_profile-0-direct_email": "",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert OfficeProfile.objects.get(user=clerk).direct_phone.as_e164 == "+31243234568"


def test_a_technicians_mobile_is_read_in_the_firms_country(admin_client_office):
    FirmFactory(country="NL")
    technician = TechnicianFactory(weekdays=False)

    response = admin_client_office.post(
        reverse("admin:appointments_technician_change", args=[technician.pk]),
        {
            "user": technician.user.pk,
            "display_name": technician.display_name,
            "mobile_phone": "06 12345678",
            "is_active": "on",
            **{f"{prefix}-{key}": "0" for prefix in INLINE_PREFIXES for key in ("TOTAL_FORMS", "INITIAL_FORMS")},
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    technician.refresh_from_db()
    assert technician.mobile_phone.as_e164 == "+31612345678"


def test_a_dutch_number_typed_the_dutch_way_finds_the_dutch_customer(admin_client_office):
    dutch = CustomerFactory(full_name="Anouk Jansen", country="NL", phone="+31628471937")
    CustomerFactory(full_name="Klaus Hendricks", country="DE", phone="+49282124817")

    for typed in ("06 28471937", "06-28 47 19 37", "+31 (0)6 28471937", "0031 6 28471937"):
        response = admin_client_office.get(reverse("admin:customers_customer_changelist"), {"q": typed})

        assert list(response.context["cl"].result_list) == [dutch], typed


def test_after_another_error_the_typed_number_comes_back_as_typed(admin_client_office):
    response = add_customer_in_admin(admin_client_office, phone="06 28471937", country="NL", responsible="")

    assert response.status_code == 200
    assert 'value="06 28471937"' in response.content.decode()
