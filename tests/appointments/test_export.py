"""Visits out to CSV and XLSX from the appointments list, with formula-like cells escaped."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from tests.customers.test_export import NAIVE_CELL, runs_as_a_formula
from tests.factories import AppointmentFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_visits_export_as_csv_headed_in_the_offices_language_with_a_hostile_note_escaped(admin_client_office):
    customer = CustomerFactory(full_name="-2+3+cmd|' /C calc'!A0", phone="+492821123456")
    AppointmentFactory(customer=customer, notes='=HYPERLINK("http://evil.example")')

    response = admin_client_office.post(
        reverse("admin:appointments_appointment_export"), {"format": "0", "resource": "0"}, HTTP_ACCEPT_LANGUAGE="de"
    )

    header, row = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert header[1:4] == ["Ankunftszeitfenster von", "Ankunftszeitfenster bis", "Kunde"]
    assert row[3] == "'-2+3+cmd|' /C calc'!A0"
    assert row[header.index("Notizen")] == '\'=HYPERLINK("http://evil.example")'


@pytest.mark.parametrize(("language", "delimiter"), [("de", ";"), ("nl", ";"), ("en", ",")])
def test_a_booking_note_cannot_start_a_formula_on_its_own_line_or_after_a_separator(
    admin_client_office, language, delimiter
):
    AppointmentFactory(notes="Notiz\n=cmd|' /C calc'!A0", site_street="Weg 1;=1+1;")

    response = admin_client_office.post(
        reverse("admin:appointments_appointment_export"),
        {"format": "0", "resource": "0"},
        HTTP_ACCEPT_LANGUAGE=language,
    )

    text = response.content.decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    assert len(header) == len(row) == 12
    assert "Notiz\n'=cmd|' /C calc'!A0" in row and "Weg 1;'=1+1;" in row
    for pieces in (text.splitlines(), NAIVE_CELL.split(text)):
        assert not [piece for piece in pieces if runs_as_a_formula(piece)]


def test_visits_export_as_xlsx_keeps_every_cell_text(admin_client_office):
    AppointmentFactory(notes="=1+1")

    response = admin_client_office.post(
        reverse("admin:appointments_appointment_export"), {"format": "1", "resource": "0"}, HTTP_ACCEPT_LANGUAGE="nl"
    )

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 2
    assert not [cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]


def test_the_appointment_list_keeps_its_own_rows_and_offers_the_export(admin_client_office):
    AppointmentFactory()

    page = admin_client_office.get(reverse("admin:appointments_appointment_changelist"))

    assert page.status_code == 200
    assert reverse("admin:appointments_appointment_export") in page.content.decode()
    assert "admin/appointments/appointment/change_list.html" in [t.name for t in page.templates]
