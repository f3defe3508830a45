"""Mails to office staff (a promise due, an escalation) go through the same outbox, never as mail to a customer."""

import html

import pytest
from django.urls import reverse
from django.utils import translation

from journal.models import Direction, JournalEntry
from notifications.models import MessageKind, MessageStatus, OutboxMessage
from notifications.registry import UnregisteredKind
from notifications.services import message_deliver, message_queue, message_resend, staff_message_queue
from tests.factories import CustomerFactory, OfficeUserFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:notifications_outboxmessage_changelist")


@pytest.fixture
def clerk(db):
    return OfficeUserFactory(first_name="Tom", last_name="Berger", email="tom.login@firm.example")


def queue_note(kind, user, *, dedupe="promise-1:due", customer=None, **context):
    return staff_message_queue(
        kind=kind, user=user, context={"note": "Rückruf bis 12:00", **context}, dedupe=dedupe, customer=customer
    )


def test_a_staff_mail_goes_to_the_office_persons_direct_address_in_the_office_language(
    staff_kind, clerk, customer, firm, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.LANGUAGE_CODE = "de"
    clerk.office_profile.direct_email = "tom@firm.example"
    clerk.office_profile.save()
    customer.preferred_language = "nl"
    customer.save()

    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        message = queue_note(staff_kind, clerk, customer=customer)

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert (message.recipient_user, message.customer, message.language) == (clerk, customer, "de")
    [mail] = mailoutbox
    assert mail.to == ["tom@firm.example"]
    assert mail.subject == "Zusage fällig: Rückruf bis 12:00"
    assert "Hallo Tom Berger" in mail.body
    assert "(Anna Schmitz)" in mail.body
    assert "Telefon:" in mail.body
    assert "language=de" in mail.body
    assert mail.extra_headers["Content-Language"] == "de"


def test_a_staff_mail_without_a_direct_address_goes_to_the_login_address(
    staff_kind, firm, mailoutbox, django_capture_on_commit_callbacks
):
    user = UserFactory(is_staff=True, email="lead@firm.example", first_name="Lea", last_name="Lead")

    with django_capture_on_commit_callbacks(execute=True):
        queue_note(staff_kind, user)

    assert mailoutbox[0].to == ["lead@firm.example"]


def test_a_staff_mail_about_a_customer_is_an_internal_note_in_their_journal_not_a_mail_to_them(
    staff_kind, clerk, customer, firm, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_note(staff_kind, clerk, customer=customer)

    [entry] = JournalEntry.objects.filter(customer=customer)
    assert entry.action == "message.staff_mail"
    assert entry.direction == Direction.INTERNAL
    assert entry.channel != "email"
    assert entry.data["outbox_id"] == message.pk
    assert "Tom Berger" in entry.summary and "Zusage fällig" in entry.summary
    assert not JournalEntry.objects.filter(customer=customer, direction=Direction.OUTBOUND).exists()


def test_a_staff_mail_about_no_customer_is_sent_and_journals_nothing(
    staff_kind, clerk, firm, mailoutbox, django_capture_on_commit_callbacks
):
    entries = JournalEntry.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        message = queue_note(staff_kind, clerk)

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.customer is None
    assert len(mailoutbox) == 1
    assert JournalEntry.objects.count() == entries


def test_queueing_the_same_staff_mail_twice_writes_one_row(staff_kind, clerk, firm):
    first = queue_note(staff_kind, clerk, dedupe="promise-7:late")
    second = queue_note(staff_kind, clerk, dedupe="promise-7:late")

    assert first is not None and second is None
    assert OutboxMessage.objects.filter(recipient_user=clerk).count() == 1


def test_a_staff_kind_is_not_queued_for_a_customer_nor_a_customer_kind_for_staff(staff_kind, clerk, customer):
    with pytest.raises(ValueError, match="staff mail"):
        message_queue(kind=staff_kind, customer=customer, dedupe="x")
    with pytest.raises(ValueError, match="not to office staff"):
        staff_message_queue(kind=MessageKind.REMINDER, user=clerk, context={}, dedupe="x")
    with pytest.raises(UnregisteredKind):
        staff_message_queue(kind="fax", user=clerk, context={}, dedupe="x")

    assert not OutboxMessage.objects.exists()


def test_nobody_is_mailed_who_has_left_or_has_no_address(staff_kind, firm):
    gone = UserFactory(is_staff=True, is_active=False, email="gone@firm.example")
    silent = UserFactory(is_staff=True, email="")

    assert queue_note(staff_kind, gone) is None
    assert queue_note(staff_kind, silent) is None
    assert not OutboxMessage.objects.exists()


def test_a_staff_mail_to_someone_who_left_before_the_send_is_not_sent_and_says_why(
    staff_kind, clerk, firm, mailoutbox, admin_client_office
):
    message = queue_note(staff_kind, clerk)
    clerk.is_active = False
    clerk.save()

    assert message_deliver(message_id=message.pk) == MessageStatus.SUPERSEDED

    assert mailoutbox == []
    url = reverse("admin:notifications_outboxmessage_change", args=[message.pk])
    page = html.unescape(admin_client_office.get(url, headers={"accept-language": "de"}).content.decode())
    assert "Nicht gesendet: Das Konto der Empfängerin oder des Empfängers im Büro ist nicht mehr aktiv." in page


def test_a_staff_mail_never_carries_a_customers_self_service_link(
    staff_kind, clerk, customer, firm, mailoutbox, settings
):
    message = queue_note(staff_kind, clerk, customer=customer, link=f"{settings.SITE_URL}/booking/t/abc")

    assert message_deliver(message_id=message.pk) == MessageStatus.FAILED

    message.refresh_from_db()
    assert "self-service link" in message.last_error
    assert mailoutbox == []


def test_a_staff_mail_has_no_reply_address_of_a_customer_mail(staff_kind, clerk, customer, firm, mailoutbox, settings):
    settings.INBOUND_REPLY_ADDRESS = "office+{token}@mail.firm.example"
    message = queue_note(staff_kind, clerk, customer=customer)

    message_deliver(message_id=message.pk)

    assert mailoutbox[0].reply_to == []
    assert "mail.firm.example" not in mailoutbox[0].message().as_string()


def test_sending_a_staff_mail_again_writes_no_customer_journal_entry_for_a_mail_about_nobody(
    staff_kind, clerk, firm, office, django_capture_on_commit_callbacks
):
    message = queue_note(staff_kind, clerk)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        assert message_resend(message=message, actor=office)

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert not JournalEntry.objects.exists()


def test_the_outbox_shows_the_office_recipient_and_the_customer_it_is_about(
    staff_kind, clerk, customer, firm, admin_client_office
):
    message = queue_note(staff_kind, clerk, customer=customer)
    message_deliver(message_id=message.pk)

    listing = html.unescape(admin_client_office.get(CHANGELIST, headers={"accept-language": "en"}).content.decode())
    detail = html.unescape(
        admin_client_office.get(
            reverse("admin:notifications_outboxmessage_change", args=[message.pk]), headers={"accept-language": "en"}
        ).content.decode()
    )

    assert "Tom Berger (office)" in listing
    assert "about Anna Schmitz" in listing
    assert "test note to the office" in listing
    assert "office recipient" in detail.lower()
    assert "to office staff, exactly as written" in detail
    assert "exactly as the customer received it" not in detail


def test_the_outbox_filters_by_a_registered_staff_kind(staff_kind, clerk, customer, firm, admin_client_office):
    queue_note(staff_kind, clerk, customer=CustomerFactory(full_name="Bruno Beispiel"))

    page = admin_client_office.get(CHANGELIST, {"kind": staff_kind}).content.decode()

    assert "Bruno Beispiel" in page
