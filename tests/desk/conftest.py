"""Fixtures the desk's test files share; a file that needs another firm or office person defines its own."""

import pytest

from tests.factories import CustomerFactory, FirmFactory, OfficeUserFactory


@pytest.fixture
def office(db):
    """The office person who owns what a test creates; the firm exists, as mails and pages name it."""
    FirmFactory()
    return OfficeUserFactory(first_name="Sandra", last_name="Brinkmann")


@pytest.fixture
def media_root(settings, tmp_path):
    """Inbound attachments land in the test's own folder, never in var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def firm(db):
    """The firm the inbound samples are addressed to (office@heizung-beispiel.de): its own address marks a loop."""
    return FirmFactory(email="office@heizung-beispiel.de")


@pytest.fixture
def juergen(firm):
    """The customer the inbound samples come from."""
    return CustomerFactory(full_name="Jürgen Müller", email="juergen.mueller@example.de")
