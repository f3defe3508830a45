"""The .eml samples of tests/desk/samples and mails built for one test (a 20 MB attachment is never committed)."""

from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent / "samples"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def with_header(raw: bytes, name: str, value: str) -> bytes:
    """`raw` with one more header line at the top (e.g. a reply address in Delivered-To)."""
    return f"{name}: {value}\r\n".encode() + raw


def replace(raw: bytes, old: str, new: str) -> bytes:
    assert old.encode() in raw, old
    return raw.replace(old.encode(), new.encode())


def mail_with_attachment(
    *, size: int, filename: str = "heizungsplan.pdf", content_type: str = "application/pdf", sender: str
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Kunde <{sender}>"
    message["To"] = "office@heizung-beispiel.de"
    message["Subject"] = "Plan der Heizung"
    message["Message-ID"] = make_msgid(domain="example.de")
    message.set_content("Anbei der Plan.\n")
    maintype, subtype = content_type.split("/")
    # Not all zeros: a real file does not compress to nothing, and neither must this one in the raw copy.
    content = (b"%PDF-1.7\n" + bytes(range(256)) * (size // 256 + 1))[:size]
    message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()
