"""The parser reads real-world mails: quoted replies in German and Dutch, HTML-only mail, auto-replies, DSNs."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desk.inbound.parse import ParseError, parse_mail, reply_part
from tests.desk.inbound_samples import mail_with_attachment, sample, with_header

OURS = ("office@heizung-beispiel.de",)


def test_a_german_reply_has_its_umlauts_decoded_in_sender_and_subject():
    mail = parse_mail(sample("reply_de_quoted.eml"), own_addresses=OURS)

    assert (mail.from_name, mail.from_address) == ("Jürgen Müller", "Juergen.Mueller@Example.DE")
    assert mail.subject == "AW: Ihr Termin am Donnerstag – Grüße aus Köln"
    assert mail.message_id == "<CAF3x9qQ7pL2mN-reply-1@mail.example.de>"
    assert mail.in_reply_to == "<176450.11.2@doorstep.example>"
    assert mail.references == ["<176449.10.1@doorstep.example>", "<176450.11.2@doorstep.example>"]
    assert mail.date.isoformat() == "2026-11-30T09:13:58+01:00"
    assert not (mail.is_auto_reply or mail.is_loop or mail.is_bounce)


def test_a_german_reply_loses_the_quote_below_gmails_wrapped_am_schrieb_line_but_keeps_it_in_the_full_text():
    mail = parse_mail(sample("reply_de_quoted.eml"))

    assert mail.reply_text.startswith("Guten Tag,\n\nder Donnerstag passt leider nicht. Könnten Sie")
    assert mail.reply_text.endswith("Mit freundlichen Grüßen\nJürgen Müller")
    assert "schrieb" not in mail.reply_text and "Anna Schmidt" not in mail.reply_text
    assert "> Ihr Termin ist am Donnerstag" in mail.text


def test_a_dutch_reply_loses_the_quote_below_op_schreef():
    mail = parse_mail(sample("reply_nl.eml"))

    assert mail.from_name == "Marieke de Vries"
    assert mail.reply_text.endswith("Met vriendelijke groet,\nMarieke")
    assert "schreef" not in mail.reply_text and "Geachte" not in mail.reply_text
    assert "kunt u een filter meenemen?" in mail.reply_text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Danke!\n\nOn Mon, 30 Nov 2026 at 08:02, Doorstep <office@x.de> wrote:\n> old", "Danke!"),
        ("Ja.\n> quoted\nNein.", "Ja.\nNein."),
        ("Gut.\n\n-----Ursprüngliche Nachricht-----\nVon: Büro", "Gut."),
        ("Gut.\n\nVon: Büro <office@x.de>\nGesendet: Montag, 30. November 2026 08:02\nAn: ich", "Gut."),
        ("Bis bald\n-- \nJürgen Müller\nTel. 0221 1", "Bis bald"),
        # No date in it: the customer's own sentence, not a mail program's attribution line.
        ("Am Montag schrieb ich Ihnen:\nHallo", "Am Montag schrieb ich Ihnen:\nHallo"),
    ],
)
def test_the_reply_part_drops_quotes_attributions_outlook_headers_and_signatures(text, expected):
    assert reply_part(text) == expected


def test_an_html_only_mail_becomes_text_without_script_and_its_kept_html_has_no_script_image_or_js_link():
    mail = parse_mail(sample("html_only_script.eml"))

    assert mail.subject == "Bitte um Rückruf"
    assert mail.text.startswith("Bitte rufen Sie mich zurück.\nTelefon: 0221 123456")
    assert "alert" not in mail.text and "evil" not in mail.text and "color" not in mail.text
    for dangerous in ("<script", "alert", "onerror", "javascript:", "<img", "tracker", "<style"):
        assert dangerous not in mail.html
    assert '<a href="https://example.com/plan" rel="noopener noreferrer nofollow">Plan</a>' in mail.html


def test_an_out_of_office_reply_is_recognised_by_its_headers_and_by_its_subject_alone():
    assert parse_mail(sample("out_of_office.eml")).is_auto_reply
    for subject in ("Abwesenheitsnotiz: Termin", "Afwezigheidsbericht: afspraak", "Out of Office: visit"):
        raw = f"From: a@example.de\r\nSubject: {subject}\r\nMessage-ID: <x@y>\r\n\r\nweg\r\n".encode()
        assert parse_mail(raw).is_auto_reply, subject


@pytest.mark.parametrize(
    "header", ["Auto-Submitted: auto-generated", "X-Autoreply: yes", "X-Autorespond: 1", "Precedence: bulk"]
)
def test_automatic_mail_headers_mark_an_auto_reply(header):
    raw = f"From: a@example.de\r\n{header}\r\nSubject: Termin\r\n\r\nText\r\n".encode()
    assert parse_mail(raw).is_auto_reply


def test_auto_submitted_no_is_a_person_writing():
    raw = b"From: a@example.de\r\nAuto-Submitted: no\r\nSubject: Termin\r\n\r\nText\r\n"
    assert not parse_mail(raw).is_auto_reply


def test_a_dsn_names_our_original_message_and_the_failed_recipient():
    mail = parse_mail(sample("dsn_bounce.eml"))

    assert mail.is_bounce and mail.is_auto_reply
    assert mail.bounce.failed
    assert mail.bounce.original_message_id == "<176452.13.4@doorstep.example>"
    assert mail.bounce.recipient == "kein.postfach@example.org"
    assert mail.bounce.status == "5.1.1"
    assert "User unknown" in mail.bounce.diagnostic


def test_our_header_our_message_id_or_an_automatic_mail_from_our_address_make_a_loop():
    ours = b"From: a@example.de\r\nMessage-ID: <signed@doorstep.example>\r\n\r\nx"
    automatic = b"From: Doorstep <Office@Heizung-Beispiel.de>\r\nAuto-Submitted: auto-generated\r\n\r\nText\r\n"

    assert parse_mail(with_header(b"From: a@example.de\r\n\r\nx", "X-Doorstep", "outbox")).is_loop
    assert parse_mail(ours, is_our_message_id=lambda value: value == "<signed@doorstep.example>").is_loop
    assert not parse_mail(ours, is_our_message_id=lambda value: False).is_loop
    assert parse_mail(automatic, own_addresses=OURS).is_loop


def test_a_person_writing_from_our_own_address_is_no_loop_but_marked_as_from_us():
    raw = b"From: Doorstep <Office@Heizung-Beispiel.de>\r\nSubject: WG: Anfrage\r\n\r\nText\r\n"

    mail = parse_mail(raw, own_addresses=OURS)

    assert not mail.is_loop and mail.from_own_address
    assert not parse_mail(b"From: a@example.de\r\n\r\nx", own_addresses=OURS).from_own_address


def test_attachments_keep_name_type_and_bytes():
    mail = parse_mail(sample("new_unknown_sender.eml"))

    photo, program = mail.attachments
    assert (photo.filename, photo.content_type, photo.size) == ("typenschild.jpg", "image/jpeg", 446)
    assert photo.content.startswith(b"\xff\xd8")
    assert (program.filename, program.content_type) == ("rechnung.pdf.exe", "application/octet-stream")


def test_an_attachments_path_in_its_name_is_dropped():
    raw = mail_with_attachment(size=10, filename="../../etc/passwd.pdf", sender="a@example.de")
    [attachment] = parse_mail(raw).attachments
    assert attachment.filename == "passwd.pdf"


@pytest.mark.parametrize(
    "raw", [b"", b"   \r\n", b"\x00\x01\x02\xff\xfe garbage", b"Subject: no sender\r\n\r\ntext", None, "text"]
)
def test_garbage_is_refused(raw):
    with pytest.raises(ParseError):
        parse_mail(raw)


def test_the_garbage_sample_is_refused():
    with pytest.raises(ParseError):
        parse_mail(sample("garbage.eml"))


def storable(value: str) -> bool:
    return "\x00" not in value and value.encode("utf-8", errors="strict") is not None


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    name=st.sampled_from(["reply_de_quoted.eml", "reply_nl.eml", "new_unknown_sender.eml", "dsn_bounce.eml"]),
    edits=st.lists(
        st.tuples(
            st.floats(0, 1),
            st.sampled_from([b"", b"\x00", b"\xff\xfe", b"\xc3", b"=?utf-8?q?=FF=?=", b"\r\n\r\n", b"To: a:<b@"]),
            st.integers(0, 40),
        ),
        max_size=12,
    ),
)
def test_a_damaged_mail_is_read_or_refused_and_what_is_read_can_be_stored(name, edits):
    raw = bytearray(sample(name))
    for where, insert, cut in edits:
        position = int(where * len(raw))
        raw[position : position + cut] = insert
    try:
        mail = parse_mail(bytes(raw))
    except ParseError:
        return
    texts = [mail.subject, mail.text, mail.reply_text, mail.html, mail.from_name, mail.from_address, mail.message_id]
    texts += [value for header in mail.headers for value in header] + [a.filename for a in mail.attachments]
    if mail.bounce:
        texts += [mail.bounce.recipient, mail.bounce.diagnostic, mail.bounce.original_message_id]
    assert all(storable(text) for text in texts)
