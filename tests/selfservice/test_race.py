"""Fifty customers post the same window at the same moment: one booking per free technician, friendly
conflicts for the rest."""

import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from appointments.links import invitation_token
from appointments.models import Appointment
from appointments.services.booking import booking_invite
from tests.factories import CustomerFactory, FirmFactory, OfficeUserFactory, ServiceTypeFactory, TechnicianFactory

CUSTOMERS = 50 if connection.vendor == "postgresql" else 12


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("technicians", [1, 2])
def test_concurrent_posts_for_one_window_book_it_once_per_free_technician(settings, technicians):
    settings.RATELIMIT_BOOKING_POSTS = 10_000
    FirmFactory()
    office = OfficeUserFactory()
    service_type = ServiceTypeFactory()
    TechnicianFactory.create_batch(technicians, service_types=[service_type])
    invitations = [
        booking_invite(customer=CustomerFactory(responsible=office), service_type=service_type, actor=office)
        for _ in range(CUSTOMERS)
    ]
    clients = [Client(raise_request_exception=False) for _ in invitations]
    for client, invitation in zip(clients, invitations, strict=True):
        client.get(reverse("selfservice:open", args=[invitation_token(invitation)]))
    page = clients[0].get(reverse("selfservice:page")).content.decode()
    window = page.split('name="window" value="', 1)[1].split('"', 1)[0]

    barrier = threading.Barrier(len(clients))
    statuses: list[int] = [0] * len(clients)

    def post(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            statuses[index] = clients[index].post(reverse("selfservice:book"), {"window": window}).status_code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(index,)) for index in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # Both customers who picked the least loaded technician at once get a visit: the second, the other one.
    assert sorted(statuses) == [302] * technicians + [409] * (len(clients) - technicians), statuses
    assert Appointment.objects.values("technician").distinct().count() == Appointment.objects.count() == technicians
