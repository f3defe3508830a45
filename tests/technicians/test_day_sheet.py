"""The day sheet: a technician's day on A4, in planned order, for the clipboard in the van.

Read back with poppler (pdftotext, pdftoppm), as a person reads the printed page.
"""

import subprocess
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext
from PIL import Image

from appointments.models import AppointmentStatus
from tests.factories import (
    AppointmentFactory,
    CustomerFactory,
    OfficeUserFactory,
    TechnicianFactory,
    UserFactory,
    local_dt,
)
from tests.technicians.day_sheet_scene import LONG_NAME, LONG_STREET, sheet_scene

pytestmark = pytest.mark.django_db

Status = AppointmentStatus


def pdf_text(pdf: bytes) -> str:
    result = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return result.stdout.decode()


def one_line(text: str) -> str:
    return " ".join(text.split())


def squeezed(text: str) -> str:
    """Without white space and hyphens: a name wrapped at a space or a hyphen (which pdftotext drops
    at a line's end) reads the same."""
    return "".join(text.split()).replace("-", "")


def pages_as_png(pdf: bytes, tmp_path) -> list[Image.Image]:
    (tmp_path / "sheet.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "50", tmp_path / "sheet.pdf", tmp_path / "page"], check=True)
    return [Image.open(path).convert("L") for path in sorted(tmp_path.glob("page-*.png"))]


def in_language(language: str, message: str, context: str = "") -> str:
    with translation.override(language):
        return pgettext(context, message) if context else gettext(message)


def label(message: str, context: str = "") -> str:
    """A label as the sheet prints it: in capitals, in the firm's language."""
    return in_language(settings.LANGUAGE_CODE, message, context).upper()


def sheet_url(day) -> str:
    return reverse("technician:day_sheet", args=[day.isoformat()])


def office_sheet_url(technician, day) -> str:
    return reverse("technician:office_day_sheet", args=[technician.pk, day.isoformat()])


@pytest.fixture
def scene(db):
    return sheet_scene()


@pytest.fixture
def technician_client(client, scene):
    client.force_login(scene["technician"].user)
    return client


@pytest.fixture
def office_client(client, db):
    client.force_login(OfficeUserFactory())
    return client


def assert_pdf(response, technician, day):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="day-sheet-{technician.pk}-{day.isoformat()}.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-")


# What the sheet says ------------------------------------------------------------------


def test_sheet_lists_the_visits_in_planned_order_not_window_order(technician_client, scene):
    technician, offset = scene["technician"], scene["offset"]
    # A morning with a wide promise, planned late; a later, narrower promise planned first.
    AppointmentFactory(
        technician=technician,
        service_type=scene["service_type"],
        customer=CustomerFactory(full_name="Zeynep Früh", phone="+4928219876543", notes="Klingel defekt"),
        window_start=local_dt(offset, 17),
        window_end=local_dt(offset, 21),
        planned_start=local_dt(offset, 19, 30),
        site_street="Am Deich 9",
        site_postcode="47533",
        site_city="Kleve",
        notes="Thermostat tauschen",
    )
    AppointmentFactory(
        technician=technician,
        service_type=scene["service_type"],
        customer=CustomerFactory(full_name="Anna Später"),
        window_start=local_dt(offset, 18),
        window_end=local_dt(offset, 20),
        planned_start=local_dt(offset, 18),
    )

    response = technician_client.get(sheet_url(scene["day"]))

    assert_pdf(response, technician, scene["day"])
    text = one_line(pdf_text(response.content))
    assert text.index("Anna Später") < text.index("Zeynep Früh")
    assert text.index("Kunde 8 Schmitz") < text.index("Anna Später")
    # Zeynep Früh: the promised window, the planned time (45 minutes), address, phone and both notes.
    assert "17:00–21:00" in text
    assert "19:30–20:15" in text
    assert "Am Deich 9, 47533 Kleve" in text
    assert "+49 2821 9876543" in text
    assert "Klingel defekt" in text and "Thermostat tauschen" in text


def test_sheet_header_names_firm_technician_day_count_hours_and_time_off(office_client, scene):
    response = office_client.get(office_sheet_url(scene["technician"], scene["day"]))

    text = one_line(pdf_text(response.content))
    assert "Haustechnik Verhaag GmbH" in text
    assert f"{label('Technician', 'day sheet')}: Jan Verhaag" in text
    assert f"{label('Visits')}: 8" in text
    assert f"{label('Working hours')}: 07:30–16:30" in text
    assert f"{label('Time off')}: 15:00–16:30 (Arzt)" in text
    assert "Heizungswartung" in text


def test_eight_visits_fit_on_two_pages_numbered_in_the_footer(office_client, scene):
    response = office_client.get(office_sheet_url(scene["technician"], scene["day"]))

    text = one_line(pdf_text(response.content))
    assert "Seite 1 von 2" in text and "Seite 2 von 2" in text
    assert "Seite 3" not in text
    for number in range(1, 9):
        assert f"Kunde {number} Schmitz" in text


def sheet_with_notes(office_client, *, visit_note: str, customer_note: str):
    scene = sheet_scene(long_names=True)
    for appointment in scene["appointments"]:
        appointment.notes = visit_note
        appointment.save()
        appointment.customer.notes = customer_note
        appointment.customer.save()
    return office_client.get(office_sheet_url(scene["technician"], scene["day"]))


def assert_nothing_overflows(pages):
    for page in pages:
        # The right page margin (12 mm; 8 mm checked) stays blank: no line ran past the visits' boxes.
        margin = page.crop((page.width - round(8 / 25.4 * 50), 0, page.width, page.height))
        assert margin.getextrema()[0] > 250, "ink in the right margin: something overflowed"


def test_eight_visits_with_long_names_and_addresses_fit_two_pages(office_client, tmp_path):
    response = sheet_with_notes(
        office_client, visit_note="Anlage im Dachboden, Leiter mitbringen.", customer_note="Klingel defekt."
    )

    text = squeezed(pdf_text(response.content))
    assert text.count(squeezed(LONG_NAME)) == 8
    assert text.count(squeezed(LONG_STREET)) == 8
    pages = pages_as_png(response.content, tmp_path)
    assert len(pages) == 2
    assert_nothing_overflows(pages)


def test_long_notes_are_printed_in_full_and_wrap(office_client, tmp_path):
    # What the office wrote for the technician is never cut: a sheet with long notes gets more pages.
    visit_note = "Anlage im Dachboden, Leiter mitbringen. " * 20 + "Schlüssel beim Nachbarn Nr. 12."
    response = sheet_with_notes(office_client, visit_note=visit_note, customer_note="Bitte vorher anrufen. " * 20)

    text = squeezed(pdf_text(response.content))
    assert text.count(squeezed("Schlüssel beim Nachbarn Nr. 12.")) == 8
    assert_nothing_overflows(pages_as_png(response.content, tmp_path))


def test_status_is_printed_when_not_scheduled_and_cancelled_visits_are_left_out(office_client, scene):
    first, second, third = scene["appointments"][:3]
    first.status = Status.COMPLETED
    first.save()
    second.status = Status.CANCELLED
    second.save()
    third.status = Status.NEW_TIME
    third.save()

    text = one_line(pdf_text(office_client.get(office_sheet_url(scene["technician"], scene["day"])).content))

    # Only the completed visit has a status printed; "scheduled" goes without saying.
    assert text.upper().count(in_language(settings.LANGUAGE_CODE, Status.COMPLETED.label).upper()) == 1
    assert "Kunde 1 Schmitz" in text
    assert "Kunde 2 Schmitz" not in text and "Kunde 3 Schmitz" not in text
    assert f"{label('Visits')}: 6" in text


def test_a_day_without_visits_gives_a_sheet_that_says_so(technician_client, scene):
    empty_day = scene["day"] + timedelta(days=1)

    response = technician_client.get(sheet_url(empty_day))

    assert_pdf(response, scene["technician"], empty_day)
    text = one_line(pdf_text(response.content))
    assert in_language(settings.LANGUAGE_CODE, "No visits on this day") in text
    assert f"{label('Visits')}: 0" in text


# Languages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "service", "page"),
    [
        ("de", "Heizungswartung", "Seite 1 von 2"),
        ("nl", "CV-onderhoud", "Pagina 1 van 2"),
        ("en", "Boiler", "Page 1 of 2"),
    ],
)
def test_technicians_sheet_speaks_the_language_of_their_pages(technician_client, scene, language, service, page):
    technician_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    text = one_line(pdf_text(technician_client.get(sheet_url(scene["day"])).content))

    assert in_language(language, "Day sheet") in text
    assert in_language(language, "Customer's signature").upper() in text.upper()
    assert service in text
    assert page in text


def test_technicians_sheet_without_a_chosen_language_speaks_the_offices(technician_client, scene):
    text = one_line(pdf_text(technician_client.get(sheet_url(scene["day"]), HTTP_ACCEPT_LANGUAGE="nl").content))

    assert in_language(settings.LANGUAGE_CODE, "Day sheet") in text


def test_office_sheet_speaks_the_firms_language_whatever_the_browser_says(office_client, scene):
    office_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"

    text = one_line(pdf_text(office_client.get(office_sheet_url(scene["technician"], scene["day"])).content))

    assert in_language(settings.LANGUAGE_CODE, "Day sheet") in text
    assert "CV-onderhoud" not in text


# Who may download it ------------------------------------------------------------------


def test_office_staff_download_any_technicians_sheet(office_client, scene):
    response = office_client.get(office_sheet_url(scene["technician"], scene["day"]))

    assert_pdf(response, scene["technician"], scene["day"])
    assert "Kunde 1 Schmitz" in pdf_text(response.content)


def test_a_technician_is_refused_another_technicians_sheet(technician_client, scene):
    colleague = TechnicianFactory()

    response = technician_client.get(office_sheet_url(colleague, scene["day"]))

    assert response.status_code == 403


def test_a_technician_is_refused_the_office_download_of_their_own_sheet_too(technician_client, scene):
    assert technician_client.get(office_sheet_url(scene["technician"], scene["day"])).status_code == 403


def test_own_sheet_shows_only_the_signed_in_technicians_visits(client, scene):
    colleague = TechnicianFactory()
    AppointmentFactory(
        technician=colleague,
        customer=CustomerFactory(full_name="Someone Else's Customer"),
        window_start=local_dt(scene["offset"], 8),
    )
    client.force_login(colleague.user)

    text = one_line(pdf_text(client.get(sheet_url(scene["day"])).content))

    assert "Someone Else's Customer" in text
    assert "Kunde 1 Schmitz" not in text


def test_anonymous_visitors_are_sent_to_sign_in(client, scene):
    own = client.get(sheet_url(scene["day"]))
    office = client.get(office_sheet_url(scene["technician"], scene["day"]))

    assert own.status_code == 302 and own["Location"].startswith(reverse("technician:login"))
    assert office.status_code == 302 and office["Location"].startswith(reverse("admin:login"))


def test_a_signed_in_user_who_is_not_office_staff_is_refused(client, scene):
    client.force_login(UserFactory(is_staff=False))

    assert client.get(office_sheet_url(scene["technician"], scene["day"])).status_code == 403


# Bad addresses ------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["2026-02-30", "tomorrow", "2026-1-1", "20260101", "0001-01-01", "9999-12-31"])
def test_a_bad_date_is_not_found_with_a_page_that_says_why(technician_client, scene, day):
    response = technician_client.get(reverse("technician:day_sheet", args=[day]))

    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]
    assert in_language(settings.LANGUAGE_CODE, "No such day") in response.content.decode()


@pytest.mark.parametrize("day", ["2026-02-30", "tomorrow", "0001-01-01"])
def test_office_asking_for_a_bad_date_gets_a_page_that_says_why(office_client, scene, day):
    response = office_client.get(reverse("technician:office_day_sheet", args=[scene["technician"].pk, day]))

    assert response.status_code == 404
    assert in_language(settings.LANGUAGE_CODE, "No such day sheet") in response.content.decode()


def test_office_asking_for_an_unknown_technician_gets_a_page_that_says_so(office_client, scene):
    response = office_client.get(reverse("technician:office_day_sheet", args=[999999, scene["day"].isoformat()]))

    assert response.status_code == 404
    assert in_language(settings.LANGUAGE_CODE, "There is no such technician.") in response.content.decode()


def test_a_day_sheet_is_only_read(office_client, scene):
    assert office_client.post(office_sheet_url(scene["technician"], scene["day"])).status_code == 405


# My day, the visit page and the admin ------------------------------------------------------


def test_my_day_lists_visits_in_planned_order_with_the_planned_time_and_the_sheet_link(client):
    technician = TechnicianFactory()
    AppointmentFactory(
        technician=technician,
        customer=CustomerFactory(full_name="Wide Window"),
        window_start=local_dt(0, 8),
        window_end=local_dt(0, 12),
        planned_start=local_dt(0, 10, 45),
        expected_duration=timedelta(hours=1),
    )
    AppointmentFactory(
        technician=technician,
        customer=CustomerFactory(full_name="Planned First"),
        window_start=local_dt(0, 9),
        window_end=local_dt(0, 11),
        planned_start=local_dt(0, 9),
        expected_duration=timedelta(hours=1),
    )
    client.force_login(technician.user)

    page = client.get(reverse("technician:day")).content.decode()

    assert page.index("Planned First") < page.index("Wide Window")
    assert "08:00–12:00" in page
    planned = in_language(settings.LANGUAGE_CODE, "Planned")
    assert f"{planned} 10:45–11:45" in page
    assert f'href="{sheet_url(timezone.localdate())}"' in page
    assert in_language(settings.LANGUAGE_CODE, "Print day sheet") in page


def test_visit_page_shows_the_planned_time(client):
    technician = TechnicianFactory()
    visit = AppointmentFactory(
        technician=technician,
        window_start=local_dt(1, 8),
        window_end=local_dt(1, 12),
        planned_start=local_dt(1, 9, 30),
        expected_duration=timedelta(hours=2),
    )
    client.force_login(technician.user)

    page = client.get(reverse("technician:visit", args=[visit.pk])).content.decode()

    assert "09:30–11:30" in page


def test_technicians_admin_page_links_todays_and_tomorrows_sheets(office_client, scene):
    technician = scene["technician"]

    page = office_client.get(reverse("admin:appointments_technician_change", args=[technician.pk])).content.decode()

    today = timezone.localdate()
    assert f'href="{office_sheet_url(technician, today)}"' in page
    assert f'href="{office_sheet_url(technician, today + timedelta(days=1))}"' in page


def test_technicians_admin_add_page_has_no_sheet_yet(office_client):
    response = office_client.get(reverse("admin:appointments_technician_add"))

    assert response.status_code == 200
    assert "/technician/day-sheet/" not in response.content.decode()
