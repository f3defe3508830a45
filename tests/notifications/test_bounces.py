"""A bounce or complaint marks the sent message once, journals it and tells the desk, from a signed webhook."""

import base64
import hashlib
import hmac
import html
import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from appointments.services import appointment_schedule
from config.settings import anymail_from_env
from journal.models import Direction, JournalEntry
from journal.rendering import entry_text
from notifications.models import BounceKind, MessageStatus, OutboxMessage
from notifications.replies import message_for_bounce
from notifications.services import message_deliver, message_mark_bounced, message_resend, staff_message_queue
from notifications.signals import message_bounced
from tests.factories import local_dt
from tests.notifications.provider_backend import PROVIDER_MESSAGE_ID

pytestmark = pytest.mark.django_db

WEBHOOK = reverse("anymail:mailgun_tracking_webhook")
CHANGELIST = reverse("admin:notifications_outboxmessage_changelist")
SIGNING_KEY = "key-test-0123456789abcdef"
BASIC_AUTH = "mailgun:hook-secret"
BOUNCED_AT = datetime(2026, 12, 3, 9, 15, tzinfo=UTC)


@pytest.fixture(autouse=True)
def anymail_settings(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": BASIC_AUTH, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}


@pytest.fixture
def sent_message(customer, service_type, technician, office, firm):
    appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(3, 8), actor=office
    )
    message = OutboxMessage.objects.get()
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    return message


@pytest.fixture
def signalled():
    """The messages message_bounced was sent for, in order."""
    received = []

    def receiver(sender, message, **kwargs):
        received.append(message)

    message_bounced.connect(receiver, dispatch_uid="test_bounces")
    yield received
    message_bounced.disconnect(dispatch_uid="test_bounces")


def mailgun_event(message_id: str, *, event="failed", token="a" * 50, key=SIGNING_KEY, **event_data) -> dict:
    """A Mailgun tracking webhook body (their JSON format), signed as Mailgun signs it."""
    timestamp = str(int(BOUNCED_AT.timestamp()))
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    data = {
        "event": event,
        "id": "G9Bn5sl1TC6nu79C8C0bwg",
        "timestamp": BOUNCED_AT.timestamp(),
        "recipient": "anna@example.com",
        "message": {"headers": {"message-id": message_id.strip("<>"), "to": "anna@example.com"}},
        **event_data,
    }
    if event == "failed":
        data.setdefault("severity", "permanent")
        data.setdefault("reason", "bounce")
        data.setdefault(
            "delivery-status",
            {
                "code": 550,
                "message": "5.1.1 The email account that you tried to reach does not exist",
                "description": "",
            },
        )
    return {"signature": {"timestamp": timestamp, "token": token, "signature": signature}, "event-data": data}


def post(client, body, *, auth=BASIC_AUTH):
    headers = {"authorization": "Basic " + base64.b64encode(auth.encode()).decode()} if auth else {}
    return client.post(WEBHOOK, data=json.dumps(body), content_type="application/json", headers=headers)


def test_a_signed_bounce_webhook_marks_the_message_journals_it_and_signals_once(
    client, sent_message, signalled, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, mailgun_event(sent_message.provider_message_id))

    assert response.status_code == 200
    sent_message.refresh_from_db()
    assert sent_message.status == MessageStatus.SENT
    assert sent_message.bounced_at == BOUNCED_AT
    assert sent_message.bounce_kind == BounceKind.BOUNCE
    assert "does not exist" in sent_message.bounce_detail and "Mailgun" in sent_message.bounce_detail
    [entry] = JournalEntry.objects.filter(action="message.bounce")
    assert entry.direction == Direction.INTERNAL
    assert entry.customer == sent_message.customer
    assert entry.occurred_at == BOUNCED_AT
    assert "anna@example.com" in entry.summary
    assert [message.pk for message in signalled] == [sent_message.pk]
    assert signalled[0].bounced_at == BOUNCED_AT


def test_the_same_report_again_changes_nothing_and_signals_nothing(
    client, sent_message, signalled, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, mailgun_event(sent_message.provider_message_id))
    entries = JournalEntry.objects.count()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = post(client, mailgun_event(sent_message.provider_message_id, token="b" * 50))
        complaint = post(client, mailgun_event(sent_message.provider_message_id, event="complained", token="c" * 50))

    assert (again.status_code, complaint.status_code) == (200, 200)
    sent_message.refresh_from_db()
    assert (sent_message.bounce_kind, sent_message.bounced_at) == (BounceKind.BOUNCE, BOUNCED_AT)
    assert JournalEntry.objects.count() == entries
    assert callbacks == []
    assert len(signalled) == 1


@pytest.mark.parametrize(
    ("auth", "key"),
    [
        pytest.param("mailgun:wrong-secret", SIGNING_KEY, id="wrong basic auth"),
        pytest.param(None, SIGNING_KEY, id="no basic auth"),
        pytest.param(BASIC_AUTH, "key-someone-else", id="wrong signature"),
    ],
)
def test_a_webhook_with_a_wrong_secret_is_refused_and_changes_nothing(
    client, sent_message, signalled, auth, key, django_capture_on_commit_callbacks
):
    entries = JournalEntry.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, mailgun_event(sent_message.provider_message_id, key=key), auth=auth)

    assert response.status_code == 400
    sent_message.refresh_from_db()
    assert sent_message.bounced_at is None
    assert JournalEntry.objects.count() == entries
    assert signalled == []


def test_a_complaint_marks_the_message_as_marked_as_spam(
    client, sent_message, signalled, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, mailgun_event(sent_message.provider_message_id, event="complained"))

    sent_message.refresh_from_db()
    assert sent_message.bounce_kind == BounceKind.COMPLAINT
    assert JournalEntry.objects.filter(action="message.complaint").count() == 1
    assert len(signalled) == 1


def test_reports_that_are_not_bounces_or_about_other_mail_change_nothing(
    client, sent_message, signalled, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        delivered = post(client, mailgun_event(sent_message.provider_message_id, event="delivered"))
        temporary = post(client, mailgun_event(sent_message.provider_message_id, token="t" * 50, severity="temporary"))
        foreign = post(client, mailgun_event("<someone-else@other.example>", token="f" * 50))

    assert [delivered.status_code, temporary.status_code, foreign.status_code] == [200, 200, 200]
    sent_message.refresh_from_db()
    assert sent_message.bounced_at is None
    assert signalled == []


def test_a_delivery_report_arriving_by_mail_finds_the_message_by_its_message_id(sent_message):
    assert message_for_bounce(sent_message.provider_message_id) == sent_message
    assert message_for_bounce(sent_message.provider_message_id.strip("<>")) == sent_message
    assert message_for_bounce("<unknown@example.com>") is None
    assert message_for_bounce("") is None


def test_marking_twice_directly_is_idempotent(sent_message, signalled, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = message_mark_bounced(
            message=sent_message, kind=BounceKind.BOUNCE, detail="550 no such user", occurred_at=BOUNCED_AT
        )
        second = message_mark_bounced(
            message=sent_message, kind=BounceKind.COMPLAINT, detail="later", occurred_at=BOUNCED_AT
        )

    assert (first, second) == (True, False)
    sent_message.refresh_from_db()
    assert (sent_message.bounce_kind, sent_message.bounce_detail) == (BounceKind.BOUNCE, "550 no such user")
    assert len(signalled) == 1


def test_an_unknown_bounce_kind_is_refused(sent_message):
    with pytest.raises(ValueError, match="bounce kind"):
        message_mark_bounced(message=sent_message, kind="lost", detail="", occurred_at=BOUNCED_AT)

    sent_message.refresh_from_db()
    assert sent_message.bounced_at is None


def test_a_failing_receiver_neither_undoes_the_mark_nor_silences_the_others(
    sent_message, signalled, django_capture_on_commit_callbacks
):
    def broken(sender, message, **kwargs):
        raise RuntimeError("desk is down")

    message_bounced.connect(broken, dispatch_uid="test_bounces_broken")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            message_mark_bounced(message=sent_message, kind=BounceKind.BOUNCE, detail="", occurred_at=BOUNCED_AT)
    finally:
        message_bounced.disconnect(dispatch_uid="test_bounces_broken")

    sent_message.refresh_from_db()
    assert sent_message.bounced_at == BOUNCED_AT
    assert len(signalled) == 1


def test_a_bounced_staff_mail_is_signalled_but_not_journalled_for_the_customer(
    staff_kind, office, customer, firm, signalled, django_capture_on_commit_callbacks
):
    message = staff_message_queue(kind=staff_kind, user=office, context={"note": "x"}, dedupe="p-1", customer=customer)
    message_deliver(message_id=message.pk)
    entries = JournalEntry.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        message_mark_bounced(message=message, kind=BounceKind.BOUNCE, detail="", occurred_at=BOUNCED_AT)

    assert JournalEntry.objects.count() == entries
    assert [bounced.pk for bounced in signalled] == [message.pk]


def test_the_outbox_lists_and_filters_bounced_mails_and_the_message_says_so(
    sent_message, admin_client_office, customer, firm
):
    message_mark_bounced(
        message=sent_message, kind=BounceKind.BOUNCE, detail="550 5.1.1 no such user", occurred_at=BOUNCED_AT
    )

    bounced = html.unescape(
        admin_client_office.get(CHANGELIST, {"bounced": "any"}, headers={"accept-language": "en"}).content.decode()
    )
    clean = admin_client_office.get(CHANGELIST, {"bounced": "no"}).content.decode()
    detail = html.unescape(
        admin_client_office.get(
            reverse("admin:notifications_outboxmessage_change", args=[sent_message.pk]),
            headers={"accept-language": "de"},
        ).content.decode()
    )

    assert "Anna Schmitz" in bounced and "bounced 12/03/2026 10:15" in bounced
    assert "Anna Schmitz" not in clean
    assert "kam am" in detail and "als unzustellbar zurück" in detail
    assert "anna@example.com nicht erreicht" in detail
    assert "550 5.1.1 no such user" in detail


def test_the_webhook_settings_come_from_the_environment():
    anymail = anymail_from_env(
        {
            "ANYMAIL_WEBHOOK_SECRET": "mailgun:one, mailgun:two",
            "ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY": "key-1",
            "X": "y",
        }
    )

    assert anymail == {"WEBHOOK_SECRET": ["mailgun:one", "mailgun:two"], "MAILGUN_WEBHOOK_SIGNING_KEY": "key-1"}


def test_without_a_configured_secret_a_webhook_that_signs_nothing_accepts_nobody(
    client, sent_message, settings, signalled, django_capture_on_commit_callbacks
):
    settings.ANYMAIL = anymail_from_env({})
    body = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "MessageID": sent_message.provider_message_id,
        "Email": "anna@example.com",
        "BouncedAt": "2026-12-03T09:15:00Z",
        "Description": "The server was unable to deliver your message",
    }

    with django_capture_on_commit_callbacks(execute=True):
        anonymous = client.post(
            reverse("anymail:postmark_tracking_webhook"), data=json.dumps(body), content_type="application/json"
        )
        guessed = client.post(
            reverse("anymail:postmark_tracking_webhook"),
            data=json.dumps(body),
            content_type="application/json",
            headers={"authorization": "Basic " + base64.b64encode(b"anymail:anymail").decode()},
        )

    assert (anonymous.status_code, guessed.status_code) == (400, 400)
    sent_message.refresh_from_db()
    assert sent_message.bounced_at is None
    assert signalled == []


def test_a_postmark_bounce_with_the_secret_marks_the_message(
    client, sent_message, settings, signalled, django_capture_on_commit_callbacks
):
    settings.ANYMAIL = anymail_from_env({"ANYMAIL_WEBHOOK_SECRET": "postmark:s3cret"})
    body = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "TypeCode": 1,
        "MessageID": sent_message.provider_message_id,
        "Email": "anna@example.com",
        "BouncedAt": "2026-12-03T09:15:00Z",
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("anymail:postmark_tracking_webhook"),
            data=json.dumps(body),
            content_type="application/json",
            headers={"authorization": "Basic " + base64.b64encode(b"postmark:s3cret").decode()},
        )

    assert response.status_code == 200
    sent_message.refresh_from_db()
    assert sent_message.bounce_kind == BounceKind.BOUNCE
    assert "unknown user" in sent_message.bounce_detail
    assert len(signalled) == 1


def postmark_bounce(client, message_id: str):
    body = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "TypeCode": 1,
        "MessageID": message_id,
        "Email": "anna@example.com",
        "BouncedAt": "2026-12-03T09:15:00Z",
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
    }
    return client.post(
        reverse("anymail:postmark_tracking_webhook"),
        data=json.dumps(body),
        content_type="application/json",
        headers={"authorization": "Basic " + base64.b64encode(b"postmark:s3cret").decode()},
    )


def test_a_provider_reporting_its_own_message_id_finds_the_mail_by_the_id_kept_when_it_was_sent(
    client, customer, service_type, technician, office, firm, settings, signalled, django_capture_on_commit_callbacks
):
    settings.MAILERS = {"default": {"BACKEND": "tests.notifications.provider_backend.ProviderLikeBackend"}}
    settings.ANYMAIL = anymail_from_env({"ANYMAIL_WEBHOOK_SECRET": "postmark:s3cret"})
    appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(3, 8), actor=office
    )
    message = OutboxMessage.objects.get()
    message_deliver(message_id=message.pk)
    message.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        response = postmark_bounce(client, PROVIDER_MESSAGE_ID)

    assert message.esp_message_id == PROVIDER_MESSAGE_ID and message.provider_message_id != PROVIDER_MESSAGE_ID
    assert JournalEntry.objects.get(
        action__startswith="message.", data__outbox_id=message.pk, data__esp_message_id=PROVIDER_MESSAGE_ID
    )
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.bounce_kind == BounceKind.BOUNCE and len(signalled) == 1


def test_send_again_after_a_bounce_is_a_new_attempt_and_the_bounce_stays_in_the_journal(
    sent_message, office, django_capture_on_commit_callbacks
):
    message_mark_bounced(
        message=sent_message, kind=BounceKind.BOUNCE, detail="550 no such user", occurred_at=BOUNCED_AT
    )
    earlier_id = sent_message.provider_message_id

    assert message_resend(message=sent_message, actor=office) is True

    sent_message.refresh_from_db()
    assert (sent_message.status, sent_message.bounced_at, sent_message.bounce_kind) == (MessageStatus.QUEUED, None, "")
    assert sent_message.bounce_detail == "" and sent_message.provider_message_id == ""
    assert JournalEntry.objects.filter(action="message.bounce", data__outbox_id=sent_message.pk).exists()
    resent = JournalEntry.objects.get(action="message.resend_requested")
    assert resent.data["earlier"]["message_id"] == earlier_id
    assert resent.data["earlier"]["bounced_at"] == BOUNCED_AT.isoformat()
    assert "war zurückgekommen" in entry_text(resent)
    message_deliver(message_id=sent_message.pk)
    sent_message.refresh_from_db()
    assert sent_message.status == MessageStatus.SENT and sent_message.bounced_at is None
    assert sent_message.provider_message_id not in {"", earlier_id}


def test_a_late_report_on_the_send_before_send_again_does_not_mark_the_new_attempt(
    client, sent_message, office, signalled, django_capture_on_commit_callbacks
):
    earlier_id = sent_message.provider_message_id
    message_resend(message=sent_message, actor=office)

    with django_capture_on_commit_callbacks(execute=True):
        while_queued = post(client, mailgun_event(earlier_id))
    message_deliver(message_id=sent_message.pk)
    with django_capture_on_commit_callbacks(execute=True):
        after_the_new_send = post(client, mailgun_event(earlier_id, token="z" * 50))

    assert (while_queued.status_code, after_the_new_send.status_code) == (200, 200)
    sent_message.refresh_from_db()
    assert sent_message.bounced_at is None and signalled == []
    assert message_for_bounce(earlier_id) is None


def test_send_again_goes_to_the_customers_address_as_corrected_since(sent_message, customer, office, mailoutbox):
    customer.email = "anna.schmitz@example.org"
    customer.save(update_fields=["email"])

    message_resend(message=sent_message, actor=office)
    message_deliver(message_id=sent_message.pk)

    sent_message.refresh_from_db()
    assert sent_message.to_email == "anna.schmitz@example.org" and mailoutbox[-1].to == ["anna.schmitz@example.org"]
    resent = JournalEntry.objects.get(action="message.resend_requested")
    assert resent.data["earlier"]["to"] == "anna@example.com"
    assert "anna.schmitz@example.org" in entry_text(resent)
