import html
from unittest import mock

import pytest
from django.template import TemplateDoesNotExist
from django.urls import reverse

from appointments.services import appointment_schedule
from notifications.models import MessageStatus, OutboxMessage
from notifications.services import message_deliver
from tests.factories import CustomerFactory, local_dt

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:notifications_outboxmessage_changelist")


@pytest.fixture
def sent_messages(service_type, technician, office, firm):
    def make(count):
        messages = []
        for index in range(count):
            appointment = appointment_schedule(
                customer=CustomerFactory(responsible=office),
                service_type=service_type,
                technician=technician,
                window_start=local_dt(2 + index, 8),
                actor=office,
            )
            message = OutboxMessage.objects.get(appointment=appointment)
            message_deliver(message_id=message.pk)
            messages.append(message)
        return messages

    return make


@pytest.mark.parametrize("rows", [10, 200])
def test_outbox_list_queries_do_not_grow_with_rows(rows, sent_messages, client, office, django_assert_max_num_queries):
    sent_messages(rows)
    client.force_login(office)

    with django_assert_max_num_queries(10):
        response = client.get(CHANGELIST)

    assert response.status_code == 200


def test_office_reads_a_rendered_preview_with_status_and_attempts(sent_messages, client, office):
    message = sent_messages(1)[0]
    client.force_login(office)

    response = client.get(reverse("admin:notifications_outboxmessage_change", args=[message.pk]))

    page = response.content.decode()
    message.refresh_from_db()
    assert response.status_code == 200
    assert "srcdoc=" in page
    assert "Jan Verhaag" in page
    assert "gesendet" in page
    assert f"Der gesendete Betreff war: „{message.subject}“" in html.unescape(page)


def test_preview_links_open_in_a_new_tab_because_our_pages_refuse_frames(sent_messages, client, office):
    message = sent_messages(1)[0]
    client.force_login(office)

    page = client.get(reverse("admin:notifications_outboxmessage_change", args=[message.pk])).content.decode()

    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page
    assert 'srcdoc="&lt;base target=&quot;_blank&quot;&gt;' in page


def test_a_message_that_cannot_be_rendered_shows_why_instead_of_failing_the_page(sent_messages, client, office):
    message = sent_messages(1)[0]
    client.force_login(office)

    with mock.patch("notifications.admin.render_message", side_effect=TemplateDoesNotExist("emails/x/body.txt")):
        response = client.get(reverse("admin:notifications_outboxmessage_change", args=[message.pk]))

    assert response.status_code == 200
    assert "emails/x/body.txt" in html.unescape(response.content.decode())


def test_send_again_action_delivers_through_the_same_path(
    sent_messages, client, office, mailoutbox, django_capture_on_commit_callbacks
):
    message = sent_messages(1)[0]
    client.force_login(office)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CHANGELIST, {"action": "send_again", "_selected_action": [message.pk]})

    message.refresh_from_db()
    assert response.status_code == 302
    assert message.status == MessageStatus.SENT
    assert len(mailoutbox) == 2
