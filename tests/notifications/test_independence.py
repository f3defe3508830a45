"""notifications/ depends on no app whose mails it sends: those apps register their kinds with it."""

import ast
from pathlib import Path

import pytest

from appointments.services import appointment_schedule
from journal.models import JournalEntry
from notifications.models import MessageKind, MessageStatus, OutboxMessage
from notifications.registry import UnregisteredKind, kind_registration
from notifications.services import message_deliver, message_queue
from tests.factories import CustomerFactory, local_dt

NOTIFICATIONS = Path(__file__).resolve().parents[2] / "notifications"
FORBIDDEN = "appointments"


def names_a_forbidden_module(name: str | None) -> bool:
    return name is not None and (name == FORBIDDEN or name.startswith(FORBIDDEN + "."))


def forbidden_imports(path: Path) -> list[str]:
    """Every import of appointments in the file, at any depth (a function-local import counts too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [
                f"{path.name}:{node.lineno} import {alias.name}"
                for alias in node.names
                if names_a_forbidden_module(alias.name)
            ]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and names_a_forbidden_module(node.module):
            found.append(f"{path.name}:{node.lineno} from {node.module} import …")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr)
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and names_a_forbidden_module(node.args[0].value)
        ):
            found.append(f"{path.name}:{node.lineno} import_module({node.args[0].value!r})")
    return found


def notifications_sources() -> list[Path]:
    return sorted(
        path for path in NOTIFICATIONS.rglob("*.py") if "migrations" not in path.relative_to(NOTIFICATIONS).parts
    )


def test_the_check_sees_every_way_of_importing_appointments(tmp_path):
    source = tmp_path / "sample.py"
    source.write_text(
        "import appointments\n"
        "import appointments.models as models\n"
        "from appointments.links import absolute_link\n"
        "from appointments import cutoff\n"
        "def later():\n"
        "    from appointments.models import AppointmentStatus\n"
        "    return importlib.import_module('appointments.formatting')\n"
        "import appointments_archive\n"
        "from . import appointments_like\n"
    )

    assert len(forbidden_imports(source)) == 6


def test_notifications_imports_nothing_from_appointments():
    sources = notifications_sources()
    assert NOTIFICATIONS / "services.py" in sources
    assert not any("migrations" in path.parts for path in sources)

    offending = [found for path in sources for found in forbidden_imports(path)]

    assert offending == []


def test_every_message_kind_is_registered_by_the_app_that_queues_it():
    for kind in MessageKind:
        assert kind_registration(kind).kind == kind


@pytest.mark.django_db
def test_queueing_a_kind_nobody_registered_fails_clearly_and_writes_nothing(
    customer, service_type, technician, office
):
    appointment = appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(3, 8), actor=office
    )
    messages, entries = OutboxMessage.objects.count(), JournalEntry.objects.count()

    with pytest.raises(UnregisteredKind, match=r"'fax' is not registered.*register_kind\('fax'"):
        message_queue(kind="fax", appointment=appointment)

    assert (OutboxMessage.objects.count(), JournalEntry.objects.count()) == (messages, entries)


@pytest.mark.django_db
def test_queueing_a_kind_nobody_registered_fails_even_for_a_customer_without_an_address(
    service_type, technician, office
):
    customer = CustomerFactory(email="", responsible=office)
    appointment = appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(3, 8), actor=office
    )
    entries = JournalEntry.objects.count()

    with pytest.raises(UnregisteredKind):
        message_queue(kind="fax", appointment=appointment)

    assert JournalEntry.objects.count() == entries


@pytest.mark.django_db
def test_a_stored_message_of_an_unregistered_kind_fails_for_good_instead_of_stopping_the_batch(
    customer, service_type, technician, office, firm, mailoutbox
):
    appointment = appointment_schedule(
        customer=customer, service_type=service_type, technician=technician, window_start=local_dt(3, 8), actor=office
    )
    message = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=message.pk).update(kind="fax")

    assert message_deliver(message_id=message.pk) == MessageStatus.FAILED

    message.refresh_from_db()
    assert "'fax' is not registered" in message.last_error
    assert message.appointment == appointment
    assert mailoutbox == []
