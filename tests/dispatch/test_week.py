"""The board's week view (/board/week/): every technician's week at a glance, or one technician's visits."""

from datetime import date, datetime, time, timedelta

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from appointments.models import AppointmentStatus, Closure, TimeOff
from dispatch.week import monday_of
from tests.factories import AppointmentFactory, CustomerFactory, ServiceTypeFactory, TechnicianFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = reverse("dispatch:week")


def _(message: str) -> str:
    """What the page says: the office reads its own language."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(message)


def next_monday() -> date:
    return monday_of(timezone.localdate()) + timedelta(days=7)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.fixture
def short_service(db):
    # An hour's job plus half an hour: several visits fit one 4-hour window.
    return ServiceTypeFactory(name="Radiator check", duration=timedelta(hours=1), buffer_after=timedelta(minutes=30))


def visit(technician, service_type, start: datetime, **kwargs):
    return AppointmentFactory(
        technician=technician,
        service_type=service_type,
        window_start=kwargs.pop("window_start", start.replace(hour=8 if start.hour < 12 else 12, minute=0)),
        planned_start=start,
        **kwargs,
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_week_lists_every_active_technician_with_visits_counted_per_window(admin_client_office, short_service):
    monday = next_monday()
    anna = TechnicianFactory(display_name="Anna Arndt", service_types=[short_service])
    TechnicianFactory(display_name="Bernd Busch", service_types=[short_service])
    TechnicianFactory(display_name="Carl Retired", is_active=False)
    visit(anna, short_service, at(monday, 8))
    visit(anna, short_service, at(monday, 9, 30))
    visit(anna, short_service, at(monday, 13))
    visit(anna, short_service, at(monday, 14, 30), status=AppointmentStatus.CANCELLED)

    response = admin_client_office.get(URL, {"week": (monday + timedelta(days=3)).isoformat()})

    assert response.status_code == 200
    week = response.context["week"]
    assert week.monday == monday
    assert [row.technician.display_name for row in week.rows] == ["Anna Arndt", "Bernd Busch"]
    monday_cell = week.rows[0].cells[0]
    assert [(w.start.astimezone(timezone.get_current_timezone()).hour, w.count) for w in monday_cell.windows] == [
        (8, 2),
        (12, 1),
    ]
    # Three visits of 1 h 30 min with buffer in 9 working hours.
    assert monday_cell.planned == timedelta(hours=4, minutes=30)
    assert monday_cell.percent == 50
    assert week.rows[1].cells[0].active_count == 0
    assert "Carl Retired" not in response.content.decode()


def test_a_visit_outside_the_grid_gets_a_window_of_its_own(admin_client_office, short_service):
    monday = next_monday()
    anna = TechnicianFactory(service_types=[short_service])
    visit(anna, short_service, at(monday, 17), window_start=at(monday, 17))

    response = admin_client_office.get(URL, {"week": monday.isoformat()})

    windows = response.context["week"].rows[0].cells[0].windows
    assert [(timezone.localtime(w.start).hour, w.count) for w in windows] == [(8, 0), (12, 0), (17, 1)]


def test_a_closed_day_is_marked_with_its_reason(admin_client_office, short_service):
    monday = next_monday()
    TechnicianFactory(service_types=[short_service])
    wednesday = monday + timedelta(days=2)
    Closure.objects.create(first_day=wednesday, last_day=wednesday, reason="Inventur")

    response = admin_client_office.get(URL, {"week": monday.isoformat()})

    week = response.context["week"]
    assert week.rows[0].cells[2].closed == "Inventur"
    assert week.rows[0].cells[1].closed is None
    assert "Inventur" in response.content.decode()


def test_time_off_is_marked_and_shortens_the_working_day(admin_client_office, short_service):
    monday = next_monday()
    anna = TechnicianFactory(service_types=[short_service])
    TimeOff.objects.create(technician=anna, starts_at=at(monday, 8), ends_at=at(monday, 12), reason="Arzt")
    TimeOff.objects.create(
        technician=anna, starts_at=at(monday + timedelta(days=1), 0), ends_at=at(monday + timedelta(days=2), 0)
    )
    visit(anna, short_service, at(monday, 13))

    response = admin_client_office.get(URL, {"week": monday.isoformat()})

    monday_cell, tuesday_cell = response.context["week"].rows[0].cells[:2]
    assert monday_cell.available == timedelta(hours=5)
    assert monday_cell.percent == 30
    assert tuesday_cell.time_off[0].whole_day
    assert tuesday_cell.percent is None
    page = response.content.decode()
    assert _("Time off all day") in page
    assert "Arzt" in page


def test_one_technician_s_week_lists_their_visits_in_planned_order(admin_client_office, short_service):
    monday = next_monday()
    anna = TechnicianFactory(service_types=[short_service])
    other = TechnicianFactory(service_types=[short_service])
    later = visit(anna, short_service, at(monday, 10), customer=CustomerFactory(full_name="Zora Later"))
    earlier = visit(anna, short_service, at(monday, 8), customer=CustomerFactory(full_name="Adam Earlier"))
    visit(anna, short_service, at(monday, 13), customer=CustomerFactory(full_name="Cancelled Customer"),
          status=AppointmentStatus.CANCELLED)  # fmt: skip
    visit(other, short_service, at(monday, 8), customer=CustomerFactory(full_name="Someone Else"))

    response = admin_client_office.get(URL, {"week": monday.isoformat(), "technician": anna.pk})

    week = response.context["week"]
    assert [row.technician for row in week.rows] == [anna]
    assert week.rows[0].cells[0].visits == [earlier, later]
    page = response.content.decode()
    assert page.index("Adam Earlier") < page.index("Zora Later")
    assert "Cancelled Customer" not in page
    assert "Someone Else" not in page
    assert reverse("admin:appointments_appointment_change", args=[earlier.pk]) in page


def test_the_service_filter_shows_only_technicians_who_do_it_on_its_grid(admin_client_office, short_service):
    two_hours = ServiceTypeFactory(name="Leak repair", arrival_window=timedelta(hours=2), duration=timedelta(hours=1))
    TechnicianFactory(display_name="Anna Arndt", service_types=[short_service])
    TechnicianFactory(display_name="Bernd Busch", service_types=[two_hours])

    response = admin_client_office.get(URL, {"week": next_monday().isoformat(), "service_type": two_hours.pk})

    week = response.context["week"]
    assert [row.technician.display_name for row in week.rows] == ["Bernd Busch"]
    assert [timezone.localtime(w.start).hour for w in week.rows[0].cells[0].windows] == [8, 10, 12, 14, 16]


def test_previous_and_next_week_keep_the_filters(admin_client_office, short_service):
    monday = next_monday()
    anna = TechnicianFactory(service_types=[short_service])

    response = admin_client_office.get(URL, {"week": monday.isoformat(), "technician": anna.pk})

    page = response.content.decode()
    assert f"?week={(monday - timedelta(days=7)).isoformat()}&amp;technician={anna.pk}" in page
    assert f"?week={(monday + timedelta(days=7)).isoformat()}&amp;technician={anna.pk}" in page
    assert reverse("dispatch:find") in page


NOT_A_DATE = "“%(value)s” is not a date (YYYY-MM-DD) within ten years of today; showing this week."
NO_TECHNICIAN = "There is no technician “%(value)s”; showing all technicians."
NO_SERVICE = "There is no service type “%(value)s”; showing every service."


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("week", "next tuesday", NOT_A_DATE),
        ("week", "2026-02-30", NOT_A_DATE),
        ("week", "9999-12-31", NOT_A_DATE),
        ("week", "0001-01-01", NOT_A_DATE),
        ("technician", "999999", NO_TECHNICIAN),
        ("technician", "abc", NO_TECHNICIAN),
        ("service_type", "1; drop", NO_SERVICE),
    ],
)
def test_a_hand_edited_link_gets_a_message_and_a_week(admin_client_office, name, value, message):
    TechnicianFactory()

    response = admin_client_office.get(URL, {name: value})

    assert response.status_code == 200
    assert messages_of(response) == [_(message) % {"value": value}]
    assert len(response.context["week"].rows) == 1


def make_visits(count: int, technicians, service_type, monday: date) -> None:
    # Half-hour jobs one after another: never overlapping, so PostgreSQL's exclusion constraint accepts them.
    for index in range(count):
        technician = technicians[index % len(technicians)]
        day = monday + timedelta(days=(index // len(technicians)) % 5)
        slot = index // (len(technicians) * 5)
        visit(technician, service_type, at(day, 8) + timedelta(minutes=30 * slot))


@pytest.mark.parametrize("count", [10, 100])
@pytest.mark.parametrize("one_technician", [False, True])
def test_the_week_costs_the_same_queries_whatever_the_number_of_visits(
    admin_client_office, django_assert_num_queries, count, one_technician
):
    half_hour = ServiceTypeFactory(name="Quick check", duration=timedelta(minutes=20), buffer_after=timedelta(0))
    technicians = [TechnicianFactory(service_types=[half_hour]) for _ in range(5)]
    TimeOff.objects.create(technician=technicians[0], starts_at=at(next_monday(), 12), ends_at=at(next_monday(), 16))
    make_visits(count, technicians, half_hour, next_monday())
    params = {"week": next_monday().isoformat(), "service_type": half_hour.pk}
    if one_technician:
        params["technician"] = technicians[0].pk

    # Session, user, the office check, the admin's context, the filters' rows, technicians, their hours,
    # visits, time off, the firm's region, closures, the service list, the header's "My desk" counts, the mail banner:
    # none per visit or per technician.
    with django_assert_num_queries(16 if one_technician else 15):  # + the session's app (django_otp)
        response = admin_client_office.get(URL, params)

    assert response.status_code == 200
    shown = sum(cell.active_count for row in response.context["week"].rows for cell in row.cells)
    assert shown == (count // 5 if one_technician else count)


def test_an_inactive_technician_keeps_a_row_while_they_have_visits(admin_client_office, short_service):
    monday = next_monday()
    leaving = TechnicianFactory(display_name="Leaving Soon", service_types=[short_service])
    visit(leaving, short_service, at(monday, 8))
    leaving.is_active = False
    leaving.save()

    response = admin_client_office.get(URL, {"week": monday.isoformat()})

    assert [row.technician for row in response.context["week"].rows] == [leaving]


def test_anonymous_visitors_and_technicians_are_sent_to_the_admin_sign_in(client):
    technician = TechnicianFactory()

    anonymous = client.get(URL)
    client.force_login(technician.user)
    signed_in_technician = client.get(URL)

    for response in (anonymous, signed_in_technician):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_a_staff_user_who_is_a_technician_cannot_read_the_board(client):
    user = UserFactory(is_staff=True)
    TechnicianFactory(user=user)
    client.force_login(user)

    assert client.get(URL).status_code == 302


@pytest.mark.public_holidays
def test_a_public_holiday_is_a_closed_day(admin_client_office):
    TechnicianFactory()

    response = admin_client_office.get(URL, {"week": "2026-12-25"})

    cells = response.context["week"].rows[0].cells
    assert cells[4].day == date(2026, 12, 25)
    assert cells[4].closed
    assert cells[0].closed is None
