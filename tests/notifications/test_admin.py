import html
from unittest import mock

import pytest
from django.template import TemplateDoesNotExist
from django.urls import reverse

from appointments.services import appointment_reschedule, appointment_schedule
from notifications.models import MessageStatus, OutboxMessage
from notifications.services import message_deliver, message_resend
from tests.factories import CustomerFactory, local_dt

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:notifications_outboxmessage_changelist")


def change_page(client, office, message) -> str:
    client.force_login(office)
    response = client.get(reverse("admin:notifications_outboxmessage_change", args=[message.pk]))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


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


def test_office_reads_the_sent_mail_with_its_subject_and_status(sent_messages, client, office):
    message = sent_messages(1)[0]
    message.refresh_from_db()

    page = change_page(client, office, message)

    assert "srcdoc=" in page
    assert "Jan Verhaag" in page
    assert "gesendet" in page
    assert f"Betreff:</strong> {message.subject}" in page


def test_preview_links_open_in_a_new_tab_because_our_pages_refuse_frames(sent_messages, client, office):
    message = sent_messages(1)[0]
    client.force_login(office)

    page = client.get(reverse("admin:notifications_outboxmessage_change", args=[message.pk])).content.decode()

    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page
    assert 'srcdoc="&lt;base target=&quot;_blank&quot;&gt;' in page


def test_a_message_that_cannot_be_rendered_shows_why_instead_of_failing_the_page(
    service_type, technician, office, firm, client, customer
):
    appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(3, 8), actor=office
    )
    message = OutboxMessage.objects.get()

    with mock.patch("notifications.admin.render_message", side_effect=TemplateDoesNotExist("emails/x/body.txt")):
        page = change_page(client, office, message)

    assert "emails/x/body.txt" in page


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


def test_a_sent_mail_still_shows_the_window_it_was_sent_for_after_the_visit_moved(
    service_type, technician, office, firm, client, customer
):
    appointment = appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(3, 8), actor=office
    )
    message = OutboxMessage.objects.get(appointment=appointment)
    message_deliver(message_id=message.pk)
    appointment_reschedule(appointment=appointment, window_start=local_dt(3, 12, 30), actor=office)

    page = change_page(client, office, message)

    assert "08:00–12:00" in page
    assert "12:30–16:30" not in page
    assert "genau so, wie der Kunde sie erhalten hat" in page
    assert "aus den heutigen Daten" not in page
    # Text, HTML (in a sandboxed frame, escaped into srcdoc) and the calendar file as they went out.
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page
    assert "BEGIN:VCALENDAR" in page and "METHOD:REQUEST" in page
    assert "invite.ics" in page


def test_an_unsent_message_is_labelled_a_preview_from_todays_data(
    service_type, technician, office, firm, client, customer
):
    appointment = appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(3, 8), actor=office
    )
    message = OutboxMessage.objects.get(appointment=appointment)

    page = change_page(client, office, message)

    assert "Vorschau aus den heutigen Daten" in page
    assert "08:00–12:00" in page


def test_a_mail_sent_before_content_was_kept_says_so_honestly(sent_messages, client, office):
    message = sent_messages(1)[0]
    OutboxMessage.objects.filter(pk=message.pk).update(sent_mime=None)
    message.refresh_from_db()

    page = change_page(client, office, message)

    assert "Der Inhalt dieser E-Mail wurde nicht gespeichert" in page
    assert f"Der gesendete Betreff war „{message.subject}“" in page
    assert "Vorschau aus den heutigen Daten" in page


def test_a_sent_mail_queued_again_still_shows_the_copy_of_its_last_send(sent_messages, client, office):
    message = sent_messages(1)[0]
    message_resend(message=message, actor=office)

    page = change_page(client, office, message)

    assert "genau so, wie der Kunde sie erhalten hat" in page
    assert "erneut in die Warteschlange gestellt" in page
    assert "Vorschau aus den heutigen Daten" not in page


def test_the_outbox_names_the_mails_language_rather_than_its_code(sent_messages, client, office):
    message = sent_messages(1)[0]
    OutboxMessage.objects.filter(pk=message.pk).update(language="nl")
    message.refresh_from_db()

    page = change_page(client, office, message)
    listing = client.get(CHANGELIST, {"language": "nl"})

    assert "Niederländisch" in page
    assert [row.pk for row in listing.context["cl"].queryset] == [message.pk]
    filter_choices = [
        choice["display"]
        for spec in listing.context["cl"].filter_specs
        for choice in spec.choices(listing.context["cl"])
    ]
    assert {"Deutsch", "Niederländisch", "Englisch"} <= {str(choice) for choice in filter_choices}
    assert "nl" not in {str(choice) for choice in filter_choices}
