"""What the journal says about a visit is built from the entry's data, in the reader's language."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone, translation

from appointments.services import (
    appointment_cancel,
    appointment_reschedule,
    appointment_schedule,
    appointment_update_details,
    visit_arrive,
    visit_complete,
    visit_mark_missed,
    visit_start_trip,
)
from appointments.services.booking import (
    appointment_cancel_online,
    appointment_request_new_time,
    booking_invitation_withdraw,
    booking_invite,
)
from appointments.services.follow_up import follow_up_close, missed_follow_ups_flag
from appointments.services.replanning import appointment_change_duration, appointment_replan
from journal.models import JournalEntry
from journal.rendering import entry_text, registered_actions
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


@pytest.fixture
def setup(db):
    FirmFactory()
    office = OfficeUserFactory()
    service_type = ServiceTypeFactory(
        name="Boiler maintenance",
        name_de="Heizungswartung",
        name_nl="CV-ketel onderhoud",
        duration=timedelta(hours=1),
        arrival_window=timedelta(hours=2),
    )
    technician = TechnicianFactory(service_types=[service_type], display_name="Jan Verhaag")
    customer = CustomerFactory(responsible=office)
    return {"office": office, "service_type": service_type, "technician": technician, "customer": customer}


def schedule(setup, window_start):
    return appointment_schedule(
        customer=setup["customer"],
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=window_start,
        actor=setup["office"],
    )


def latest(action: str) -> JournalEntry:
    return JournalEntry.objects.filter(action=action).latest("id")


def test_a_booked_and_moved_visit_reads_in_german_dutch_and_english(setup):
    visit = schedule(setup, local_dt(2, 8))
    appointment_reschedule(
        appointment=visit, window_start=local_dt(3, 10), actor=setup["office"], reason="Kunde ist krank"
    )

    booked, moved = latest("appointment.scheduled"), latest("appointment.rescheduled")
    assert as_read_in("de", booked).startswith("Besuch geplant: Heizungswartung, ")
    assert as_read_in("nl", booked).startswith("Bezoek ingepland: CV-ketel onderhoud, ")
    assert as_read_in("en", booked).startswith("Visit scheduled: Boiler maintenance, ")
    assert as_read_in("nl", booked).endswith(" met Jan Verhaag.")
    assert as_read_in("nl", moved).startswith("Bezoek verzet van ")
    assert as_read_in("en", moved).endswith("with Jan Verhaag. Reason: Kunde ist krank")
    # The times in the reader's own format: a Dutch day name, an English one.
    with translation.override("nl"):
        assert timezone.localtime(local_dt(3, 10)).strftime("%Y") in as_read_in("nl", moved)


def test_reasons_stored_as_codes_are_said_in_the_readers_language(setup):
    invitation = booking_invite(customer=setup["customer"], service_type=setup["service_type"], actor=setup["office"])
    booking_invitation_withdraw(invitation=invitation, actor=setup["office"])

    closed = latest("booking.invitation_closed")
    assert closed.data["reason"] == "withdrawn"
    assert as_read_in("nl", closed) == (
        "Uitnodiging om online te boeken (CV-ketel onderhoud) gesloten: door het kantoor ingetrokken."
    )
    assert (
        as_read_in("en", closed) == "Invitation to book online (Boiler maintenance) closed: withdrawn by the office."
    )
    assert as_read_in("en", latest("booking.invited")) == "Invited to book online: Boiler maintenance."


def test_a_cancellation_online_keeps_the_customers_words_and_says_the_rest_in_the_readers_language(setup):
    visit = schedule(setup, local_dt(5, 8))

    appointment_cancel_online(appointment=visit, reason="Wir sind verreist.")

    cancelled = latest("appointment.cancelled")
    assert (
        as_read_in("en", cancelled) == "Visit cancelled. Reason: Cancelled online by the customer. Wir sind verreist."
    )
    assert as_read_in("nl", cancelled).startswith("Bezoek geannuleerd. Reden: ")
    assert as_read_in("nl", cancelled).endswith(" Wir sind verreist.")


def test_changed_details_name_the_fields_in_the_readers_language(setup):
    visit = schedule(setup, local_dt(2, 8))

    appointment_update_details(appointment=visit, changes={"notes": "Hund im Garten"}, actor=setup["office"])

    changed = latest("appointment.updated")
    assert changed.data["fields"] == ["notes"]
    assert as_read_in("en", changed) == "Visit details changed: notes."
    assert as_read_in("de", changed) != as_read_in("en", changed)


def every_kind_of_visit_entry(setup) -> None:
    """One of each: booked, re-planned, longer, moved, asked for a new time, on the way, there, done,
    not home, flagged, closed, rebooked, cancelled."""
    later = schedule(setup, local_dt(7, 8))
    appointment_replan(appointment=later, planned_start=local_dt(7, 8) + timedelta(minutes=30), actor=None)
    appointment_change_duration(appointment=later, expected_duration=timedelta(minutes=90), actor=None)
    appointment_request_new_time(appointment=later, actor=setup["office"], reason="Monteur krank")
    appointment_cancel(appointment=later, reason="Kunde hat abgesagt", actor=setup["office"])

    start = max(local_dt(0, 0), timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1))
    done = schedule(setup, start)
    visit_start_trip(appointment=done, actor=None, expected_arrival=timezone.now() + timedelta(minutes=20))
    visit_arrive(appointment=done, actor=None)
    visit_complete(appointment=done, actor=None, report="Brenner gereinigt.")

    missed = appointment_schedule(
        customer=CustomerFactory(responsible=setup["office"]),
        service_type=setup["service_type"],
        technician=TechnicianFactory(service_types=[setup["service_type"]]),
        window_start=start,
        actor=setup["office"],
    )
    visit_mark_missed(appointment=missed, actor=None, waited_minutes=10, note="Zettel an der Tür", card_left=True)
    with time_machine.travel(timezone.now() + timedelta(days=10)):
        missed_follow_ups_flag()
    follow_up_close(attempt=missed.attempts.get(), actor=setup["office"], note="Kunde ruft zurück.")
    appointment_schedule(
        customer=missed.customer,
        service_type=setup["service_type"],
        technician=setup["technician"],
        window_start=local_dt(9, 8),
        actor=setup["office"],
    )


def test_every_visit_entry_renders_from_its_data_in_every_language(setup):
    every_kind_of_visit_entry(setup)

    entries = list(JournalEntry.objects.exclude(action__startswith="message.").exclude(action__startswith="customer."))
    actions = {entry.action for entry in entries}
    assert {
        "appointment.replanned",
        "appointment.duration_changed",
        "appointment.new_time_requested",
        "appointment.cancelled",
        "visit.trip_started",
        "visit.completed",
        "visit.missed",
        "visit.follow_up_flagged",
        "visit.follow_up_closed",
        "visit.rebooked",
    } <= actions
    for entry in entries:
        assert entry.action in registered_actions()
        texts = {language: as_read_in(language, entry) for language in ("de", "nl", "en")}
        assert "x" not in texts.values(), entry.action
        assert not any("%(" in text for text in texts.values()), entry.action
        assert texts["de"] != texts["nl"] != texts["en"], entry.action


def test_the_visit_facts_and_notes_are_kept_as_typed(setup):
    every_kind_of_visit_entry(setup)

    assert as_read_in("nl", latest("visit.completed")) == "Bezoek afgerond. Brenner gereinigt."
    assert as_read_in("en", latest("visit.missed")).endswith(
        "Waited 10 minutes. Card left at the door. Zettel an der Tür"
    )
    assert as_read_in("en", latest("visit.follow_up_closed")) == (
        "Follow-up of the missed visit closed: Kunde ruft zurück."
    )
    assert as_read_in("en", latest("appointment.new_time_requested")).endswith("Reason: Monteur krank")


def test_an_entry_written_before_its_data_had_the_needed_keys_shows_its_stored_text(setup):
    visit = schedule(setup, local_dt(2, 8))
    old = JournalEntry.objects.create(
        customer=visit.customer,
        appointment=visit,
        channel="system",
        direction="internal",
        action="appointment.rescheduled",
        summary="Termin verschoben (alter Eintrag).",
        data={"window_start": visit.window_start.isoformat()},
    )

    with translation.override("nl"):
        assert entry_text(old) == "Termin verschoben (alter Eintrag)."
