from datetime import timedelta

import pytest
from django.contrib import messages
from django.urls import reverse

from appointments.models import Appointment, AppointmentStatus, BookingInvitation, TimeOff
from appointments.services import appointment_reschedule
from appointments.services.booking import booking_invite
from journal.models import Channel, JournalEntry
from journal.services import journal_record
from notifications.models import OutboxMessage
from tests.factories import (
    AppointmentFactory,
    CustomerFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    VisitAttemptFactory,
    local_dt,
)

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:appointments_appointment_changelist")


@pytest.fixture
def service_type():
    return ServiceTypeFactory(arrival_window=timedelta(hours=4))


@pytest.fixture
def technician(service_type):
    return TechnicianFactory(service_types=[service_type])


def split(moment):
    from django.utils import timezone

    local = timezone.localtime(moment)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M")


def add_form(customer, service_type, technician, start):
    date, time = split(start)
    return {
        "customer": customer.pk,
        "service_type": service_type.pk,
        "technician": technician.pk,
        "window_start_0": date,
        "window_start_1": time,
        "window_end_0": "",
        "window_end_1": "",
        "notes": "",
        "site_street": "",
        "site_postcode": "",
        "site_city": "",
        "site_country": "DE",
    }


def test_booking_without_a_site_address_keeps_a_dutch_customers_country(admin_client_office, service_type, technician):
    customer = CustomerFactory(street="Maasboulevard 3", postcode="5911 AA", city="Venlo", country="NL")

    admin_client_office.post(
        reverse("admin:appointments_appointment_add"), add_form(customer, service_type, technician, local_dt(2, 8))
    )

    appointment = Appointment.objects.get()
    assert (appointment.site_city, appointment.site_country) == ("Venlo", "NL")


def test_booking_a_window_that_has_passed_is_refused_in_the_office_language(
    admin_client_office, service_type, technician
):
    response = admin_client_office.post(
        reverse("admin:appointments_appointment_add"),
        add_form(CustomerFactory(), service_type, technician, local_dt(-3, 8)),
    )

    assert response.status_code == 200
    assert "Dieses Zeitfenster ist bereits vorbei" in response.content.decode()
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(("hour", "warned"), [(8, False), (18, True)])
def test_booking_outside_the_technicians_working_hours_is_done_but_pointed_out(
    admin_client_office, service_type, technician, hour, warned
):
    # The technician works Mon–Fri 07:30–16:30.
    day = next(offset for offset in range(2, 9) if local_dt(offset, 8).weekday() < 5)

    response = admin_client_office.post(
        reverse("admin:appointments_appointment_add"),
        add_form(CustomerFactory(), service_type, technician, local_dt(day, hour)),
        follow=True,
    )

    assert Appointment.objects.count() == 1
    assert ("außerhalb der Arbeitszeit" in response.content.decode()) is warned


def test_office_books_a_visit_through_the_admin(admin_client_office, office_user, service_type, technician):
    customer = CustomerFactory()

    response = admin_client_office.post(
        reverse("admin:appointments_appointment_add"), add_form(customer, service_type, technician, local_dt(2, 8))
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    appointment = Appointment.objects.get()
    assert appointment.window_end == local_dt(2, 12)
    assert appointment.site_street == customer.street
    assert appointment.created_by == office_user
    assert JournalEntry.objects.filter(appointment=appointment, action="appointment.scheduled").exists()


def test_office_records_a_request_then_confirms_it(admin_client_office, service_type, technician, mailoutbox):
    form = {**add_form(CustomerFactory(), service_type, technician, local_dt(2, 8)), "requested": "on"}

    admin_client_office.post(reverse("admin:appointments_appointment_add"), form)
    appointment = Appointment.objects.get()
    assert appointment.status == AppointmentStatus.REQUESTED
    assert not OutboxMessage.objects.filter(appointment=appointment).exists()  # nothing promised yet

    admin_client_office.post(CHANGELIST, {"action": "confirm_requested", "_selected_action": [appointment.pk]})

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SCHEDULED
    assert OutboxMessage.objects.filter(appointment=appointment, kind="confirmation").exists()


def test_overlapping_booking_in_the_admin_is_a_form_error(admin_client_office, service_type, technician):
    AppointmentFactory(technician=technician, service_type=service_type, window_start=local_dt(2, 8))

    response = admin_client_office.post(
        reverse("admin:appointments_appointment_add"),
        add_form(CustomerFactory(), service_type, technician, local_dt(2, 8)),
        HTTP_ACCEPT_LANGUAGE="de",
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors().as_data()
    assert [error.code for error in errors] == ["overlap"]
    assert str(errors[0].message) in response.content.decode()
    assert Appointment.objects.count() == 1


def change_form(appointment, start, end, **fields):
    """The change page's fields as the office sees them for `appointment`, with a new window."""
    date, time = split(start)
    end_date, end_time = split(end)
    return {
        "technician": appointment.technician_id,
        "window_start_0": date,
        "window_start_1": time,
        "window_end_0": end_date,
        "window_end_1": end_time,
        "reschedule_reason": "",
        "notes": appointment.notes,
        "site_street": appointment.site_street,
        "site_postcode": appointment.site_postcode,
        "site_city": appointment.site_city,
        "site_country": "DE",
        "seen_version": appointment.version,
        **fields,
    }


def test_moving_a_visit_in_the_change_form_reschedules_it(admin_client_office, service_type, technician):
    appointment = AppointmentFactory(technician=technician, service_type=service_type, window_start=local_dt(2, 8))

    response = admin_client_office.post(
        reverse("admin:appointments_appointment_change", args=[appointment.pk]),
        change_form(appointment, local_dt(3, 12), local_dt(3, 16), reschedule_reason="Kunde arbeitet morgens"),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    appointment.refresh_from_db()
    assert appointment.window_start == local_dt(3, 12)
    assert appointment.version == 2
    assert JournalEntry.objects.get(action="appointment.rescheduled").data["reason"] == "Kunde arbeitet morgens"


def test_a_change_page_opened_before_the_customer_moved_the_visit_does_not_move_it_back(
    admin_client_office, service_type, technician
):
    appointment = AppointmentFactory(technician=technician, service_type=service_type, window_start=local_dt(2, 8))
    url = reverse("admin:appointments_appointment_change", args=[appointment.pk])
    page = admin_client_office.get(url)
    stale = change_form(appointment, appointment.window_start, appointment.window_end, notes="Hund im Garten")
    appointment_reschedule(appointment=appointment, window_start=local_dt(4, 12), actor=None, channel=Channel.WEB)

    response = admin_client_office.post(url, stale)

    appointment.refresh_from_db()
    assert b'name="seen_version" value="1"' in page.content
    assert response.status_code == 200
    assert "in the meantime" in response.content.decode() or "zwischenzeitlich" in response.content.decode()
    assert (appointment.window_start, appointment.version, appointment.notes) == (local_dt(4, 12), 2, "")


def test_cancel_action_asks_for_a_reason_then_cancels(admin_client_office):
    appointments = AppointmentFactory.create_batch(2)
    selected = [appointment.pk for appointment in appointments]

    confirm_page = admin_client_office.post(CHANGELIST, {"action": "cancel_with_reason", "_selected_action": selected})
    done = admin_client_office.post(
        CHANGELIST,
        {
            "action": "cancel_with_reason",
            "_selected_action": selected,
            "apply": "1",
            "reason": "Firma: Teil nicht lieferbar",
        },
    )

    assert confirm_page.status_code == 200
    assert b'name="reason"' in confirm_page.content
    assert done.status_code == 302
    assert set(Appointment.objects.values_list("status", flat=True)) == {AppointmentStatus.CANCELLED}
    assert set(Appointment.objects.values_list("cancel_reason", flat=True)) == {"Firma: Teil nicht lieferbar"}


def test_cancel_action_without_reason_changes_nothing(admin_client_office):
    appointment = AppointmentFactory()

    response = admin_client_office.post(
        CHANGELIST, {"action": "cancel_with_reason", "_selected_action": [appointment.pk], "apply": "1", "reason": ""}
    )

    assert response.status_code == 200
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SCHEDULED


def test_reschedule_action_moves_the_visit(admin_client_office, service_type, technician):
    appointment = AppointmentFactory(technician=technician, service_type=service_type, window_start=local_dt(2, 8))
    date, time = split(local_dt(5, 12))

    response = admin_client_office.post(
        CHANGELIST,
        {
            "action": "reschedule",
            "_selected_action": [appointment.pk],
            "apply": "1",
            "window_start_0": date,
            "window_start_1": time,
            "reason": "Kundenwunsch",
        },
    )

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.window_start == local_dt(5, 12)
    assert appointment.window_end == local_dt(5, 16)


def test_reschedule_action_into_a_busy_window_shows_the_conflict(admin_client_office, service_type, technician):
    AppointmentFactory(technician=technician, service_type=service_type, window_start=local_dt(5, 12))
    appointment = AppointmentFactory(technician=technician, service_type=service_type, window_start=local_dt(2, 8))
    date, time = split(local_dt(5, 12))

    response = admin_client_office.post(
        CHANGELIST,
        {
            "action": "reschedule",
            "_selected_action": [appointment.pk],
            "apply": "1",
            "window_start_0": date,
            "window_start_1": time,
        },
    )

    assert response.status_code == 200
    assert b"errornote" in response.content
    appointment.refresh_from_db()
    assert appointment.version == 1


def test_reschedule_action_needs_exactly_one_appointment(admin_client_office):
    selected = [appointment.pk for appointment in AppointmentFactory.create_batch(2)]

    response = admin_client_office.post(
        CHANGELIST, {"action": "reschedule", "_selected_action": selected}, follow=True
    )

    assert response.status_code == 200
    assert [message.level for message in response.context["messages"]] == [messages.WARNING]  # "select one"
    assert not JournalEntry.objects.exists()


def test_finished_visits_have_their_time_locked(admin_client_office):
    appointment = AppointmentFactory(status=AppointmentStatus.COMPLETED)

    response = admin_client_office.get(reverse("admin:appointments_appointment_change", args=[appointment.pk]))

    assert response.status_code == 200
    assert b'name="window_start_0"' not in response.content


def test_appointments_cannot_be_deleted(admin_client_office):
    appointment = AppointmentFactory()

    response = admin_client_office.get(reverse("admin:appointments_appointment_delete", args=[appointment.pk]))

    assert response.status_code == 403


def working_hours_form(technician, periods):
    data = {
        "user": technician.user.pk,
        "display_name": technician.display_name,
        "mobile_phone": technician.mobile_phone.as_e164,
        "is_active": "on",
        "working_periods-TOTAL_FORMS": str(len(periods)),
        "working_periods-INITIAL_FORMS": "0",
        "time_off-TOTAL_FORMS": "0",
        "time_off-INITIAL_FORMS": "0",
    }
    for index, (weekday, starts, ends) in enumerate(periods):
        data.update(
            {
                f"working_periods-{index}-weekday": weekday,
                f"working_periods-{index}-starts": starts,
                f"working_periods-{index}-ends": ends,
            }
        )
    return data


def test_overlapping_working_hours_on_one_day_are_refused(admin_client_office):
    technician = TechnicianFactory(weekdays=False)

    response = admin_client_office.post(
        reverse("admin:appointments_technician_change", args=[technician.pk]),
        working_hours_form(technician, [(0, "07:30", "12:00"), (0, "11:00", "16:00")]),
    )

    assert response.status_code == 200
    assert not response.context["adminform"].form.errors
    inline_errors = [str(inline.formset.non_form_errors()) for inline in response.context["inline_admin_formsets"]]
    assert "Montag" in "".join(inline_errors)
    assert technician.working_periods.count() == 0


def test_a_morning_and_an_afternoon_on_one_day_are_fine(admin_client_office):
    technician = TechnicianFactory(weekdays=False)

    response = admin_client_office.post(
        reverse("admin:appointments_technician_change", args=[technician.pk]),
        working_hours_form(technician, [(0, "07:30", "12:00"), (0, "12:30", "16:30")]),
    )

    assert response.status_code == 302
    assert technician.working_periods.count() == 2


def test_office_withdraws_an_invitation_from_the_list(admin_client_office, office_user):
    invitation = booking_invite(
        customer=CustomerFactory(responsible=office_user), service_type=ServiceTypeFactory(), actor=office_user
    )

    response = admin_client_office.post(
        reverse("admin:appointments_bookinginvitation_changelist"),
        {"action": "withdraw", "_selected_action": [invitation.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "1 Einladung zurückgezogen." in response.content.decode()
    assert not BookingInvitation.objects.open().exists()


def test_time_off_over_booked_visits_names_them_right_after_saving(admin_client_office, service_type, technician):
    booked = AppointmentFactory(technician=technician, service_type=service_type, window_start=local_dt(3, 8))
    elsewhere = AppointmentFactory(technician=technician, service_type=service_type, window_start=local_dt(6, 8))
    form = {**working_hours_form(technician, []), "service_types": [service_type.pk], "time_off-TOTAL_FORMS": "1"}
    for field, moment in (("starts_at", local_dt(3, 0)), ("ends_at", local_dt(4, 0))):
        form[f"time_off-0-{field}_0"], form[f"time_off-0-{field}_1"] = split(moment)

    response = admin_client_office.post(
        reverse("admin:appointments_technician_change", args=[technician.pk]), form, follow=True
    )

    page = response.content.decode()
    assert TimeOff.objects.filter(technician=technician).count() == 1
    assert f"D-{booked.pk} · " in page and f"D-{elsewhere.pk} · " not in page


@pytest.mark.parametrize("action", ["cancel_with_reason", "reschedule"])
def test_a_reason_box_says_whether_the_customer_reads_it(admin_client_office, action):
    appointment = AppointmentFactory()

    response = admin_client_office.post(CHANGELIST, {"action": action, "_selected_action": [appointment.pk]})

    assert "nicht an den Kunden gesendet" in response.content.decode()


def test_an_invitations_page_shows_the_language_its_note_was_sent_in(admin_client_office):
    invitation = booking_invite(
        customer=CustomerFactory(preferred_language="nl"),
        service_type=TechnicianFactory(service_types=[ServiceTypeFactory()]).service_types.get(),
        note="Uw onderhoud staat gepland.",
        actor=None,
    )

    page = admin_client_office.get(reverse("admin:appointments_bookinginvitation_change", args=[invitation.pk]))

    assert "Sprache der E-Mail" in page.content.decode()
    assert "Niederländisch" in page.content.decode()


# Short paths: missed visits, follow-ups, saving a visit ----------------------------------------------


def test_a_missed_visits_page_shows_the_attempt_and_the_customers_journal(admin_client_office):
    attempt = VisitAttemptFactory(note="Zweimal geklingelt, Karte eingeworfen", waited_minutes=12)
    journal_record(customer=attempt.appointment.customer, action="contact.recorded", summary="Rückruf am Montag")

    page = admin_client_office.get(reverse("admin:appointments_visitattempt_change", args=[attempt.pk]))

    content = page.content.decode()
    assert "Zweimal geklingelt, Karte eingeworfen" in content
    assert "12" in content
    assert "Rückruf am Montag" in content
    assert reverse("admin:appointments_visitattempt_book_new_time", args=[attempt.pk]) in content


def test_a_follow_up_books_a_new_time_from_its_own_button(admin_client_office, service_type, technician):
    attempt = VisitAttemptFactory(
        appointment__service_type=service_type,
        appointment__technician=technician,
        appointment__window_start=local_dt(-4, 8),
        follow_up_flagged_at=local_dt(-1, 8),
    )
    listing = admin_client_office.get(reverse("admin:appointments_missedvisitfollowup_changelist")).content.decode()
    book = reverse("admin:appointments_missedvisitfollowup_book_new_time", args=[attempt.pk])
    assert book in listing

    form = admin_client_office.get(book)
    content = form.content.decode()
    assert form.status_code == 200
    assert f'<option value="{technician.pk}" selected>' in content  # prefilled with the visit's technician
    assert 'name="window_start_1" value="08:00"' in content  # and its hours, on a coming working day

    date, time = split(local_dt(3, 10))
    done = admin_client_office.post(
        book, {"apply": "1", "window_start_0": date, "window_start_1": time, "technician": technician.pk}
    )

    appointment = attempt.appointment
    appointment.refresh_from_db()
    attempt.refresh_from_db()
    assert appointment.status == AppointmentStatus.SCHEDULED
    assert attempt.rebooked_at is not None
    assert done.status_code == 302
    assert done.url == reverse("admin:appointments_appointment_change", args=[appointment.pk])


def test_after_saving_a_new_visit_the_clerk_lands_on_it_with_a_message(admin_client_office, service_type, technician):
    response = admin_client_office.post(
        reverse("admin:appointments_appointment_add"),
        add_form(CustomerFactory(), service_type, technician, local_dt(2, 8)),
        follow=True,
    )

    appointment = Appointment.objects.get()
    assert response.redirect_chain[-1][0] == reverse("admin:appointments_appointment_change", args=[appointment.pk])
    assert [message.level for message in response.context["messages"]] == [messages.SUCCESS]


@pytest.mark.parametrize("model", ["visitattempt", "missedvisitfollowup"])
@pytest.mark.parametrize("object_id", ["abc", "12x", "999999"])
def test_book_a_new_time_for_a_missing_or_malformed_id_goes_back_with_a_message(admin_client_office, model, object_id):
    response = admin_client_office.get(
        reverse(f"admin:appointments_{model}_book_new_time", args=[object_id]), follow=True
    )

    assert response.status_code == 200
    assert [message.level for message in response.context["messages"]] == [messages.WARNING]
    assert "existiert nicht" in str(list(response.context["messages"])[0])


def test_an_action_page_is_styled_like_djangos_own_pages(admin_client_office):
    # Django 6.1's breadcrumbs are a list and its form rows need forms.css; without them the reason,
    # move and invitation pages were unstyled text under a bare line of links.
    appointment = AppointmentFactory()

    page = admin_client_office.post(
        CHANGELIST, {"action": "cancel_with_reason", "_selected_action": [appointment.pk]}
    ).content.decode()

    assert '<ol class="breadcrumbs">' in page
    assert "admin/css/forms.css" in page
    assert 'class="closelink"' in page


@pytest.mark.parametrize("status", [AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED])
def test_a_visit_that_can_no_longer_move_shows_no_empty_reason_for_moving(admin_client_office, status):
    appointment = AppointmentFactory(status=status)

    page = admin_client_office.get(reverse("admin:appointments_appointment_change", args=[appointment.pk]))

    content = page.content.decode()
    assert page.status_code == 200
    assert "Reschedule reason" not in content
    assert '<div class="readonly">None</div>' not in content


@pytest.mark.parametrize("model", ["visitattempt", "missedvisitfollowup"])
def test_book_a_new_time_goes_back_to_the_missed_visit_it_came_from(admin_client_office, model):
    attempt = VisitAttemptFactory(follow_up_flagged_at=local_dt(-1, 8))

    page = admin_client_office.get(reverse(f"admin:appointments_{model}_book_new_time", args=[attempt.pk]))

    back = reverse(f"admin:appointments_{model}_change", args=[attempt.pk])
    assert f'href="{back}" class="closelink"' in page.content.decode()


# The list (issue #10 item 23: the rows are written in one pass, not cell by cell) -----------------


def rows_of(page: str) -> list[str]:
    body = page.split('<table id="result_list">', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [row for row in (line.strip() for line in body.splitlines()) if row]


def table_of(page: str) -> list[str]:
    table = page.split('<table id="result_list">', 1)[1].split("</table>", 1)[0]
    return [line for line in (line.strip() for line in table.splitlines()) if line]


def test_the_appointment_list_rows_read_exactly_as_djangos_own_result_list(
    admin_client_office, service_type, technician, monkeypatch
):
    from appointments.admin import AppointmentChangeList

    customer = CustomerFactory(full_name="Anna <b>Vogel</b> & Söhne")
    AppointmentFactory(customer=customer, service_type=service_type, technician=technician, site_city="Kleve")
    AppointmentFactory(technician=None, status=AppointmentStatus.REQUESTED, site_city="Emmerich")
    AppointmentFactory(status=AppointmentStatus.CANCELLED)
    params = {"status__exact": AppointmentStatus.REQUESTED, "o": "2"}
    two_orders = {"o": "2.-1"}  # the headers show each column's sort priority

    fast = [admin_client_office.get(CHANGELIST).content.decode(), admin_client_office.get(CHANGELIST, params)]
    fast_headers = admin_client_office.get(CHANGELIST, two_orders).content.decode()
    monkeypatch.setattr(AppointmentChangeList, "fast_rows", False)
    django = [admin_client_office.get(CHANGELIST).content.decode(), admin_client_office.get(CHANGELIST, params)]
    django_headers = admin_client_office.get(CHANGELIST, two_orders).content.decode()

    assert table_of(fast_headers) == table_of(django_headers)
    assert 'title="Sortierung: 2"' in fast_headers

    assert rows_of(fast[0]) == rows_of(django[0])
    assert len(rows_of(fast[0])) == 3
    assert "Anna &lt;b&gt;Vogel&lt;/b&gt; &amp; Söhne" in fast[0]
    # The link to a visit keeps the filters and the order, so "back to the list" returns to the same view.
    assert rows_of(fast[1].content.decode()) == rows_of(django[1].content.decode())
    assert "/change/?_changelist_filters=status__exact%3Drequested%26o%3D2" in fast[1].content.decode()
    assert '<td class="field-technician nowrap">-</td>' in fast[1].content.decode()


def test_a_filtered_appointment_list_counts_its_rows_once(admin_client_office):
    # Showing the total as well ("3 results (4 total)") counted the whole table again: 17 ms on
    # PostgreSQL at 100,000 visits, on every filtered page.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    AppointmentFactory.create_batch(3, status=AppointmentStatus.SCHEDULED)
    AppointmentFactory(status=AppointmentStatus.CANCELLED)

    with CaptureQueriesContext(connection) as captured:
        page = admin_client_office.get(CHANGELIST, {"status__exact": AppointmentStatus.SCHEDULED})

    # The visits' counts only: the header's "My desk" count (desk_promise) is another table's.
    counts = [
        query["sql"]
        for query in captured.captured_queries
        if "COUNT(" in query["sql"] and 'FROM "appointments_appointment"' in query["sql"]
    ]
    assert len(counts) == 1, counts
    assert page.context["cl"].result_count == 3


def test_a_technicians_page_leads_to_their_calendar_links(admin_client_office):
    technician = TechnicianFactory()

    page = admin_client_office.get(reverse("admin:appointments_technician_change", args=[technician.pk]))

    assert f"{reverse('admin:technicians_calendarfeed_changelist')}?technician__id__exact={technician.pk}" in (
        page.content.decode()
    )
