"""The office sees at once when mail fails or is stuck: on the admin, the board and My desk."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import MessageStatus, OutboxMessage
from tests.factories import OutboxMessageFactory, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_INDEX = reverse("admin:index")


def page(client, url, language="en"):
    return client.get(url, headers={"accept-language": language}).content.decode()


def test_no_banner_while_mail_goes_out(admin_client_office):
    OutboxMessageFactory(status=MessageStatus.SENT)

    assert "outbox-alert" not in page(admin_client_office, ADMIN_INDEX)


def test_a_failed_message_shows_the_banner_with_a_link_to_the_failed_messages(admin_client_office):
    OutboxMessageFactory(status=MessageStatus.FAILED)

    html = page(admin_client_office, ADMIN_INDEX)

    assert "outbox-alert" in html
    assert "1 message could not be sent" in html
    assert f"{reverse('admin:notifications_outboxmessage_changelist')}?status__exact=failed" in html


def test_stuck_mail_is_named_with_how_long_it_waits(admin_client_office, settings):
    settings.OUTBOX_STUCK_AFTER = timedelta(minutes=15)
    message = OutboxMessageFactory(status=MessageStatus.QUEUED)
    OutboxMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(minutes=42))

    html = page(admin_client_office, ADMIN_INDEX)

    assert "Mail is not going out: a message due 42 minutes ago is still waiting." in html


def test_the_banner_speaks_the_office_language(admin_client_office):
    OutboxMessageFactory(status=MessageStatus.FAILED)

    german = page(admin_client_office, ADMIN_INDEX, "de")
    assert "1 Nachricht konnte nicht gesendet werden und wurde aufgegeben" in german
    assert "1 bericht kon niet worden verzonden" in page(admin_client_office, ADMIN_INDEX, "nl")


@pytest.mark.parametrize("url_name", ["dispatch:day", "desk:page"])
def test_the_board_and_my_desk_show_the_banner_too(admin_client_office, url_name):
    OutboxMessageFactory(status=MessageStatus.FAILED)

    assert "outbox-alert" in page(admin_client_office, reverse(url_name))


def test_staff_without_access_to_the_outbox_see_the_banner_without_the_link(client):
    clerk = UserFactory(is_staff=True, is_superuser=False)
    client.force_login(clerk)
    OutboxMessageFactory(status=MessageStatus.FAILED)

    html = page(client, ADMIN_INDEX)

    assert "outbox-alert" in html
    assert "status__exact" not in html
