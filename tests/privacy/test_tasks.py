"""Retention: door locations, the kept copies of sent mails and the sign-in records go after their time, each by a
nightly beat job."""

import zlib
from datetime import timedelta
from decimal import Decimal

import pytest
from axes.models import AccessAttempt, AccessLog
from celery.schedules import crontab
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from appointments.models import VisitAttempt
from config.celery import app
from journal.models import JournalEntry
from journal.services import journal_record
from notifications.models import OutboxMessage
from privacy.tasks import expire_door_locations, expire_message_bodies, expire_sign_in_records
from tests.factories import CustomerFactory, OutboxMessageFactory, VisitAttemptFactory
from tests.journal.reading import as_read_in

pytestmark = pytest.mark.django_db


def attempt_days_ago(days: float) -> VisitAttempt:
    attempt = VisitAttemptFactory(latitude=Decimal("51.7890"), longitude=Decimal("6.1380"), location_accuracy_m=8)
    VisitAttempt.objects.filter(pk=attempt.pk).update(at=timezone.now() - timedelta(days=days))
    return attempt


def sent_days_ago(days: float, customer) -> OutboxMessage:
    return OutboxMessageFactory(
        kind="reminder",
        customer=customer,
        subject="Erinnerung an Ihren Termin",
        sent_at=timezone.now() - timedelta(days=days),
        sent_mime=zlib.compress(b"Subject: Erinnerung\r\n\r\nBis morgen!"),
    )


def test_door_locations_older_than_the_retention_are_deleted_and_the_attempts_kept(settings):
    settings.LOCATION_RETENTION_DAYS = 90
    old, recent = attempt_days_ago(91), attempt_days_ago(89)

    assert expire_door_locations.delay().get() == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.latitude, old.longitude, old.location_accuracy_m) == (None, None, None)
    assert old.waited_minutes == 10 and old.card_left
    assert recent.latitude == Decimal("51.789000") and recent.location_accuracy_m == 8


def missed_entry_stored_with_the_location(attempt: VisitAttempt) -> JournalEntry:
    """A missed visit's journal entry as it was written before the journal kept only that a location was taken."""
    attempt.refresh_from_db()
    return journal_record(
        customer=attempt.appointment.customer,
        appointment=attempt.appointment,
        action="visit.missed",
        channel="visit",
        occurred_at=attempt.at,
        data={
            "waited_minutes": attempt.waited_minutes,
            "card_left": attempt.card_left,
            "note": "",
            "latitude": str(attempt.latitude),
            "longitude": str(attempt.longitude),
            "location_accuracy_m": attempt.location_accuracy_m,
        },
    )


def test_door_locations_older_than_the_retention_leave_the_journal_too_and_the_entry_still_says_one_was_taken(
    settings,
):
    settings.LOCATION_RETENTION_DAYS = 90
    old, recent = attempt_days_ago(91), attempt_days_ago(89)
    old_entry, recent_entry = missed_entry_stored_with_the_location(old), missed_entry_stored_with_the_location(recent)

    expire_door_locations.delay().get()

    old_entry.refresh_from_db()
    recent_entry.refresh_from_db()
    assert "latitude" not in old_entry.data and "longitude" not in old_entry.data
    assert "51.789" not in str(old_entry.data) and "6.138" not in str(old_entry.data)
    assert old_entry.data["location_recorded"] is True and old_entry.data["waited_minutes"] == 10
    assert "Location recorded by the phone." in as_read_in("en", old_entry)
    assert recent_entry.data["latitude"] == str(recent.latitude) and "location_recorded" not in recent_entry.data
    assert "Location recorded by the phone." in as_read_in("en", recent_entry)


def test_the_journal_is_append_only_again_after_the_door_locations_expired(settings):
    old = attempt_days_ago(91)
    entry = missed_entry_stored_with_the_location(old)

    expire_door_locations.delay().get()

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE journal_journalentry SET summary = 'x' WHERE id = %s", [entry.pk])


def test_the_location_retention_follows_the_setting(settings):
    settings.LOCATION_RETENTION_DAYS = 30
    attempt = attempt_days_ago(31)

    expire_door_locations.delay()

    attempt.refresh_from_db()
    assert attempt.latitude is None


def test_sent_mail_bodies_older_than_the_retention_are_cleared_and_subject_and_dates_kept(settings):
    settings.MESSAGE_BODY_RETENTION_DAYS = 365
    customer = CustomerFactory()
    old, recent = sent_days_ago(366, customer), sent_days_ago(364, customer)

    assert expire_message_bodies.delay().get() == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.sent_mime is None and old.sent_mail() is None
    assert (old.subject, old.status, old.to_email) == ("Erinnerung an Ihren Termin", "sent", customer.email)
    assert recent.sent_mail()["Subject"] == "Erinnerung"


def signed_in_days_ago(days: float, model=AccessLog, **fields):
    record = model.objects.create(
        username="office",
        ip_address="198.51.100.7",
        user_agent="Firefox",
        http_accept="*/*",
        path_info="/login/",
        **fields,
    )
    model.objects.filter(pk=record.pk).update(attempt_time=timezone.now() - timedelta(days=days))
    return record


def test_sign_in_records_older_than_the_retention_are_deleted(settings):
    """Every staff sign-in keeps the address and browser it came from: not for ever."""
    settings.SIGN_IN_RECORD_RETENTION_DAYS = 90
    signed_in_days_ago(91)
    recent = signed_in_days_ago(89)
    old_failure = signed_in_days_ago(91, AccessAttempt, failures_since_start=3)

    assert expire_sign_in_records.delay().get() == 2

    assert list(AccessLog.objects.all()) == [recent]
    assert not AccessAttempt.objects.filter(pk=old_failure.pk).exists()


def test_the_defaults_are_90_days_for_locations_and_a_year_for_bodies():
    assert settings.LOCATION_RETENTION_DAYS == 90 and settings.MESSAGE_BODY_RETENTION_DAYS == 365
    assert settings.SIGN_IN_RECORD_RETENTION_DAYS == 90


@pytest.mark.parametrize(
    "task",
    [
        "privacy.tasks.expire_door_locations",
        "privacy.tasks.expire_message_bodies",
        "privacy.tasks.expire_sign_in_records",
        "config.tasks.clear_expired_sessions",
    ],
)
def test_beat_runs_each_retention_job_once_a_night(task):
    entries = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == task]

    assert len(entries) == 1
    schedule = entries[0]["schedule"]
    assert isinstance(schedule, crontab) and len(schedule.hour) == 1 and len(schedule.minute) == 1
    app.loader.import_default_modules()
    assert task in app.tasks
