from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from journal.models import JournalEntry
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("phone_numbers_check", *args, stdout=out)
    return out.getvalue()


def misread_dutch_customer():
    # '06 28471937' typed for a customer in Nijmegen, read as German before numbers were read per country.
    return CustomerFactory(full_name="Anouk Jansen", country="NL", phone="+49628471937")


def test_the_check_lists_a_number_that_reads_differently_in_the_customers_country_and_changes_nothing():
    customer = misread_dutch_customer()

    output = run()

    assert f"{customer.pk}\tAnouk Jansen\tNL\tstored +49 6284 71937\twould be +31 6 28471937" in output
    customer.refresh_from_db()
    assert customer.phone.as_e164 == "+49628471937"
    assert not JournalEntry.objects.exists()


def test_the_check_leaves_out_numbers_that_are_right_as_they_are():
    CustomerFactory(country="NL", phone="+31628471937")  # Dutch, read in the Netherlands
    CustomerFactory(country="DE", phone="+49628471937")  # German customer, German number
    CustomerFactory(country="NL", phone="+4915140718263")  # lives in NL, German mobile: no Dutch reading
    CustomerFactory(country="NL", phone="")

    assert "No phone number reads differently" in run()


def test_apply_corrects_only_the_named_customers_and_journals_each_change():
    confirmed = misread_dutch_customer()
    unconfirmed = misread_dutch_customer()

    run("--apply", str(confirmed.pk))

    confirmed.refresh_from_db()
    unconfirmed.refresh_from_db()
    assert confirmed.phone.as_e164 == "+31628471937"
    assert unconfirmed.phone.as_e164 == "+49628471937"
    entry = JournalEntry.objects.get(customer=confirmed)
    assert entry.action == "customer.phone_reread"
    assert entry.data == {"old": "+49628471937", "new": "+31628471937", "country": "NL"}
    assert not JournalEntry.objects.filter(customer=unconfirmed).exists()


def test_apply_refuses_a_customer_whose_number_needs_no_correction():
    right = CustomerFactory(country="NL", phone="+31628471937")

    with pytest.raises(CommandError, match=str(right.pk)):
        run("--apply", str(right.pk))

    right.refresh_from_db()
    assert right.phone.as_e164 == "+31628471937"
    assert not JournalEntry.objects.exists()


def test_apply_with_an_unknown_id_changes_nothing():
    customer = misread_dutch_customer()

    with pytest.raises(CommandError, match="999999"):
        run("--apply", str(customer.pk), "999999")

    customer.refresh_from_db()
    assert customer.phone.as_e164 == "+49628471937"


def test_fix_corrects_every_listed_number_and_journals_each_one():
    first, second = misread_dutch_customer(), misread_dutch_customer()
    german = CustomerFactory(country="DE", phone="+49628471937")

    output = run("--fix")

    for customer in (first, second):
        customer.refresh_from_db()
        assert customer.phone.as_e164 == "+31628471937"
        assert f"{customer.pk}\tAnouk Jansen\tnow +31 6 28471937" in output
        assert JournalEntry.objects.get(customer=customer).action == "customer.phone_reread"
    german.refresh_from_db()
    assert german.phone.as_e164 == "+49628471937"
    assert not JournalEntry.objects.filter(customer=german).exists()


def test_fix_with_nothing_to_correct_changes_nothing():
    CustomerFactory(country="NL", phone="+31628471937")

    assert "No phone number reads differently" in run("--fix")
    assert not JournalEntry.objects.exists()
