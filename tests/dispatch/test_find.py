"""The board's "find a time" (/board/find/): the next free windows for a service, and booking one."""

from datetime import date, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from appointments.models import Appointment, AppointmentStatus, Closure, TimeOff
from dispatch.find import MAX_OFFERS, find_offers
from dispatch.week import monday_of
from notifications.models import MessageKind, OutboxMessage
from tests.factories import AppointmentFactory, CustomerFactory, ServiceTypeFactory, TechnicianFactory

pytestmark = pytest.mark.django_db
FIND = reverse("dispatch:find")
BOOK = reverse("dispatch:find_book")


def _(message: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(message)


def next_monday() -> date:
    return monday_of(timezone.localdate()) + timedelta(days=7)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def service(db):
    # The factory's default: 3 h 30 min plus 30 min buffer, one visit per 4-hour window (08-12, 12-16).
    return ServiceTypeFactory(name="Boiler maintenance")


@pytest.fixture
def anna(service):
    return TechnicianFactory(display_name="Anna Arndt", service_types=[service])


def search(client, service, **params):
    return client.get(FIND, {"service_type": service.pk, "first_day": next_monday().isoformat(), **params})


def offers_of(response):
    return [item["offer"] for item in response.context["offers"]]


# Offers ---------------------------------------------------------------------------


def test_the_next_free_windows_are_offered_earliest_first_and_stop_at_ten(admin_client_office, service, anna):
    monday = next_monday()

    offers = offers_of(search(admin_client_office, service))

    assert len(offers) == MAX_OFFERS
    assert [offer.start for offer in offers[:3]] == [at(monday, 8), at(monday, 12), at(monday + timedelta(days=1), 8)]
    assert offers == sorted(offers, key=lambda offer: offer.start)
    # Mon-Fri, two windows a day: the weekend is not worked.
    assert all(timezone.localdate(offer.start).weekday() < 5 for offer in offers)


def test_a_full_window_is_skipped(admin_client_office, service, anna):
    monday = next_monday()
    AppointmentFactory(technician=anna, service_type=service, window_start=at(monday, 8))

    offers = offers_of(search(admin_client_office, service))

    assert offers[0].start == at(monday, 12)


def test_closed_days_and_time_off_are_skipped(admin_client_office, service, anna):
    monday = next_monday()
    Closure.objects.create(first_day=monday, last_day=monday, reason="Betriebsausflug")
    tuesday = monday + timedelta(days=1)
    TimeOff.objects.create(technician=anna, starts_at=at(tuesday, 0), ends_at=at(tuesday, 13))

    offers = offers_of(search(admin_client_office, service))

    assert offers[0].start == at(monday + timedelta(days=2), 8)


def test_each_window_names_the_free_technicians_and_their_planned_start(admin_client_office):
    monday = next_monday()
    quick = ServiceTypeFactory(name="Radiator check", duration=timedelta(hours=1), buffer_after=timedelta(minutes=30))
    anna = TechnicianFactory(display_name="Anna Arndt", service_types=[quick])
    bernd = TechnicianFactory(display_name="Bernd Busch", service_types=[quick])
    AppointmentFactory(technician=anna, service_type=quick, window_start=at(monday, 8))  # busy 08:00-09:30

    offers = offers_of(search(admin_client_office, quick))

    first = offers[0]
    assert first.start == at(monday, 8)
    assert [(option.technician, option.planned_start) for option in first.options] == [
        (bernd, at(monday, 8)),
        (anna, at(monday, 9, 30)),
    ]
    assert "09:30" in search(admin_client_office, quick).content.decode()


def test_the_technician_filter_offers_only_that_technician(admin_client_office, service, anna):
    bernd = TechnicianFactory(display_name="Bernd Busch", service_types=[service])
    AppointmentFactory(technician=bernd, service_type=service, window_start=at(next_monday(), 8))

    offers = offers_of(search(admin_client_office, service, technician=bernd.pk))

    assert offers[0].start == at(next_monday(), 12)
    assert {option.technician for offer in offers for option in offer.options} == {bernd}


def test_a_window_that_has_begun_is_never_offered(service, anna):
    monday = next_monday()

    offers = find_offers(service_type=service, first_day=monday, now=at(monday, 8, 1))

    assert offers[0].start == at(monday, 12)


def test_without_a_customer_book_opens_the_admin_add_page_prefilled(admin_client_office, service, anna):
    response = search(admin_client_office, service)
    add_url = response.context["offers"][0]["options"][0]["add_url"]

    query = parse_qs(urlsplit(add_url).query)
    assert query == {
        "service_type": [str(service.pk)],
        "technician": [str(anna.pk)],
        "window_start": [f"{next_monday().isoformat()}T08:00"],
    }
    add_page = admin_client_office.get(add_url)
    initial = add_page.context["adminform"].form.initial
    assert initial["window_start"] == at(next_monday(), 8)
    assert initial["technician"] == str(anna.pk)


def test_the_first_day_defaults_to_the_first_bookable_day(admin_client_office, service):
    response = admin_client_office.get(FIND)

    assert response.status_code == 200
    assert response.context["offers"] is None
    assert response.context["form"]["first_day"].value() == timezone.localdate() + timedelta(days=1)


# Bad input: a message, never a 500 --------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"service_type": "999999"}, "service_type", "This service does not exist or is no longer offered; choose "
         "one from the list."),
        ({"service_type": "abc"}, "service_type", "This service does not exist or is no longer offered; choose "
         "one from the list."),
        ({"service_type": ""}, "service_type", "Choose the service the visit is for."),
        ({"first_day": "31.12."}, "first_day", "Enter the earliest day as a date (YYYY-MM-DD)."),
        ({"first_day": "2020-01-01"}, "first_day", "The earliest day cannot be in the past."),
        ({"first_day": "9999-12-31"}, "first_day", "Choose an earliest day within a year from today."),
        ({"technician": "zzz"}, "technician", "This technician does not exist or is no longer active."),
    ],
)  # fmt: skip
def test_bad_search_input_gets_a_clear_message(admin_client_office, service, anna, params, field, message):
    response = admin_client_office.get(FIND, {"service_type": service.pk, **params})

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [_(message)]
    assert response.context["offers"] is None


def test_a_technician_who_does_not_do_the_service_is_refused(admin_client_office, service, anna):
    other = TechnicianFactory(display_name="Otto Other")

    response = admin_client_office.get(FIND, {"service_type": service.pk, "technician": other.pk})

    assert response.context["form"].errors["technician"]
    assert response.context["offers"] is None


@pytest.mark.parametrize("value", ["999999", "abc", "9" * 30])
def test_an_unknown_customer_is_named_and_the_times_are_still_shown(admin_client_office, service, anna, value):
    response = search(admin_client_office, service, customer=value)

    assert response.status_code == 200
    assert response.context["customer"] is None
    assert messages_of(response) == [
        _("There is no customer “%(value)s”; the times are shown without a customer.") % {"value": value}
    ]
    assert offers_of(response)


# Booking an offer --------------------------------------------------------------------


def book(client, *, customer, service, technician, window_start, **extra):
    data = {
        "customer": customer.pk if hasattr(customer, "pk") else customer,
        "service_type": service.pk,
        "technician": technician.pk,
        "window_start": window_start.isoformat() if hasattr(window_start, "isoformat") else window_start,
        "first_day": next_monday().isoformat(),
        **extra,
    }
    return client.post(BOOK, data)


def test_with_a_customer_the_page_names_them_and_books_in_one_click(admin_client_office):
    monday = next_monday()
    quick = ServiceTypeFactory(name="Radiator check", duration=timedelta(hours=1), buffer_after=timedelta(minutes=30))
    anna = TechnicianFactory(display_name="Anna Arndt", service_types=[quick])
    AppointmentFactory(technician=anna, service_type=quick, window_start=at(monday, 8))
    customer = CustomerFactory(full_name="Frieda Fröhlich")

    page = search(admin_client_office, quick, customer=customer.pk)
    assert "Frieda Fröhlich" in page.content.decode()
    assert f'action="{BOOK}"' in page.content.decode()
    response = book(admin_client_office, customer=customer, service=quick, technician=anna, window_start=at(monday, 8))

    visit = Appointment.objects.get(customer=customer)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:appointments_appointment_change", args=[visit.pk])
    assert (visit.technician, visit.window_start, visit.window_end) == (anna, at(monday, 8), at(monday, 12))
    assert visit.planned_start == at(monday, 9, 30)  # the earliest start, as the page offered
    assert visit.status == AppointmentStatus.SCHEDULED
    assert OutboxMessage.objects.filter(appointment=visit, kind=MessageKind.CONFIRMATION).exists()
    assert f"D-{visit.pk}" in messages_of(response)[0]


def test_a_window_taken_meanwhile_books_nothing_and_says_so(admin_client_office, service, anna):
    monday = next_monday()
    customer = CustomerFactory()
    AppointmentFactory(technician=anna, service_type=service, window_start=at(monday, 8))  # booked by a colleague

    response = book(
        admin_client_office, customer=customer, service=service, technician=anna, window_start=at(monday, 8)
    )

    assert not Appointment.objects.filter(customer=customer).exists()
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == FIND
    assert parse_qs(urlsplit(response["Location"]).query)["customer"] == [str(customer.pk)]
    assert "Anna Arndt" in messages_of(response)[0]


def test_a_window_on_a_day_closed_meanwhile_books_nothing(admin_client_office, service, anna):
    monday = next_monday()
    customer = CustomerFactory()
    Closure.objects.create(first_day=monday, last_day=monday, reason="Betriebsausflug")

    response = book(
        admin_client_office, customer=customer, service=service, technician=anna, window_start=at(monday, 8)
    )

    assert not Appointment.objects.exists()
    assert "Betriebsausflug" in messages_of(response)[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"customer": "999999"}, "This customer does not exist (any more)."),
        ({"customer": "abc"}, None),
        ({"window_start": "tomorrow morning"}, None),
        ({"window_start": "2020-01-06T08:00:00+01:00"}, "This window has already begun; choose a later one."),
        ({"window_start": "9999-12-31T08:00:00+01:00"}, "This window lies too far ahead; choose one of the offers."),
        ({"service_type": "999999"}, None),
        ({"technician": ""}, None),
    ],
)
def test_a_bad_booking_post_books_nothing_and_says_why(admin_client_office, service, anna, change, message):
    customer = CustomerFactory()
    data = {
        "customer": customer.pk,
        "service_type": service.pk,
        "technician": anna.pk,
        "window_start": at(next_monday(), 8).isoformat(),
        **change,
    }

    response = admin_client_office.post(BOOK, data)

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == FIND
    assert not Appointment.objects.exists()
    told = messages_of(response)
    assert told
    if message:
        assert _(message) in told[0]


def test_a_get_on_the_booking_address_books_nothing(admin_client_office, service, anna):
    response = admin_client_office.get(BOOK, {"customer": CustomerFactory().pk, "service_type": service.pk})

    assert response.status_code == 302
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("url", [FIND, BOOK])
def test_anonymous_visitors_and_technicians_are_sent_to_the_admin_sign_in(client, url, anna):
    anonymous = client.post(url) if url == BOOK else client.get(url)
    client.force_login(anna.user)
    technician = client.post(url) if url == BOOK else client.get(url)

    for response in (anonymous, technician):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    assert not Appointment.objects.exists()


def test_the_customer_page_links_to_find_a_time_for_that_customer(admin_client_office):
    customer = CustomerFactory()

    response = admin_client_office.get(reverse("admin:customers_customer_change", args=[customer.pk]))

    assert f"{FIND}?customer={customer.pk}" in response.content.decode()


def test_the_board_pages_are_valid_html(admin_client_office, service, anna, vnu_jar, tmp_path):
    from tests.conftest import ROOT, describe_vnu, run_vnu

    monday = next_monday()
    AppointmentFactory(technician=anna, service_type=service, window_start=at(monday, 8))
    TimeOff.objects.create(technician=anna, starts_at=at(monday, 13), ends_at=at(monday, 15), reason="Arzt")
    Closure.objects.create(
        first_day=monday + timedelta(days=2), last_day=monday + timedelta(days=2), reason="Inventur"
    )
    customer = CustomerFactory()
    week = reverse("dispatch:week")
    pages = {
        "week-all": admin_client_office.get(week, {"week": monday.isoformat()}),
        "week-one": admin_client_office.get(week, {"week": monday.isoformat(), "technician": anna.pk}),
        "find-empty": admin_client_office.get(FIND),
        "find-offers": search(admin_client_office, service),
        "find-customer": search(admin_client_office, service, customer=customer.pk),
        "find-errors": admin_client_office.get(FIND, {"service_type": "x", "first_day": "x"}),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        (tmp_path / f"{name}.html").write_bytes(response.content)

    messages = run_vnu(
        vnu_jar,
        "--also-check-css",
        *[str(path) for path in sorted(tmp_path.iterdir())],
        str(ROOT / "static" / "dispatch" / "week.css"),
    )
    errors = [describe_vnu(message) for message in messages if message["type"] != "info"]
    assert not errors, "Nu HTML checker errors:\n" + "\n".join(errors)


def test_a_technician_s_week_links_to_find_a_time_for_them(admin_client_office, service, anna):
    week = admin_client_office.get(reverse("dispatch:week"), {"technician": anna.pk})
    link = f"{FIND}?technician={anna.pk}"

    response = admin_client_office.get(link)

    assert link in week.content.decode()
    assert response.context["form"]["technician"].value() == str(anna.pk)
    assert not response.context["form"].errors


def test_a_search_without_an_earliest_day_shows_the_day_it_searched_from(admin_client_office, service, anna):
    # The day's and the week's links name only the service; the help text speaks of "the day shown".
    response = admin_client_office.get(FIND, {"service_type": service.pk})

    first_day = response.context["searched_first_day"]
    assert first_day is not None and offers_of(response)
    assert f'name="first_day" value="{first_day.isoformat()}"' in response.content.decode()
