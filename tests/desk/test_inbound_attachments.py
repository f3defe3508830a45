"""Attachment files are written once their mail is committed: a rollback, ours or a caller's, leaves no file."""

import pytest
from django.db import transaction
from django.urls import reverse

from desk.models import InboundAttachment, InboundMail
from desk.services import inbound_receive
from tests.desk.inbound_samples import sample
from tests.factories import OfficeUserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root", "firm")]


def files_in(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_an_error_after_the_attachments_are_saved_leaves_no_file(
    media_root, monkeypatch, django_capture_on_commit_callbacks
):
    def fail(mail, parsed):
        raise RuntimeError("routing failed")

    monkeypatch.setattr("desk.services.inbound._route", fail)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")

    assert files_in(media_root) == []
    assert not InboundMail.objects.exists() and not InboundAttachment.objects.exists()


def test_a_rollback_of_the_callers_transaction_leaves_no_file(media_root, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")
            raise RuntimeError("the caller failed afterwards")

    assert files_in(media_root) == []


def test_the_file_is_written_when_the_mail_is_committed(media_root, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        mail = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")
    photo = mail.attachments.first()
    assert not photo.file and files_in(media_root) == []

    for callback in callbacks:
        callback()

    photo.refresh_from_db()
    assert photo.file and (media_root / photo.file.name).read_bytes().startswith(b"\xff\xd8")
    assert files_in(media_root) == [media_root / photo.file.name]


def test_an_attachment_whose_file_is_not_written_yet_downloads_from_the_raw_mail(client):
    client.force_login(OfficeUserFactory())
    mail = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")
    photo = mail.attachments.first()

    response = client.get(reverse("admin:desk_inboundmail_attachment", args=[mail.pk, photo.pk]))

    assert response.status_code == 200 and response["Content-Disposition"] == 'attachment; filename="typenschild.jpg"'
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")


def test_an_attachment_whose_file_went_missing_downloads_from_the_raw_mail(
    client, media_root, django_capture_on_commit_callbacks
):
    client.force_login(OfficeUserFactory())
    with django_capture_on_commit_callbacks(execute=True):
        mail = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")
    photo = mail.attachments.first()
    (media_root / photo.file.name).unlink()

    response = client.get(reverse("admin:desk_inboundmail_attachment", args=[mail.pk, photo.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")
