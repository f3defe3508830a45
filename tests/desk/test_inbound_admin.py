"""The office's inbound list: triage to hand, the mail as escaped text, attachments as downloads for the office
only, and "assign to a customer" / "no reply needed" through the services."""

import pytest
from django.urls import reverse

from desk.models import InboundMail, InboundStatus, PromiseKind, PromiseState
from desk.services import inbound_dismiss, inbound_receive
from journal.models import JournalEntry
from tests.config.test_admin_pages import english_on
from tests.desk.inbound_samples import mail_with_attachment, sample
from tests.factories import AppointmentFactory, CustomerFactory, OfficeUserFactory, TechnicianFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root", "firm")]

CHANGELIST = reverse("admin:desk_inboundmail_changelist")
HOSTILE = (
    b"From: Mallory <mallory@example.com>\r\nSubject: <script>alert('s')</script>\r\nMessage-ID: <h@x>\r\n\r\n"
    b"<script>alert('t')</script><img src=x onerror=alert(1)>\r\n"
)


@pytest.fixture
def office(client):
    user = OfficeUserFactory()
    client.force_login(user)
    return user


def change_url(mail):
    return reverse("admin:desk_inboundmail_change", args=[mail.pk])


def test_the_list_shows_received_sender_subject_customer_and_status_and_filters_triage(client, office):
    juergen = CustomerFactory(full_name="Jürgen Müller", email="juergen.mueller@example.de")
    inbound_receive(raw=sample("reply_de_quoted.eml"), source="pipe")
    inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")

    page = client.get(CHANGELIST, headers={"accept-language": "de"}).content.decode()
    triage = client.get(CHANGELIST + "?status__exact=triage").content.decode()

    assert "Grüße aus Köln" in page and "Anfrage Wartung Gastherme" in page and juergen.full_name in page
    assert "Anfrage Wartung Gastherme" in triage and "Grüße aus Köln" not in triage


def test_the_change_page_shows_the_mail_as_escaped_text(client, office):
    mail = inbound_receive(raw=HOSTILE, source="pipe")

    page = client.get(change_url(mail)).content.decode()

    assert "<script>alert(" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt;" in page


@pytest.mark.parametrize("language", ["de", "nl"])
def test_the_inbound_pages_read_in_the_offices_language(client, office, language):
    mail = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")
    headers = {"accept-language": language}

    for url in [
        CHANGELIST,
        change_url(mail),
        reverse("admin:desk_inboundmail_assign", args=[mail.pk]),
        reverse("admin:desk_inboundmail_dismiss", args=[mail.pk]),
    ]:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        assert english_on(response.content.decode()) == [], url


def test_an_attachment_downloads_as_an_attachment_to_the_office(client, office):
    mail = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")
    photo, program = mail.attachments.all()

    page = client.get(change_url(mail)).content.decode()
    response = client.get(reverse("admin:desk_inboundmail_attachment", args=[mail.pk, photo.pk]))

    assert reverse("admin:desk_inboundmail_attachment", args=[mail.pk, photo.pk]) in page
    assert "rechnung.pdf.exe" in page
    assert reverse("admin:desk_inboundmail_attachment", args=[mail.pk, program.pk]) not in page
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="typenschild.jpg"'
    assert response["Content-Type"] == "image/jpeg" and response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")
    refused = client.get(reverse("admin:desk_inboundmail_attachment", args=[mail.pk, program.pk]))
    assert refused.status_code == 404


def test_an_attachment_stored_as_html_is_never_served_as_html(client, office, settings):
    settings.INBOUND_ALLOWED_ATTACHMENT_TYPES = ["*"]
    raw = mail_with_attachment(size=50, filename="page.txt", content_type="text/html", sender="a@example.de")
    mail = inbound_receive(raw=raw, source="pipe")
    [attachment] = mail.attachments.all()

    response = client.get(reverse("admin:desk_inboundmail_attachment", args=[mail.pk, attachment.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")


def test_an_attachment_of_another_mail_is_not_found(client, office):
    mail = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")
    other = inbound_receive(raw=sample("reply_nl.eml"), source="pipe")
    photo = mail.attachments.first()

    response = client.get(reverse("admin:desk_inboundmail_attachment", args=[other.pk, photo.pk]))

    assert response.status_code == 404


def test_attachments_are_not_served_to_anyone_outside_the_office(client):
    mail = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")
    url = reverse("admin:desk_inboundmail_attachment", args=[mail.pk, mail.attachments.first().pk])

    assert client.get(url).status_code == 302  # to the sign-in
    client.force_login(TechnicianFactory().user)
    assert client.get(url).status_code in {302, 403}


def test_the_office_assigns_a_triage_mail_to_a_customer_by_autocomplete(client, office):
    petra = CustomerFactory(full_name="Petra Neumann", email="petra@example.de")
    mail = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")
    url = reverse("admin:desk_inboundmail_assign", args=[mail.pk])

    form = client.get(url).content.decode()
    response = client.post(url, {"customer": petra.pk})

    assert "admin-autocomplete" in form
    assert response.status_code == 302 and response["Location"] == change_url(mail)
    mail.refresh_from_db()
    assert mail.status == InboundStatus.NEW and mail.customer == petra
    assert mail.promise.kind == PromiseKind.REPLY_MAIL and mail.promise.state == PromiseState.OPEN
    assert JournalEntry.objects.get(action="inbound.received").actor == office


def test_assigning_a_mail_already_assigned_says_so_and_changes_nothing(client, office):
    juergen = CustomerFactory(email="juergen.mueller@example.de")
    mail = inbound_receive(raw=sample("reply_de_quoted.eml"), source="pipe")

    response = client.post(
        reverse("admin:desk_inboundmail_assign", args=[mail.pk]),
        {"customer": CustomerFactory().pk},
        headers={"accept-language": "de"},
    )

    assert response.status_code == 200 and "errornote" in response.content.decode()
    mail.refresh_from_db()
    assert mail.customer == juergen


def test_no_reply_needed_closes_the_mail_with_the_reason_given(client, office):
    CustomerFactory(email="juergen.mueller@example.de")
    mail = inbound_receive(raw=sample("reply_de_quoted.eml"), source="pipe")
    url = reverse("admin:desk_inboundmail_dismiss", args=[mail.pk])

    empty = client.post(url, {"reason": " "})
    done = client.post(url, {"reason": "Telefonisch geklärt"})

    assert empty.status_code == 200
    assert done.status_code == 302
    mail.refresh_from_db()
    assert mail.status == InboundStatus.IGNORED and mail.status_reason == "Telefonisch geklärt"
    assert mail.promise.state == PromiseState.VOIDED


def test_the_office_cannot_add_or_delete_inbound_mail(client, office):
    mail = inbound_receive(raw=sample("reply_nl.eml"), source="pipe")

    assert client.get(reverse("admin:desk_inboundmail_add")).status_code == 403
    assert client.get(reverse("admin:desk_inboundmail_delete", args=[mail.pk])).status_code == 403
    assert InboundMail.objects.filter(pk=mail.pk).exists()


def test_assigning_offers_the_chosen_customers_visits_and_the_promise_concerns_the_one_picked(client, office):
    petra = CustomerFactory(full_name="Petra Neumann", email="petra@example.de")
    older, newer = AppointmentFactory(customer=petra), AppointmentFactory(customer=petra)
    someone_elses = AppointmentFactory()
    mail = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")
    url = reverse("admin:desk_inboundmail_assign", args=[mail.pk])

    step = client.post(url, {"customer": petra.pk})
    page = step.content.decode()
    done = client.post(url, {"customer": petra.pk, "visit_step": "1", "appointment": older.pk})

    assert step.status_code == 200 and "vForeignKeyRawIdAdminField" not in page
    assert f'<option value="{older.pk}">D-{older.pk} · ' in page and f'<option value="{newer.pk}">' in page
    assert f'<option value="{someone_elses.pk}">' not in page
    assert 'name="visit_step" value="True"' in page or 'name="visit_step" value="1"' in page
    assert done.status_code == 302
    mail.refresh_from_db()
    assert (mail.customer, mail.appointment) == (petra, older)
    assert mail.promise.appointment == older and mail.journal_entry.appointment == older


def test_another_customers_visit_cannot_be_picked_when_assigning(client, office):
    petra = CustomerFactory(email="petra@example.de")
    AppointmentFactory(customer=petra)
    mail = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")

    response = client.post(
        reverse("admin:desk_inboundmail_assign", args=[mail.pk]),
        {"customer": petra.pk, "visit_step": "1", "appointment": AppointmentFactory().pk},
    )

    assert response.status_code == 200 and "errorlist" in response.content.decode()
    mail.refresh_from_db()
    assert mail.status == InboundStatus.TRIAGE and mail.customer is None


def test_assigning_without_a_visit_leaves_the_mail_about_no_visit(client, office):
    petra = CustomerFactory(email="petra@example.de")
    AppointmentFactory(customer=petra)
    mail = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")

    client.post(
        reverse("admin:desk_inboundmail_assign", args=[mail.pk]),
        {"customer": petra.pk, "visit_step": "1", "appointment": ""},
    )

    mail.refresh_from_db()
    assert mail.customer == petra and mail.appointment is None and mail.promise.appointment is None


def test_no_reply_needed_for_several_mails_asks_one_reason_and_closes_each_with_its_promise(client, office):
    juergen = CustomerFactory(email="juergen.mueller@example.de")
    marieke = CustomerFactory(email="m.devries@voorbeeld.nl")
    replies = [
        inbound_receive(raw=sample("reply_de_quoted.eml"), source="pipe"),
        inbound_receive(raw=sample("reply_nl.eml"), source="pipe"),
    ]
    triage = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")
    selected = [mail.pk for mail in [*replies, triage]]

    ask = client.post(CHANGELIST, {"action": "no_reply_needed", "_selected_action": selected})
    empty = client.post(CHANGELIST, {"action": "no_reply_needed", "_selected_action": selected, "apply": "1"})
    closed_without_reason = InboundMail.objects.filter(status=InboundStatus.IGNORED).count()
    done = client.post(
        CHANGELIST,
        {"action": "no_reply_needed", "_selected_action": selected, "apply": "1", "reason": "Werbung"},
        follow=True,
    )

    assert ask.status_code == 200 and 'name="reason"' in ask.content.decode()
    assert "Anfrage Wartung Gastherme" in ask.content.decode()
    assert empty.status_code == 200 and closed_without_reason == 0
    assert done.status_code == 200
    for mail in [*replies, triage]:
        mail.refresh_from_db()
        assert mail.status == InboundStatus.IGNORED and mail.status_reason == "Werbung"
    for mail in replies:
        assert mail.promise.state == PromiseState.VOIDED and mail.promise.closed_reason == "Werbung"
    dismissed = JournalEntry.objects.filter(action="inbound.dismissed", actor=office)
    assert sorted(entry.customer_id for entry in dismissed) == sorted([juergen.pk, marieke.pk])
    assert {entry.data["inbound_id"] for entry in dismissed} == {mail.pk for mail in replies}


def test_no_reply_needed_for_several_mails_skips_those_closed_already_and_says_so(client, office):
    CustomerFactory(email="juergen.mueller@example.de")
    mail = inbound_receive(raw=sample("reply_de_quoted.eml"), source="pipe")
    closed = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")
    inbound_dismiss(mail=closed, reason="Spam", actor=office)

    response = client.post(
        CHANGELIST,
        {"action": "no_reply_needed", "_selected_action": [mail.pk, closed.pk], "apply": "1", "reason": "Erledigt"},
        follow=True,
        headers={"accept-language": "en"},
    )

    notes = [str(message) for message in response.context["messages"]]
    assert any("1 mail needs no reply" in note for note in notes)
    assert any("closed already" in note for note in notes)
    closed.refresh_from_db()
    assert closed.status_reason == "Spam"
