"""The working hours, closures and firm kept across requests (issue #11): every change reaches the very next page."""

import re
from datetime import date, time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments import plan_inputs
from appointments.links import invitation_token
from appointments.models import Closure, WorkingPeriod
from appointments.services.booking import booking_invite
from customers.models import Firm
from tests.factories import CustomerFactory, FirmFactory, OfficeUserFactory, ServiceTypeFactory, TechnicianFactory

# Kept only outside a transaction: these tests commit, as the admin and the pages do.
pytestmark = pytest.mark.django_db(transaction=True)

PAGE = reverse("selfservice:page")


@pytest.fixture
def world(client):
    FirmFactory(name="Haustechnik Verhaag GmbH")
    office = OfficeUserFactory()
    service_type = ServiceTypeFactory()
    technician = TechnicianFactory(service_types=[service_type])
    customer = CustomerFactory(responsible=office, preferred_language="de")
    invitation = booking_invite(customer=customer, service_type=service_type, actor=office)
    client.get(reverse("selfservice:open", args=[invitation_token(invitation)]))
    return {"service_type": service_type, "technician": technician}


def offered_days(client) -> list[date]:
    response = client.get(PAGE)
    assert response.status_code == 200
    values = re.findall(r'name="window" value="([^"]+)"', response.content.decode())
    return sorted({date.fromisoformat(value[:10]) for value in values})


def test_a_page_after_the_first_reads_neither_the_working_hours_nor_the_closures_nor_the_firm(client, world):
    offered_days(client)

    with CaptureQueriesContext(connection) as queries:
        offered_days(client)

    tables = " ".join(query["sql"] for query in queries.captured_queries)
    assert "appointments_workingperiod" not in tables
    assert "appointments_closure" not in tables
    assert "customers_firm" not in tables


def test_a_change_to_the_working_hours_is_seen_by_the_very_next_page(client, world):
    first = offered_days(client)[0]

    WorkingPeriod.objects.filter(technician=world["technician"], weekday=first.weekday()).delete()

    assert first not in offered_days(client)


def test_new_working_hours_are_seen_by_the_very_next_page(client, world):
    WorkingPeriod.objects.filter(technician=world["technician"]).delete()
    assert offered_days(client) == []

    WorkingPeriod.objects.create(technician=world["technician"], weekday=2, starts=time(7, 30), ends=time(16, 30))

    assert {day.weekday() for day in offered_days(client)} == {2}


def test_a_new_closure_is_seen_by_the_very_next_page(client, world):
    first = offered_days(client)[0]

    Closure.objects.create(first_day=first, last_day=first, reason="Betriebsausflug")

    assert first not in offered_days(client)


def test_a_technician_who_no_longer_does_the_service_is_seen_by_the_very_next_page(client, world):
    assert offered_days(client)

    world["technician"].service_types.clear()

    assert offered_days(client) == []


def test_a_technician_made_inactive_is_seen_by_the_very_next_page(client, world):
    assert offered_days(client)

    world["technician"].is_active = False
    world["technician"].save()

    assert offered_days(client) == []


def test_a_change_to_the_firm_is_seen_by_the_very_next_page(client, world):
    assert "Haustechnik Verhaag GmbH" in client.get(PAGE).content.decode()

    firm = Firm.objects.get()
    firm.name = "Verhaag Wärme GmbH"
    firm.save()

    assert "Verhaag Wärme GmbH" in client.get(PAGE).content.decode()


def test_what_a_transaction_read_is_not_kept_after_it_rolls_back(world):
    service_type = world["service_type"]
    plan_inputs.working_hours(service_type)

    with pytest.raises(RuntimeError), transaction.atomic():
        WorkingPeriod.objects.create(technician=world["technician"], weekday=5, starts=time(8), ends=time(12))
        assert 5 in plan_inputs.working_hours(service_type)[world["technician"].pk]
        raise RuntimeError("rolled back")

    assert 5 not in plan_inputs.working_hours(service_type)[world["technician"].pk]


class _DownCache:
    def __getattr__(self, name):
        def refuse(*args, **kwargs):
            raise ConnectionError("Connection refused")

        return refuse


def test_with_the_cache_down_every_page_reads_the_database(client, world, monkeypatch, caplog):
    monkeypatch.setattr(plan_inputs, "cache", _DownCache())
    monkeypatch.setattr(plan_inputs, "_cache_paused_until", 0.0)
    first = offered_days(client)[0]

    Closure.objects.create(first_day=first, last_day=first, reason="Betriebsausflug")

    assert first not in offered_days(client)
    # Said once, not per request: the cache is left alone for a while.
    reads = [record for record in caplog.records if "read from the database" in record.getMessage()]
    assert len(reads) == 1
