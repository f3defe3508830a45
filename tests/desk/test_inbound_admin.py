"""The office's inbound list: triage to hand, the mail as escaped text, attachments as downloads for the office
only, and "assign to a customer" / "no reply needed" through the services."""

import pytest
from django.urls import reverse

from desk.models import InboundMail, InboundStatus, PromiseKind, PromiseState
from desk.services import inbound_receive
from journal.models import JournalEntry
from tests.config.test_admin_pages import english_on
from tests.desk.inbound_samples import mail_with_attachment, sample
from tests.factories import CustomerFactory, FirmFactory, OfficeUserFactory, TechnicianFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:desk_inboundmail_changelist")
HOSTILE = (
    b"From: Mallory <mallory@example.com>\r\nSubject: <script>alert('s')</script>\r\nMessage-ID: <h@x>\r\n\r\n"
    b"<script>alert('t')</script><img src=x onerror=alert(1)>\r\n"
)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    FirmFactory(email="office@heizung-beispiel.de")


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
