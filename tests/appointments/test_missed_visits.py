"""Not home: the attempt on record, the customer's way back to a new time, and the office's follow-up."""

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from appointments.formatting import format_window
from appointments.links import appointment_token, card_code, card_url
from appointments.models import Appointment, AppointmentStatus, MissedVisitFollowUp, VisitAttempt
from appointments.services import (
    AppointmentError,
    appointment_cancel,
    appointment_confirm,
    appointment_reschedule,
    appointment_schedule,
    visit_arrive,
    visit_complete,
    visit_mark_missed,
    visit_start_trip,
)
from appointments.services.follow_up import FollowUpError, follow_up_close, missed_follow_ups_flag
from journal.models import JournalEntry
from notifications.models import MessageKind, MessageStatus, OutboxMessage
from notifications.services import message_deliver
from tests.factories import (
    CustomerFactory,
    FirmFactory,
    OfficeUserFactory,
    ServiceTypeFactory,
    TechnicianFactory,
    local_dt,
)
from tests.journal.reading import as_read_in

pytestmark = pytest.mark.django_db
Status = AppointmentStatus
PAGE = reverse("selfservice:page")
BOOK = reverse("selfservice:book")
CANCEL = reverse("selfservice:cancel")


@pytest.fixture
def setup(db):
    FirmFactory(phone="+492821100000", email="office@firm.example")
    office = OfficeUserFactory(first_name="Sandra", last_name="Brinkmann")
    service_type = ServiceTypeFactory(name_de="Heizungswartung", arrival_window=timedelta(hours=2))
    technician = TechnicianFactory(service_types=[service_type], display_name="Jan Verhaag")
    customer = CustomerFactory(full_name="Anna Schmitz", responsible=office, preferred_language="de")
    return {"office": office, "service_type": service_type, "technician": technician, "customer": customer}


@pytest.fixture
def visit_today(setup):
    """A visit whose window opened today, up to an hour ago: the technician is at the door now."""
    start = max(local_dt(0, 0), timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1))
    return appointment_schedule(
        customer=setup["customer"],
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=start,
        actor=setup["office"],
    )


def book_again(setup, **kwargs):
    """The customer's new visit for the same service, next week, as the office books it on the phone."""
    return appointment_schedule(
        customer=setup["customer"],
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=local_dt(5, 8),
        actor=setup["office"],
        **kwargs,
    )


def not_home(appointment, setup, **facts):
    return visit_mark_missed(
        appointment=appointment,
        actor=setup["technician"].user,
        **{"waited_minutes": 10, "note": "", "card_left": True, **facts},
    )


# The attempt -----------------------------------------------------------------------


def test_not_home_records_the_attempt_with_the_server_time_and_the_facts(setup, visit_today):
    before = timezone.now()

    appointment = not_home(
        visit_today,
        setup,
        waited_minutes=12,
        note="Zweimal geklingelt, Nachbar weiß nichts",
        latitude=Decimal("51.789012"),
        longitude=Decimal("6.138765"),
        location_accuracy_m=18,
    )

    attempt = VisitAttempt.objects.get()
    assert appointment.status == Status.MISSED
    assert before <= attempt.at <= timezone.now()
    assert attempt.technician == setup["technician"]
    assert attempt.recorded_by == setup["technician"].user
    assert (attempt.waited_minutes, attempt.card_left, attempt.location_accuracy_m) == (12, True, 18)
    assert (attempt.latitude, attempt.longitude) == (Decimal("51.789012"), Decimal("6.138765"))
    assert (attempt.window_start, attempt.window_end) == (visit_today.window_start, visit_today.window_end)
    entry = JournalEntry.objects.get(action="visit.missed")
    assert entry.occurred_at == attempt.at
    assert timezone.localtime(attempt.at).strftime("%H:%M") in entry.summary
    assert "12" in entry.summary and "Zweimal geklingelt" in entry.summary
    assert entry.data["card_left"] is True and entry.data["waited_minutes"] == 12


def test_the_journal_notes_that_the_door_location_was_recorded_but_never_where(setup, visit_today):
    not_home(
        visit_today,
        setup,
        latitude=Decimal("51.789012"),
        longitude=Decimal("6.138765"),
        location_accuracy_m=18,
    )

    entry = JournalEntry.objects.get(action="visit.missed")
    assert entry.data["location_recorded"] is True and entry.data["location_accuracy_m"] == 18
    assert "latitude" not in entry.data and "longitude" not in entry.data
    assert "51.789012" not in str(entry.data) and "6.138765" not in str(entry.data)
    assert "Location recorded by the phone." in as_read_in("en", entry)


def test_not_home_queues_the_we_were_here_mail_for_the_customer(setup, visit_today):
    not_home(visit_today, setup)

    message = OutboxMessage.objects.get(kind=MessageKind.MISSED_VISIT)
    assert message.customer == setup["customer"]
    assert message.context["attempt_id"] == VisitAttempt.objects.get().pk


def test_not_home_without_a_location_is_fine(setup, visit_today):
    not_home(visit_today, setup)

    attempt = VisitAttempt.objects.get()
    assert attempt.latitude is None and attempt.longitude is None


def test_on_the_way_then_not_home_is_allowed(setup, visit_today):
    visit_start_trip(appointment=visit_today, actor=setup["technician"].user)

    assert not_home(visit_today, setup).status == Status.MISSED


@pytest.mark.parametrize(
    "facts, code",
    [
        ({"waited_minutes": -1}, "wait_range"),
        ({"waited_minutes": 241}, "wait_range"),
        ({"latitude": Decimal("51.7")}, "location_incomplete"),
        ({"location_accuracy_m": 12}, "location_incomplete"),
        ({"latitude": Decimal("91"), "longitude": Decimal("6.1")}, "location_range"),
        ({"latitude": Decimal("51.7"), "longitude": Decimal("-181")}, "location_range"),
    ],
)
def test_bad_attempt_facts_are_refused_and_change_nothing(setup, visit_today, facts, code):
    with pytest.raises(AppointmentError) as error:
        not_home(visit_today, setup, **facts)

    assert error.value.code == code
    visit_today.refresh_from_db()
    assert visit_today.status == Status.SCHEDULED
    assert not VisitAttempt.objects.exists()
    assert not OutboxMessage.objects.filter(kind=MessageKind.MISSED_VISIT).exists()


@pytest.mark.parametrize("finish", ["cancel", "complete", "missed"])
def test_a_cancelled_completed_or_already_missed_visit_cannot_be_marked_missed(setup, visit_today, finish):
    user = setup["technician"].user
    if finish == "cancel":
        appointment_cancel(appointment=visit_today, reason="Kunde hat abgesagt", actor=setup["office"])
    elif finish == "complete":
        visit_arrive(appointment=visit_today, actor=user)
        visit_complete(appointment=visit_today, actor=user)
    else:
        not_home(visit_today, setup)
    attempts = VisitAttempt.objects.count()

    with pytest.raises(AppointmentError) as error:
        not_home(visit_today, setup)

    assert error.value.code == "illegal_transition"
    assert VisitAttempt.objects.count() == attempts


def test_on_my_way_with_an_expected_arrival_queues_the_message_with_it(setup, visit_today):
    expected = timezone.now() + timedelta(minutes=20)

    visit_start_trip(appointment=visit_today, actor=setup["technician"].user, expected_arrival=expected)

    message = OutboxMessage.objects.get(kind=MessageKind.ON_MY_WAY)
    assert message.context["expected_arrival"] == expected.isoformat()


def test_an_expected_arrival_far_ahead_is_a_typo_and_refused(setup, visit_today):
    with pytest.raises(AppointmentError) as error:
        visit_start_trip(
            appointment=visit_today,
            actor=setup["technician"].user,
            expected_arrival=timezone.now() + timedelta(days=1),
        )

    assert error.value.code == "eta_range"
    visit_today.refresh_from_db()
    assert visit_today.status == Status.SCHEDULED


# Follow-up ----------------------------------------------------------------------------


def test_follow_up_flag_appears_only_after_the_set_number_of_days(setup, visit_today, settings):
    settings.MISSED_FOLLOW_UP_AFTER_DAYS = 3
    not_home(visit_today, setup)
    attempt_at = VisitAttempt.objects.get().at

    with time_machine.travel(attempt_at + timedelta(days=2, hours=23)):
        assert missed_follow_ups_flag() == 0
    with time_machine.travel(attempt_at + timedelta(days=3, minutes=1)):
        assert missed_follow_ups_flag() == 1
        assert missed_follow_ups_flag() == 0  # idempotent

    assert list(MissedVisitFollowUp.objects.follow_up_open()) == [VisitAttempt.objects.get()]
    assert JournalEntry.objects.filter(action="visit.follow_up_flagged").count() == 1


def test_follow_up_flag_clears_itself_when_the_customer_rebooks(setup, visit_today):
    not_home(visit_today, setup)
    attempt = VisitAttempt.objects.get()
    at_the_door = attempt.at
    with time_machine.travel(attempt.at + timedelta(days=4)):
        missed_follow_ups_flag()
        assert VisitAttempt.objects.follow_up_open().count() == 1

        appointment_reschedule(appointment=visit_today, window_start=local_dt(7, 8), actor=None)

        assert VisitAttempt.objects.follow_up_open().count() == 0
    attempt.refresh_from_db()
    assert attempt.rebooked_at is not None
    assert attempt.at == at_the_door  # the proof stays on record, unchanged


def test_a_visit_rebooked_in_time_is_never_flagged(setup, visit_today):
    not_home(visit_today, setup)
    appointment_reschedule(appointment=visit_today, window_start=local_dt(7, 8), actor=None)

    with time_machine.travel(timezone.now() + timedelta(days=10)):
        assert missed_follow_ups_flag() == 0


def test_the_office_closes_a_follow_up_with_a_note(setup, visit_today):
    not_home(visit_today, setup)
    attempt = VisitAttempt.objects.get()
    with time_machine.travel(attempt.at + timedelta(days=4)):
        missed_follow_ups_flag()

    with pytest.raises(FollowUpError):
        follow_up_close(attempt=attempt, actor=setup["office"], note="  ")
    follow_up_close(attempt=attempt, actor=setup["office"], note="Angerufen, bucht heute Abend online")

    assert VisitAttempt.objects.follow_up_open().count() == 0
    entry = JournalEntry.objects.get(action="visit.follow_up_closed")
    assert "bucht heute Abend online" in entry.summary and entry.actor == setup["office"]
    with pytest.raises(FollowUpError):
        follow_up_close(attempt=attempt, actor=setup["office"], note="nochmal")


# The card's link and the customer's way back -------------------------------------------


def test_the_card_link_leads_to_a_page_that_says_we_were_there_and_offers_new_times(client, setup, visit_today):
    not_home(visit_today, setup)

    response = client.get(reverse("card", args=[card_code(visit_today)]))

    assert response.status_code == 302 and urlsplit(response["Location"]).path == PAGE
    assert parse_qs(urlsplit(response["Location"]).query)["lang"] == ["de"]
    assert response["Referrer-Policy"] == "no-referrer"
    page = client.get(PAGE)
    content = page.content.decode()
    time_at_door = timezone.localtime(VisitAttempt.objects.get().at).strftime("%H:%M")
    assert page.status_code == 200
    assert time_at_door in content and "Jan" in content and "Jan Verhaag" not in content  # first name only
    assert re.findall(r'name="window" value="([^"]+)"', content)
    assert CANCEL not in content  # a missed visit is rebooked, not cancelled


def test_the_card_link_is_short_and_accepts_a_typed_lower_case_code(client, setup, visit_today):
    not_home(visit_today, setup)
    url = card_url(visit_today)
    code = card_code(visit_today)

    assert url.endswith(f"/r/{code}") and len(code) <= 20
    assert client.get(reverse("card", args=[code.lower()])).status_code == 302


def typed(code: str, how: str) -> str:
    """The code as someone types it from the card."""
    pk, secret = code.split("-")
    return {
        "no hyphen": pk + secret,
        "spaces": f"{pk} {secret[:4]} {secret[4:]}",
        "space for the hyphen": f"{pk} {secret}",
        "lower case, no hyphen": (pk + secret).lower(),
        "trailing full stop": code + ".",
        "zero for O": pk + "-" + secret.replace("O", "0"),
        "one for I or L": pk + "-" + secret.replace("I", "1").replace("L", "1"),
        "L for I and I for L": pk + "-" + secret.translate(str.maketrans("IL", "LI")),
        "eight for B": pk + "-" + secret.replace("B", "8"),
    }[how]


@pytest.mark.parametrize(
    "how",
    [
        "no hyphen",
        "spaces",
        "space for the hyphen",
        "lower case, no hyphen",
        "trailing full stop",
        "zero for O",
        "one for I or L",
        "L for I and I for L",
        "eight for B",
    ],
)
def test_a_card_code_typed_by_hand_still_leads_to_the_visit(client, setup, visit_today, how, monkeypatch):
    not_home(visit_today, setup)
    # A secret with every letter that has a look-alike, whatever the id's HMAC happens to give.
    monkeypatch.setattr("appointments.links._card_secrets", lambda pk: ["BOIL2QXZ"])

    response = client.get(reverse("card", args=[typed(card_code(visit_today), how)]))

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == PAGE


def test_a_card_code_typed_with_a_trailing_slash_still_leads_to_the_visit(client, setup, visit_today):
    not_home(visit_today, setup)

    response = client.get(reverse("card", args=[card_code(visit_today)]) + "/")

    assert response.status_code == 302 and urlsplit(response["Location"]).path == PAGE


def test_a_card_printed_before_a_key_rotation_still_leads_to_the_visit(client, setup, visit_today, settings):
    not_home(visit_today, setup)
    printed = card_code(visit_today)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-after-rotation-" + "x" * 40

    response = client.get(reverse("card", args=[printed]))

    assert response.status_code == 302 and urlsplit(response["Location"]).path == PAGE
    assert card_code(visit_today) != printed


def test_a_card_printed_under_a_retired_key_gets_the_friendly_page(client, setup, visit_today, settings):
    not_home(visit_today, setup)
    printed = card_code(visit_today)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-after-rotation-" + "x" * 40, []

    response = client.get(reverse("card", args=[printed]))

    assert response.status_code == 404


@pytest.mark.parametrize(
    "tamper", [lambda code: code[:-1] + ("A" if code[-1] != "A" else "B"), lambda code: "9" + code]
)
def test_a_tampered_card_code_gets_the_friendly_page(client, setup, visit_today, tamper):
    response = client.get(reverse("card", args=[tamper(card_code(visit_today))]))

    assert response.status_code == 404
    assert "office@firm.example" in response.content.decode()


def test_the_customer_rebooks_a_missed_visit_from_the_card(
    client, setup, visit_today, django_capture_on_commit_callbacks
):
    not_home(visit_today, setup)
    client.get(reverse("card", args=[card_code(visit_today)]))
    window = re.findall(r'name="window" value="([^"]+)"', client.get(PAGE).content.decode())[0]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(BOOK, {"window": window, "note": ""})

    assert response.status_code == 302
    visit_today.refresh_from_db()
    assert visit_today.status == Status.SCHEDULED and visit_today.version == 2
    assert VisitAttempt.objects.get().rebooked_at is not None
    # The printed card, which may lie anywhere, now only points to the new booking's mail.
    rebooked = client.get(reverse("card", args=[card_code(visit_today)]))
    assert rebooked.status_code == 200
    assert "neuen Termin" in rebooked.content.decode()


def test_booking_the_service_anew_answers_the_missed_visit(client, setup, visit_today):
    not_home(visit_today, setup)
    book_again(setup)

    with time_machine.travel(timezone.now() + timedelta(days=4)):
        assert missed_follow_ups_flag() == 0
    assert VisitAttempt.objects.get().rebooked_at is not None
    assert JournalEntry.objects.filter(appointment=visit_today, action="visit.rebooked").exists()
    card = client.get(reverse("card", args=[card_code(visit_today)]))
    assert card.status_code == 200 and "neuen Termin" in card.content.decode()


def test_the_missed_visits_mail_link_read_after_the_new_booking_says_what_the_card_says(client, setup, visit_today):
    not_home(visit_today, setup)
    missed_link = appointment_token(Appointment.objects.get(pk=visit_today.pk))
    book_again(setup)

    mail_link = client.get(reverse("selfservice:open", args=[missed_link]))

    # Not "this link is no longer valid": the customer learns the visit has its new appointment.
    assert mail_link.status_code == 200
    assert "Für diesen Besuch gibt es einen neuen Termin" in mail_link.content.decode()
    assert 'name="window"' not in mail_link.content.decode()
    assert "nicht mehr gültig" not in mail_link.content.decode()


def test_the_we_were_here_mail_still_waiting_is_not_sent_once_a_new_visit_is_booked(setup, visit_today, mailoutbox):
    not_home(visit_today, setup)
    waiting = OutboxMessage.objects.get(kind=MessageKind.MISSED_VISIT)
    book_again(setup)

    assert message_deliver(message_id=waiting.pk) == MessageStatus.SUPERSEDED
    assert [mail for mail in mailoutbox if "Tür" in mail.subject] == []


def test_a_mere_request_does_not_answer_the_missed_visit_until_it_is_confirmed(setup, visit_today):
    not_home(visit_today, setup)
    request = book_again(setup, requested=True)
    assert VisitAttempt.objects.get().rebooked_at is None

    appointment_confirm(appointment=request, actor=setup["office"])

    assert VisitAttempt.objects.get().rebooked_at is not None


def test_a_day_pack_card_of_a_visit_still_booked_shows_its_window_not_a_new_appointment(client, setup, visit_today):
    page = client.get(reverse("card", args=[card_code(visit_today)])).content.decode()

    assert format_window(visit_today.window_start, visit_today.window_end) in page
    assert "neuen Termin" not in page and CANCEL not in page


def test_a_card_found_after_the_rebooking_can_neither_show_nor_cancel_the_new_booking(
    client, setup, visit_today, django_capture_on_commit_callbacks
):
    not_home(visit_today, setup)
    appointment_reschedule(
        appointment=visit_today, window_start=visit_today.window_start + timedelta(days=2), actor=setup["office"]
    )

    page = client.get(reverse("card", args=[card_code(visit_today)]))
    cancel = client.post(CANCEL, {"reason": "Spaß"})

    content = page.content.decode()
    assert page.status_code == 200
    assert CANCEL not in content and 'name="window"' not in content
    assert format_window(visit_today.window_start, visit_today.window_end) not in content
    assert cancel.status_code == 404
    visit_today.refresh_from_db()
    assert visit_today.status == Status.SCHEDULED


def test_cancelling_a_missed_visit_online_is_refused_without_a_500(client, setup, visit_today):
    not_home(visit_today, setup)
    client.get(reverse("card", args=[card_code(visit_today)]))

    response = client.post(CANCEL, {"reason": "Brauche keinen Termin mehr"})

    assert response.status_code == 404
    visit_today.refresh_from_db()
    assert visit_today.status == Status.MISSED


def test_the_card_of_a_completed_visit_says_so_and_offers_the_phone(client, setup, visit_today):
    user = setup["technician"].user
    visit_arrive(appointment=visit_today, actor=user)
    visit_complete(appointment=visit_today, actor=user)

    response = client.get(reverse("card", args=[card_code(visit_today)]))

    assert response.status_code == 200
    assert "office@firm.example" in response.content.decode()


# Office views --------------------------------------------------------------------------


def test_follow_up_queue_lists_only_open_follow_ups_with_the_facts(admin_client, setup, visit_today):
    not_home(visit_today, setup, note="Hund bellt, niemand öffnet")
    other = appointment_schedule(
        customer=CustomerFactory(full_name="Bernd Rebooked"),
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=visit_today.window_end + timedelta(hours=1),
        actor=setup["office"],
    )
    with time_machine.travel(other.window_start + timedelta(minutes=30)):
        not_home(other, setup)
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        missed_follow_ups_flag()
    appointment_reschedule(appointment=other, window_start=local_dt(8, 8), actor=None)

    changelist = admin_client.get(reverse("admin:appointments_missedvisitfollowup_changelist")).content.decode()
    assert "Anna Schmitz" in changelist and "Bernd Rebooked" not in changelist

    attempt = VisitAttempt.objects.get(appointment=visit_today)
    detail = admin_client.get(reverse("admin:appointments_missedvisitfollowup_change", args=[attempt.pk]))
    content = detail.content.decode()
    assert detail.status_code == 200
    assert "Hund bellt" in content and timezone.localtime(attempt.at).strftime("%H:%M") in content
    assert 'name="_save"' not in content  # a record of what happened: read, not edited


def test_office_closes_follow_ups_from_the_queue(admin_client, setup, visit_today):
    not_home(visit_today, setup)
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        missed_follow_ups_flag()
    attempt = VisitAttempt.objects.get()
    url = reverse("admin:appointments_missedvisitfollowup_changelist")

    form = admin_client.post(url, {"action": "close_follow_up", "_selected_action": [attempt.pk]})
    assert form.status_code == 200  # asks for the note first
    done = admin_client.post(
        url, {"action": "close_follow_up", "_selected_action": [attempt.pk], "apply": "1", "note": "Kein Bedarf mehr"}
    )

    assert done.status_code == 302
    attempt.refresh_from_db()
    assert attempt.follow_up_note == "Kein Bedarf mehr"


def test_staff_who_may_only_view_cannot_close_a_follow_up(client, setup, visit_today):
    not_home(visit_today, setup)
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        missed_follow_ups_flag()
    attempt = VisitAttempt.objects.get()
    viewer = OfficeUserFactory(is_superuser=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_missedvisitfollowup"))
    client.force_login(viewer)
    url = reverse("admin:appointments_missedvisitfollowup_changelist")

    assert client.get(url).status_code == 200
    client.post(url, {"action": "close_follow_up", "_selected_action": [attempt.pk], "apply": "1", "note": "erledigt"})

    attempt.refresh_from_db()
    assert attempt.follow_up_closed_at is None


def test_customer_record_counts_missed_visits_apart_from_cancellations(admin_client, setup, visit_today):
    not_home(visit_today, setup)
    cancelled = book_again(setup)
    appointment_cancel(appointment=cancelled, reason="Kunde verreist", actor=setup["office"])

    response = admin_client.get(reverse("admin:customers_customer_change", args=[setup["customer"].pk]))

    content = response.content.decode()
    assert re.search(r"(nobody home|niemand zu Hause): 1\b", content), "missed visits have a count of their own"
    assert re.search(r"(cancelled|abgesagt): 1\b", content)
    assert not VisitAttempt.objects.filter(appointment=cancelled).exists()
