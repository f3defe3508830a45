"""The firm cannot keep a visit's time: it asks the customer to choose a new one (seed story 001).

Nothing of the old time may go on as if it still held: no reminder, no confirmation, no card, no
"My day" entry, and the customer's page never offers that window back.
"""

import re
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.availability import window_is_offered
from appointments.cards import day_visits
from appointments.links import appointment_token
from appointments.models import Appointment, AppointmentStatus
from appointments.services import AppointmentError, appointment_cancel, appointment_reschedule, appointment_schedule
from appointments.services.booking import appointment_move_online, appointment_request_new_time
from journal.models import JournalEntry
from notifications.models import MessageKind, MessageStatus, OutboxMessage
from notifications.rendering import render_message
from notifications.services import STALE_NEW_TIME_REQUESTED, message_deliver
from tests.factories import CustomerFactory, FirmFactory, OfficeUserFactory, ServiceTypeFactory, TechnicianFactory

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:appointments_appointment_changelist")
PAGE = reverse("selfservice:page")
REASON = "Unser Monteur ist an diesem Tag auf einer Schulung."


def next_weekday(days_ahead: int, weekday: int = 2) -> datetime.date:
    """A working day (Wednesday by default) at least `days_ahead` days from today."""
    day = timezone.localdate() + timedelta(days=days_ahead)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def at(day, hour, minute=0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.fixture
def setup(db):
    FirmFactory(phone="+492821100000", email="office@firm.example")
    office = OfficeUserFactory(first_name="Sandra", last_name="Brinkmann")
    service_type = ServiceTypeFactory(
        name="Boiler maintenance", name_de="Heizungswartung", name_nl="CV-ketel onderhoud"
    )
    technician = TechnicianFactory(service_types=[service_type], display_name="Jan Verhaag")
    customer = CustomerFactory(
        full_name="Anna Schmitz", responsible=office, preferred_language="de", email="anna@example.com"
    )
    return {"office": office, "service_type": service_type, "technician": technician, "customer": customer}


@pytest.fixture
def day():
    return next_weekday(3)


@pytest.fixture
def visit(setup, day):
    # Off the page's 08:00/12:00 grid on purpose: windows that overlap it must not be offered either.
    return appointment_schedule(
        customer=setup["customer"],
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=at(day, 9),
        window_end=at(day, 13),
        actor=setup["office"],
    )


def ask(visit, setup, reason=REASON):
    return appointment_request_new_time(appointment=visit, actor=setup["office"], reason=reason)


# The service ----------------------------------------------------------------------


def test_asking_for_a_new_time_gives_up_the_window_and_waits_for_the_customer(visit, setup, day):
    assert ask(visit, setup).status == AppointmentStatus.NEW_TIME

    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.NEW_TIME
    assert visit.new_time_reason == REASON
    assert visit.new_time_requested_at is not None
    # The given-up window stays on record …
    assert (visit.window_start, visit.window_end) == (at(day, 9), at(day, 13))
    entry = JournalEntry.objects.get(action="appointment.new_time_requested")
    assert REASON in entry.summary and entry.data["reason"] == REASON
    # … but the technician is free for another customer then.
    other = appointment_schedule(
        customer=CustomerFactory(responsible=setup["office"]),
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=at(day, 9),
        window_end=at(day, 13),
        actor=setup["office"],
    )
    assert other.status == AppointmentStatus.SCHEDULED


def test_asking_voids_the_queued_confirmation_of_the_old_time(visit, setup):
    confirmation = OutboxMessage.objects.get(kind=MessageKind.CONFIRMATION)

    ask(visit, setup)

    confirmation.refresh_from_db()
    assert confirmation.status == MessageStatus.SUPERSEDED
    assert confirmation.last_error == STALE_NEW_TIME_REQUESTED
    assert message_deliver(message_id=confirmation.pk) == "not claimed"
    assert OutboxMessage.objects.get(kind=MessageKind.RESCHEDULE_REQUEST).status == MessageStatus.QUEUED


def test_a_confirmation_already_handed_to_a_worker_is_superseded_at_send_time(visit, setup):
    confirmation = OutboxMessage.objects.get(kind=MessageKind.CONFIRMATION)
    OutboxMessage.objects.filter(pk=confirmation.pk).update(status=MessageStatus.SENDING, claim_token="w1")

    ask(visit, setup)
    OutboxMessage.objects.filter(pk=confirmation.pk).update(status=MessageStatus.QUEUED)

    assert message_deliver(message_id=confirmation.pk) == MessageStatus.SUPERSEDED
    confirmation.refresh_from_db()
    assert confirmation.last_error == STALE_NEW_TIME_REQUESTED


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_request_without_a_sensible_reason_changes_nothing(visit, setup, reason):
    with pytest.raises(AppointmentError) as error:
        ask(visit, setup, reason=reason)

    assert error.value.code in ("reason_missing", "reason_too_long")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.SCHEDULED
    assert not OutboxMessage.objects.filter(kind=MessageKind.RESCHEDULE_REQUEST).exists()


def test_asking_twice_is_refused(visit, setup):
    ask(visit, setup)

    with pytest.raises(AppointmentError) as error:
        ask(visit, setup, reason="Noch einmal")

    assert error.value.code == "illegal_transition"
    assert OutboxMessage.objects.filter(kind=MessageKind.RESCHEDULE_REQUEST).count() == 1
    assert JournalEntry.objects.filter(action="appointment.new_time_requested").count() == 1


def test_the_technician_can_no_longer_set_off_for_the_given_up_time(visit, setup, day):
    from appointments.services import visit_start_trip

    ask(visit, setup)

    with pytest.raises(AppointmentError):
        visit_start_trip(appointment=visit, actor=setup["technician"].user, at=timezone.now())


def test_office_moving_the_visit_answers_the_request(visit, setup, day):
    ask(visit, setup)

    moved = appointment_reschedule(
        appointment=visit, window_start=at(day + timedelta(days=1), 8), actor=setup["office"]
    )

    assert moved.status == AppointmentStatus.SCHEDULED
    assert moved.version == 2
    assert OutboxMessage.objects.filter(kind=MessageKind.CHANGE, appointment_version=2).exists()


def test_office_cancelling_the_visit_answers_the_request(visit, setup):
    ask(visit, setup)

    cancelled = appointment_cancel(appointment=visit, reason="Kunde meldet sich nicht", actor=setup["office"])

    assert cancelled.status == AppointmentStatus.CANCELLED


# The customer's page ----------------------------------------------------------------


def request_mail_link(visit, setup, client):
    """The page the request's mail opens, showing the week of the given-up window."""
    ask(visit, setup)
    visit.refresh_from_db()
    mail = render_message(OutboxMessage.objects.get(kind=MessageKind.RESCHEDULE_REQUEST))
    link = next(word for word in mail.body.split() if "/booking/l/" in word)
    client.get(urlsplit(link).path)
    return client.get(PAGE, {"week": timezone.localdate(visit.window_start).isoformat()})


def offered(response):
    return [
        datetime.fromisoformat(value)
        for value in re.findall(r'name="window" value="([^"]+)"', response.content.decode())
    ]


def test_the_customers_page_never_offers_the_given_up_window(visit, setup, client, day):
    page = request_mail_link(visit, setup, client)

    assert page.status_code == 200
    windows = offered(page)
    assert windows, "other windows are still offered"
    # 08:00–12:00 and 12:00–16:00 overlap the given-up 09:00–13:00, with any technician.
    assert not [start for start in windows if at(day, 5) < start < at(day, 13)]
    assert at(day + timedelta(days=1), 8) in windows
    html = page.content.decode()
    assert REASON in html


def test_the_given_up_window_cannot_be_posted_either(visit, setup, day):
    ask(visit, setup)
    visit.refresh_from_db()

    assert window_is_offered(service_type=visit.service_type, window_start=at(day, 8), ignoring=visit) is None
    with pytest.raises(AppointmentError):
        appointment_move_online(appointment=visit, window_start=at(day, 12))


def test_the_customer_choosing_a_new_time_answers_the_request(visit, setup, client, day):
    page = request_mail_link(visit, setup, client)
    link_key = re.search(r'name="link"\s+value="([^"]+)"', page.content.decode()).group(1)
    new_start = at(day + timedelta(days=1), 8)

    response = client.post(reverse("selfservice:book"), {"window": new_start.isoformat(), "link": link_key})

    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.SCHEDULED
    assert visit.window_start == new_start
    entry = JournalEntry.objects.filter(action="appointment.rescheduled").get()
    assert entry.data["previous_status"] == AppointmentStatus.NEW_TIME


def test_the_old_confirmation_link_no_longer_opens_the_visit(visit, setup, client):
    old_token = appointment_token(visit)
    ask(visit, setup)

    response = client.get(reverse("selfservice:open", args=[old_token]))

    assert response.status_code == 404


# The technician ---------------------------------------------------------------------


def test_the_visit_leaves_my_day_and_the_day_pack(visit, setup, client, day):
    ask(visit, setup)
    client.force_login(setup["technician"].user)

    with_visit = client.get(reverse("technician:day")).content.decode()

    assert "Anna Schmitz" not in with_visit
    assert not day_visits(technician=setup["technician"], day=day).exists()


# The mail ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("de", ["Guten Tag Anna Schmitz", "leider können wir Ihren Termin", "Neue Zeit wählen"]),
        ("nl", ["Beste Anna Schmitz", "helaas kunnen we uw afspraak", "Kies een nieuw tijdstip"]),
        ("en", ["Hello Anna Schmitz", "cannot keep", "Choose a new time"]),
    ],
)
def test_the_request_mail_gives_the_reason_as_typed_and_the_link(visit, setup, language, words):
    setup["customer"].preferred_language = language
    setup["customer"].save()
    ask(visit, setup, reason="Line one <b>\nLine two")

    mail = render_message(OutboxMessage.objects.get(kind=MessageKind.RESCHEDULE_REQUEST))
    html = next(content for content, mimetype in mail.alternatives if mimetype == "text/html")

    greeting, apology, button = words
    assert button in html
    for body in (mail.body, html):
        assert greeting in body and apology in body
        assert "09:00–13:00" in body
        assert "Sandra Brinkmann" in body
        assert "/booking/l/" in body
    assert "Line one <b>\nLine two" in mail.body
    assert "Line one &lt;b&gt;<br>Line two" in html
    assert "09:00–13:00" in mail.subject


# The office ---------------------------------------------------------------------------


def post_action(client, visit, **data):
    return client.post(CHANGELIST, {"action": "ask_for_new_time", "_selected_action": [visit.pk], **data})


def test_the_office_is_asked_for_the_reason_in_the_customers_language(visit, setup, client):
    client.force_login(setup["office"])

    form = post_action(client, visit)

    assert form.status_code == 200
    html = form.content.decode()
    assert 'name="reason"' in html and 'maxlength="500"' in html
    assert "Deutsch" in html or "German" in html
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.SCHEDULED


def test_the_action_without_a_reason_shows_the_form_again_and_changes_nothing(visit, setup, client):
    client.force_login(setup["office"])

    response = post_action(client, visit, apply="1", reason="  ")

    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.SCHEDULED


def test_the_action_with_a_reason_asks_and_the_list_shows_who_waits(
    visit, setup, client, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(setup["office"])
    untouched = appointment_schedule(
        customer=CustomerFactory(full_name="Bert Janssen", responsible=setup["office"]),
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=visit.window_start + timedelta(days=1),
        actor=setup["office"],
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(client, visit, apply="1", reason=REASON)

    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.NEW_TIME
    request_mails = [mail for mail in mailoutbox if REASON in mail.body]
    assert len(request_mails) == 1
    waiting = client.get(CHANGELIST, {"new_time": "waiting"}).content.decode()
    assert "Anna Schmitz" in waiting and "Bert Janssen" not in waiting
    assert untouched.pk
    change_page = client.get(reverse("admin:appointments_appointment_change", args=[visit.pk])).content.decode()
    assert "Waiting for the customer" in change_page or "Wartet auf einen neuen Termin" in change_page
    assert REASON in change_page


def test_customers_of_different_languages_are_asked_separately(visit, setup, client):
    client.force_login(setup["office"])
    dutch = appointment_schedule(
        customer=CustomerFactory(full_name="Joris de Vries", preferred_language="nl", responsible=setup["office"]),
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=visit.window_start + timedelta(days=1),
        actor=setup["office"],
    )

    response = client.post(
        CHANGELIST,
        {"action": "ask_for_new_time", "_selected_action": [visit.pk, dutch.pk], "apply": "1", "reason": REASON},
        follow=True,
    )

    assert Appointment.objects.filter(status=AppointmentStatus.NEW_TIME).count() == 0
    assert response.status_code == 200


def test_a_day_pack_card_read_later_says_the_time_could_not_be_kept(visit, setup, client):
    from appointments.links import card_code

    ask(visit, setup)

    page = client.get(reverse("card", args=[card_code(visit)])).content.decode()

    assert "nicht halten" in page
    assert "storniert" not in page
