"""Customers from a firm's spreadsheet through the admin: preview, per-row errors, confirm or cancel."""

import io
import os
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertInHTML

from customers.import_uploads import ImportUploadStorage
from customers.models import Customer
from journal.models import JournalEntry
from tests.customers.test_export import HOSTILE_FIELDS
from tests.factories import CustomerFactory, FirmFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_upload_folder(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def admin_client_office(admin_client_office):
    admin_client_office.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return admin_client_office


IMPORT_URL = "admin:customers_customer_import"
GERMAN_CSV = (
    "Name;E-Mail;Telefon;Straße;PLZ;Ort\n"
    "Klaus Hendricks;klaus@example.com;02821 24817;Hagsche Straße 34;47533;Kleve\n"
    "Monika van de Loo;monika@example.com;0151 24718365;Lindenallee 12;47533;Kleve\n"
)


def upload(client, content, name="kunden.csv", **headers):
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post(
        reverse(IMPORT_URL),
        {"import_file": SimpleUploadedFile(name, data), "format": "0", "resource": "0"},
        **headers,
    )


def confirm(client, preview, button="confirm"):
    assert preview.context_data.get("confirm_form") is not None, preview.content.decode()[:3000]
    data = {**preview.context_data.get("confirm_form").initial, button: "x"}
    return client.post(reverse("admin:customers_customer_process_import"), data, follow=True)


def error_rows(response) -> dict[int, list[str]]:
    return {row.number: row.errors for row in response.context_data["result"].error_rows}


def xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_preview_writes_nothing_and_confirming_imports_each_row_with_its_origin_in_the_journal(
    admin_client_office, office_user
):
    preview = upload(admin_client_office, GERMAN_CSV)

    assert preview.status_code == 200
    assert "Klaus Hendricks" in preview.content.decode()
    assert not Customer.objects.exists() and not JournalEntry.objects.exists()

    done = confirm(admin_client_office, preview)

    assert "2 customers imported." in done.content.decode()
    klaus = Customer.objects.get(email="klaus@example.com")
    assert klaus.phone.as_e164 == "+49282124817"
    assert (klaus.street, klaus.postcode, klaus.city, klaus.country) == ("Hagsche Straße 34", "47533", "Kleve", "DE")
    assert klaus.responsible == office_user and klaus.preferred_language == "de"
    entry = JournalEntry.objects.get(customer=klaus)
    assert entry.action == "customer.created"
    assert entry.data == {"source": "import", "file": "kunden.csv", "row": 2}
    assert entry.actor == office_user
    assert JournalEntry.objects.get(customer__email="monika@example.com").data["row"] == 3
    assert not os.listdir(ImportUploadStorage.folder())


def test_the_journal_says_which_row_of_which_file_a_customer_came_from(admin_client_office):
    confirm(admin_client_office, upload(admin_client_office, GERMAN_CSV, name="Kundenliste 2026.csv"))

    page = admin_client_office.get(
        reverse("admin:customers_customer_change", args=[Customer.objects.get(email="klaus@example.com").pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert "Customer record created from row 2 of the imported file Kundenliste 2026.csv." in page.content.decode()


def test_a_dutch_sheet_has_its_national_numbers_read_as_dutch_ones(admin_client_office):
    sheet = (
        "Voornaam;Tussenvoegsel;Achternaam;E-mailadres;Telefoon;Straat;Huisnummer;Postcode;Plaats;Land\n"
        "Anouk;van;Jansen;anouk@example.nl;06 28471937;Groesbeekseweg;212;6524 dm;Nijmegen;Nederland\n"
    )

    confirm(admin_client_office, upload(admin_client_office, sheet))

    anouk = Customer.objects.get()
    assert anouk.full_name == "Anouk van Jansen"
    assert anouk.phone.as_e164 == "+31628471937"  # not the German +49 6284 71937
    assert (anouk.street, anouk.postcode, anouk.country) == ("Groesbeekseweg 212", "6524 DM", "NL")
    assert anouk.preferred_language == "nl"


def test_rows_without_a_country_are_in_the_firms_country(admin_client_office):
    FirmFactory(country="NL")
    sheet = "Naam,Telefoon,Straat,Postcode,Plaats\nBas Peters,06 19283746,Hatertseweg 301,6533 GX,Nijmegen\n"

    confirm(admin_client_office, upload(admin_client_office, sheet))

    assert Customer.objects.get().phone.as_e164 == "+31619283746"


def test_every_bad_row_is_named_with_what_to_correct_and_nothing_is_written(admin_client_office):
    CustomerFactory(full_name="Heinz Janssen", email="heinz@example.com", phone="+49282131562")
    sheet = (
        "Name;E-Mail;Telefon;Straße;PLZ;Ort;Land\n"
        "Good Row;good@example.com;02821 111111;A-Straße 1;47533;Kleve;DE\n"
        ";noname@example.com;;B-Straße 2;47533;Kleve;DE\n"
        "Bad Mail;bad@;;C-Straße 3;47533;Kleve;DE\n"
        "Bad Phone;;06 28471937;D-Straße 4;47533;Kleve;Belgien\n"
        "Twin;GOOD@example.com;;E-Straße 5;47533;Kleve;DE\n"
        "Phone Twin;;+49 2821 111111;F-Straße 6;47533;Kleve;DE\n"
        "Known;heinz@example.com;;G-Straße 7;47533;Kleve;DE\n"
        "Known Phone;;02821 31562;H-Straße 8;47533;Kleve;DE\n"
    )

    preview = upload(admin_client_office, sheet, HTTP_ACCEPT_LANGUAGE="en")

    assert not os.listdir(ImportUploadStorage.folder())
    errors = error_rows(preview)
    assert set(errors) == {3, 4, 5, 6, 7, 8, 9}
    assert errors[3] == ["The name is missing."]
    assert errors[4] == ["“bad@” is not a valid email address."]
    assert errors[5] == [
        "“06 28471937” is not a valid phone number in Belgium. A number from another country starts with + and its "
        "country code."
    ]
    assert errors[6] == ["The same email address as row 2."]
    assert errors[7] == ["The same phone number as row 2."]
    assert errors[8] == ["A customer with this email address exists already: Heinz Janssen."]
    assert errors[9] == ["A customer with this phone number exists already: Heinz Janssen."]
    assert preview.context_data.get("confirm_form") is None
    assert Customer.objects.count() == 1
    assert not JournalEntry.objects.exists()


def test_an_email_address_too_long_to_store_is_named_as_the_column_to_correct(admin_client_office):
    email = "a" * 64 + "@" + ".".join(["b" * 63] * 3) + "." + "c" * 38 + ".de"  # a valid address of 298 characters
    sheet = f"Name;E-Mail;Straße;PLZ;Ort\nLang;{email};Weg 1;47533;Kleve\n"

    preview = upload(admin_client_office, sheet)

    assert error_rows(preview) == {2: ["Email is longer than 254 characters."]}
    assert preview.context_data.get("confirm_form") is None


def test_row_errors_are_in_the_offices_language(admin_client_office):
    sheet = "Naam;E-mail;Straat;Postcode;Plaats\n;kapot@;Dorpsstraat 1;6561 CA;Groesbeek\n"

    german = upload(admin_client_office, sheet, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    dutch = upload(admin_client_office, sheet, HTTP_ACCEPT_LANGUAGE="nl").content.decode()

    assert "Der Name fehlt." in german and "„kapot@“ ist keine gültige E-Mail-Adresse." in german
    assert "De naam ontbreekt." in dutch and "‘kapot@’ is geen geldig e-mailadres." in dutch


def test_cancelling_the_preview_writes_nothing_and_deletes_the_upload(admin_client_office):
    preview = upload(admin_client_office, GERMAN_CSV)
    assert os.listdir(ImportUploadStorage.folder())

    page = confirm(admin_client_office, preview, button="cancel")

    assert "Nothing was imported." in page.content.decode()
    assert not Customer.objects.exists() and not JournalEntry.objects.exists()
    assert not os.listdir(ImportUploadStorage.folder())


def test_a_row_that_turned_duplicate_before_confirming_stops_the_whole_import(admin_client_office):
    preview = upload(admin_client_office, GERMAN_CSV)
    CustomerFactory(full_name="Monika van de Loo", email="monika@example.com")

    page = confirm(admin_client_office, preview)

    assert "Nothing was imported" in page.content.decode()
    assert error_rows(page) == {3: ["A customer with this email address exists already: Monika van de Loo."]}
    assert not Customer.objects.filter(email="klaus@example.com").exists()
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize(
    "encoding, separator",
    [("utf-8", ";"), ("utf-8-sig", ";"), ("cp1252", ";"), ("latin-1", ","), ("utf-8", ","), ("utf-16", "\t")],
)
def test_csv_from_any_office_program_is_read(admin_client_office, encoding, separator):
    rows = [
        ["Name", "E-Mail", "Straße", "PLZ", "Ort"],
        ["Jürgen Hövelmann", "j@example.com", "Große Straße 41", "47559", "Kranenburg"],
    ]
    sheet = "".join(separator.join(row) + "\n" for row in rows)

    confirm(admin_client_office, upload(admin_client_office, sheet.encode(encoding)))

    customer = Customer.objects.get()
    assert (customer.full_name, customer.street) == ("Jürgen Hövelmann", "Große Straße 41")


@pytest.mark.parametrize("bom", [b"", "\ufeff".encode()])
def test_a_csv_with_utf8_and_windows_1252_lines_has_each_line_read_in_its_own_encoding(admin_client_office, bom):
    sheet = (
        bom
        + "Name;Straße;PLZ;Ort\n".encode()
        + "Müller;Domstraße 1;50668;Köln\n".encode()
        + "Jäger;Königsallee 2;40212;Düsseldorf\n".encode("cp1252")
    )

    preview = upload(admin_client_office, sheet).content.decode()

    assert "Müller" in preview and "Köln" in preview
    assert "Jäger" in preview and "Düsseldorf" in preview
    assert "Ã" not in preview


def test_an_xlsx_workbook_is_read_with_numbers_as_text(admin_client_office):
    data = xlsx(
        [
            ["Name", "E-Mail", "Telefon", "Straße", "PLZ", "Ort"],
            ["Udo Lenz", None, 2821123456, "Weg 1", 1067, "Dresden"],
        ]
    )

    confirm(admin_client_office, upload(admin_client_office, data, name="kunden.xlsx"))

    customer = Customer.objects.get()
    assert customer.postcode == "01067"
    assert customer.phone.as_e164 == "+492821123456"
    assert customer.preferred_channel == "phone"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "The submitted file is empty."),  # Django's own check
        (b"\n\n  \n", "The file is empty."),
        (b"Name;E-Mail;Ort\n", "The file has column headings but no rows below them."),
        (b"%PDF-1.7\n\x00\x01\x02\x03 binary", "This file is not a spreadsheet."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This file is not a spreadsheet."),
        (b"PK\x03\x04 a zip that is no workbook", "This file is not a spreadsheet."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "This is an old Excel file (.xls)."),
        (b"Kundennummer;Umsatz\n1;200\n", "No column with the customers' names was found."),
        (b"Name;Naam;Ort\nA;B;C\n", "The columns “Name” and “Naam” both hold the same thing."),
    ],
)
def test_a_file_that_cannot_be_imported_gets_a_clear_message_and_writes_nothing(admin_client_office, content, message):
    page = upload(admin_client_office, content, HTTP_ACCEPT_LANGUAGE="en")

    assert page.status_code == 200
    assert message in " ".join(page.context_data["form"].errors["import_file"])
    assert not Customer.objects.exists()


def test_an_xlsx_with_a_formula_is_refused_with_the_cells_named(admin_client_office):
    data = xlsx([["Name", "Straße", "PLZ", "Ort"], ["Udo Lenz", "Weg 1", "=1+1", "Kleve"]])

    page = upload(admin_client_office, data, name="kunden.xlsx", HTTP_ACCEPT_LANGUAGE="en")

    assert "The file contains formulas (cells C2)." in " ".join(page.context_data["form"].errors["import_file"])
    assert not Customer.objects.exists()


def test_a_50_mb_upload_is_refused_without_being_stored(admin_client_office, monkeypatch):
    stored = []
    original = TemporaryFileUploadHandler.receive_data_chunk
    monkeypatch.setattr(
        TemporaryFileUploadHandler,
        "receive_data_chunk",
        lambda self, raw, start: stored.append(len(raw)) or original(self, raw, start),
    )
    big = b"Name;Ort\n" + b"x" * (50 * 1024 * 1024)

    page = upload(admin_client_office, big, HTTP_ACCEPT_LANGUAGE="en")

    errors = page.context_data["form"].errors["import_file"]
    assert "The file is larger than 10 MB and was not read." in " ".join(errors)
    assert sum(stored) == 0
    assert not os.listdir(ImportUploadStorage.folder())


def test_an_upload_just_over_the_limit_is_refused_while_it_arrives(admin_client_office, settings):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    sheet = GERMAN_CSV.encode() + b"Filler;;;;;\n" * 100_000

    page = upload(admin_client_office, sheet, HTTP_ACCEPT_LANGUAGE="en")

    assert "larger than 1 MB" in " ".join(page.context_data["form"].errors["import_file"])
    assert not Customer.objects.exists()


def test_the_import_page_lists_the_accepted_columns(admin_client_office):
    page = admin_client_office.get(reverse(IMPORT_URL), HTTP_ACCEPT_LANGUAGE="de").content.decode()

    for heading in ("Telefon, Telefoon", "PLZ, Postleitzahl", "Ort, Plaats"):
        assert heading in page
    assert "Spalten, die gelesen werden" in page


@pytest.mark.parametrize(("url", "last"), [(IMPORT_URL, "Import"), ("admin:customers_customer_export", "Export")])
def test_the_import_and_export_pages_have_the_breadcrumb_bar_of_every_other_admin_page(admin_client_office, url, last):
    # django-import-export's own base template writes a div, which Django 6.1's admin styles no more.
    page = admin_client_office.get(reverse(url)).content.decode()

    assertInHTML(
        f"""<ol class="breadcrumbs">
        <li><a href="{reverse("admin:index")}">Home</a></li>
        <li><a href="{reverse("admin:app_list", args=["customers"])}">Customers</a></li>
        <li><a href="{reverse("admin:customers_customer_changelist")}">Customers</a></li>
        <li aria-current="page">{last}</li>
        </ol>""",
        page,
    )
    assert '<div class="breadcrumbs">' not in page


def test_the_import_page_is_for_office_staff_who_may_add_customers(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True))

    assert client.get(reverse(IMPORT_URL)).status_code == 403


def test_a_staff_member_who_may_not_import_cannot_take_the_offices_preview(admin_client_office):
    from tests.factories import UserFactory

    preview = upload(admin_client_office, GERMAN_CSV)
    kept = os.listdir(ImportUploadStorage.folder())
    other = Client()
    other.force_login(UserFactory(is_staff=True))

    refused = other.post(
        reverse("admin:customers_customer_process_import"), {**preview.context_data["confirm_form"].initial}
    )

    assert refused.status_code == 403
    assert os.listdir(ImportUploadStorage.folder()) == kept
    confirm(admin_client_office, preview)
    assert Customer.objects.count() == 2


def test_confirming_the_same_preview_twice_imports_it_once(admin_client_office):
    preview = upload(admin_client_office, GERMAN_CSV)
    confirm(admin_client_office, preview)

    again = confirm(admin_client_office, preview)

    assert "This preview was imported or cancelled already" in again.content.decode()
    assert Customer.objects.count() == 2
    assert JournalEntry.objects.count() == 2


@pytest.mark.parametrize("language", ["de", "nl", "en"])
def test_the_offices_own_csv_export_imports_back_into_an_empty_database(admin_client_office, office_user, language):
    FirmFactory()
    # Names and streets are one line (the request form and the import collapse whitespace), notes are not;
    # every form strips what is typed, and so does the import.
    originals = [
        CustomerFactory(full_name=" ".join(value.split()), street=" ".join(value.split()), notes=value.strip(),
                        responsible=office_user, phone=f"+3162847193{number}", country="NL")
        for number, value in enumerate(HOSTILE_FIELDS)
    ]  # fmt: skip
    fields = ("full_name", "street", "notes", "email", "country", "preferred_language", "responsible_id")
    wanted = {(*(getattr(c, name) for name in fields), c.phone.as_e164) for c in originals}
    data = admin_client_office.post(
        reverse("admin:customers_customer_export"), {"format": "0", "resource": "0"}, HTTP_ACCEPT_LANGUAGE=language
    ).content
    Customer.objects.all().delete()

    done = confirm(admin_client_office, upload(admin_client_office, data, HTTP_ACCEPT_LANGUAGE=language))

    assert done.status_code == 200
    assert {(*(getattr(c, name) for name in fields), c.phone.as_e164) for c in Customer.objects.all()} == wanted


def test_a_cell_is_stripped_once_its_escape_is_removed_and_an_xlsx_cell_is_taken_as_it_stands(admin_client_office):
    # As the export writes "Weg 1;\t" and "\tRuft abends an": the apostrophe shields the tab behind it.
    csv_file = 'Name;Straße;PLZ;Ort;Notizen\n"Udo Lenz";"Weg 1;\'\t";47533;Kleve;"\'\tRuft abends an"\n'
    workbook = xlsx([["Name", "Straße", "PLZ", "Ort", "Notizen"], ["Eva Lenz", "Weg 2", "47533", "Kleve", "'=x"]])

    confirm(admin_client_office, upload(admin_client_office, csv_file))
    confirm(admin_client_office, upload(admin_client_office, workbook, name="kunden.xlsx"))

    udo, eva = Customer.objects.get(full_name="Udo Lenz"), Customer.objects.get(full_name="Eva Lenz")
    assert (udo.street, udo.notes) == ("Weg 1;", "Ruft abends an")
    # The XLSX export escapes nothing (its text cells are text), so an apostrophe there was typed.
    assert eva.notes == "'=x"


def test_a_file_with_more_rows_than_one_import_may_hold_is_refused_with_the_limit_named(admin_client_office, settings):
    settings.IMPORT_MAX_ROWS = 3
    rows = "".join(f"Kunde {n};Weg {n};47533;Kleve\n" for n in range(4))
    workbook = xlsx([["Name", "Straße", "PLZ", "Ort"], *([f"Kunde {n}", "Weg 1", "47533", "Kleve"] for n in range(4))])

    for content, name in [("Name;Straße;PLZ;Ort\n" + rows, "kunden.csv"), (workbook, "kunden.xlsx")]:
        page = upload(admin_client_office, content, name=name, HTTP_ACCEPT_LANGUAGE="en")

        errors = " ".join(page.context_data["form"].errors["import_file"])
        assert "The file has more than 3 rows. Please split it into files of at most 3 rows each." in errors
    assert not Customer.objects.exists()


def test_a_file_with_as_many_rows_as_one_import_may_hold_is_read(admin_client_office, settings):
    settings.IMPORT_MAX_ROWS = 3
    rows = "".join(f"Kunde {n};Weg {n};47533;Kleve\n" for n in range(3))

    confirm(admin_client_office, upload(admin_client_office, "Name;Straße;PLZ;Ort\n\n" + rows))

    assert Customer.objects.count() == 3


def test_a_workbook_that_unpacks_to_far_more_than_a_spreadsheet_is_refused_unread(admin_client_office, monkeypatch):
    monkeypatch.setattr("customers.spreadsheets.XLSX_MAX_UNPACKED_BYTES", 1024 * 1024)
    opened = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *args, **kwargs: opened.append(args))
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/sharedStrings.xml", "<sst>" + "<si><t>x</t></si>" * 200_000 + "</sst>")
    assert len(packed.getvalue()) < 100 * 1024

    page = upload(admin_client_office, packed.getvalue(), name="kunden.xlsx", HTTP_ACCEPT_LANGUAGE="en")

    assert "This file is not a spreadsheet." in " ".join(page.context_data["form"].errors["import_file"])
    assert opened == []
