"""The technician's card PDFs: the card of one visit, the day's pack and blank cards, as their phone downloads them.

What the cards print is tested in tests/appointments/test_cards.py.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from appointments.models import AppointmentStatus
from tests.appointments.card_scene import card_scene, missed_attempt, one_line, page_count, pdf_text
from tests.factories import AppointmentFactory, VisitAttemptFactory, local_dt

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(db):
    return card_scene()


# Downloads -----------------------------------------------------------------------------


@pytest.fixture
def technician_client(client, setup):
    client.force_login(setup["technician"].user)
    return client


def assert_pdf(response, filename):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-")


def test_technician_downloads_the_card_of_a_missed_visit(setup, technician_client):
    attempt = missed_attempt(setup)

    response = technician_client.get(reverse("technician:missed_card", args=[attempt.appointment.pk]))

    assert_pdf(response, f"card-D-{attempt.appointment.pk}.pdf")
    assert "10:02" in pdf_text(response.content)


def test_card_of_a_visit_not_missed_yet_is_pre_filled(setup, technician_client):
    appointment = AppointmentFactory(
        customer=setup["customer"], service_type=setup["service_type"], technician=setup["technician"]
    )

    response = technician_client.get(reverse("technician:missed_card", args=[appointment.pk]))

    assert_pdf(response, f"card-D-{appointment.pk}.pdf")
    assert "Anna Schmitz" in pdf_text(response.content)


def test_card_of_a_visit_rebooked_since_its_attempt_is_pre_filled_for_the_new_time(setup, technician_client):
    attempt = missed_attempt(setup)
    appointment = attempt.appointment
    # Rebooked (as appointment_reschedule does): scheduled again, at a new version.
    appointment.status, appointment.version = AppointmentStatus.SCHEDULED, appointment.version + 1
    appointment.save()

    response = technician_client.get(reverse("technician:missed_card", args=[appointment.pk]))

    text = one_line(pdf_text(response.content))
    assert_pdf(response, f"card-D-{appointment.pk}.pdf")
    assert timezone.localtime(attempt.at).strftime("%H:%M") not in text


@pytest.mark.parametrize(
    "status", [AppointmentStatus.CANCELLED, AppointmentStatus.NEW_TIME, AppointmentStatus.COMPLETED]
)
def test_no_card_for_a_visit_nobody_drives_to(setup, technician_client, status):
    # A "we were at your door" card for a cancelled visit, or one whose time the office gave up, would be untrue.
    appointment = AppointmentFactory(
        customer=setup["customer"], service_type=setup["service_type"], technician=setup["technician"], status=status
    )

    response = technician_client.get(reverse("technician:missed_card", args=[appointment.pk]), follow=True)

    assert response.redirect_chain == [(reverse("technician:visit", args=[appointment.pk]), 302)]
    assert response["Content-Type"].startswith("text/html")
    with translation.override(settings.LANGUAGE_CODE):
        said = translation.gettext("There is no card for this visit: nobody is to go there now.")
    assert [str(message) for message in response.context["messages"]] == [said]


def test_card_of_another_technicians_visit_is_not_found(setup, technician_client):
    attempt = VisitAttemptFactory(appointment__customer=setup["customer"])

    response = technician_client.get(reverse("technician:missed_card", args=[attempt.appointment.pk]))

    assert response.status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in(setup, client):
    attempt = missed_attempt(setup)

    for url in (
        reverse("technician:missed_card", args=[attempt.appointment.pk]),
        reverse("technician:day_pack", args=["today"]),
        reverse("technician:blank_cards"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("technician:login"))


def test_technician_downloads_the_day_pack(setup, technician_client):
    AppointmentFactory(
        customer=setup["customer"],
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=local_dt(0, 8),
    )

    today = technician_client.get(reverse("technician:day_pack", args=["today"]))
    by_date = technician_client.get(reverse("technician:day_pack", args=[timezone.localdate().isoformat()]))

    assert_pdf(today, f"cards-{timezone.localdate().isoformat()}.pdf")
    assert_pdf(by_date, f"cards-{timezone.localdate().isoformat()}.pdf")
    assert "Anna Schmitz" in pdf_text(today.content)


@pytest.mark.parametrize(
    "day",
    [
        "yesterday",
        "2026-13-01",
        "2026-02-30",
        "20261123",
        "2026-11-23T08:00",
        "9999-99-99",
        "9999-12-31",
        "0001-01-01",
    ],
)
def test_day_pack_of_a_bad_date_is_not_found(setup, technician_client, day):
    response = technician_client.get(reverse("technician:day_pack", args=[day]))

    assert response.status_code == 404


def test_empty_day_pack_speaks_the_office_language_whatever_the_phone_says(setup, technician_client):
    day = timezone.localdate() + timedelta(days=30)

    response = technician_client.get(reverse("technician:day_pack", args=[day.isoformat()]), HTTP_ACCEPT_LANGUAGE="nl")

    assert "Keine Termine zum Drucken" in pdf_text(response.content)


def test_technician_downloads_blank_cards(setup, technician_client):
    response = technician_client.get(reverse("technician:blank_cards"), {"count": "2", "language": "nl"})

    assert_pdf(response, "blank-cards.pdf")
    assert page_count(response.content) == 2


def test_blank_cards_default_to_eight(setup, technician_client):
    response = technician_client.get(reverse("technician:blank_cards"))

    assert_pdf(response, "blank-cards.pdf")
    assert page_count(response.content) == 8


@pytest.mark.parametrize(
    "query",
    [{"count": "0"}, {"count": "41"}, {"count": "many"}, {"count": "1e3"}, {"count": ""}, {"language": "fr"}],
)
def test_blank_cards_with_bad_parameters_get_a_short_message(setup, technician_client, query):
    response = technician_client.get(reverse("technician:blank_cards"), query)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert 0 < len(response.content) < 200
