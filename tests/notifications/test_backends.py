"""The console's one line per mail (`make run`); the whole mail is kept on its outbox row."""

import logging

import pytest
from django.core.mail import mail_admins
from django.urls import reverse

from appointments.services import appointment_schedule
from notifications.models import MessageStatus, OutboxMessage
from notifications.services import message_deliver
from tests.factories import local_dt

pytestmark = pytest.mark.django_db

SUMMARY = "notifications.backends.ConsoleSummaryBackend"


@pytest.fixture
def summary_mailer(settings):
    settings.MAILERS = {"default": {"BACKEND": SUMMARY}}


def test_each_mail_is_one_line_with_kind_recipient_subject_and_outbox_id(
    summary_mailer, customer, service_type, technician, office, firm, caplog
):
    appointment = appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(3, 8), actor=office
    )
    message = OutboxMessage.objects.get(appointment=appointment)

    with caplog.at_level(logging.INFO, logger="notifications.mail"):
        assert message_deliver(message_id=message.pk) == MessageStatus.SENT

    message.refresh_from_db()
    lines = [record.getMessage() for record in caplog.records if record.name == "notifications.mail"]
    assert len(lines) == 1
    line = lines[0]
    assert "\n" not in line
    assert "confirmation" in line
    assert "anna@example.com" in line
    assert message.subject in line
    assert f"outbox {message.pk}" in line
    assert reverse("admin:notifications_outboxmessage_change", args=[message.pk]) in line
    # Not the mail itself: that is on the row, for the admin.
    assert "Content-Type" not in line and "Sandra Brinkmann" not in line
    assert "Sandra Brinkmann" in message.sent_mail().get_body(("plain",)).get_content()


def test_a_mail_from_outside_the_outbox_gets_its_line_too(summary_mailer, settings, caplog):
    settings.ADMINS = ["ops@firm.example"]

    with caplog.at_level(logging.INFO, logger="notifications.mail"):
        mail_admins("Disk almost full", "body\nwith lines")

    lines = [record.getMessage() for record in caplog.records if record.name == "notifications.mail"]
    assert len(lines) == 1
    assert "ops@firm.example" in lines[0] and "Disk almost full" in lines[0]
    assert "body" not in lines[0]


def test_a_mail_with_a_bad_header_fails_as_it_would_over_smtp(summary_mailer):
    from django.core.mail import EmailMessage

    with pytest.raises(ValueError):
        EmailMessage("Hi", "body", "office@firm.example", ["a@example.com"], headers={"X-Bad": "a\nb"}).send()


@pytest.mark.parametrize(
    ("environment", "backend"),
    [
        ({}, SUMMARY),
        ({"EMAIL_URL": "console://"}, "django.core.mail.backends.console.EmailBackend"),
        ({"EMAIL_URL": "smtp://relay.example.com"}, "django.core.mail.backends.smtp.EmailBackend"),
    ],
)
def test_without_a_mail_server_the_console_gets_one_line_and_console_url_the_whole_mail(
    environment, backend, monkeypatch
):
    from config.settings import mailer_from_env

    for name in ("EMAIL_URL", "EMAIL_HOST"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert mailer_from_env()["BACKEND"] == backend
