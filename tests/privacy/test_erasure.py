"""Erasure: the customer's personal data is gone from every column of every table; the facts stay."""

import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.utils import translation

from appointments.models import Appointment, AppointmentStatus, BookingInvitation, VisitAttempt
from customers.models import Customer
from customers.services import customer_update
from desk.models import Feedback, InboundAttachment, InboundMail, Promise, PromiseState, WebRequest
from journal.models import JournalEntry
from journal.rendering import entry_text
from journal.services import journal_record
from notifications.models import MessageStatus, OutboxMessage
from notifications.services import message_mark_attempt_failed, message_mark_sent, messages_claim
from privacy.models import Erasure, ErasureReason
from privacy.services import PrivacyError, customer_erase
from tests.factories import AppointmentFactory, CustomerFactory, FirmFactory, OfficeUserFactory, OutboxMessageFactory
from tests.privacy.stored import (
    ANNA,
    BERND,
    admin_changed,
    customer_near_someone_elses_mail,
    customer_who_wrote_from_other_addresses,
    customer_with_everything,
    sent_mime,
    traces,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    FirmFactory(email="office@heizung-beispiel.de")


@pytest.fixture
def office():
    return OfficeUserFactory()


@pytest.fixture
def anna(office):
    return customer_with_everything(ANNA, office=office)[0]


@pytest.fixture
def bernd(office):
    return customer_with_everything(BERND, office=office)[0]


def facts(customer: Customer) -> dict:
    return {
        "visits": list(
            Appointment.objects.filter(customer=customer).values_list(
                "status", "window_start", "service_type", "technician"
            )
        ),
        "attempts": list(
            VisitAttempt.objects.filter(appointment__customer=customer).values_list(
                "at", "waited_minutes", "card_left"
            )
        ),
        "journal": list(
            JournalEntry.objects.filter(customer=customer)
            .exclude(action="customer.erased")
            .values_list("pk", "action", "occurred_at", "actor")
        ),
        "messages": list(OutboxMessage.objects.filter(customer=customer).values_list("kind", "status", "sent_at")),
        "ratings": list(Feedback.objects.filter(customer=customer).values_list("rating", "received_at")),
        "requests": WebRequest.objects.filter(customer=customer).count(),
        "promises": Promise.objects.filter(customer=customer).count(),
        "mails": InboundMail.objects.filter(customer=customer).count(),
    }


def test_after_the_erasure_no_column_of_any_table_holds_the_customers_name_email_phone_or_street(anna, bernd, office):
    assert {table for table, _column, _word in traces(ANNA.words())} >= {
        "customers_customer",
        "journal_journalentry",
        "notifications_outboxmessage",
        "desk_inboundmail",
        "django_admin_log",
    }
    bernd_before = traces(BERND.words())

    customer_erase(customer=anna, by=office, reason=ErasureReason.CUSTOMER_REQUEST)

    assert traces(ANNA.words()) == []
    assert traces(BERND.words()) == bernd_before


def test_mail_she_sent_from_an_address_she_had_before_or_typed_in_a_request_is_erased_too(office):
    customer, addresses = customer_who_wrote_from_other_addresses(ANNA, office=office)
    assert {table for table, _column, _word in traces(addresses)} >= {"desk_inboundmail"}

    erasure = customer_erase(customer=customer, by=office, reason=ErasureReason.CUSTOMER_REQUEST)

    assert traces([*ANNA.words(), *addresses]) == []
    assert erasure.counts["inbound_mails"] == 2


def test_mail_from_an_address_another_customer_holds_now_or_a_helper_typed_in_her_request_is_not_erased(office):
    customer, helper_email = customer_near_someone_elses_mail(ANNA, BERND, office=office)

    erasure = customer_erase(customer=customer, by=office, reason=ErasureReason.CUSTOMER_REQUEST)

    assert erasure.counts["inbound_mails"] == 1
    assert traces([ANNA.email]) == []
    kept = InboundMail.objects.filter(subject__in=["Frage von Bernd", "Nachricht vom Sohn"])
    assert sorted(kept.values_list("from_email", flat=True)) == [BERND.email, helper_email]


def test_what_she_was_known_by_before_a_change_is_shredded_from_the_journal_too(office):
    customer = CustomerFactory(full_name="Anna Altname", phone="+4930555999888", responsible=office)
    # Codes the journal keeps (a file's name, a number as digits) unless they hold a personal word.
    journal_record(
        customer=customer, action="test.codes", data={"file": "altname-plan.pdf", "callback": "030555999888"}
    )
    customer = customer_update(
        customer=customer, changes={"full_name": ANNA.full_name, "phone": ANNA.phone}, actor=office
    )

    customer_erase(customer=customer, by=office, reason=ErasureReason.CUSTOMER_REQUEST)

    assert traces(["altname", "30555999888"]) == []


def test_the_compressed_copies_and_the_attachment_files_are_gone_too(
    anna, bernd, office, django_capture_on_commit_callbacks
):
    annas_files = [a.file.path for a in InboundAttachment.objects.filter(mail__customer=anna)]
    bernds_files = [a.file.path for a in InboundAttachment.objects.filter(mail__customer=bernd)]
    assert annas_files and bernds_files

    with django_capture_on_commit_callbacks(execute=True):
        customer_erase(customer=anna, by=office, reason=ErasureReason.CUSTOMER_REQUEST)

    assert all(not (settings.MEDIA_ROOT / path).exists() for path in annas_files)
    assert all((settings.MEDIA_ROOT / path).exists() for path in bernds_files)
    for mail in InboundMail.objects.filter(pk__in=[m.pk for m in InboundMail.objects.filter(customer=anna)]):
        assert mail.raw == b""
    assert not OutboxMessage.objects.filter(customer=anna, sent_mime__isnull=False).exists()
    kept = OutboxMessage.objects.get(customer=bernd).sent_mail()
    assert BERND.full_name in kept.get_body(("plain",)).get_content()


def test_counts_dates_statuses_services_and_technicians_stay_for_the_statistics(anna, office):
    before = facts(anna)

    customer_erase(customer=anna, by=office, reason=ErasureReason.NO_LONGER_NEEDED)

    assert facts(anna) == before
    attempt = VisitAttempt.objects.get(appointment__customer=anna)
    assert attempt.latitude is None and attempt.longitude is None and attempt.location_accuracy_m is None
    anna.refresh_from_db()
    assert (anna.postcode, anna.city) != ("", "")


def test_the_erasure_is_recorded_without_personal_data_and_journalled(anna, office):
    erasure = customer_erase(customer=anna, by=office, reason=ErasureReason.CUSTOMER_REQUEST)

    assert Erasure.objects.get() == erasure
    assert (erasure.erased_by, erasure.reason) == (office, "customer_request")
    assert erasure.counts["visits"] == 3 and erasure.counts["journal_entries"] > 3
    entry = JournalEntry.objects.filter(customer=anna).first()
    assert entry.action == "customer.erased" and entry.actor == office
    with translation.override("en"):
        assert "Personal data erased" in entry_text(entry)


def test_the_erasure_leaves_a_log_line_with_ids_only_to_find_it_again_after_a_restore(anna, office, caplog):
    name = anna.full_name

    with caplog.at_level("INFO", logger="privacy.services"):
        erasure = customer_erase(customer=anna, by=office, reason=ErasureReason.CUSTOMER_REQUEST)

    assert f"customer {anna.pk} erased by user {office.pk} (erasure {erasure.pk})" in caplog.text
    assert name not in caplog.text


def test_an_erasure_by_no_signed_in_person_is_logged_too(anna, caplog):
    with caplog.at_level("INFO", logger="privacy.services"):
        erasure = customer_erase(customer=anna, by=None, reason=ErasureReason.CUSTOMER_REQUEST)

    assert f"customer {anna.pk} erased by user None (erasure {erasure.pk})" in caplog.text


def test_queued_messages_are_voided_open_promises_closed_and_links_die(anna, office):
    queued = OutboxMessageFactory(kind="reminder", status=MessageStatus.QUEUED, customer=anna, to_email=ANNA.email)
    secrets_before = (
        BookingInvitation.objects.get(customer=anna).nonce,
        WebRequest.objects.get(customer=anna).link_secret,
    )

    customer_erase(customer=anna, by=office, reason=ErasureReason.CUSTOMER_REQUEST)

    queued.refresh_from_db()
    assert queued.status == MessageStatus.SUPERSEDED
    assert not Promise.objects.filter(customer=anna, state=PromiseState.OPEN).exists()
    assert (
        BookingInvitation.objects.get(customer=anna).nonce,
        WebRequest.objects.get(customer=anna).link_secret,
    ) != secrets_before


def test_a_mail_being_sent_during_the_erasure_is_not_written_back_when_the_worker_finishes(anna, office):
    sending = OutboxMessageFactory(kind="reminder", status=MessageStatus.QUEUED, customer=anna, to_email=ANNA.email)
    messages_claim(message_ids=[sending.pk])
    sending.refresh_from_db()
    assert sending.status == MessageStatus.SENDING

    customer_erase(customer=anna, by=office, reason=ErasureReason.CUSTOMER_REQUEST)

    finished = message_mark_sent(
        message=sending,
        subject=f"Erinnerung, {ANNA.full_name}",
        provider_message_id="<x@example.de>",
        sent_mime=sent_mime(ANNA, f"Erinnerung, {ANNA.full_name}"),
    )
    assert finished is False
    message_mark_attempt_failed(message=sending, error=f"550 {ANNA.email} unknown", permanent=False)
    sending.refresh_from_db()
    assert sending.status == MessageStatus.SUPERSEDED
    assert traces(ANNA.words()) == []


def test_the_admin_history_of_her_records_loses_her_old_names_and_other_customers_on_her_street_keep_theirs(
    anna, office
):
    old_name = "Anna Mädchenname"
    customer_update(customer=anna, changes={"full_name": old_name}, actor=office)
    anna.refresh_from_db()
    admin_changed(anna, by=office, message=f"Name war {old_name}")
    customer_update(customer=anna, changes={"full_name": ANNA.full_name}, actor=office)
    neighbour = CustomerFactory(full_name="Carl Nachbar", street=ANNA.street)
    admin_changed(neighbour, by=office, message=f"Umgezogen in die {ANNA.street}")
    neighbours_history = list(LogEntry.objects.filter(object_id=str(neighbour.pk)).values())

    customer_erase(customer=anna, by=office, reason=ErasureReason.CUSTOMER_REQUEST)

    assert [t for t in traces([old_name, "Mädchenname"]) if t[0] == "django_admin_log"] == []
    assert list(LogEntry.objects.filter(object_id=str(neighbour.pk)).values()) == neighbours_history


@pytest.mark.parametrize(
    "status", [AppointmentStatus.SCHEDULED, AppointmentStatus.ON_SITE, AppointmentStatus.REQUESTED]
)
def test_a_customer_with_a_visit_still_to_happen_is_not_erased(office, status):
    customer = CustomerFactory(full_name=ANNA.full_name, responsible=office)
    AppointmentFactory(customer=customer, status=status)

    with pytest.raises(PrivacyError) as refused:
        customer_erase(customer=customer, by=office, reason=ErasureReason.CUSTOMER_REQUEST)

    assert refused.value.code == "active_visit"
    customer.refresh_from_db()
    assert customer.full_name == ANNA.full_name and not Erasure.objects.exists()


def test_a_customer_is_erased_once_and_a_bad_reason_is_refused(anna, office):
    with pytest.raises(PrivacyError):
        customer_erase(customer=anna, by=office, reason="because")
    customer_erase(customer=anna, by=office, reason=ErasureReason.CUSTOMER_REQUEST)

    with pytest.raises(PrivacyError) as again:
        customer_erase(customer=anna, by=office, reason=ErasureReason.CUSTOMER_REQUEST)

    assert again.value.code == "already_erased"
    assert Erasure.objects.count() == 1


def test_the_journal_is_append_only_again_once_the_erasure_is_done(anna, office):
    from django.db import DatabaseError, transaction

    customer_erase(customer=anna, by=office, reason=ErasureReason.CUSTOMER_REQUEST)
    entry = JournalEntry.objects.filter(customer=anna).first()

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE journal_journalentry SET summary = 'x' WHERE id = %s", [entry.pk])
