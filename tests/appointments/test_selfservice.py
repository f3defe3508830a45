import re
from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from appointments.links import APPOINTMENT_SALT, appointment_token, invitation_token
from appointments.models import Appointment, AppointmentStatus, BookingInvitation
from appointments.services import AppointmentError, appointment_reschedule, appointment_schedule
from appointments.services.booking import appointment_request_new_time, booking_invite
from journal.models import JournalEntry
from notifications.models import MessageKind, OutboxMessage
from tests.factories import (
    CustomerFactory,
    FirmFactory,
    OfficeUserFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    local_dt,
)

pytestmark = pytest.mark.django_db
PAGE = reverse("selfservice:page")
BOOK = reverse("selfservice:book")
CANCEL = reverse("selfservice:cancel")
DONE = reverse("selfservice:done")


@pytest.fixture
def setup(db):
    FirmFactory(phone="+492821100000", email="office@firm.example")
    office = OfficeUserFactory(first_name="Sandra", last_name="Brinkmann")
    service_type = ServiceTypeFactory(name_de="Heizungswartung")
    technician = TechnicianFactory(service_types=[service_type], display_name="Jan Verhaag")
    customer = CustomerFactory(
        full_name="Anna Schmitz",
        responsible=office,
        preferred_language="de",
        phone="+4930987654",
        email="anna@example.com",
    )
    return {"office": office, "service_type": service_type, "technician": technician, "customer": customer}


def open_link(client, token):
    return client.get(reverse("selfservice:open", args=[token]))


def offered_windows(response):
    return re.findall(r'name="window" value="([^"]+)"', response.content.decode())


@pytest.fixture
def invitation(setup):
    return booking_invite(customer=setup["customer"], service_type=setup["service_type"], actor=setup["office"])


@pytest.fixture
def appointment(setup):
    return appointment_schedule(
        customer=setup["customer"],
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=local_dt(3, 8),
        actor=setup["office"],
    )


def test_opening_a_link_moves_the_token_out_of_the_url(client, invitation):
    response = open_link(client, invitation_token(invitation))

    assert response.status_code == 302
    assert response["Location"] == PAGE
    assert response["Referrer-Policy"] == "no-referrer"


def test_customer_books_a_window_from_the_invitation(
    client, invitation, setup, mailoutbox, django_capture_on_commit_callbacks
):
    open_link(client, invitation_token(invitation))
    page = client.get(PAGE)
    first_window = offered_windows(page)[0]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(BOOK, {"window": first_window, "note": "Bitte an der Seitentür klingeln"})

    assert response.status_code == 302 and response["Location"] == DONE
    appointment = Appointment.objects.get()
    assert appointment.window_start == timezone.datetime.fromisoformat(first_window)
    assert appointment.notes == "Bitte an der Seitentür klingeln"
    assert appointment.status == AppointmentStatus.SCHEDULED
    invitation.refresh_from_db()
    assert invitation.appointment == appointment
    assert JournalEntry.objects.filter(
        appointment=appointment, action="appointment.scheduled", channel="web", direction="in"
    ).exists()
    assert OutboxMessage.objects.filter(appointment=appointment, kind=MessageKind.CONFIRMATION).exists()
    done = client.get(DONE).content.decode()
    assert "Jan" in done and "Verhaag" not in done  # technician's first name only
    assert "/booking/l/" in done  # the change link


def test_pages_show_only_what_the_customer_needs(client, invitation):
    open_link(client, invitation_token(invitation))

    page = client.get(PAGE).content.decode()

    assert "Anna" in page
    assert "Schmitz" not in page
    assert "+4930987654" not in page and "anna@example.com" not in page
    assert "Sandra Brinkmann" in page


def test_a_used_invitation_link_is_dead(client, invitation, setup):
    token = invitation_token(invitation)
    open_link(client, token)
    client.post(BOOK, {"window": offered_windows(client.get(PAGE))[0]})

    response = open_link(client, token)

    assert response.status_code == 404
    assert "office@firm.example" in response.content.decode()


def test_expired_invitation_gets_the_friendly_page(client, invitation):
    BookingInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    response = open_link(client, invitation_token(invitation))

    assert response.status_code == 404
    assert "+49 2821 100000" in response.content.decode()


@pytest.mark.parametrize("token", ["garbage", "WzEsInNjaGVkdWxlZCIsMV0:1xVGgj:forged", "a" * 300, "%00", "..%2f"])
def test_tampered_or_unknown_links_get_the_same_friendly_page(client, token, setup):
    response = client.get(f"/booking/l/{token}/")

    assert response.status_code == 404
    assert "office@firm.example" in response.content.decode()


def test_a_link_signed_for_another_purpose_is_refused(client, invitation, appointment):
    forged = signing.dumps([invitation.pk, invitation.nonce], salt=APPOINTMENT_SALT, compress=False)

    assert open_link(client, forged).status_code == 404


def test_customer_moves_the_visit_and_old_links_die(client, appointment, django_capture_on_commit_callbacks):
    old_token = appointment_token(appointment)
    open_link(client, old_token)
    windows = offered_windows(client.get(PAGE))
    assert appointment.window_start not in [timezone.datetime.fromisoformat(window) for window in windows]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(BOOK, {"window": windows[2]})

    appointment.refresh_from_db()
    assert response.status_code == 302
    assert appointment.version == 2
    assert appointment.window_start == timezone.datetime.fromisoformat(windows[2])
    assert OutboxMessage.objects.filter(kind=MessageKind.CHANGE, appointment=appointment).exists()
    assert open_link(client, old_token).status_code == 404


def test_link_dies_when_the_office_reschedules(client, appointment, setup):
    token = appointment_token(appointment)
    appointment_reschedule(appointment=appointment, window_start=local_dt(5, 12), actor=setup["office"])

    assert open_link(client, token).status_code == 404


def test_customer_cancels_with_a_reason(client, appointment, django_capture_on_commit_callbacks):
    open_link(client, appointment_token(appointment))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CANCEL, {"reason": "Heizung wurde schon gewartet"})

    appointment.refresh_from_db()
    assert response.status_code == 302
    assert appointment.status == AppointmentStatus.CANCELLED
    assert "Heizung wurde schon gewartet" in appointment.cancel_reason
    entry = JournalEntry.objects.get(appointment=appointment, action="appointment.cancelled")
    assert (entry.channel, entry.direction) == ("web", "in")
    assert OutboxMessage.objects.filter(kind=MessageKind.CANCELLATION).exists()
    assert client.get(DONE).status_code == 200
    assert open_link(client, appointment_token(appointment)).status_code == 404  # cancelled: dead


def test_get_never_changes_anything(client, appointment):
    token = appointment_token(appointment)
    before = (Appointment.objects.values().get(), JournalEntry.objects.count(), OutboxMessage.objects.count())

    for url in (reverse("selfservice:open", args=[token]), PAGE, BOOK, CANCEL, DONE):
        client.get(url)

    assert (Appointment.objects.values().get(), JournalEntry.objects.count(), OutboxMessage.objects.count()) == before


def test_a_window_taken_meanwhile_gets_a_friendly_conflict_page(client, invitation, setup):
    open_link(client, invitation_token(invitation))
    window = offered_windows(client.get(PAGE))[0]
    appointment_schedule(
        customer=CustomerFactory(responsible=setup["office"]),
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=timezone.datetime.fromisoformat(window),
        actor=setup["office"],
    )

    response = client.post(BOOK, {"window": window})

    assert response.status_code == 409
    assert window not in offered_windows(response)
    assert "soeben vergeben" in response.content.decode()  # "Dieses Zeitfenster wurde soeben vergeben."
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize("window", ["", "yesterday", "2026-13-45T99:00", "2020-01-01T08:00:00+01:00"])
def test_bad_window_input_changes_nothing_and_is_no_500(client, invitation, window):
    open_link(client, invitation_token(invitation))

    response = client.post(BOOK, {"window": window})

    assert response.status_code in (400, 409)
    assert not Appointment.objects.exists()


def test_posts_without_a_session_link_get_the_friendly_page(client, setup):
    assert client.post(BOOK, {"window": "2026-01-01T08:00:00+01:00"}).status_code == 404


def test_guessing_links_is_rate_limited(client, setup, settings):
    settings.RATELIMIT_BAD_LINKS = 3
    for _attempt in range(3):
        assert client.get("/booking/l/wrong/").status_code == 404

    assert client.get("/booking/l/wrong/").status_code == 429


def test_booking_posts_are_rate_limited(client, invitation, settings):
    settings.RATELIMIT_BOOKING_POSTS = 2
    open_link(client, invitation_token(invitation))
    for _attempt in range(2):
        client.post(BOOK, {"window": "nonsense"})

    assert client.post(BOOK, {"window": "nonsense"}).status_code == 429


def test_page_speaks_the_customers_language(client, setup):
    customer = CustomerFactory(full_name="Jan de Vries", preferred_language="nl", responsible=setup["office"])
    invitation = booking_invite(customer=customer, service_type=setup["service_type"], actor=setup["office"])

    open_link(client, invitation_token(invitation))
    page = client.get(PAGE).content.decode()

    assert 'lang="nl"' in page


def test_customer_can_switch_the_language(client, invitation):
    open_link(client, invitation_token(invitation))

    client.post(reverse("set_language"), {"language": "en", "next": PAGE})
    page = client.get(PAGE).content.decode()

    assert 'lang="en"' in page


def test_calendar_download_for_the_booked_visit(client, appointment):
    open_link(client, appointment_token(appointment))

    response = client.get(reverse("selfservice:calendar"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert f"UID:appointment-{appointment.pk}@localhost" in response.content.decode()


def test_office_invites_customers_from_the_admin(client, setup, django_capture_on_commit_callbacks, mailoutbox):
    client.force_login(setup["office"])
    url = reverse("admin:customers_customer_changelist")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {
                "action": "invite_to_book",
                "_selected_action": [setup["customer"].pk],
                "apply": "1",
                "service_type": setup["service_type"].pk,
                "note": "Ihre jährliche Wartung ist fällig.",
            },
        )

    assert response.status_code == 302
    invitation = BookingInvitation.objects.get()
    assert invitation.message == "Ihre jährliche Wartung ist fällig."
    assert len(mailoutbox) == 1
    assert "/booking/l/" in mailoutbox[0].body
    assert "Ihre jährliche Wartung ist fällig." in mailoutbox[0].body


def test_office_asks_the_customer_to_choose_a_new_time(
    client, appointment, setup, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(setup["office"])

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:appointments_appointment_changelist"),
            {"action": "ask_for_new_time", "_selected_action": [appointment.pk]},
        )

    request_mail = [
        mail
        for mail in mailoutbox
        if "/booking/l/" in mail.body and mail.subject.startswith("Bitte wählen Sie eine neue Zeit")
    ]
    assert OutboxMessage.objects.filter(kind=MessageKind.RESCHEDULE_REQUEST).count() == 1
    assert request_mail
    assert JournalEntry.objects.filter(action="appointment.new_time_requested").exists()


def test_asking_a_customer_without_email_for_a_new_time_says_to_call(setup):
    customer = CustomerFactory(email="", responsible=setup["office"])
    appointment = appointment_schedule(
        customer=customer,
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=local_dt(3, 8),
        actor=setup["office"],
    )

    with pytest.raises(AppointmentError) as error:
        appointment_request_new_time(appointment=appointment, actor=setup["office"])

    assert error.value.code == "no_email"
    assert not JournalEntry.objects.filter(action="appointment.new_time_requested").exists()
