"""Every promise entry reads as a sentence in the reader's language, built from its data (not the stored text)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from desk.models import PromiseKind
from desk.services.promises import (
    _journal_left_as_is,
    promise_keep,
    promise_make,
    promise_move,
    promise_reassign,
    promise_report_no_answer,
    promise_void,
)
from journal.models import JournalEntry
from journal.services import journal_record
from tests.desk.journal_texts import read
from tests.factories import CustomerFactory, OfficeUserFactory, local_dt

pytestmark = pytest.mark.django_db


def every_promise_entry(office):
    customer = CustomerFactory(email="kunde@example.org")
    colleague = OfficeUserFactory(first_name="Hannelore", last_name="Brinkmann")
    due = timezone.now() + timedelta(days=2)
    made = promise_make(customer=customer, kind=PromiseKind.SEND_QUOTE, owner=office, due_at=due, actor=office)
    moved = promise_move(promise=made, due_at=due + timedelta(days=1), actor=office, reason="Hersteller langsam")
    handed = promise_reassign(promise=moved, owner=colleague, actor=office)
    later = promise_report_no_answer(
        promise=handed,
        waiting_for="das Angebot des Herstellers",
        next_contact_at=due + timedelta(days=3),
        actor=office,
    )
    _journal_left_as_is(later, reason="Besuch verschoben", code="visit_moved", actor=office)
    call = journal_record(customer=customer, action="contact.recorded", data={"note": "Angebot besprochen"})
    promise_keep(promise=later, entry=call, actor=office)
    other = promise_make(customer=customer, kind=PromiseKind.CHECK, owner=office, due_at=due, actor=office)
    promise_void(promise=other, reason="erledigt sich", actor=office)
    return {entry.action: entry.data for entry in JournalEntry.objects.filter(action__startswith="promise.")}


def test_every_promise_action_is_said_in_german_dutch_and_english(office_user):
    office_user.first_name, office_user.last_name = "Sandra", "Meier"
    office_user.save()
    entries = every_promise_entry(office_user)

    assert set(entries) == {
        "promise.made",
        "promise.moved",
        "promise.reassigned",
        "promise.no_answer_yet",
        "promise.unchanged",
        "promise.kept",
        "promise.voided",
    }
    for action, data in entries.items():
        texts = {language: read(action, data, language) for language in ("de", "nl", "en")}
        assert "x" not in texts.values(), action
        assert len(set(texts.values())) == 3, (action, texts)


def test_a_promise_made_names_what_by_when_and_whose_in_the_readers_language(office_user):
    customer = CustomerFactory()
    office_user.first_name, office_user.last_name = "Sandra", "Meier"
    office_user.save()
    promise_make(customer=customer, kind=PromiseKind.CALL_BACK, owner=office_user, due_at=local_dt(3, 11))
    data = JournalEntry.objects.get(action="promise.made").data

    assert read("promise.made", data, "de").startswith("Zusage: zurückrufen bis ")
    assert read("promise.made", data, "nl").startswith("Toezegging: terugbellen uiterlijk ")
    assert read("promise.made", data, "en").endswith(", 11:00 (Sandra Meier).")
