"""The desk's journal entries (promises, mail that came in) read in the reader's language on the customer's
timeline, never as the office language's stored summary (#12: one timeline, readable in de and nl)."""

import re

import pytest
from django.utils import translation

from desk.models import PromiseKind
from desk.services import (
    inbound_assign,
    inbound_dismiss,
    inbound_receive,
    promise_keep,
    promise_make,
    promise_move,
    promise_reassign,
    promise_report_no_answer,
    promise_void,
)
from desk.services.promises import promises_follow_visit, promises_visit_cancelled
from journal.models import JournalEntry
from journal.rendering import entry_text
from journal.services import journal_record
from tests.desk.inbound_samples import sample
from tests.factories import AppointmentFactory, CustomerFactory, FirmFactory, OfficeUserFactory, local_dt

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

GERMAN_WORDS = ("Zusage", "E-Mail von", "Automatische Antwort", "Keine Antwort", "Kunde", " bis ")


def desk_history():
    """Every kind of desk entry, written while the office works in German."""
    FirmFactory(email="office@heizung-beispiel.de")
    office = OfficeUserFactory(first_name="Sandra", last_name="Brinkmann")
    colleague = OfficeUserFactory(first_name="Hannelore", last_name="Oostenbrink")
    customer = CustomerFactory(full_name="Jürgen Müller", email="juergen.mueller@example.de", responsible=office)
    visit = AppointmentFactory(customer=customer)
    with translation.override("de"):
        promise = promise_make(customer=customer, kind=PromiseKind.CALL_BACK, owner=office, due_at=local_dt(1, 10))
        promise = promise_move(promise=promise, due_at=local_dt(2, 10), actor=office, reason="im Urlaub")
        promise = promise_reassign(promise=promise, owner=colleague, actor=office)
        promise = promise_report_no_answer(
            promise=promise, waiting_for="das Angebot des Herstellers", next_contact_at=local_dt(3, 9), actor=office
        )
        call = journal_record(customer=customer, action="contact.recorded", summary="Angerufen", actor=office)
        promise_keep(promise=promise, entry=call, actor=office)
        dropped = promise_make(
            customer=customer, kind=PromiseKind.SEND_INFORMATION, owner=office, due_at=local_dt(1, 12)
        )
        promise_void(promise=dropped, reason="hat schon alles", actor=office, code="office")
        before = promise_make(
            customer=customer,
            kind=PromiseKind.CALL_BEFORE_VISIT,
            owner=office,
            due_at=local_dt(1, 8),
            appointment=visit,
        )
        confirm = promise_make(
            customer=customer, kind=PromiseKind.CONFIRM_TIME, owner=office, due_at=local_dt(1, 9), appointment=visit
        )
        quote = promise_make(
            customer=customer, kind=PromiseKind.SEND_QUOTE, owner=office, due_at=local_dt(4, 9), appointment=visit
        )
        old_start, old_end = visit.window_start, visit.window_end
        visit.window_start += local_dt(1, 0) - local_dt(0, 0)
        visit.window_end += local_dt(1, 0) - local_dt(0, 0)
        promises_follow_visit(appointment=visit, old_window_start=old_start, old_window_end=old_end)
        promises_visit_cancelled(appointment=visit, reason="Haus verkauft")
        inbound_receive(raw=sample("out_of_office.eml"), source="pipe")
        reply = inbound_receive(raw=sample("reply_de_quoted.eml"), source="pipe")
        unknown = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")
        inbound_assign(mail=unknown, customer=customer, actor=office)
        inbound_dismiss(mail=reply, reason="schon telefonisch geklärt", actor=office)
    assert before.pk and confirm.pk and quote.pk
    return customer


def test_every_desk_entry_reads_in_dutch_for_a_dutch_reader_not_as_the_stored_german_summary():
    customer = desk_history()
    entries = JournalEntry.objects.filter(customer=customer).exclude(action__in=["contact.recorded"])
    actions = set(entries.values_list("action", flat=True))
    assert {"promise.made", "promise.moved", "promise.reassigned", "promise.no_answer_yet", "promise.kept"} <= actions
    assert {"promise.voided", "promise.unchanged", "inbound.received", "inbound.auto_reply"} <= actions
    assert "inbound.dismissed" in actions

    with translation.override("nl"):
        texts = {(entry.action, entry.pk): entry_text(entry) for entry in entries if "." in entry.action}
    desk_texts = {key: text for key, text in texts.items() if key[0].split(".")[0] in ("promise", "inbound")}
    for (action, _pk), text in desk_texts.items():
        assert not any(word in text for word in GERMAN_WORDS), (action, text)
        assert not re.search(r"\d{4}-\d{2}-\d{2}", text), (action, text)  # times as people write them


def test_a_promise_entry_reads_in_german_for_a_german_reader_with_its_free_text_as_typed():
    customer = desk_history()
    with translation.override("de"):
        moved = entry_text(
            JournalEntry.objects.filter(customer=customer, action="promise.moved", data__reason_code="").get()
        )
        voided = entry_text(
            JournalEntry.objects.filter(customer=customer, action="promise.voided", data__reason_code="office").get()
        )
    assert moved.startswith("Zusage verschoben: zurückrufen") and "im Urlaub" in moved
    assert "hat schon alles" in voided


def test_the_reasons_the_system_gives_read_in_the_readers_language():
    customer = desk_history()
    with translation.override("nl"):
        cancelled = entry_text(
            JournalEntry.objects.filter(
                customer=customer, action="promise.voided", data__reason_code="visit_cancelled"
            ).first()
        )
        moved = entry_text(
            JournalEntry.objects.filter(
                customer=customer, action="promise.moved", data__reason_code="visit_moved"
            ).get()
        )
    assert "geannuleerd" in cancelled and "Haus verkauft" in cancelled
    assert "verplaatst" in moved and "Termin" not in moved
