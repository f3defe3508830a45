"""The two ways in share the parser and the service: the MTA pipe command and anymail's inbound webhook."""

import base64
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError

from desk.models import InboundMail, InboundStatus
from tests.desk.inbound_samples import sample
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

WEBHOOK = "/anymail/postmark/inbound/"
SECRET = "inbound-user:inbound-s3cret"


@pytest.fixture(autouse=True)
def setup(settings, media_root, firm):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}


def pipe(raw: bytes):
    return call_command("inbound_mail", stdin=io.BytesIO(raw))


def test_the_pipe_command_stores_a_mail_from_standard_input():
    juergen = CustomerFactory(email="juergen.mueller@example.de")

    pipe(sample("reply_de_quoted.eml"))

    mail = InboundMail.objects.get()
    assert mail.source == "pipe" and mail.customer == juergen and mail.status == InboundStatus.NEW


def test_the_pipe_command_takes_the_same_mail_twice_as_one():
    pipe(sample("new_unknown_sender.eml"))
    pipe(sample("new_unknown_sender.eml"))

    assert InboundMail.objects.count() == 1


def test_the_pipe_command_refuses_garbage_with_ex_dataerr():
    with pytest.raises(CommandError) as refused:
        pipe(sample("garbage.eml"))

    assert refused.value.returncode == 65 and not InboundMail.objects.exists()


def test_the_pipe_command_refuses_a_mail_over_the_limit_with_ex_dataerr_before_parsing(settings, monkeypatch):
    settings.INBOUND_MAX_MESSAGE_BYTES = 1000
    monkeypatch.setattr("desk.services.inbound.parse_mail", lambda *a, **k: pytest.fail("parsed a refused mail"))

    with pytest.raises(CommandError) as refused:
        pipe(b"From: a@example.de\r\n\r\n" + b"x" * 2000)

    assert refused.value.returncode == 65


def test_the_pipe_command_asks_the_mta_to_retry_on_a_database_error(monkeypatch):
    def database_down(**kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr("desk.management.commands.inbound_mail.inbound_receive", database_down)

    with pytest.raises(CommandError) as refused:
        pipe(sample("reply_de_quoted.eml"))

    assert refused.value.returncode == 75


def postmark_payload(raw: bytes, **extra) -> str:
    """Postmark's inbound JSON with "Include raw email content" on (RawEmail), trimmed to what matters."""
    return json.dumps(
        {
            "FromName": "Jürgen Müller",
            "From": "juergen.mueller@example.de",
            "FromFull": {"Email": "juergen.mueller@example.de", "Name": "Jürgen Müller", "MailboxHash": ""},
            "To": "office@heizung-beispiel.de",
            "ToFull": [{"Email": "office@heizung-beispiel.de", "Name": "", "MailboxHash": ""}],
            "OriginalRecipient": "office@heizung-beispiel.de",
            "Subject": "AW: Ihr Termin",
            "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
            "Date": "Mon, 30 Nov 2026 09:13:58 +0100",
            "MailboxHash": "",
            "TextBody": "",
            "HtmlBody": "",
            "StrippedTextReply": "",
            "Tag": "",
            "Headers": [{"Name": "Return-Path", "Value": "<juergen.mueller@example.de>"}],
            "Attachments": [],
            "RawEmail": raw.decode("utf-8"),
            **extra,
        }
    )


def post(client, body: str, auth: str | None = SECRET):
    headers = {"authorization": "Basic " + base64.b64encode(auth.encode()).decode()} if auth else {}
    return client.post(WEBHOOK, data=body, content_type="application/json", headers=headers)


def test_a_postmark_inbound_post_with_basic_auth_is_stored_through_the_same_service(client):
    juergen = CustomerFactory(email="juergen.mueller@example.de")

    response = post(client, postmark_payload(sample("reply_de_quoted.eml")))

    assert response.status_code == 200
    mail = InboundMail.objects.get()
    assert mail.source == "webhook:postmark" and mail.customer == juergen
    assert mail.subject == "AW: Ihr Termin am Donnerstag – Grüße aus Köln"
    assert mail.reply_text.endswith("Jürgen Müller")


def test_a_postmark_inbound_post_without_the_raw_mail_is_read_from_its_fields(client):
    body = json.loads(postmark_payload(b""))
    del body["RawEmail"]
    body.update(
        TextBody="Bitte rufen Sie mich an.",
        Attachments=[
            {
                "Name": "foto.jpg",
                "ContentType": "image/jpeg",
                "Content": base64.b64encode(b"\xff\xd8\xff\xe0 photo").decode(),
                "ContentLength": 13,
            }
        ],
    )
    CustomerFactory(email="juergen.mueller@example.de")

    assert post(client, json.dumps(body)).status_code == 200

    mail = InboundMail.objects.get()
    assert mail.text == "Bitte rufen Sie mich an." and mail.subject == "AW: Ihr Termin"
    assert [(a.name, a.refused) for a in mail.attachments.all()] == [("foto.jpg", False)]


@pytest.mark.parametrize("auth", [None, "inbound-user:wrong"])
def test_a_webhook_post_without_the_right_basic_auth_is_refused_and_not_stored(client, auth):
    response = post(client, postmark_payload(sample("reply_de_quoted.eml")), auth=auth)

    assert response.status_code in {400, 401, 403}
    assert not InboundMail.objects.exists()


def test_the_same_mail_posted_again_by_the_provider_is_stored_once(client):
    body = postmark_payload(sample("new_unknown_sender.eml"))

    assert post(client, body).status_code == 200
    assert post(client, body).status_code == 200
    assert InboundMail.objects.count() == 1
