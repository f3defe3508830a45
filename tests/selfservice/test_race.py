"""Fifty customers post the same window at the same moment: one booking per free technician, friendly
conflicts for the rest."""

import threading
from datetime import timedelta
from itertools import pairwise

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from appointments.links import invitation_token
from appointments.models import Appointment
from appointments.services.booking import booking_invite
from tests.factories import CustomerFactory, FirmFactory, OfficeUserFactory, ServiceTypeFactory, TechnicianFactory

CUSTOMERS = 50


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("technicians", "minutes", "fit"),
    # With the 30-minute buffer a 4-hour window holds one 3.5-hour job per technician, or two 1.5-hour ones.
    [(1, 210, 1), (1, 90, 2), (2, 90, 2)],
)
def test_concurrent_posts_for_one_window_book_as_many_visits_as_fit(settings, technicians, minutes, fit):
    settings.RATELIMIT_BOOKING_POSTS = 10_000
    FirmFactory()
    office = OfficeUserFactory()
    service_type = ServiceTypeFactory(duration=timedelta(minutes=minutes))
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
            barrier.wait(timeout=60)
            statuses[index] = clients[index].post(reverse("selfservice:book"), {"window": window}).status_code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(index,)) for index in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        # Bounds only a hang: each join returns as soon as its booking is done, however busy the machine.
        thread.join(timeout=300)

    # Customers who picked the least loaded technician at once get a visit with the other one or later in the
    # window, as long as a slot is left; everyone else gets the friendly conflict page, nobody a 500.
    booked = technicians * fit
    assert sorted(statuses) == [302] * booked + [409] * (len(clients) - booked), statuses
    assert Appointment.objects.count() == booked
    for technician_id in Appointment.objects.values_list("technician", flat=True).distinct():
        planned = sorted(
            Appointment.objects.filter(technician_id=technician_id).values_list("planned_start", "occupied_until")
        )
        assert all(end <= next_start for (_start, end), (next_start, _end) in pairwise(planned)), planned
