"""Every entry about mail that came in reads as a sentence in the reader's language, built from its data."""

import pytest

from desk.services import inbound_assign, inbound_dismiss, inbound_receive
from journal.models import JournalEntry
from tests.desk.inbound_samples import sample
from tests.desk.journal_texts import read
from tests.factories import CustomerFactory, FirmFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


def test_every_inbound_action_is_said_in_german_dutch_and_english(office_user):
    FirmFactory(email="office@heizung-beispiel.de")
    juergen = CustomerFactory(full_name="Jürgen Müller", email="juergen.mueller@example.de")
    received = inbound_receive(raw=sample("reply_de_quoted.eml"), source="pipe")
    inbound_receive(raw=sample("out_of_office.eml"), source="pipe")
    unknown = inbound_receive(raw=sample("new_unknown_sender.eml"), source="pipe")
    inbound_assign(mail=unknown, customer=juergen, actor=office_user)
    inbound_dismiss(mail=received, reason="Telefonisch geklärt", actor=office_user)
    entries = {entry.action: entry.data for entry in JournalEntry.objects.filter(action__startswith="inbound.")}

    # A mail assigned from triage is journalled as received (it is owed a reply); see the test below.
    assert set(entries) == {"inbound.received", "inbound.auto_reply", "inbound.dismissed"}
    for action, data in entries.items():
        texts = {language: read(action, data, language) for language in ("de", "nl", "en")}
        assert "x" not in texts.values(), action
        assert len(set(texts.values())) == 3, (action, texts)
    assert read("inbound.dismissed", entries["inbound.dismissed"], "nl").endswith(": Telefonisch geklärt")


def test_an_auto_reply_and_a_mail_assigned_by_the_office_read_as_sentences():
    data = {"from": "kunde@example.org", "from_name": "Anna Kunde", "subject": "Abwesend", "reason": ""}

    assert read("inbound.auto_reply", data, "en") == "Automatic reply from Anna Kunde <kunde@example.org>: Abwesend"
    assert read("inbound.assigned", data, "en") == "Email from Anna Kunde <kunde@example.org>: Abwesend"
    assert read("inbound.assigned", data, "de") != read("inbound.assigned", data, "en")
