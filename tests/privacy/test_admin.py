"""The office's export and erasure pages, reached from the customer's page, through the test client."""

import io
import json
import zipfile

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from appointments.models import AppointmentStatus
from customers.models import Customer
from journal.models import JournalEntry
from privacy.models import Erasure
from tests.config.test_admin_pages import english_on
from tests.factories import AppointmentFactory, CustomerFactory, FirmFactory, OfficeUserFactory
from tests.privacy.stored import (
    ANNA,
    BERND,
    customer_near_someone_elses_mail,
    customer_who_wrote_from_other_addresses,
    customer_with_everything,
)

pytestmark = pytest.mark.django_db

KINDS = [
    "customer",
    "visits",
    "invitations",
    "door_attempts",
    "journal",
    "messages",
    "promises",
    "requests",
    "inbound_mails",
    "feedback",
]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    FirmFactory(email="office@heizung-beispiel.de")


@pytest.fixture
def office(client):
    user = OfficeUserFactory()
    client.force_login(user)
    return user


@pytest.fixture
def anna(office):
    customer_with_everything(BERND, office=office)
    return customer_with_everything(ANNA, office=office)[0]


def download(client, customer) -> zipfile.ZipFile:
    started = client.post(reverse("admin:privacy_customer_export", args=[customer.pk]))
    assert started.status_code == 303
    response = client.get(started["Location"])
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert int(response["Content-Length"]) > 0
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_customers_page_offers_export_and_erasure(client, office, anna):
    page = client.get(reverse("admin:customers_customer_change", args=[anna.pk])).content.decode()

    assert reverse("admin:privacy_customer_export", args=[anna.pk]) in page
    assert reverse("admin:privacy_customer_erase", args=[anna.pk]) in page


def test_the_export_holds_every_kind_of_record_and_nothing_of_another_customer(client, office, anna):
    archive = download(client, anna)

    names = set(archive.namelist())
    assert {f"{kind}.json" for kind in KINDS} | {"summary.html"} <= names
    for kind in KINDS:
        assert json.loads(archive.read(f"{kind}.json")), f"{kind}.json is empty"
    assert any(name.startswith("messages/") and name.endswith(".eml") for name in names)
    assert any(name.startswith("inbound_mails/") and name.endswith(".pdf") for name in names)
    everything = b"".join(archive.read(name) for name in names).decode("utf-8", "replace")
    assert ANNA.full_name in everything and ANNA.street in everything
    for word in BERND.words():
        assert word not in everything
    messages = json.loads(archive.read("messages.json"))
    assert ANNA.street in messages[0]["body_text"]
    journal = json.loads(archive.read("journal.json"))
    assert all(entry["text"] for entry in journal) and any(entry["action"] == "contact.recorded" for entry in journal)
    assert "Anna" in json.loads(archive.read("customer.json"))[0]["full_name"]


def test_the_export_holds_the_mail_she_sent_from_an_address_she_had_before_or_typed_in_a_request(client, office):
    customer, _addresses = customer_who_wrote_from_other_addresses(ANNA, office=office)

    archive = download(client, customer)

    mails = json.loads(archive.read("inbound_mails.json"))
    assert sorted(mail["subject"] for mail in mails) == ["Anfrage von früher", "Nachtrag zum Formular"]


def test_the_export_leaves_out_mail_from_an_address_another_customer_holds_now_or_a_helper_typed(client, office):
    customer, _helper_email = customer_near_someone_elses_mail(ANNA, BERND, office=office)

    archive = download(client, customer)

    mails = json.loads(archive.read("inbound_mails.json"))
    assert [mail["subject"] for mail in mails] == ["Anfrage von früher"]
    everything = b"".join(archive.read(name) for name in archive.namelist()).decode("utf-8", "replace")
    # Her journal still says which address her record held by mistake: that is her record's history.
    assert (
        BERND.full_name not in everything and BERND.street not in everything and "Nachricht vom Sohn" not in everything
    )


def test_the_summary_is_in_the_customers_language(client, office, anna):
    Customer.objects.filter(pk=anna.pk).update(preferred_language="nl")

    summary = download(client, anna).read("summary.html").decode()

    assert '<html lang="nl">' in summary and ANNA.full_name in summary


def test_the_export_names_statuses_and_kinds_in_the_customers_language_not_the_offices(client, office, anna):
    Customer.objects.filter(pk=anna.pk).update(preferred_language="nl")

    archive = download(client, anna)
    summary = archive.read("summary.html").decode()
    visits = json.loads(archive.read("visits.json"))

    assert "afgerond" in summary and "erledigt" not in summary
    assert "afgerond" in {visit["status_label"] for visit in visits}


def test_showing_the_export_page_records_nothing_and_the_download_records_who_exported(client, office, anna):
    entries = JournalEntry.objects.filter(customer=anna, action="customer.data_exported")
    page = client.get(reverse("admin:privacy_customer_export", args=[anna.pk]))
    assert page.status_code == 200 and not entries.exists()

    download(client, anna)

    assert entries.get().actor == office


def test_a_download_without_a_valid_ticket_is_sent_back_to_the_export_page(client, office, anna):
    url = reverse("admin:privacy_customer_export_download", args=[anna.pk])
    bernd = Customer.objects.get(full_name=BERND.full_name)
    started = client.post(reverse("admin:privacy_customer_export", args=[bernd.pk]))
    bernds_ticket = started["Location"].split("?", 1)[1]

    for query in ["", "?ticket=forged", f"?{bernds_ticket}"]:
        response = client.get(url + query)
        assert response.status_code == 302
        assert response["Location"] == reverse("admin:privacy_customer_export", args=[anna.pk])


def test_staff_without_the_permissions_see_no_buttons_and_are_refused(client, anna):
    clerk = OfficeUserFactory(is_superuser=False)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_customer", "change_customer"]))
    client.force_login(clerk)

    page = client.get(reverse("admin:customers_customer_change", args=[anna.pk])).content.decode()

    assert "/privacy/" not in page
    assert client.get(reverse("admin:privacy_customer_export", args=[anna.pk])).status_code == 403
    assert client.post(reverse("admin:privacy_customer_erase", args=[anna.pk]), {}).status_code == 403


def test_a_clerk_with_the_export_permission_may_export_but_not_erase(client, anna):
    clerk = OfficeUserFactory(is_superuser=False)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_customer", "export_customer_data"]))
    client.force_login(clerk)

    assert set(download(client, anna).namelist()) >= {"summary.html"}
    assert client.get(reverse("admin:privacy_customer_erase", args=[anna.pk])).status_code == 403


def test_the_erasure_asks_for_the_name_and_a_reason_and_erases_only_on_post(client, office, anna):
    url = reverse("admin:privacy_customer_erase", args=[anna.pk])
    page = client.get(url)
    assert page.status_code == 200 and not Erasure.objects.exists()

    wrong = client.post(
        url, {"confirm_name": "Anna Beispiel", "reason": "customer_request"}, headers={"accept-language": "en"}
    )
    assert wrong.status_code == 200 and "not the customer&#x27;s name" in wrong.content.decode()
    assert not Erasure.objects.exists()

    done = client.post(url, {"confirm_name": "  anna  BEISPIELFRAU ", "reason": "customer_request"})

    assert done.status_code == 302 and done["Location"] == reverse("admin:customers_customer_change", args=[anna.pk])
    assert Erasure.objects.get().customer == anna
    anna.refresh_from_db()
    assert ANNA.full_name not in anna.full_name
    page = client.get(reverse("admin:customers_customer_change", args=[anna.pk])).content.decode()
    assert url not in page and reverse("admin:privacy_customer_export", args=[anna.pk]) in page


def test_the_erasure_page_explains_why_a_customer_with_a_visit_to_come_is_not_erased(client, office):
    customer = CustomerFactory(full_name=ANNA.full_name, responsible=office)
    AppointmentFactory(customer=customer, status=AppointmentStatus.SCHEDULED)
    url = reverse("admin:privacy_customer_erase", args=[customer.pk])

    page = client.post(
        url, {"confirm_name": ANNA.full_name, "reason": "customer_request"}, headers={"accept-language": "en"}
    ).content.decode()

    assert "Cancel or complete it first" in page and 'name="confirm_name"' not in page
    assert not Erasure.objects.exists()


@pytest.mark.parametrize("language", ["de", "nl"])
def test_the_office_reads_the_export_and_erasure_pages_in_its_language(client, office, anna, language):
    pages = [
        reverse("admin:customers_customer_change", args=[anna.pk]),
        reverse("admin:privacy_customer_export", args=[anna.pk]),
        reverse("admin:privacy_customer_erase", args=[anna.pk]),
        reverse("admin:privacy_erasure_changelist"),
    ]
    wrong = client.post(pages[2], {"confirm_name": "x"}, headers={"accept-language": language})
    found = {url: english_on(client.get(url, headers={"accept-language": language}).content.decode()) for url in pages}

    assert {url: words for url, words in found.items() if words} == {}
    assert english_on(wrong.content.decode()) == []


def test_the_export_page_names_every_kind_of_record_in_the_plural(client, office, anna):
    url = reverse("admin:privacy_customer_export", args=[anna.pk])
    page = client.get(url, headers={"accept-language": "de"}).content.decode()

    # Feedback as the other kinds: "Zusagen", "Termine", not the one "Rückmeldung".
    assert "<td>Rückmeldungen</td>" in page and "<td>Rückmeldung</td>" not in page


def test_the_export_page_counts_the_mails_and_files_only_where_there_are_some(client, office, anna):
    def page(customer):
        url = reverse("admin:privacy_customer_export", args=[customer.pk])
        return client.get(url, headers={"accept-language": "en"}).content.decode()

    with_files, without = page(anna), page(CustomerFactory())

    assert "Plus " in with_files and "Plus " not in without
