"""inbound_receive: each mail stored once, matched to its customer and visit, journalled and promised a reply;
automatic replies, loops and delivery reports kept and never answered."""

import pytest
import time_machine
from django.conf import settings as django_settings

from desk.models import InboundKind, InboundMail, InboundStatus, Promise, PromiseKind, PromiseState
from desk.services import InboundError, inbound_assign, inbound_dismiss, inbound_receive, promise_keep, promise_move
from desk.working_time import add_working_time
from journal.models import Channel, Direction, JournalEntry
from journal.services import journal_record
from notifications.models import BounceKind, MessageKind, MessageStatus, OutboxMessage
from notifications.replies import new_message_id, reply_address
from tests.desk.inbound_samples import mail_with_attachment, replace, sample, with_header
from tests.factories import AppointmentFactory, CustomerFactory, OfficeUserFactory, local_dt

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

# The ids the samples quote where ours go; `ours_in` puts a sent message's own (signed) id there.
OUR_REPLY_ID = "<176450.11.2@doorstep.example>"
OUR_BOUNCED_ID = "<176452.13.4@doorstep.example>"


def sent_message(customer, *, appointment=None) -> OutboxMessage:
    """Our mail to `customer`, sent with a Message-ID of ours (signed, as notifications.rendering sets it)."""
    message = OutboxMessage.objects.create(
        kind=MessageKind.CONFIRMATION,
        status=MessageStatus.SENT,
        dedupe_key=f"test:{OutboxMessage.objects.count()}",
        customer=customer,
        appointment=appointment,
        to_email=customer.email,
        language="de",
        subject="Ihr Termin am Donnerstag",
    )
    message.provider_message_id = new_message_id(message, domain="doorstep.example")
    message.save(update_fields=["provider_message_id"])
    return message


def ours_in(raw: bytes, message: OutboxMessage, *, where: str = OUR_REPLY_ID) -> bytes:
    return replace(raw, where, message.provider_message_id)


def test_a_reply_naming_our_mail_in_references_lands_with_its_customer_and_visit_and_is_promised_an_answer(juergen):
    visit = AppointmentFactory(customer=juergen)
    ours = sent_message(juergen, appointment=visit)
    # The customer wrote from another address than the one we know: References still find them.
    raw = replace(
        ours_in(sample("reply_de_quoted.eml"), ours), "Juergen.Mueller@Example.DE", "j.mueller@arbeit.example"
    )
    now = local_dt(1, 10)

    with time_machine.travel(now, tick=False):
        mail = inbound_receive(raw=raw, source="pipe")

    assert (mail.customer, mail.appointment, mail.outbox_message) == (juergen, visit, ours)
    assert mail.matched_by == "references" and mail.status == InboundStatus.NEW
    entry = JournalEntry.objects.get(action="inbound.received")
    assert (entry.customer, entry.appointment, entry.channel, entry.direction) == (
        juergen,
        visit,
        Channel.EMAIL,
        Direction.INBOUND,
    )
    assert entry.data["inbound_id"] == mail.pk
    assert entry.data["subject"] == "AW: Ihr Termin am Donnerstag – Grüße aus Köln"
    assert entry.data["excerpt"].startswith("Guten Tag,") and "Anna Schmidt" not in entry.data["excerpt"]
    promise = mail.promise
    assert (promise.kind, promise.customer, promise.appointment, promise.owner) == (
        PromiseKind.REPLY_MAIL,
        juergen,
        visit,
        juergen.responsible,
    )
    assert promise.due_at == add_working_time(now, django_settings.REPLY_WITHIN)
    assert promise.made_in == entry == mail.journal_entry


def test_a_reply_to_our_signed_reply_address_finds_the_mail_it_answers(juergen, settings):
    settings.INBOUND_REPLY_ADDRESS = "office+{token}@mail.heizung-beispiel.de"
    ours = sent_message(juergen, appointment=AppointmentFactory(customer=juergen))
    raw = with_header(sample("reply_nl.eml"), "Delivered-To", reply_address(ours).upper())

    mail = inbound_receive(raw=raw, source="pipe")

    assert mail.outbox_message == ours and mail.matched_by == "reply_address"
    assert (mail.customer, mail.appointment) == (juergen, ours.appointment)


def test_a_dutch_reply_is_matched_by_its_sender_address_whatever_its_case(firm):
    marieke = CustomerFactory(email="M.DeVries@Voorbeeld.nl", preferred_language="nl")

    mail = inbound_receive(raw=sample("reply_nl.eml"), source="pipe")

    assert mail.customer == marieke and mail.matched_by == "sender" and mail.appointment is None
    assert mail.reply_text.endswith("Met vriendelijke groet,\nMarieke")
    assert mail.promise.owner == marieke.responsible


def test_a_second_mail_before_the_answer_joins_the_open_reply_promise(juergen):
    first = inbound_receive(raw=sample("reply_de_quoted.eml"), source="pipe")
    second = inbound_receive(
        raw=replace(sample("reply_de_quoted.eml"), "reply-1@mail.example.de", "reply-2@mail.example.de"),
        source="pipe",
    )

    assert second.pk != first.pk and second.promise == first.promise
    assert Promise.objects.filter(kind=PromiseKind.REPLY_MAIL).count() == 1
    assert JournalEntry.objects.filter(action="inbound.received").count() == 2


def test_a_new_mail_from_an_unknown_sender_waits_in_triage_with_no_journal_and_no_promise(firm):
    mail = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")

    assert (
        mail.status == InboundStatus.TRIAGE and mail.status_reason == "Unbekannter Absender."
    )  # the office language, de
    assert mail.customer is None and mail.promise is None
    assert not JournalEntry.objects.exists() and not Promise.objects.exists()
    assert mail.subject == "Anfrage Wartung Gastherme" and "Gastherme" in mail.text


def test_a_sender_address_shared_by_two_customers_goes_to_triage(firm):
    CustomerFactory(email="neukunde@posteo.de")
    CustomerFactory(email="NEUKUNDE@posteo.de")

    mail = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")

    assert mail.status == InboundStatus.TRIAGE and mail.status_reason.startswith("Mehrere Kunden")


def test_an_out_of_office_reply_is_journalled_for_its_customer_but_never_promised_or_answered(juergen):
    ours = sent_message(juergen)

    mail = inbound_receive(raw=ours_in(sample("out_of_office.eml"), ours), source="pipe")

    assert mail.kind == InboundKind.AUTO_REPLY and mail.status == InboundStatus.IGNORED
    assert mail.customer == juergen and mail.promise is None
    assert JournalEntry.objects.get().action == "inbound.auto_reply"
    assert not Promise.objects.exists()
    assert OutboxMessage.objects.count() == 1  # ours; nothing queued in answer


def test_a_dsn_marks_our_mail_bounced_and_opens_a_call_the_customer_promise(firm, django_capture_on_commit_callbacks):
    customer = CustomerFactory(email="kein.postfach@example.org")
    ours = sent_message(customer)

    with django_capture_on_commit_callbacks(execute=True):
        mail = inbound_receive(raw=ours_in(sample("dsn_bounce.eml"), ours, where=OUR_BOUNCED_ID), source="pipe")

    ours.refresh_from_db()
    assert ours.bounce_kind == BounceKind.BOUNCE and ours.bounced_at is not None
    assert "kein.postfach@example.org" in ours.bounce_detail and "5.1.1" in ours.bounce_detail
    assert mail.kind == InboundKind.BOUNCE and mail.status == InboundStatus.IGNORED
    assert (mail.customer, mail.outbox_message, mail.bounce_recipient) == (
        customer,
        ours,
        "kein.postfach@example.org",
    )
    promise = Promise.objects.get()
    assert promise.kind == PromiseKind.CALL_BOUNCED and promise.customer == customer
    assert promise.owner == customer.responsible and promise.state == PromiseState.OPEN
    assert promise.made_in.action == "message.bounce"


def test_the_same_dsn_delivered_twice_opens_one_promise(firm, django_capture_on_commit_callbacks):
    customer = CustomerFactory(email="kein.postfach@example.org")
    raw = ours_in(sample("dsn_bounce.eml"), sent_message(customer), where=OUR_BOUNCED_ID)

    with django_capture_on_commit_callbacks(execute=True):
        inbound_receive(raw=raw, source="pipe")
    with django_capture_on_commit_callbacks(execute=True):
        inbound_receive(raw=replace(raw, "6A1B2C3D4E@mx", "6A1B2C3D4F@mx"), source="pipe")

    assert Promise.objects.count() == 1 and InboundMail.objects.count() == 2


def test_a_dsn_about_a_mail_we_cannot_find_waits_in_triage(firm):
    mail = inbound_receive(raw=sample("dsn_bounce.eml"), source="pipe")

    assert mail.status == InboundStatus.TRIAGE and mail.kind == InboundKind.BOUNCE
    assert not Promise.objects.exists()


def test_our_own_mail_coming_back_is_kept_as_a_loop_and_nothing_else(firm, juergen):
    ours = sent_message(juergen)
    # A customer's mailbox that sends everything on to the office: our mail, our Message-ID, our header.
    raw = (
        f"From: Heizung Beispiel <office@heizung-beispiel.de>\r\nTo: {juergen.email}\r\n"
        f"Message-ID: {ours.provider_message_id}\r\nSubject: Ihr Termin\r\n\r\nText\r\n"
    ).encode()

    mail = inbound_receive(raw=raw, source="pipe")

    assert mail.kind == InboundKind.LOOP and mail.status == InboundStatus.IGNORED
    assert mail.customer is None and not JournalEntry.objects.exists() and not Promise.objects.exists()


def test_a_redelivered_mail_is_stored_once_and_promised_once(juergen):
    first = inbound_receive(raw=sample("reply_de_quoted.eml"), source="pipe")
    again = inbound_receive(raw=sample("reply_de_quoted.eml"), source="webhook:postmark")

    assert again.pk == first.pk and again.source == "pipe"
    assert InboundMail.objects.count() == 1 and Promise.objects.count() == 1
    assert JournalEntry.objects.filter(action="inbound.received").count() == 1


def test_the_same_message_id_from_another_sender_is_another_mail(juergen):
    first = inbound_receive(raw=sample("reply_de_quoted.eml"), source="pipe")
    other = inbound_receive(
        raw=replace(sample("reply_de_quoted.eml"), "Juergen.Mueller@Example.DE", "someone@else.example"),
        source="pipe",
    )

    assert other.pk != first.pk and InboundMail.objects.count() == 2


def test_a_mail_without_message_id_is_deduplicated_by_its_bytes(juergen):
    raw = b"From: juergen.mueller@example.de\r\nSubject: Kurz\r\n\r\nBitte um Anruf.\r\n"

    assert inbound_receive(raw=raw, source="pipe").pk == inbound_receive(raw=raw, source="pipe").pk
    assert InboundMail.objects.count() == 1


def test_the_raw_mail_is_kept_compressed_and_comes_back_byte_for_byte(juergen):
    raw = sample("reply_de_quoted.eml")

    mail = InboundMail.objects.get(pk=inbound_receive(raw=raw, source="pipe").pk)

    assert mail.raw == raw and mail.raw_size == len(raw)
    assert ["Message-ID", "<CAF3x9qQ7pL2mN-reply-1@mail.example.de>"] in mail.headers


def test_a_20_mb_attachment_is_refused_and_noted_while_the_mail_is_kept(juergen):
    raw = mail_with_attachment(size=20 * 1024 * 1024, sender=juergen.email)

    mail = inbound_receive(raw=raw, source="pipe")

    [attachment] = mail.attachments.all()
    assert attachment.refused and "10" in attachment.refused_reason and not attachment.file
    assert attachment.size == 20 * 1024 * 1024 and attachment.name == "heizungsplan.pdf"
    assert mail.status == InboundStatus.NEW and mail.text == "Anbei der Plan."


def test_an_allowed_attachment_is_kept_as_a_file_and_a_program_is_refused(
    firm, media_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        mail = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")
    photo, program = mail.attachments.all()

    photo, program = mail.attachments.all()
    assert not photo.refused and photo.content_type == "image/jpeg"
    assert photo.file.name.startswith("inbound/") and "typenschild" not in photo.file.name
    assert (media_root / photo.file.name).read_bytes().startswith(b"\xff\xd8")
    assert program.refused and not program.file and program.refused_reason == "ein Programm oder Skript"


@pytest.mark.parametrize(
    "filename, content_type, refused",
    [
        ("angebot.pdf", "application/octet-stream", False),  # a type guessed from the name
        ("tabelle.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", False),
        ("seite.html", "text/html", True),
        ("logo.svg", "image/svg+xml", True),
        ("setup.msi", "application/x-msi", True),
        ("archiv.zip", "application/zip", True),
    ],
)
def test_attachment_types_follow_the_allow_list(juergen, filename, content_type, refused):
    raw = mail_with_attachment(size=100, filename=filename, content_type=content_type, sender=juergen.email)

    [attachment] = inbound_receive(raw=raw, source="pipe").attachments.all()

    assert attachment.refused == refused


def test_attachments_past_the_count_are_refused(juergen, settings):
    settings.INBOUND_MAX_ATTACHMENTS = 1
    mail = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")

    assert [attachment.refused for attachment in mail.attachments.all()] == [False, True]


def test_an_html_only_mail_is_stored_as_text_and_sanitised_html(firm):
    mail = inbound_receive(raw=sample("html_only_script.eml"), source="pipe")

    assert mail.text.startswith("Bitte rufen Sie mich zurück.")
    assert "<script" not in mail.html and "alert" not in mail.html and "alert" not in mail.text


def test_a_mail_over_the_size_limit_is_refused_before_reading(firm, settings):
    settings.INBOUND_MAX_MESSAGE_BYTES = 100

    with pytest.raises(InboundError) as refused:
        inbound_receive(raw=sample("reply_de_quoted.eml"), source="pipe")

    assert refused.value.code == "too_large" and not InboundMail.objects.exists()


def test_garbage_is_refused_and_nothing_stored(firm):
    with pytest.raises(InboundError) as refused:
        inbound_receive(raw=sample("garbage.eml"), source="pipe")

    assert refused.value.code == "garbage" and not InboundMail.objects.exists()


def test_the_office_assigns_a_triage_mail_to_a_customer_who_is_then_promised_an_answer(firm):
    office = OfficeUserFactory()
    petra = CustomerFactory(full_name="Petra Neumann", email="petra@example.de")
    visit = AppointmentFactory(customer=petra)
    mail = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")

    mail = inbound_assign(mail=mail, customer=petra, appointment=visit, actor=office)

    assert mail.status == InboundStatus.NEW and (mail.customer, mail.appointment) == (petra, visit)
    assert mail.matched_by == "office" and mail.promise.owner == petra.responsible
    entry = JournalEntry.objects.get(action="inbound.received")
    assert entry.customer == petra and entry.actor == office and mail.promise.made_in == entry


def test_a_mail_cannot_be_assigned_twice_or_to_another_customers_visit(firm):
    office = OfficeUserFactory()
    petra = CustomerFactory(email="petra@example.de")
    mail = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")

    with pytest.raises(InboundError):
        inbound_assign(mail=mail, customer=petra, appointment=AppointmentFactory(), actor=office)
    inbound_assign(mail=mail, customer=petra, actor=office)
    with pytest.raises(InboundError):
        inbound_assign(mail=mail, customer=CustomerFactory(), actor=office)
    assert Promise.objects.count() == 1


def test_no_reply_needed_closes_the_mail_and_voids_its_reply_promise_with_the_reason(juergen):
    office = OfficeUserFactory()
    mail = inbound_receive(raw=sample("reply_de_quoted.eml"), source="pipe")

    mail = inbound_dismiss(mail=mail, reason="Am Telefon geklärt", actor=office)

    assert mail.status == InboundStatus.IGNORED and mail.status_reason == "Am Telefon geklärt"
    mail.promise.refresh_from_db()
    assert mail.promise.state == PromiseState.VOIDED and mail.promise.closed_reason == "Am Telefon geklärt"
    assert JournalEntry.objects.filter(action="inbound.dismissed", actor=office).exists()


def test_no_reply_needed_wants_a_reason(juergen):
    mail = inbound_receive(raw=sample("reply_de_quoted.eml"), source="pipe")

    with pytest.raises(InboundError):
        inbound_dismiss(mail=mail, reason="  ", actor=OfficeUserFactory())
    mail.refresh_from_db()
    assert mail.status == InboundStatus.NEW and mail.promise.state == PromiseState.OPEN


def test_keeping_the_reply_promise_marks_the_mail_answered(juergen):
    mail = inbound_receive(raw=sample("reply_de_quoted.eml"), source="pipe")
    answer = journal_record(customer=juergen, action="contact.recorded", summary="Zurückgerufen")

    promise_keep(promise=mail.promise, entry=answer)

    mail.refresh_from_db()
    assert mail.status == InboundStatus.ANSWERED


def test_a_moved_reply_promise_stays_the_mails_promise(juergen):
    mail = inbound_receive(raw=sample("reply_de_quoted.eml"), source="pipe")

    new = promise_move(promise=mail.promise, due_at=local_dt(3, 12), reason="Kunde im Urlaub")

    mail.refresh_from_db()
    assert mail.promise == new and mail.status == InboundStatus.NEW


@pytest.mark.parametrize(
    "raw",
    [
        b"From: a@example.de\r\nSubject: N\x00UL\r\n\r\nText mit \x00 NUL\r\n",
        b"From: Broken group: <b@example.de\r\nTo: a:<b@\r\nSubject: x\r\n\r\nText\r\n",
        b"From: a@example.de\r\nMessage-ID: " + b"x" * 3000 + b"\r\nIn-Reply-To: " + b"y" * 3000 + b"\r\n\r\nText\r\n",
        b"From: a@example.de\r\nSubject: =?x-unknown?b?AAAA?= =?utf-8?q?=FF?=\r\n"
        b"Content-Type: text/plain; charset=x-unknown\r\n\r\n\xff\xfe Text\r\n",
        b"From: a@example.de\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: image/png\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64\r\n",
        b"From: "
        + "Jörg".encode()
        + b" <"
        + b"a" * 300
        + b"@example.de>\r\nSubject: "
        + b"s" * 2000
        + b"\r\n\r\nx\r\n",
    ],
    ids=["nul", "broken-addresses", "huge-ids", "unknown-charset", "bad-base64", "overlong-fields"],
)
def test_a_malformed_mail_from_the_wild_is_still_stored(firm, raw):
    mail = inbound_receive(raw=raw, source="pipe")

    mail.refresh_from_db()
    assert mail.status == InboundStatus.TRIAGE and mail.raw == raw
