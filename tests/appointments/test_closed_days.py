from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from appointments.availability import free_windows, window_is_offered
from appointments.closed_days import closed_days, closed_reason
from appointments.models import Appointment, Closure, WorkingPeriod
from appointments.services import appointment_schedule
from customers.models import Firm
from tests.factories import AppointmentFactory, CustomerFactory, FirmFactory, ServiceTypeFactory, TechnicianFactory

pytestmark = [pytest.mark.django_db, pytest.mark.public_holidays]
BERLIN = ZoneInfo("Europe/Berlin")
CHRISTMAS_DAY = date(2026, 12, 25)  # a Friday
BOXING_DAY = date(2026, 12, 26)
CORPUS_CHRISTI = date(2027, 5, 27)  # Bavaria, North Rhine-Westphalia …, not Bremen
KINGS_DAY = date(2027, 4, 27)
# Frozen here, Christmas lies inside the six-week booking horizon.
MONDAY_BEFORE_CHRISTMAS = datetime(2026, 12, 14, 9, 0, tzinfo=BERLIN)


def at(day, hour):
    return datetime.combine(day, time(hour), tzinfo=BERLIN)


@pytest.fixture
def service_type():
    return ServiceTypeFactory(
        duration=timedelta(hours=1), arrival_window=timedelta(hours=4), buffer_after=timedelta(minutes=30)
    )


@pytest.fixture
def technician(service_type):
    """Works every day of the week, so only a closed day can empty a day."""
    technician = TechnicianFactory(service_types=[service_type], weekdays=False)
    for weekday in range(7):
        WorkingPeriod.objects.create(technician=technician, weekday=weekday, starts=time(7, 30), ends=time(16, 30))
    return technician


def offered_days(service_type, first_day, last_day):
    days = free_windows(service_type=service_type, first_day=first_day, last_day=last_day)
    return {day.day for day in days if day.windows}


def test_christmas_and_the_day_after_are_closed_in_germany_with_their_names():
    FirmFactory(country="DE")

    with translation.override("de"):
        closed = closed_days(date(2026, 12, 24), date(2026, 12, 27))

    assert closed == {CHRISTMAS_DAY: "Erster Weihnachtstag", BOXING_DAY: "Zweiter Weihnachtstag"}


def test_holiday_names_follow_the_readers_language():
    FirmFactory(country="DE")

    with translation.override("en"):
        assert closed_reason(CHRISTMAS_DAY) == "Christmas Day"
    # The package has no Dutch names for German holidays: English is the nearest a Dutch reader gets.
    with translation.override("nl"):
        assert closed_reason(CHRISTMAS_DAY) == "Christmas Day"


def test_a_state_holiday_is_closed_only_in_its_state():
    FirmFactory(country="DE", holiday_subdivision="BY")
    with translation.override("de"):
        assert closed_reason(CORPUS_CHRISTI) == "Fronleichnam"

    Firm.objects.update(holiday_subdivision="HB")
    assert closed_reason(CORPUS_CHRISTI) is None

    Firm.objects.update(holiday_subdivision="")
    assert closed_reason(CORPUS_CHRISTI) is None


def test_kings_day_is_closed_in_the_netherlands_but_not_in_germany():
    FirmFactory(country="NL")
    with translation.override("nl"):
        assert closed_reason(KINGS_DAY) == "Koningsdag"

    Firm.objects.update(country="DE")
    assert closed_reason(KINGS_DAY) is None


def test_every_day_of_a_firm_closure_is_closed_with_its_reason():
    FirmFactory(country="DE")
    Closure.objects.create(first_day=date(2026, 8, 3), last_day=date(2026, 8, 14), reason="Betriebsferien")

    closed = closed_days(date(2026, 8, 1), date(2026, 8, 31))

    assert sorted(closed) == [date(2026, 8, 3) + timedelta(days=offset) for offset in range(12)]
    assert set(closed.values()) == {"Betriebsferien"}


def test_a_closure_on_a_public_holiday_names_both():
    FirmFactory(country="DE")
    Closure.objects.create(first_day=date(2026, 12, 24), last_day=date(2026, 12, 31), reason="Betriebsferien")

    with translation.override("de"):
        assert closed_reason(CHRISTMAS_DAY) == "Erster Weihnachtstag; Betriebsferien"
        assert closed_reason(date(2026, 12, 28)) == "Betriebsferien"


def test_closed_days_costs_two_queries_however_long_the_range(django_assert_num_queries):
    FirmFactory(country="DE")
    Closure.objects.create(first_day=date(2026, 8, 3), last_day=date(2026, 8, 14), reason="Betriebsferien")

    with django_assert_num_queries(2):  # the firm's region, the closures
        closed_days(date(2026, 1, 1), date(2027, 12, 31))


def test_a_closure_cannot_end_before_it_starts():
    closure = Closure(first_day=date(2026, 8, 14), last_day=date(2026, 8, 3), reason="Betriebsferien")

    with translation.override("en"), pytest.raises(ValidationError, match="cannot be before its first day"):
        closure.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        closure.save()


def test_customers_are_offered_no_closed_day(service_type, technician):
    FirmFactory(country="DE", holiday_subdivision="BY")
    Closure.objects.create(first_day=date(2026, 12, 28), last_day=date(2026, 12, 30), reason="Inventur")

    offered = offered_days(service_type, date(2026, 12, 21), date(2027, 1, 8))

    closed = {CHRISTMAS_DAY, BOXING_DAY, date(2026, 12, 28), date(2026, 12, 29), date(2026, 12, 30)}
    closed |= {date(2027, 1, 1), date(2027, 1, 6)}  # New Year, and Epiphany in Bavaria
    assert offered == {date(2026, 12, 21) + timedelta(days=offset) for offset in range(19)} - closed


def test_a_state_holiday_is_offered_in_other_states(service_type, technician):
    FirmFactory(country="DE", holiday_subdivision="HB")

    assert CORPUS_CHRISTI in offered_days(service_type, CORPUS_CHRISTI, CORPUS_CHRISTI)

    Firm.objects.update(holiday_subdivision="BY")
    assert offered_days(service_type, CORPUS_CHRISTI, CORPUS_CHRISTI) == set()


def test_kings_day_is_not_offered_by_a_dutch_firm(service_type, technician):
    FirmFactory(country="NL")

    assert offered_days(service_type, KINGS_DAY - timedelta(days=1), KINGS_DAY + timedelta(days=1)) == {
        KINGS_DAY - timedelta(days=1),
        KINGS_DAY + timedelta(days=1),
    }


def test_a_customer_cannot_book_a_window_on_a_closed_day(service_type, technician):
    FirmFactory(country="DE")

    with time_machine.travel(MONDAY_BEFORE_CHRISTMAS, tick=False):
        assert window_is_offered(service_type=service_type, window_start=at(CHRISTMAS_DAY, 8)) is None
        assert window_is_offered(service_type=service_type, window_start=at(date(2026, 12, 23), 8)) is not None


def test_the_office_booking_service_still_books_on_a_closed_day(service_type, technician, office_user):
    FirmFactory(country="DE")

    with time_machine.travel(MONDAY_BEFORE_CHRISTMAS, tick=False):
        appointment = appointment_schedule(
            customer=CustomerFactory(),
            service_type=service_type,
            technician=technician,
            window_start=at(CHRISTMAS_DAY, 8),
            actor=office_user,
        )

    assert appointment.window_start == at(CHRISTMAS_DAY, 8)


def add_form(customer, service_type, technician, start):
    return {
        "customer": customer.pk,
        "service_type": service_type.pk,
        "technician": technician.pk,
        "window_start_0": start.strftime("%Y-%m-%d"),
        "window_start_1": start.strftime("%H:%M"),
        "window_end_0": "",
        "window_end_1": "",
        "notes": "",
        "site_street": "",
        "site_postcode": "",
        "site_city": "",
        "site_country": "DE",
    }


@pytest.mark.parametrize(("day", "warned"), [(CHRISTMAS_DAY, True), (date(2026, 12, 23), False)])
def test_the_office_books_on_a_closed_day_and_is_told_why(client, office_user, service_type, technician, day, warned):
    FirmFactory(country="DE")

    with time_machine.travel(MONDAY_BEFORE_CHRISTMAS, tick=False):
        client.force_login(office_user)  # office sessions expire: sign in on the frozen day
        response = client.post(
            reverse("admin:appointments_appointment_add"),
            add_form(CustomerFactory(), service_type, technician, at(day, 8)),
            follow=True,
        )

    assert Appointment.objects.get().window_start == at(day, 8)
    page = response.content.decode()
    assert ("fällt auf einen Schließtag" in page) is warned
    assert ("Erster Weihnachtstag" in page) is warned


def test_moving_a_visit_onto_a_firm_closure_is_done_and_pointed_out(client, office_user, service_type, technician):
    FirmFactory(country="DE")
    Closure.objects.create(first_day=date(2026, 12, 21), last_day=date(2026, 12, 21), reason="Schulungstag")
    appointment = AppointmentFactory(
        technician=technician, service_type=service_type, window_start=at(date(2026, 12, 17), 8)
    )

    with time_machine.travel(MONDAY_BEFORE_CHRISTMAS, tick=False):
        client.force_login(office_user)
        response = client.post(
            reverse("admin:appointments_appointment_changelist"),
            {
                "action": "reschedule",
                "_selected_action": [appointment.pk],
                "apply": "1",
                "window_start_0": "2026-12-21",
                "window_start_1": "08:00",
                "reason": "Kundenwunsch",
            },
            follow=True,
        )

    appointment.refresh_from_db()
    assert appointment.window_start == at(date(2026, 12, 21), 8)
    assert "Schließtag" in response.content.decode()
    assert "Schulungstag" in response.content.decode()


def test_a_state_of_another_country_is_refused_for_the_firm():
    firm = FirmFactory(country="NL", holiday_subdivision="BY")

    with translation.override("en"), pytest.raises(ValidationError) as refused:
        firm.full_clean()

    assert refused.value.message_dict == {
        "holiday_subdivision": ["BY is not a region of Netherlands. Choose one of its regions or leave it empty."]
    }


def test_the_firm_admin_refuses_a_state_of_another_country_in_the_office_language(admin_client_office):
    firm = FirmFactory(country="DE")
    form = {
        "name": firm.name,
        "email": firm.email,
        "phone": "02821 100000",
        "country": "NL",
        "holiday_subdivision": "NW",
        "street": "",
        "postcode": "",
        "city": "",
        "website": "",
    }

    response = admin_client_office.post(reverse("admin:customers_firm_change", args=[firm.pk]), form)

    assert response.status_code == 200
    assert "NW ist keine Region von Niederlande" in response.content.decode()
    firm.refresh_from_db()
    assert (firm.country, firm.holiday_subdivision) == ("DE", "")

    response = admin_client_office.post(
        reverse("admin:customers_firm_change", args=[firm.pk]), {**form, "country": "DE"}
    )

    assert response.status_code == 302
    firm.refresh_from_db()
    assert firm.holiday_subdivision == "NW"


def test_the_closure_admin_lists_closures(admin_client_office):
    Closure.objects.create(first_day=date(2026, 12, 21), last_day=date(2026, 12, 21), reason="Schulungstag")

    response = admin_client_office.get(reverse("admin:appointments_closure_changelist"))

    assert response.status_code == 200
    assert "Schulungstag" in response.content.decode()
    assert "Betriebsschließungen" in response.content.decode()


def test_entering_a_closure_lists_the_visits_already_booked_on_it(client, office_user, service_type, technician):
    on_it = AppointmentFactory(
        technician=technician, service_type=service_type, window_start=at(date(2026, 12, 22), 8)
    )
    before = AppointmentFactory(
        technician=technician, service_type=service_type, window_start=at(date(2026, 12, 21), 12)
    )

    with time_machine.travel(MONDAY_BEFORE_CHRISTMAS, tick=False):
        client.force_login(office_user)
        response = client.post(
            reverse("admin:appointments_closure_add"),
            {"first_day": "2026-12-22", "last_day": "2026-12-23", "reason": "Betriebsferien"},
            follow=True,
        )

    page = response.content.decode()
    assert Closure.objects.get().reason == "Betriebsferien"
    assert "Diese gebuchten Termine fallen in die Schließung" in page
    assert f"D-{on_it.pk} · " in page and f"D-{before.pk} · " not in page


def test_a_closure_ending_before_it_starts_is_refused_in_the_admin(admin_client_office):
    response = admin_client_office.post(
        reverse("admin:appointments_closure_add"),
        {"first_day": "2026-12-23", "last_day": "2026-12-22", "reason": "Betriebsferien"},
    )

    assert response.status_code == 200
    assert "Der letzte Tag einer Schließung kann nicht vor ihrem ersten Tag liegen." in response.content.decode()
    assert not Closure.objects.exists()
