"""The technician's "My day" pages, through the test client as a signed-in technician."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
import time_machine
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext

from appointments.models import Appointment, AppointmentStatus, VisitAttempt
from journal.models import JournalEntry
from notifications.models import MessageKind, OutboxMessage
from tests.conftest import ROOT, describe_vnu, run_vnu
from tests.factories import (
    AppointmentFactory,
    CustomerFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    UserFactory,
    VisitAttemptFactory,
    local_dt,
)

pytestmark = pytest.mark.django_db
Status = AppointmentStatus
OFFICE_LANGUAGE = django_settings.LANGUAGE_CODE


def _(message: str) -> str:
    """What the page says: technicians see the office's language."""
    with translation.override(OFFICE_LANGUAGE):
        return gettext(message)


def text_of(response) -> str:
    return response.content.decode()


def url(name: str, appointment: Appointment) -> str:
    return reverse(f"technician:{name}", args=[appointment.pk])


@pytest.fixture
def technician(db):
    return TechnicianFactory(display_name="Jan Verhaag")


@pytest.fixture
def tech_client(client, technician):
    client.force_login(technician.user)
    return client


def visit_today(technician, hour=8, **kwargs) -> Appointment:
    if "service_type" not in kwargs:
        # Two-hour windows through the day: a job of an hour leaves room for the next one.
        kwargs["service_type"] = ServiceTypeFactory(duration=timedelta(hours=1), arrival_window=timedelta(hours=2))
    return AppointmentFactory(
        technician=technician,
        window_start=local_dt(0, hour),
        window_end=local_dt(0, hour + 2),
        **kwargs,
    )


def unchanged(appointment: Appointment) -> bool:
    before = appointment.status, appointment.version
    appointment.refresh_from_db()
    return (appointment.status, appointment.version) == before


# Signing in and out --------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_the_technician_sign_in(client):
    response = client.get(reverse("technician:day"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("technician:login") + "?next=")


def test_technician_signs_in_and_lands_on_my_day(client):
    user = UserFactory(username="jan")
    user.set_password("van-keys-2026")
    user.save()
    TechnicianFactory(user=user)

    response = client.post(reverse("technician:login"), {"username": "jan", "password": "van-keys-2026"})

    assert response.status_code == 302
    assert response["Location"] == reverse("technician:day")
    assert client.get(reverse("technician:day")).status_code == 200


def sign_in_jan(client, next_url: str):
    user = UserFactory(username="jan")
    user.set_password("van-keys-2026")
    user.save()
    TechnicianFactory(user=user)
    return client.post(
        f"{reverse('technician:login')}?next={quote(next_url)}",
        {"username": "jan", "password": "van-keys-2026", "next": next_url},
    )


def test_sign_in_returns_to_the_technician_page_that_asked_for_it(client):
    response = sign_in_jan(client, "/technician/visit/42/")

    assert response.status_code == 302
    assert response["Location"] == "/technician/visit/42/"


@pytest.mark.parametrize(
    "elsewhere",
    [
        "https://evil.example/technician/",
        "//evil.example/technician/",
        "http://testserver/technician/visit/1/",
        "/admin/",
        "/booking/",
        "/technician/../admin/",
        "/technician/logout/",
        "javascript:alert(1)",
    ],
)
def test_sign_in_never_leaves_the_technician_pages_whatever_next_says(client, elsewhere):
    response = sign_in_jan(client, elsewhere)

    assert response.status_code == 302
    assert response["Location"] == reverse("technician:day")


def test_the_sign_in_form_does_not_carry_a_next_outside_the_technician_pages(client):
    response = client.get(reverse("technician:login"), {"next": "/admin/"})

    assert 'value="/admin/"' not in response.content.decode()


def test_a_user_without_a_technician_profile_cannot_sign_in_here(client):
    user = UserFactory(username="office")
    user.set_password("desk-2026-secret")
    user.save()

    response = client.post(reverse("technician:login"), {"username": "office", "password": "desk-2026-secret"})

    assert response.status_code == 200
    assert _("This account has no active technician profile. Please ask the office.") in text_of(response)
    assert "_auth_user_id" not in client.session


def test_a_technician_who_has_left_can_neither_open_visits_nor_sign_in_again(tech_client, technician):
    visit = visit_today(technician)
    technician.is_active = False
    technician.save(update_fields=["is_active"])

    still_signed_in = tech_client.get(url("visit", visit))
    technician.user.set_password("van-keys-2026")
    technician.user.save()
    tech_client.logout()
    sign_in = tech_client.post(
        reverse("technician:login"), {"username": technician.user.username, "password": "van-keys-2026"}
    )

    assert still_signed_in.status_code == 404
    assert sign_in.status_code == 200 and "_auth_user_id" not in tech_client.session


def test_sign_out_is_a_post_that_leads_back_to_the_sign_in(tech_client):
    response = tech_client.post(reverse("technician:logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("technician:login")
    assert tech_client.get(reverse("technician:day")).status_code == 302


def test_pages_follow_the_office_language_not_the_phones(tech_client, settings):
    other = next(code for code, _name in settings.LANGUAGES if code != OFFICE_LANGUAGE)

    response = tech_client.get(reverse("technician:day"), headers={"accept-language": other})
    assert f'<html lang="{OFFICE_LANGUAGE}">' in text_of(response)

    tech_client.cookies[settings.LANGUAGE_COOKIE_NAME] = other
    response = tech_client.get(reverse("technician:day"), headers={"accept-language": other})
    assert f'<html lang="{other}">' in text_of(response)


# My day --------------------------------------------------------------------------


def test_day_marks_todays_visit_waiting_for_a_new_time_and_leaves_later_ones_out(tech_client, technician):
    today = visit_today(technician, hour=8, status=Status.NEW_TIME, customer__full_name="Hendrik Heute")
    AppointmentFactory(
        technician=technician,
        window_start=local_dt(1, 8),
        status=Status.NEW_TIME,
        customer__full_name="Marta Morgen",
    )

    with time_machine.travel(local_dt(0, 7), tick=False):
        page = text_of(tech_client.get(reverse("technician:day")))

    assert "Hendrik Heute" in page and capfirst(_(Status.NEW_TIME.label)) in page
    assert "Marta Morgen" not in page
    with time_machine.travel(local_dt(0, 8, 30), tick=False):
        visit_page = text_of(tech_client.get(url("visit", today)))
    assert url("start_trip", today) not in visit_page and url("not_home", today) not in visit_page


def test_day_lists_todays_own_visits_in_window_order(tech_client, technician):
    afternoon = visit_today(technician, 13, customer=CustomerFactory(full_name="Carla Afternoon"))
    morning = visit_today(technician, 8, customer=CustomerFactory(full_name="Bert Morning"))
    visit_today(TechnicianFactory(), 10, customer=CustomerFactory(full_name="Someone Else's Customer"))

    page = text_of(tech_client.get(reverse("technician:day")))

    assert page.index("Bert Morning") < page.index("Carla Afternoon")
    assert "08:00–10:00" in page and "13:00–15:00" in page
    assert url("visit", morning) in page and url("visit", afternoon) in page
    assert "Someone Else" not in page


def test_day_shows_maps_link_phone_link_service_and_notes(tech_client, technician):
    customer = CustomerFactory(full_name="Anna Schmitz", phone="+4928211234567")
    service_type = ServiceTypeFactory(name="Boiler service", name_de="Heizungswartung", name_nl="CV-onderhoud")
    visit = visit_today(
        technician,
        customer=customer,
        service_type=service_type,
        site_street="Hafenstraße 3",
        site_postcode="47533",
        site_city="Kleve",
        notes="Dog in the garden",
    )

    page = text_of(tech_client.get(reverse("technician:day")))

    assert "https://www.google.com/maps/search/?api=1&amp;query=Hafenstra%C3%9Fe%203%2C%2047533%20Kleve" in page
    assert "Hafenstraße 3, 47533 Kleve" in page
    assert 'href="tel:+4928211234567"' in page
    assert customer.phone.as_international in page
    assert visit.service_type.localized_name(OFFICE_LANGUAGE) in page
    assert "Dog in the garden" in page
    assert _(Status.SCHEDULED.label).capitalize() in page


def notes_shown(page: str) -> list[tuple[str, str]]:
    """(label, note) pairs as the page shows them, in order."""
    return [
        (re.sub(r"<[^>]+>", "", label).strip(), re.sub(r"<[^>]+>", "", note).strip())
        for label, note in re.findall(r"data-note-label>(.*?)</\w+>\s*<\w+[^>]*data-note>(.*?)</\w+>", page, re.S)
    ]


@pytest.mark.parametrize("page_name", ["day", "visit", "not_home"])
def test_technician_sees_the_customers_note_and_the_visits_note_labelled_apart(tech_client, technician, page_name):
    customer = CustomerFactory(full_name="Anna Schmitz", notes="Ring twice, hard of hearing")
    visit = visit_today(technician, customer=customer, notes="Boiler in the cellar")

    with time_machine.travel(local_dt(0, 9), tick=False):
        page = text_of(tech_client.get(reverse("technician:day") if page_name == "day" else url(page_name, visit)))

    assert notes_shown(page) == [
        (_("Note on the customer"), "Ring twice, hard of hearing"),
        (_("Note on this visit"), "Boiler in the cellar"),
    ]


def test_a_visit_without_notes_shows_no_empty_note_labels(tech_client, technician):
    visit = visit_today(technician, customer=CustomerFactory(notes=""), notes="")

    for page in (text_of(tech_client.get(reverse("technician:day"))), text_of(tech_client.get(url("visit", visit)))):
        assert notes_shown(page) == []
        assert _("Note on the customer") not in page and _("Note on this visit") not in page


def test_day_lists_the_next_five_days_but_not_later_or_cancelled(tech_client, technician):
    AppointmentFactory(
        technician=technician, window_start=local_dt(1, 8), customer=CustomerFactory(full_name="Tom Morrow")
    )
    AppointmentFactory(
        technician=technician, window_start=local_dt(5, 8), customer=CustomerFactory(full_name="Fifi Five")
    )
    AppointmentFactory(
        technician=technician, window_start=local_dt(6, 8), customer=CustomerFactory(full_name="Six Late")
    )
    AppointmentFactory(
        technician=technician,
        window_start=local_dt(2, 8),
        status=Status.CANCELLED,
        customer=CustomerFactory(full_name="Carl Cancelled"),
    )

    page = text_of(tech_client.get(reverse("technician:day")))

    assert "Tom Morrow" in page and "Fifi Five" in page
    assert "Six Late" not in page and "Carl Cancelled" not in page
    assert _("No visits today.") in page
    # Cards for a coming day can be printed the evening before.
    assert reverse("technician:day_pack", args=[local_dt(1, 8).date().isoformat()]) in page


def test_day_offers_the_card_of_a_missed_visit_the_day_pack_and_blank_cards(tech_client, technician):
    missed = visit_today(technician, status=Status.MISSED)
    VisitAttemptFactory(appointment=missed)
    scheduled = visit_today(technician, 13)

    page = text_of(tech_client.get(reverse("technician:day")))

    assert url("missed_card", missed) in page
    assert url("missed_card", scheduled) not in page
    assert reverse("technician:day_pack", args=["today"]) in page
    assert f'action="{reverse("technician:blank_cards")}"' in page
    for language in ("de", "nl", "en"):
        assert f'<option value="{language}"' in page  # blank cards in the customers' languages


# One visit -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "offered", "not_offered"),
    [
        (Status.SCHEDULED, ["start_trip", "arrive", "not_home"], ["complete"]),
        (Status.EN_ROUTE, ["arrive", "not_home"], ["start_trip", "complete"]),
        (Status.ON_SITE, ["complete"], ["start_trip", "arrive", "not_home"]),
        (Status.COMPLETED, [], ["start_trip", "arrive", "complete", "not_home"]),
        (Status.CANCELLED, [], ["start_trip", "arrive", "complete", "not_home"]),
    ],
)
def test_visit_page_offers_the_buttons_that_fit_the_status(
    tech_client, technician, status, offered, not_offered, in_the_window
):
    visit = visit_today(technician, status=status)

    page = text_of(tech_client.get(url("visit", visit)))

    for action in offered:
        assert url(action, visit) in page, action
    for action in not_offered:
        assert url(action, visit) not in page, action


def test_on_my_way_offers_the_expected_arrival_in_minutes(tech_client, technician):
    page = text_of(tech_client.get(url("visit", visit_today(technician))))

    offered = re.findall(r'<option value="(\d+)"', page.split('name="minutes"', 1)[1].split("</select>", 1)[0])
    assert offered == ["10", "15", "20", "30", "45", "60", "90"]


def test_missed_visit_page_shows_the_attempt_and_the_card(tech_client, technician):
    visit = visit_today(technician, status=Status.MISSED)
    VisitAttemptFactory(appointment=visit, at=local_dt(0, 9, 17), waited_minutes=12, card_left=True)

    page = text_of(tech_client.get(url("visit", visit)))

    assert "09:17" in page
    assert "12" in page
    assert url("missed_card", visit) in page
    assert url("not_home", visit) not in page


def test_another_technicians_visit_is_not_found(tech_client):
    theirs = visit_today(TechnicianFactory())

    assert tech_client.get(url("visit", theirs)).status_code == 404
    assert tech_client.get(url("not_home", theirs)).status_code == 404
    for action, data in [
        ("start_trip", {"minutes": "20"}),
        ("arrive", {}),
        ("complete", {}),
        ("not_home", {"waited_minutes": "10"}),
    ]:
        assert tech_client.post(url(action, theirs), data).status_code == 404, action
    assert unchanged(theirs)
    assert not VisitAttempt.objects.exists()


# Acting --------------------------------------------------------------------------


def test_on_my_way_stores_the_expected_arrival_and_tells_the_customer(tech_client, technician):
    visit = visit_today(technician)
    now = local_dt(0, 8, 40)

    with time_machine.travel(now, tick=False):
        response = tech_client.post(url("start_trip", visit), {"minutes": "30"}, follow=True)

    expected = now + timedelta(minutes=30)
    assert response.redirect_chain == [(url("visit", visit), 302)]
    visit.refresh_from_db()
    assert visit.status == Status.EN_ROUTE
    assert visit.trip_started_at == now
    entry = JournalEntry.objects.get(appointment=visit, action="visit.trip_started")
    assert datetime.fromisoformat(entry.data["expected_arrival"]) == expected
    message = OutboxMessage.objects.get(appointment=visit, kind=MessageKind.ON_MY_WAY)
    assert datetime.fromisoformat(message.context["expected_arrival"]) == expected
    assert "09:10" in text_of(response)


def test_arrived_and_completed_move_the_visit_on(tech_client, technician):
    visit = visit_today(technician, status=Status.EN_ROUTE)

    arrived = tech_client.post(url("arrive", visit))
    visit.refresh_from_db()
    assert (arrived.status_code, visit.status) == (302, Status.ON_SITE)

    completed = tech_client.post(url("complete", visit), {"report": "Replaced the pump seal."}, follow=True)
    visit.refresh_from_db()
    assert visit.status == Status.COMPLETED
    assert JournalEntry.objects.get(appointment=visit, action="visit.completed").data["report"] == (
        "Replaced the pump seal."
    )
    assert _("Visit completed.") in text_of(completed)


def test_completed_visit_shows_the_technicians_note_as_written(tech_client, technician):
    visit = visit_today(technician, status=Status.ON_SITE)

    page = text_of(
        tech_client.post(url("complete", visit), {"report": "Seal <b>replaced</b>\nPump next week"}, follow=True)
    )

    assert _("Your note on completion") in page
    assert "Seal &lt;b&gt;replaced&lt;/b&gt;<br>Pump next week" in page


def test_not_home_records_the_attempt_with_the_server_time(tech_client, technician):
    visit = visit_today(technician, status=Status.EN_ROUTE)
    now = local_dt(0, 10, 2)

    with time_machine.travel(now, tick=False):
        response = tech_client.post(
            url("not_home", visit),
            # Whatever the browser sends as a time is not a field: the server's clock counts.
            {"waited_minutes": "12", "note": "Rang twice", "card_left": "on", "at": "2020-01-01T00:00:00+00:00"},
        )

    assert response.status_code == 302
    assert response["Location"] == url("visit", visit)
    attempt = VisitAttempt.objects.get(appointment=visit)
    assert attempt.at == now
    assert (attempt.waited_minutes, attempt.card_left, attempt.note) == (12, True, "Rang twice")
    assert (attempt.latitude, attempt.longitude, attempt.location_accuracy_m) == (None, None, None)
    assert attempt.technician == technician and attempt.recorded_by == technician.user
    visit.refresh_from_db()
    assert visit.status == Status.MISSED
    assert OutboxMessage.objects.filter(appointment=visit, kind=MessageKind.MISSED_VISIT).exists()

    page = text_of(tech_client.get(response["Location"]))
    assert _("Recorded at %(time)s.") % {"time": "10:02"} in page
    assert url("missed_card", visit) in page


@pytest.fixture
def in_the_window():
    """09:00 today, inside visit_today's 08:00–10:00 window: "not home" is only recorded from its start."""
    with time_machine.travel(local_dt(0, 9), tick=False):
        yield


def test_not_home_keeps_the_location_when_the_phone_gave_one(tech_client, technician, in_the_window):
    visit = visit_today(technician)

    response = tech_client.post(
        url("not_home", visit),
        {"waited_minutes": "5", "latitude": "51.789123456", "longitude": "6.1386549", "location_accuracy_m": "12.6"},
    )

    assert response.status_code == 302
    attempt = VisitAttempt.objects.get(appointment=visit)
    assert (attempt.latitude, attempt.longitude) == (Decimal("51.789123"), Decimal("6.138655"))
    assert attempt.location_accuracy_m == 13
    assert attempt.card_left is False


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"waited_minutes": "ten"}, "Please enter the minutes you waited as a whole number, e.g. 10."),
        ({"waited_minutes": ""}, "Please enter how many minutes you waited."),
        ({}, "Please enter how many minutes you waited."),
        ({"waited_minutes": "241"}, "Nothing was saved. Please check the marked fields."),
        ({"waited_minutes": "-1"}, "Nothing was saved. Please check the marked fields."),
        # Half a location: the phone's fields are hidden, so say what the technician can do about it.
        (
            {"waited_minutes": "5", "latitude": "51.7"},
            "The location from the phone could not be read. Please try again or record without it.",
        ),
        (
            {"waited_minutes": "5", "longitude": "6.1", "location_accuracy_m": "12"},
            "The location from the phone could not be read. Please try again or record without it.",
        ),
        (
            {"waited_minutes": "5", "location_accuracy_m": "12"},
            "The location from the phone could not be read. Please try again or record without it.",
        ),
        (
            {"waited_minutes": "5", "latitude": "200", "longitude": "6"},
            "The location from the phone could not be read. Please try again or record without it.",
        ),
        (
            {"waited_minutes": "5", "latitude": "1e400", "longitude": "6"},
            "The location from the phone could not be read. Please try again or record without it.",
        ),
    ],
)
def test_not_home_with_bad_input_shows_the_form_again_and_changes_nothing(tech_client, technician, data, message):
    visit = visit_today(technician)

    response = tech_client.post(url("not_home", visit), data)

    assert response.status_code == 400
    assert _(message) in text_of(response)
    assert 'name="waited_minutes"' in text_of(response)
    assert unchanged(visit)
    assert not VisitAttempt.objects.exists()
    assert not OutboxMessage.objects.filter(kind=MessageKind.MISSED_VISIT).exists()


@pytest.mark.parametrize("minutes", ["", "7", "soon", "100000"])
def test_on_my_way_without_a_valid_expected_arrival_is_refused(tech_client, technician, minutes):
    visit = visit_today(technician)

    response = tech_client.post(url("start_trip", visit), {"minutes": minutes})

    assert response.status_code == 400
    assert _("Please choose when you expect to arrive.") in text_of(response)
    assert unchanged(visit)
    assert not OutboxMessage.objects.filter(kind=MessageKind.ON_MY_WAY).exists()


@pytest.mark.parametrize("minutes", ["-1", "241", "99999999999999999999"])
def test_waited_minutes_out_of_range_names_the_range(tech_client, technician, in_the_window, minutes):
    visit = visit_today(technician)

    response = tech_client.post(url("not_home", visit), {"waited_minutes": minutes})

    assert response.status_code == 400
    assert _("Waiting time must be between 0 and %(most)s minutes.") % {"most": 240} in text_of(response)
    assert unchanged(visit)


def test_a_readable_location_is_kept_when_the_minutes_are_wrong(tech_client, technician, in_the_window):
    visit = visit_today(technician)

    page = text_of(
        tech_client.post(url("not_home", visit), {"waited_minutes": "x", "latitude": "51.7", "longitude": "6.1"})
    )

    assert 'name="latitude" value="51.7"' in page and 'name="longitude" value="6.1"' in page
    assert _("Location added.") in page


@pytest.mark.parametrize(
    "location",
    [{"latitude": "51.7"}, {"latitude": "1e400", "longitude": "6"}, {"location_accuracy_m": "-3"}],
)
def test_unreadable_location_is_dropped_so_the_next_press_records_without_it(
    tech_client, technician, in_the_window, location
):
    visit = visit_today(technician)

    page = text_of(tech_client.post(url("not_home", visit), {"waited_minutes": "5", **location}))

    hidden = re.findall(r'<input type="hidden" name="(latitude|longitude|location_accuracy_m)"[^>]*>', page)
    assert sorted(hidden) == ["latitude", "location_accuracy_m", "longitude"]
    assert not re.search(r'name="(latitude|longitude|location_accuracy_m)"[^>]*value=', page)
    assert _("Location added.") not in page


def test_a_too_long_report_is_refused(tech_client, technician):
    visit = visit_today(technician, status=Status.ON_SITE)

    response = tech_client.post(url("complete", visit), {"report": "x" * 2001})

    assert response.status_code == 400
    assert _("Nothing was saved. Please check the marked fields.") in text_of(response)
    assert unchanged(visit)


@pytest.mark.parametrize(
    ("status", "action", "data"),
    [
        (Status.COMPLETED, "arrive", {}),
        (Status.CANCELLED, "start_trip", {"minutes": "20"}),
        (Status.SCHEDULED, "complete", {"report": "done"}),
        (Status.CANCELLED, "not_home", {"waited_minutes": "10"}),
        (Status.MISSED, "not_home", {"waited_minutes": "10"}),
    ],
)
def test_an_action_the_visit_has_moved_past_is_a_conflict_and_changes_nothing(
    tech_client, technician, status, action, data
):
    visit = visit_today(technician, status=status)

    response = tech_client.post(url(action, visit), data)

    assert response.status_code == 409
    assert _("This visit is %(status)s; it cannot be set to “%(target)s”.").split(";")[0] % {
        "status": _(status.label)
    } in text_of(response)
    assert unchanged(visit)
    assert not VisitAttempt.objects.exists()


def test_not_home_before_the_window_opens_is_refused_and_sends_nothing(tech_client, technician):
    visit = visit_today(technician, hour=13)

    with time_machine.travel(local_dt(0, 12, 35), tick=False):
        page = text_of(tech_client.get(url("visit", visit)))
        response = tech_client.post(url("not_home", visit), {"waited_minutes": "10"})

    assert url("not_home", visit) not in page
    assert _("“Not home” can be recorded from %(time)s on.") % {"time": "13:00"} in page
    assert response.status_code == 400
    assert _("The window starts at %(time)s; “not home” can be recorded from then on.") % {"time": "13:00"} in (
        text_of(response)
    )
    assert unchanged(visit)
    assert not OutboxMessage.objects.exists()


def test_not_home_is_neither_offered_nor_accepted_a_minute_before_the_window(tech_client, technician):
    visit = visit_today(technician, hour=13)

    with time_machine.travel(local_dt(0, 12, 59), tick=False):
        page = text_of(tech_client.get(url("visit", visit)))
        response = tech_client.post(url("not_home", visit), {"waited_minutes": "10"})

    assert url("not_home", visit) not in page
    assert _("“Not home” can be recorded from %(time)s on.") % {"time": "13:00"} in page
    assert response.status_code == 400
    assert unchanged(visit)
    assert not OutboxMessage.objects.exists()


def test_not_home_form_is_not_shown_before_the_window_opens_even_by_its_address(tech_client, technician):
    today = visit_today(technician, hour=13)
    tomorrow = AppointmentFactory(technician=technician, window_start=local_dt(1, 8), window_end=local_dt(1, 10))

    with time_machine.travel(local_dt(0, 12, 59), tick=False):
        responses = [tech_client.get(url("not_home", visit)) for visit in (today, tomorrow)]

    # The visit page says from when "not home" can be recorded; the form itself would only be refused.
    assert [response.status_code for response in responses] == [302, 302]
    assert [response["Location"] for response in responses] == [url("visit", today), url("visit", tomorrow)]


def test_tomorrows_visit_offers_no_arrived_and_refuses_it(tech_client, technician):
    # "Its buttons appear on that day": a tap on the wrong row of the list must not start tomorrow's visit.
    visit = AppointmentFactory(technician=technician, window_start=local_dt(1, 8), window_end=local_dt(1, 10))

    with time_machine.travel(local_dt(0, 9), tick=False):
        page = text_of(tech_client.get(url("visit", visit)))
        arrived = tech_client.post(url("arrive", visit))

    assert url("arrive", visit) not in page
    assert arrived.status_code == 400
    assert unchanged(visit)


def test_tomorrows_visit_offers_no_trip_or_not_home_and_refuses_both(tech_client, technician):
    visit = AppointmentFactory(technician=technician, window_start=local_dt(1, 8), window_end=local_dt(1, 10))

    with time_machine.travel(local_dt(0, 9), tick=False):
        page = text_of(tech_client.get(url("visit", visit)))
        trip = tech_client.post(url("start_trip", visit), {"minutes": "30"})
        not_home = tech_client.post(url("not_home", visit), {"waited_minutes": "10"})

    assert url("not_home", visit) not in page and url("start_trip", visit) not in page
    assert (trip.status_code, not_home.status_code) == (400, 400)
    assert unchanged(visit)
    assert not VisitAttempt.objects.exists()


def test_pressing_not_home_twice_records_one_attempt(tech_client, technician, in_the_window):
    visit = visit_today(technician)

    first = tech_client.post(url("not_home", visit), {"waited_minutes": "10", "card_left": "on"})
    second = tech_client.post(url("not_home", visit), {"waited_minutes": "10", "card_left": "on"})

    assert (first.status_code, second.status_code) == (302, 409)
    assert VisitAttempt.objects.filter(appointment=visit).count() == 1
    assert url("missed_card", visit) in text_of(second)


def test_a_get_changes_nothing(tech_client, technician, in_the_window):
    visit = visit_today(technician)

    for action in ("start_trip", "arrive", "complete"):
        assert tech_client.get(url(action, visit)).status_code == 405
    form = tech_client.get(url("not_home", visit))
    tech_client.get(url("visit", visit))
    tech_client.get(reverse("technician:day"))

    assert form.status_code == 200
    assert 'name="waited_minutes"' in text_of(form)
    assert unchanged(visit)
    assert not JournalEntry.objects.filter(appointment=visit).exists()
    assert not VisitAttempt.objects.exists()


def test_not_home_form_of_a_visit_already_missed_goes_back_to_the_visit(tech_client, technician):
    visit = visit_today(technician, status=Status.MISSED)

    response = tech_client.get(url("not_home", visit))

    assert response.status_code == 302
    assert response["Location"] == url("visit", visit)


# Forms -----------------------------------------------------------------------------


def test_technician_templates_leave_every_form_to_its_crispy_helper():
    # One way for every form: {% crispy form %}, with layout, action and buttons in the form's FormHelper.
    templates = sorted((ROOT / "technicians" / "templates" / "technician").glob("*.html"))
    assert templates, "no technician templates found: did they move?"
    for template in templates:
        source = template.read_text()
        assert "as_crispy_field" not in source and "|crispy" not in source, template.name
        # The header's sign-out button (no fields) is the one form written out in a template.
        assert source.count("<form") == (1 if template.name == "base.html" else 0), template.name


def test_each_action_on_the_visit_page_posts_to_its_own_address(tech_client, technician):
    visit = visit_today(technician, hour=8)

    with time_machine.travel(local_dt(0, 9), tick=False):
        page = text_of(tech_client.get(url("visit", visit)))

    for action in ("start_trip", "arrive"):
        form = re.search(rf'<form[^>]*action="{url(action, visit)}"[^>]*>(.*?)</form>', page, re.S)
        assert form and 'method="post"' in form.group(0), action
        assert 'name="csrfmiddlewaretoken"' in form.group(1) and 'type="submit"' in form.group(1), action


def test_blank_cards_form_asks_by_get_for_a_count_and_a_language(tech_client):
    page = text_of(tech_client.get(reverse("technician:day")))

    form = re.search(rf'<form[^>]*action="{reverse("technician:blank_cards")}"[^>]*>(.*?)</form>', page, re.S)
    assert form and 'method="get"' in form.group(0)
    assert '<option value="8" selected>8</option>' in form.group(1)
    assert f'<option value="{OFFICE_LANGUAGE}" selected>' in form.group(1)
    assert "csrfmiddlewaretoken" not in form.group(1)


# Valid HTML ----------------------------------------------------------------------


def test_every_technician_page_is_valid_html(vnu_jar, client, technician, tmp_path, in_the_window):
    scheduled = visit_today(technician, 8, notes="Side door\nDog")
    on_site = visit_today(technician, 11, status=Status.ON_SITE)
    missed = visit_today(technician, 14, status=Status.MISSED)
    VisitAttemptFactory(appointment=missed, note="Rang twice", latitude=Decimal("51.5"), longitude=Decimal("6.1"))
    AppointmentFactory(technician=technician, window_start=local_dt(2, 8))
    pages = {"login": client.get(reverse("technician:login"))}
    pages["login-error"] = client.post(reverse("technician:login"), {"username": "x", "password": "y"})
    client.force_login(technician.user)
    pages["day"] = client.get(reverse("technician:day"))
    pages["scheduled"] = client.get(url("visit", scheduled))
    pages["on-site"] = client.get(url("visit", on_site))
    pages["missed"] = client.get(url("visit", missed))
    pages["not-home"] = client.get(url("not_home", scheduled))
    pages["not-home-error"] = client.post(url("not_home", scheduled), {"waited_minutes": "x", "latitude": "1"})
    pages["start-trip-error"] = client.post(url("start_trip", scheduled), {"minutes": "7"})
    pages["conflict"] = client.post(url("arrive", missed))
    bad_input = {"login-error": 200, "not-home-error": 400, "start-trip-error": 400, "conflict": 409}
    for name, response in pages.items():
        assert response.status_code == bad_input.get(name, 200), name
        (tmp_path / f"{name}.html").write_bytes(response.content)

    messages = run_vnu(
        vnu_jar,
        "--also-check-css",
        *[str(path) for path in sorted(tmp_path.iterdir())],
        str(ROOT / "static" / "technician" / "technician.css"),
    )
    errors = [
        f"{message.get('url', '?').rsplit('/', 1)[-1]}: {describe_vnu(message)}"
        for message in messages
        if message["type"] != "info"
    ]
    assert not errors, "Nu HTML checker errors:\n" + "\n".join(errors)
