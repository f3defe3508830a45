"""The dispatch board's day view, through the test client as the office."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import AppointmentStatus, Closure, TimeOff
from dispatch.board import AXIS_LAST_HOUR, UNPLANNED_SHOWN
from tests.factories import (
    AppointmentFactory,
    CustomerFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    VisitAttemptFactory,
    local_dt,
)

pytestmark = pytest.mark.django_db
Status = AppointmentStatus


def next_weekday_offset(start: int = 1) -> int:
    """Days from today to the next Monday-to-Friday at least `start` days ahead (technicians work then)."""
    offset = start
    while (timezone.localdate() + timedelta(days=offset)).weekday() >= 5:
        offset += 1
    return offset


def board(client, day: date | None = None, **params):
    query = {"day": day.isoformat()} if day else {}
    return client.get(reverse("dispatch:day"), {**query, **params}, HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def office(admin_client_office):
    return admin_client_office


@pytest.fixture
def service():
    return ServiceTypeFactory(
        name="Boiler maintenance", duration=timedelta(hours=1), buffer_after=timedelta(minutes=30)
    )


def test_the_board_shows_a_lane_per_active_technician_with_the_days_visits(office, service):
    offset = next_weekday_offset()
    jan = TechnicianFactory(display_name="Jan Verhaag", service_types=[service])
    mia = TechnicianFactory(display_name="Mia Janssen", service_types=[service])
    TechnicianFactory(display_name="Retired Rudi", is_active=False)
    customer = CustomerFactory(full_name="Greta Hendriks", postcode="47533", city="Kleve")
    visit = AppointmentFactory(
        customer=customer,
        technician=jan,
        service_type=service,
        window_start=local_dt(offset, 8),
        window_end=local_dt(offset, 12),
        planned_start=local_dt(offset, 9, 15),
    )
    AppointmentFactory(technician=mia, service_type=service, window_start=local_dt(offset + 1, 8))
    AppointmentFactory(
        technician=mia, service_type=service, window_start=local_dt(offset, 13), status=Status.CANCELLED
    )

    response = board(office, timezone.localdate() + timedelta(days=offset))
    page = response.content.decode()

    assert response.status_code == 200
    assert "Jan Verhaag" in page and "Mia Janssen" in page and "Retired Rudi" not in page
    assert page.count('class="block ') == 1
    assert "Greta Hendriks" in page and "47533 Kleve" in page and "Boiler maintenance" in page
    assert 'data-window-from="480" data-window-until="720"' in page
    assert 'data-start="555"' in page
    assert "status-scheduled" in page
    assert reverse("admin:appointments_appointment_change", args=[visit.pk]) in page
    assert reverse("dispatch:move_form", args=[visit.pk]) in page
    assert 'class="window-band"' in page


def test_the_axis_widens_for_a_visit_planned_early(office, service):
    offset = next_weekday_offset()
    AppointmentFactory(service_type=service, window_start=local_dt(offset, 5), window_end=local_dt(offset, 9))

    page = board(office, timezone.localdate() + timedelta(days=offset)).content.decode()

    assert 'data-first-minute="300"' in page and f'data-last-minute="{AXIS_LAST_HOUR * 60}"' in page
    assert ">05:00<" in page


def test_each_lane_links_to_its_technicians_day_sheet(office, service):
    offset = next_weekday_offset()
    jan = TechnicianFactory(display_name="Jan Verhaag")
    day = timezone.localdate() + timedelta(days=offset)

    page = board(office, day).content.decode()

    assert reverse("technician:office_day_sheet", args=[jan.pk, day.isoformat()]) in page


def test_the_side_panel_shows_the_oldest_requests_and_links_to_all_of_them(office, service):
    offset = next_weekday_offset()
    for number in range(UNPLANNED_SHOWN + 2):
        AppointmentFactory(
            customer=CustomerFactory(full_name=f"Anfrage {number:02d}"),
            technician=None,
            status=Status.REQUESTED,
            service_type=service,
            window_start=local_dt(offset + 3 + number, 8),
        )

    page = board(office).content.decode()

    assert f"({UNPLANNED_SHOWN}+)" in page
    assert "Anfrage 00" in page and f"Anfrage {UNPLANNED_SHOWN - 1:02d}" in page
    assert f"Anfrage {UNPLANNED_SHOWN:02d}" not in page
    assert f"{reverse('admin:appointments_appointment_changelist')}?status__exact=requested" in page


def test_unplanned_work_is_listed_beside_the_lanes(office, service):
    offset = next_weekday_offset()
    unassigned = AppointmentFactory(
        customer=CustomerFactory(full_name="Ohne Techniker"),
        technician=None,
        status=Status.REQUESTED,
        service_type=service,
        window_start=local_dt(offset + 3, 8),
    )
    missed = VisitAttemptFactory(
        appointment=AppointmentFactory(
            customer=CustomerFactory(full_name="Nie Zuhause"), status=Status.MISSED, window_start=local_dt(-2, 8)
        )
    ).appointment
    rebooked = VisitAttemptFactory(
        appointment=AppointmentFactory(
            customer=CustomerFactory(full_name="Schon Neu Gebucht"), status=Status.MISSED, window_start=local_dt(-3, 8)
        ),
        rebooked_at=timezone.now(),
    ).appointment
    new_time = AppointmentFactory(
        customer=CustomerFactory(full_name="Will Neue Zeit"),
        status=Status.NEW_TIME,
        window_start=local_dt(offset + 4, 8),
        new_time_requested_at=timezone.now(),
    )

    page = board(office).content.decode()

    for visit in (unassigned, missed, new_time):
        assert reverse("admin:appointments_appointment_change", args=[visit.pk]) in page
        assert reverse("dispatch:move_form", args=[visit.pk]) in page
    assert "Ohne Techniker" in page and "Nie Zuhause" in page and "Will Neue Zeit" in page
    assert rebooked.customer.full_name not in page
    assert "Requests without a technician" in page and "Missed visits to rebook" in page


def test_a_closed_day_shows_its_reason_and_greys_the_lanes(office, service):
    offset = next_weekday_offset()
    day = timezone.localdate() + timedelta(days=offset)
    TechnicianFactory(display_name="Jan Verhaag")
    Closure.objects.create(first_day=day, last_day=day, reason="Betriebsausflug")

    page = board(office, day).content.decode()

    assert "The firm is closed on this day:" in page and "Betriebsausflug" in page
    assert "board-grid is-closed" in page


def test_time_off_and_hours_outside_work_are_greyed_with_the_reason(office):
    offset = next_weekday_offset()
    jan = TechnicianFactory(display_name="Jan Verhaag")
    TimeOff.objects.create(
        technician=jan, starts_at=local_dt(offset, 12), ends_at=local_dt(offset, 14), reason="Zahnarzt"
    )

    page = board(office, timezone.localdate() + timedelta(days=offset)).content.decode()

    # 07:00-07:30 before work, 16:30-17:00 after it, and the time off.
    assert page.count('class="off"') == 3
    assert 'title="Zahnarzt"' in page


def test_today_has_a_now_line_and_other_days_do_not(office):
    TechnicianFactory()

    today = board(office).content.decode()
    tomorrow = board(office, timezone.localdate() + timedelta(days=1)).content.decode()

    assert 'class="now-line"' in today
    assert 'class="now-line"' not in tomorrow


def test_filters_show_only_the_chosen_technicians_and_service(office, service):
    offset = next_weekday_offset()
    other_service = ServiceTypeFactory(name="Leak repair")
    jan = TechnicianFactory(display_name="Jan Verhaag", service_types=[service])
    TechnicianFactory(display_name="Mia Janssen", service_types=[service])
    TechnicianFactory(display_name="Piet Leak", service_types=[other_service])
    day = timezone.localdate() + timedelta(days=offset)

    only_jan = board(office, day, technician=[jan.pk]).content.decode()
    boilers = board(office, day, service=service.pk).content.decode()

    assert 'aria-label="Jan Verhaag"' in only_jan and 'aria-label="Mia Janssen"' not in only_jan
    assert 'aria-label="Piet Leak"' not in boilers and 'aria-label="Mia Janssen"' in boilers


def test_prev_and_next_keep_the_filters_and_a_bad_day_shows_today(office):
    jan = TechnicianFactory()
    day = date(2026, 3, 4)

    page = board(office, day, technician=[jan.pk]).content.decode()
    bad = office.get(reverse("dispatch:day"), {"day": "2026-02-31"}, HTTP_ACCEPT_LANGUAGE="en")
    far = office.get(reverse("dispatch:day"), {"day": "0001-01-01"}, HTTP_ACCEPT_LANGUAGE="en")

    assert f"day=2026-03-03&amp;technician={jan.pk}" in page and f"day=2026-03-05&amp;technician={jan.pk}" in page
    assert bad.status_code == 200
    assert "is not a day the board can show" in bad.content.decode()
    assert far.status_code == 200 and "is not a day the board can show" in far.content.decode()


def test_a_technician_and_an_anonymous_visitor_get_the_sign_in(client):
    anonymous = client.get(reverse("dispatch:day"))
    client.force_login(TechnicianFactory().user)
    technician = client.get(reverse("dispatch:day"))

    for response in (anonymous, technician):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_the_root_sends_the_office_to_the_board_and_the_admin_links_to_it(office):
    root = office.get("/")
    index = office.get(reverse("admin:index")).content.decode()

    assert root.status_code == 302 and root["Location"] == reverse("dispatch:day")
    assert index.count(f'href="{reverse("dispatch:day")}"') >= 2  # the user links and the index


def build_busy_day(technicians: int, visits: int, offset: int):
    service = ServiceTypeFactory(duration=timedelta(minutes=20), buffer_after=timedelta(minutes=5))
    crew = [TechnicianFactory(service_types=[service]) for _ in range(technicians)]
    per_technician = visits // technicians
    for index in range(visits):
        technician = crew[index % technicians]
        slot = index // technicians
        start = local_dt(offset, 7) + timedelta(minutes=int(slot * 600 / per_technician))
        AppointmentFactory(
            technician=technician,
            service_type=service,
            window_start=start,
            window_end=start + timedelta(hours=2),
            status=Status.REQUESTED if index % 7 == 0 else Status.SCHEDULED,
        )
    AppointmentFactory(technician=None, status=Status.REQUESTED, window_start=local_dt(offset + 1, 8))
    VisitAttemptFactory(appointment=AppointmentFactory(status=Status.MISSED, window_start=local_dt(-1, 8)))
    TimeOff.objects.create(technician=crew[0], starts_at=local_dt(offset, 12), ends_at=local_dt(offset, 13))


@pytest.mark.parametrize("visits", [10, 100])
def test_the_day_view_runs_the_same_queries_whatever_the_number_of_visits(office, visits, django_assert_num_queries):
    offset = next_weekday_offset()
    day = timezone.localdate() + timedelta(days=offset)
    build_busy_day(10, visits, offset)
    board(office, day)  # the session and the firm's region are read once, like on any page

    with django_assert_num_queries(QUERIES_PER_DAY_VIEW):
        response = board(office, day)

    assert response.content.decode().count('class="block ') == visits


# Session, user, the user's technician profile (office only), technicians (+ hours, time off),
# visits, closed day (firm, closures), service types, the three lists of unplanned work, the header's
# "My desk" counts (one aggregate), the outbox's health for the mail banner (one aggregate), the session's
# app (django_otp).
QUERIES_PER_DAY_VIEW = 16


def test_done_and_missed_visits_show_muted_and_only_open_ones_can_be_moved(office, service):
    offset = next_weekday_offset()
    jan = TechnicianFactory(display_name="Jan Verhaag")
    done = AppointmentFactory(
        technician=jan, service_type=service, window_start=local_dt(offset, 8), status=Status.COMPLETED
    )
    on_site = AppointmentFactory(
        technician=jan, service_type=service, window_start=local_dt(offset, 12), status=Status.ON_SITE
    )
    open_visit = AppointmentFactory(technician=jan, service_type=service, window_start=local_dt(offset, 16))

    page = board(office, timezone.localdate() + timedelta(days=offset)).content.decode()

    assert 'class="block status-completed is-muted" style' in page
    assert "block status-on_site" in page and "block status-on_site is-muted" not in page
    assert reverse("dispatch:move_form", args=[done.pk]) not in page
    assert reverse("dispatch:move_form", args=[on_site.pk]) not in page
    assert reverse("dispatch:move_form", args=[open_visit.pk]) in page
    assert "block status-scheduled is-movable" in page


def test_the_board_speaks_the_office_language(admin_client_office):
    TechnicianFactory()

    german = admin_client_office.get(reverse("dispatch:day"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    dutch = admin_client_office.get(reverse("dispatch:day"), HTTP_ACCEPT_LANGUAGE="nl").content.decode()

    assert "Ungeplante Arbeit" in german and "Einsatzplanung" in german
    assert "Ongepland werk" in dutch and "Planbord" in dutch


def test_the_day_leads_to_its_week_and_to_find_a_time(office):
    page = board(office, date(2026, 3, 4)).content.decode()

    assert f'href="{reverse("dispatch:week")}?week=2026-03-04"' in page
    assert f'href="{reverse("dispatch:find")}"' in page


def test_the_day_and_move_pages_are_valid_html(office, service, vnu_jar, tmp_path):
    from tests.conftest import ROOT, describe_vnu, run_vnu

    offset = next_weekday_offset()
    day = timezone.localdate() + timedelta(days=offset)
    jan = TechnicianFactory(display_name="Jan Verhaag", service_types=[service])
    visit = AppointmentFactory(technician=jan, service_type=service, window_start=local_dt(offset, 8))
    AppointmentFactory(technician=None, status=Status.REQUESTED, window_start=local_dt(offset + 1, 8))
    VisitAttemptFactory(appointment=AppointmentFactory(status=Status.MISSED, window_start=local_dt(-2, 8)))
    TimeOff.objects.create(technician=jan, starts_at=local_dt(offset, 13), ends_at=local_dt(offset, 15), reason="Arzt")
    pages = {
        "day": board(office, day),
        "today": board(office),
        "closed": (Closure.objects.create(first_day=day, last_day=day, reason="Inventur"), board(office, day))[1],
        "move": office.get(reverse("dispatch:move_form", args=[visit.pk])),
        "move-refused": office.post(reverse("dispatch:move_form", args=[visit.pk]), {"time": "x", "day": "x"}),
    }
    for name, response in pages.items():
        assert response.status_code in (200, 400), name
        (tmp_path / f"{name}.html").write_bytes(response.content)

    messages = run_vnu(
        vnu_jar,
        "--also-check-css",
        *[str(path) for path in sorted(tmp_path.iterdir())],
        str(ROOT / "static" / "dispatch" / "board.css"),
    )
    errors = [describe_vnu(message) for message in messages if message["type"] != "info"]
    assert not errors, "Nu HTML checker errors:\n" + "\n".join(errors)


def test_names_are_escaped_in_blocks_and_the_side_panel(office, service):
    offset = next_weekday_offset()
    hostile = CustomerFactory(full_name='<script>alert("x")</script> & Söhne', city='Kleve"><b>')
    AppointmentFactory(customer=hostile, service_type=service, window_start=local_dt(offset, 8))
    AppointmentFactory(customer=hostile, technician=None, status=Status.REQUESTED, window_start=local_dt(offset, 12))

    page = board(office, timezone.localdate() + timedelta(days=offset)).content.decode()

    assert "<script>alert" not in page and '"><b>' not in page
    assert page.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Söhne") >= 3  # link, title, panel


@pytest.mark.parametrize(
    ("name", "message"),
    [("technician", "; showing all technicians."), ("service", "; showing every service.")],
)
@pytest.mark.parametrize("value", ["²", "9" * 5000, "abc", "-1"])
def test_a_filter_the_board_cannot_read_is_named_and_the_whole_board_shown(office, name, message, value):
    TechnicianFactory(display_name="Jan Verhaag")

    response = board(office, date(2026, 3, 4), **{name: value})

    page = response.content.decode()
    assert response.status_code == 200
    assert 'aria-label="Jan Verhaag"' in page
    assert message in page


@pytest.mark.parametrize("name", ["dispatch:day", "dispatch:week", "dispatch:find"])
def test_no_board_page_is_kept_in_a_cache(office, name):
    # A cached page shows an old plan, and after signing out the back button would show the customers.
    response = office.get(reverse(name), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_a_link_with_many_unreadable_technicians_gets_one_warning(office):
    jan = TechnicianFactory(display_name="Jan Verhaag")

    response = office.get(reverse("dispatch:day"), {"technician": ["x"] * 500 + [jan.pk]}, HTTP_ACCEPT_LANGUAGE="en")

    assert [str(message) for message in response.context["messages"]] == [
        "There is no technician “x”; showing all technicians."
    ]
    assert 'aria-label="Jan Verhaag"' in response.content.decode()
