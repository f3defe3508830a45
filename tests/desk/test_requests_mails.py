"""The reply to a website request and the mail after the customer moved the call, read as the customer reads them."""

import re
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone, translation

from desk.models import MatchOutcome, WebRequest
from desk.services import request_email_instead, request_move_call, request_submit
from notifications.models import MessageKind, MessageStatus, OutboxMessage
from notifications.registry import registered_kinds
from notifications.rendering import render_message
from notifications.services import messages_deliver
from notifications.superseded import last_error_display
from tests.factories import (
    FirmFactory,
    OfficeProfileFactory,
    OfficeUserFactory,
    request_fields,
    request_fields_on_file,
)

MONDAY = date(2026, 11, 30)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


@pytest.fixture
def owner(db, settings):
    settings.SITE_URL = "https://doorstep.example"
    FirmFactory(name="Haustechnik Verhaag", phone="+492821100000", email="office@firm.example")
    user = OfficeUserFactory(
        first_name="Sandra", last_name="Brinkmann", email="sandra@firm.example", office_profile=None
    )
    OfficeProfileFactory(user=user, direct_phone="+492821555123", direct_email="s.brinkmann@firm.example")
    return user


def submit_fields(**changes) -> dict:
    return request_fields(**{"phone": "", "about": "Our boiler <b>makes</b> a noise.", **changes})


def submit(language: str, **changes) -> WebRequest:
    return request_submit(fields=submit_fields(**changes), language=language, now=at(MONDAY, 10))


EXPECTED = {
    "de": ("Sandra Brinkmann ruft Sie am Di, 1. Dezember 2026 um 10:00 an.", "Ihr Anliegen:", "Andere Zeit wählen"),
    "nl": ("Sandra Brinkmann belt u op di, 1 december 2026 om 10:00.", "Uw vraag:", "Ander tijdstip kiezen"),
    "en": (
        "Sandra Brinkmann will call you on Tue, Dec. 1, 2026 at 10:00.",
        "What you asked about:",
        "Choose another time",
    ),
}


@time_machine.travel(at(MONDAY, 10), tick=False)
@pytest.mark.parametrize("language", ["de", "nl", "en"])
def test_the_reply_names_the_owner_the_call_time_the_question_and_the_link(owner, language):
    web_request = submit(language)
    mail = render_message(OutboxMessage.objects.get(kind=MessageKind.REQUEST_REPLY))
    html = mail.alternatives[0].content
    when, asked, button = EXPECTED[language]

    assert mail.to == ["eva@example.nl"] and mail.extra_headers["Content-Language"] == language
    assert "Sandra Brinkmann" in mail.subject and "10:00" in mail.subject
    for body in (mail.body, html):
        assert when in body
        assert "Sandra Brinkmann" in body and "+49 2821 555123" in body and "s.brinkmann@firm.example" in body
        assert asked in body
    # What they wrote: as text in the text part, escaped in the HTML part.
    assert "Our boiler <b>makes</b> a noise." in mail.body
    assert "Our boiler &lt;b&gt;makes&lt;/b&gt; a noise." in html
    link = f"https://doorstep.example/request/call/{web_request.pk}/{web_request.link_secret}/"
    assert link in mail.body and link in html and button in html
    # Replies go to the person who calls.
    assert mail.reply_to == ["s.brinkmann@firm.example"]


@time_machine.travel(at(MONDAY, 13), tick=False)
def test_the_reply_says_the_promise_came_before_the_preferred_morning(owner, settings):
    settings.REQUEST_CALLBACK_WITHIN = timedelta(hours=3)
    request_submit(fields={**submit_fields(), "reachable": "mornings"}, language="en", now=at(MONDAY, 13))
    mail = render_message(OutboxMessage.objects.get(kind=MessageKind.REQUEST_REPLY))

    for body in (mail.body, mail.alternatives[0].content):
        assert "You would rather be called in the morning." in body


@time_machine.travel(at(MONDAY, 10), tick=False)
def test_the_mail_after_a_move_names_the_new_time(owner):
    web_request = submit("de")
    request_move_call(web_request=web_request, due_at=at(date(2026, 12, 2), 14), now=timezone.now())
    mail = render_message(OutboxMessage.objects.get(kind=MessageKind.CALL_TIME_CHANGED))
    assert "Neue Zeit für unseren Anruf: Mi, 2. Dezember 2026 um 14:00" == mail.subject
    assert "ruft Sandra Brinkmann Sie nun am Mi, 2. Dezember 2026 um 14:00 an." in mail.body
    assert "Zur alten Zeit ruft Sie niemand an." in mail.body


@time_machine.travel(at(MONDAY, 10), tick=False)
def test_a_reply_sent_after_a_move_names_the_current_time_not_the_first(owner):
    web_request = submit("en")
    request_move_call(web_request=web_request, due_at=at(date(2026, 12, 2), 14), now=timezone.now())
    mail = render_message(OutboxMessage.objects.get(kind=MessageKind.REQUEST_REPLY))
    assert "Wed, Dec. 2, 2026 at 14:00" in mail.body and "10:00" not in re.sub(r"\+49[\d ]+", "", mail.body)


def test_the_desks_request_kinds_are_registered(db):
    kinds = {registration.kind for registration in registered_kinds()}
    assert {MessageKind.REQUEST_REPLY, MessageKind.CALL_TIME_CHANGED} <= kinds


@time_machine.travel(at(MONDAY, 10), tick=False)
@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_known_customer_gets_the_reply_and_the_move_mail_in_the_language_chosen_on_the_form(owner, language):
    # The form asks "Language for our reply"; the customer's record (not overwritten from a public form)
    # may say another one.
    request_fields_on_file(preferred_language="de", responsible=owner)
    web_request = submit(language)
    assert web_request.match == MatchOutcome.MATCHED
    request_move_call(web_request=web_request, due_at=at(MONDAY, 15), now=at(MONDAY, 10))

    for kind in (MessageKind.REQUEST_REPLY, MessageKind.CALL_TIME_CHANGED):
        message = OutboxMessage.objects.get(kind=kind)
        mail = render_message(message)
        assert message.language == language and mail.extra_headers["Content-Language"] == language
        assert "Sandra Brinkmann ruft Sie" not in mail.body and "Guten Tag" not in mail.body


@time_machine.travel(at(MONDAY, 10), tick=False)
def test_a_move_mail_not_yet_sent_when_the_customer_changes_the_call_again_is_not_sent(owner, mailoutbox):
    # Mail delayed (the server was away): the customer moves the call twice, then asks for email instead.
    web_request = submit("en")
    request_move_call(web_request=web_request, due_at=at(date(2026, 12, 2), 14), now=timezone.now())
    request_move_call(web_request=web_request, due_at=at(date(2026, 12, 3), 9), now=timezone.now())
    first, second = OutboxMessage.objects.filter(kind=MessageKind.CALL_TIME_CHANGED).order_by("pk")
    assert messages_deliver(message_ids=[first.pk]) == {first.pk: MessageStatus.SUPERSEDED}

    request_email_instead(web_request=web_request, now=timezone.now())
    assert messages_deliver(message_ids=[second.pk]) == {second.pk: MessageStatus.SUPERSEDED}
    # Only the mail about the last change (the answer by email) is still to be sent.
    assert not mailoutbox
    assert OutboxMessage.objects.filter(kind=MessageKind.CALL_TIME_CHANGED, status=MessageStatus.QUEUED).count() == 1
    second.refresh_from_db()
    with translation.override("en"):
        assert "changed the call again" in last_error_display(second.last_error)


EMAIL_INSTEAD = {
    "de": (
        "Ihre Anfrage: Sandra Brinkmann antwortet Ihnen per E-Mail",
        "wie gewünscht antworten wir Ihnen per E-Mail, statt anzurufen: Sandra Brinkmann schreibt Ihnen "
        "spätestens am Di, 1. Dezember 2026 um 10:00.",
    ),
    "nl": (
        "Uw aanvraag: Sandra Brinkmann antwoordt u per e-mail",
        "zoals u vroeg, antwoorden wij u per e-mail in plaats van te bellen: Sandra Brinkmann schrijft u "
        "uiterlijk op di, 1 december 2026 om 10:00.",
    ),
    "en": (
        "Your request: Sandra Brinkmann will answer you by email",
        "as you asked, we will answer you by email instead of calling: Sandra Brinkmann will write to you "
        "by 10:00 on Tue, Dec. 1, 2026 at the latest.",
    ),
}


@time_machine.travel(at(MONDAY, 10), tick=False)
@pytest.mark.parametrize("language", ["de", "nl", "en"])
def test_asking_for_email_instead_is_confirmed_by_mail_naming_the_owner(owner, language, mailoutbox):
    web_request = submit(language)
    request_email_instead(web_request=web_request, now=timezone.now())
    message = OutboxMessage.objects.get(kind=MessageKind.CALL_TIME_CHANGED)
    assert messages_deliver(message_ids=[message.pk]) == {message.pk: MessageStatus.SENT}

    (mail,) = mailoutbox
    html = mail.alternatives[0][0]
    subject, sentence = EMAIL_INSTEAD[language]
    assert mail.subject == subject and mail.to == ["eva@example.nl"]
    for body in (mail.body, html):
        assert " ".join(body.split()).count(sentence) == 1
        assert "+49 2821 555123" in body and "s.brinkmann@firm.example" in body
        # The call is gone: no link to move it.
        assert f"/request/call/{web_request.pk}/" not in body
    assert "Our boiler <b>makes</b> a noise." in mail.body
    assert mail.reply_to == ["s.brinkmann@firm.example"]


@time_machine.travel(at(MONDAY, 10), tick=False)
def test_the_email_instead_confirmation_replaces_a_move_mail_still_queued(owner, mailoutbox):
    web_request = submit("de")
    request_move_call(web_request=web_request, due_at=at(date(2026, 12, 2), 14), now=timezone.now())
    request_email_instead(web_request=web_request, now=timezone.now())
    moved, email_instead = OutboxMessage.objects.filter(kind=MessageKind.CALL_TIME_CHANGED).order_by("pk")

    assert messages_deliver(message_ids=[moved.pk, email_instead.pk]) == {
        moved.pk: MessageStatus.SUPERSEDED,
        email_instead.pk: MessageStatus.SENT,
    }
    (mail,) = mailoutbox
    assert "per E-Mail" in mail.subject and "Mi, 2. Dezember 2026 um 14:00" in mail.body


@time_machine.travel(at(MONDAY, 10), tick=False)
def test_asking_for_email_instead_twice_sends_one_confirmation(owner):
    web_request = submit("nl")
    request_email_instead(web_request=web_request, now=timezone.now())
    request_email_instead(web_request=web_request, now=timezone.now())
    assert OutboxMessage.objects.filter(kind=MessageKind.CALL_TIME_CHANGED).count() == 1
