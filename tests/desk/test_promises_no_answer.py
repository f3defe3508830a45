"""Seed story 001's third rule: a promise whose answer is not ready still gets kept. "No answer yet" tells
the customer what we wait for, when they hear next and from whom, and moves the promise to that time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from desk.models import InboundMail, Promise, PromiseKind, PromiseState
from desk.services import PromiseError, promise_make, promise_report_no_answer, promise_void, request_submit
from journal.models import JournalEntry
from notifications.models import MessageKind, OutboxMessage
from notifications.rendering import render_message
from tests.factories import (
    CustomerFactory,
    FirmFactory,
    OfficeUserFactory,
    UserFactory,
    local_dt,
    request_fields_on_file,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    FirmFactory()
    return OfficeUserFactory(first_name="Sandra", last_name="Brinkmann", email="sandra@firm.example")


def promise_for(owner, language="de", **customer):
    # The customer's usual contact is someone else: the note must name the promise's owner.
    usual = OfficeUserFactory(username="usual", first_name="Udo", last_name="Usual")
    person = CustomerFactory(full_name="Anna Schmitz", preferred_language=language, responsible=usual, **customer)
    return promise_make(customer=person, kind=PromiseKind.SEND_QUOTE, owner=owner, due_at=local_dt(1, 10))


def report(promise, owner, **kwargs):
    return promise_report_no_answer(
        promise=promise,
        waiting_for=kwargs.get("waiting_for", "das Angebot des Herstellers"),
        next_contact_at=kwargs.get("next_contact_at", local_dt(3, 12)),
        actor=owner,
    )


def test_no_answer_yet_moves_the_promise_queues_one_note_and_journals_it(owner):
    promise = promise_for(owner)

    new = report(promise, owner)

    promise.refresh_from_db()
    assert promise.state == PromiseState.MOVED and new.replaces == promise
    assert new.due_at == local_dt(3, 12) and new.state == PromiseState.OPEN
    message = OutboxMessage.objects.get()
    assert (message.kind, message.customer, message.language) == (MessageKind.PROMISE_STATUS, promise.customer, "de")
    entry = JournalEntry.objects.get(action="promise.no_answer_yet")
    assert entry.data["waiting_for"] == "das Angebot des Herstellers" and entry.actor == owner


def test_a_second_report_on_the_new_promise_sends_a_second_note(owner):
    first = report(promise_for(owner), owner)
    report(first, owner, next_contact_at=local_dt(5, 12))

    assert OutboxMessage.objects.filter(kind=MessageKind.PROMISE_STATUS).count() == 2


@pytest.mark.parametrize(
    "language, words",
    [
        (
            "de",
            ["Noch keine Antwort", "warten noch auf das Angebot des Herstellers", "spätestens", "Sandra Brinkmann"],
        ),
        ("nl", ["Nog geen antwoord", "wachten nog op das Angebot des Herstellers", "uiterlijk", "Sandra Brinkmann"]),
        (
            "en",
            ["No answer yet", "still waiting for das Angebot des Herstellers", "at the latest", "Sandra Brinkmann"],
        ),
    ],
)
def test_the_note_names_what_we_wait_for_when_they_hear_next_and_the_owner_in_their_language(owner, language, words):
    promise = promise_for(owner, language=language)
    report(promise, owner)

    mail = render_message(OutboxMessage.objects.get())
    html = mail.alternatives[0][0]
    for text in (mail.subject + "\n" + mail.body, html):
        for word in words:
            assert word in text, (language, word, text)
        assert "+49 2821 123456" in text  # the owner's direct phone
        assert "sandra@firm.example" in text
        assert "Udo Usual" not in text
    assert mail.reply_to == ["Sandra Brinkmann <sandra@firm.example>"] or mail.reply_to == ["sandra@firm.example"]


def test_the_note_gives_the_firms_phone_when_the_owner_has_no_direct_one(owner):
    plain = UserFactory(username="plain", first_name="Paul", last_name="Plain", email="paul@firm.example")
    promise = promise_for(owner)
    promise.owner = plain
    promise.save(update_fields=["owner"])
    report(promise, plain)

    body = render_message(OutboxMessage.objects.get()).body
    assert "Paul Plain" in body and "+49 2821 100000" in body


@pytest.mark.parametrize(
    "kwargs, code",
    [
        ({"waiting_for": "   "}, "waiting_for"),
        ({"waiting_for": "x" * 301}, "waiting_for"),
        ({"next_contact_at": timezone.now() - timedelta(minutes=1)}, "next_contact_at"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(owner, kwargs, code):
    promise = promise_for(owner)
    entries = JournalEntry.objects.count()

    with pytest.raises(PromiseError) as refused:
        report(promise, owner, **kwargs)

    assert refused.value.code == code
    assert Promise.objects.get(pk=promise.pk).state == PromiseState.OPEN
    assert (JournalEntry.objects.count(), OutboxMessage.objects.count()) == (entries, 0)


def test_a_customer_without_email_is_called_instead(owner):
    promise = promise_for(owner, email="")

    with pytest.raises(PromiseError) as refused:
        report(promise, owner)

    assert refused.value.code == "no_email"
    assert Promise.objects.get(pk=promise.pk).state == PromiseState.OPEN


def test_a_closed_promise_gets_no_note(owner):
    promise = promise_void(promise=promise_for(owner), reason="erledigt")

    with pytest.raises(PromiseError):
        report(promise, owner)
    assert not OutboxMessage.objects.exists()


def test_the_note_goes_in_the_language_of_the_website_request_not_the_customers_record(owner):
    customer = request_fields_on_file(preferred_language="de", responsible=owner)
    typed = {"full_name": "Eva Janssen", "email": "eva@example.nl", "phone": "", "street": "Hoogstraat 5"}
    typed |= {"postcode": "6511 AB", "city": "Nijmegen", "country": "NL", "about": "De ketel maakt lawaai."}
    web_request = request_submit(fields=typed, language="nl", now=timezone.now())
    assert web_request.customer == customer  # matched: the record keeps its own language

    report(web_request.promise, owner)

    note = OutboxMessage.objects.get(kind=MessageKind.PROMISE_STATUS)
    assert note.language == "nl"
    assert "Nog geen antwoord" in render_message(note).subject


def test_a_later_note_follows_the_language_of_the_earlier_mails_about_the_promise(owner):
    promise = promise_for(owner, language="de")
    mail_about_it = report(promise, owner)
    OutboxMessage.objects.filter(kind=MessageKind.PROMISE_STATUS).update(language="en")  # as a reply went out
    promise.customer.preferred_language = "nl"
    promise.customer.save()

    report(mail_about_it, owner, next_contact_at=local_dt(5, 12))

    assert list(OutboxMessage.objects.order_by("pk").values_list("language", flat=True)) == ["en", "en"]


def test_a_reply_promise_is_reported_in_the_language_of_our_mail_the_customer_answered(owner):
    customer = CustomerFactory(preferred_language="de", responsible=owner)
    ours = OutboxMessage.objects.create(
        kind=MessageKind.CONFIRMATION,
        dedupe_key="test:ours",
        customer=customer,
        to_email=customer.email,
        language="nl",
    )
    promise = promise_make(customer=customer, kind=PromiseKind.REPLY_MAIL, owner=owner, due_at=local_dt(1, 10))
    InboundMail.objects.create(
        source="test", from_email=customer.email, customer=customer, outbox_message=ours, promise=promise
    )

    report(promise, owner)

    assert OutboxMessage.objects.get(kind=MessageKind.PROMISE_STATUS).language == "nl"
