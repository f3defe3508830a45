"""Moving a visit from the dispatch board: the drop's POST and the move page without JavaScript."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatus, Closure
from journal.models import JournalEntry
from notifications.models import MessageKind, OutboxMessage
from tests.dispatch.test_day import next_weekday_offset
from tests.factories import AppointmentFactory, ServiceTypeFactory, TechnicianFactory, local_dt

pytestmark = pytest.mark.django_db
Status = AppointmentStatus


@pytest.fixture
def office(admin_client_office):
    return admin_client_office


@pytest.fixture
def scene():
    offset = next_weekday_offset(2)
    service = ServiceTypeFactory(
        name="Boiler maintenance", duration=timedelta(hours=1), buffer_after=timedelta(minutes=30)
    )
    jan = TechnicianFactory(display_name="Jan Verhaag", service_types=[service])
    mia = TechnicianFactory(display_name="Mia Janssen", service_types=[service])
    visit = AppointmentFactory(
        technician=jan,
        service_type=service,
        window_start=local_dt(offset, 8),
        window_end=local_dt(offset, 12),
        planned_start=local_dt(offset, 8),
    )
    return {
        "offset": offset,
        "day": timezone.localdate() + timedelta(days=offset),
        "jan": jan,
        "mia": mia,
        "visit": visit,
    }


def drop(client, visit, technician, time, *, day, version=None, **extra):
    data = {
        "appointment": visit.pk,
        "technician": technician.pk,
        "day": day.isoformat(),
        "time": time,
        "version": visit.version if version is None else version,
        "next": f"{reverse('dispatch:day')}?day={day.isoformat()}",
        **extra,
    }
    return client.post(reverse("dispatch:move"), data, follow=True, HTTP_ACCEPT_LANGUAGE="en")


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def unchanged(visit) -> bool:
    fresh = Appointment.objects.get(pk=visit.pk)
    return (fresh.technician_id, fresh.window_start, fresh.planned_start, fresh.version) == (
        visit.technician_id,
        visit.window_start,
        visit.planned_start,
        visit.version,
    )


def test_a_drop_inside_the_window_reorders_the_day_and_tells_nobody(office, scene):
    visit = scene["visit"]

    response = drop(office, visit, scene["jan"], "10:15", day=scene["day"])

    visit.refresh_from_db()
    assert response.status_code == 200
    assert visit.planned_start == local_dt(scene["offset"], 10, 15)
    assert visit.window_start == local_dt(scene["offset"], 8) and visit.version == 1
    assert messages_of(response) == [
        f"Re-ordered: D-{visit.pk} now planned 10:15; the customer's window 08:00–12:00 is unchanged, nobody was told."
    ]
    assert not OutboxMessage.objects.filter(kind=MessageKind.CHANGE).exists()
    assert response.request["QUERY_STRING"] == f"day={scene['day'].isoformat()}"


def test_a_drop_on_another_lane_reschedules_and_the_customer_is_told(office, scene):
    visit = scene["visit"]

    response = drop(office, visit, scene["mia"], "13:00", day=scene["day"])

    visit.refresh_from_db()
    assert visit.technician == scene["mia"]
    assert visit.planned_start == local_dt(scene["offset"], 13)
    assert visit.version == 2
    [message] = messages_of(response)
    assert message.startswith(f"Moved D-{visit.pk} to Mia Janssen, ")
    assert message.endswith("; the customer is told by email.")
    assert OutboxMessage.objects.filter(kind=MessageKind.CHANGE, appointment=visit).count() == 1
    assert f'id="visit-{visit.pk}"' in response.content.decode()


def test_a_refused_move_changes_nothing_and_says_why(office, scene):
    visit = scene["visit"]
    AppointmentFactory(
        technician=scene["mia"],
        service_type=visit.service_type,
        window_start=local_dt(scene["offset"], 8),
        window_end=local_dt(scene["offset"], 12),
        planned_start=local_dt(scene["offset"], 8, 30),
    )

    response = drop(office, visit, scene["mia"], "08:30", day=scene["day"])

    assert unchanged(visit)
    [message] = messages_of(response)
    assert message.startswith("Nothing was moved: ")
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"appointment": 999999}, "this visit does not exist"),
        ({"appointment": "abc"}, "This visit does not exist."),
        ({"time": "25:61"}, "Enter the time as hours and minutes"),
        ({"time": ""}, "Enter the planned start."),
        ({"day": "04.03.2026"}, "Enter the day as a date"),
        ({"day": "9999-12-31"}, "Choose a day within ten years of today."),
        ({"technician": 999999}, "Choose one of the active technicians."),
        ({"time": "23:30"}, "A visit must end on the day it starts"),
        ({"version": 7}, "This visit was moved in the meantime"),
        ({"appointment": -1}, "This visit does not exist."),
        ({"version": 0}, "Please reload the page and try again."),
        ({"version": "abc"}, "Please reload the page and try again."),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(office, scene, change, expected):
    visit = scene["visit"]
    data = {
        "appointment": visit.pk,
        "technician": scene["jan"].pk,
        "day": scene["day"].isoformat(),
        "time": "10:15",
        "version": visit.version,
        **change,
    }

    response = office.post(reverse("dispatch:move"), data, follow=True, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert unchanged(visit)
    [message] = messages_of(response)
    assert message.startswith("Nothing was moved: ") and expected in message


def test_a_move_into_the_past_is_refused(office, scene):
    visit = scene["visit"]
    yesterday = timezone.localdate() - timedelta(days=1)

    response = drop(office, visit, scene["mia"], "10:00", day=yesterday)

    assert unchanged(visit)
    assert "has already passed" in messages_of(response)[0]


def test_a_hostile_next_is_ignored(office, scene):
    visit = scene["visit"]

    response = office.post(
        reverse("dispatch:move"),
        {"appointment": visit.pk, "technician": scene["jan"].pk, "day": scene["day"].isoformat(), "time": "09:00",
         "next": "https://evil.example/"},
    )  # fmt: skip

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("dispatch:day"))


def test_a_get_of_the_move_urls_changes_nothing(office, scene):
    visit = scene["visit"]
    query = {"appointment": visit.pk, "technician": scene["mia"].pk, "day": scene["day"].isoformat(), "time": "13:00"}
    journal_before = JournalEntry.objects.count()

    drop_get = office.get(reverse("dispatch:move"), query)
    page = office.get(reverse("dispatch:move_form", args=[visit.pk]), query, HTTP_ACCEPT_LANGUAGE="en")

    assert drop_get.status_code == 302
    assert page.status_code == 200
    assert unchanged(visit)
    assert JournalEntry.objects.count() == journal_before
    assert not OutboxMessage.objects.exists()


def test_the_move_page_moves_without_javascript(office, scene):
    visit = scene["visit"]
    url = reverse("dispatch:move_form", args=[visit.pk])

    page = office.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    response = office.post(
        url,
        {"technician": scene["mia"].pk, "day": scene["day"].isoformat(), "time": "14:00", "version": visit.version},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert 'name="technician"' in page and 'type="date"' in page and 'type="time"' in page
    assert 'value="08:00"' in page
    visit.refresh_from_db()
    assert visit.technician == scene["mia"] and visit.planned_start == local_dt(scene["offset"], 14)
    assert messages_of(response)[0].endswith("the customer is told by email.")


def test_the_move_page_shows_a_refusal_on_the_form(office, scene):
    visit = scene["visit"]

    response = office.post(
        reverse("dispatch:move_form", args=[visit.pk]),
        {"technician": scene["jan"].pk, "day": scene["day"].isoformat(), "time": "nonsense"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert "Enter the time as hours and minutes" in response.content.decode()
    assert unchanged(visit)


def test_an_unknown_visit_has_no_move_page(office):
    assert office.get(reverse("dispatch:move_form", args=[999999])).status_code == 404


def test_a_request_without_technician_is_planned_by_a_drop_on_a_lane(office, scene):
    request = AppointmentFactory(
        technician=None,
        status=Status.REQUESTED,
        service_type=scene["visit"].service_type,
        window_start=local_dt(scene["offset"], 12),
        window_end=local_dt(scene["offset"], 16),
    )

    response = drop(office, request, scene["jan"], "12:30", day=scene["day"])

    request.refresh_from_db()
    assert request.technician == scene["jan"] and request.planned_start == local_dt(scene["offset"], 12, 30)
    assert messages_of(response)[0].endswith("the request is not confirmed yet, nobody was told.")


def test_a_technician_cannot_move_anything(client, scene):
    visit = scene["visit"]
    client.force_login(scene["jan"].user)

    response = drop(client, visit, scene["jan"], "10:15", day=scene["day"])

    assert unchanged(visit)
    assert response.redirect_chain[0][0].startswith(reverse("admin:login"))


def test_a_customer_without_email_is_to_be_called(office, scene):
    visit = scene["visit"]
    visit.customer.email = ""
    visit.customer.save()

    response = drop(office, visit, scene["mia"], "13:00", day=scene["day"])

    [message] = messages_of(response)
    assert message.endswith("the customer has no email address, please call them.")


@pytest.mark.parametrize(
    ("language", "label", "customer_voice"), [("de", "Techniker", "Ihr"), ("nl", "Monteur", "Uw")]
)
def test_the_move_page_labels_the_technician_for_the_office_not_the_customer(
    office, scene, language, label, customer_voice
):
    page = office.get(
        reverse("dispatch:move_form", args=[scene["visit"].pk]), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()

    assert f'<label for="id_technician">{label}:</label>' in page
    assert f"{customer_voice} {label}" not in page and f"{customer_voice} {label.lower()}" not in page


def test_a_move_outside_working_hours_is_done_with_a_warning(office, scene):
    visit = scene["visit"]

    response = drop(office, visit, scene["mia"], "16:30", day=scene["day"])

    visit.refresh_from_db()
    assert visit.technician == scene["mia"] and visit.planned_start == local_dt(scene["offset"], 16, 30)
    assert messages_of(response)[1] == (
        f"D-{visit.pk} lies outside Mia Janssen's working hours. It is booked as entered; please check."
    )


def test_a_move_onto_a_closed_day_is_done_with_a_warning(office, scene):
    visit = scene["visit"]
    closed = scene["day"] + timedelta(days=1)
    Closure.objects.create(first_day=closed, last_day=closed, reason="Inventory day")

    response = drop(office, visit, scene["jan"], "09:00", day=closed)

    visit.refresh_from_db()
    assert timezone.localdate(visit.planned_start) == closed
    assert any(
        message.startswith(f"D-{visit.pk} is on a closed day, ") and "Inventory day" in message
        for message in messages_of(response)
    )


@pytest.mark.parametrize("version", ["abc", "0", "9" * 5000])
def test_the_move_page_says_why_when_its_hidden_version_is_bad(office, scene, version):
    visit = scene["visit"]

    response = office.post(
        reverse("dispatch:move_form", args=[visit.pk]),
        {"technician": scene["mia"].pk, "day": scene["day"].isoformat(), "time": "14:00", "version": version},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert "Please reload the page and try again." in response.content.decode()
    assert unchanged(visit)


def next_spring_forward() -> date:
    """The next day whose 02:30 the firm's clocks skip (the change to summer time)."""
    day = timezone.localdate()
    while True:
        day += timedelta(days=1)
        moment = timezone.make_aware(datetime.combine(day, time(2, 30)))
        if timezone.localtime(moment.astimezone(UTC)).time() != time(2, 30):
            return day


def test_a_time_the_clocks_skip_is_refused(office, scene):
    visit = scene["visit"]

    response = drop(office, visit, scene["jan"], "02:30", day=next_spring_forward())

    assert unchanged(visit)
    [message] = messages_of(response)
    assert message == (
        "Nothing was moved: This time does not exist on that day (the clocks go forward); choose another."
    )
