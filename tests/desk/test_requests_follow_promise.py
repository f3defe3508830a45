"""A request's call follows its promise when the office moves it (the Move button, "no answer yet"): the
customer's page shows the time they will really be called and may still move it."""

from datetime import date, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from desk.models import PromiseState, WebRequest
from desk.requests import call_changeable
from desk.services import promise_move, request_move_call, request_submit
from tests.factories import FirmFactory, OfficeUserFactory, request_fields

MONDAY = date(2026, 11, 30)


def at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


@pytest.fixture
def web_request(db):
    FirmFactory()
    OfficeUserFactory(first_name="Sandra", last_name="Brinkmann")
    return request_submit(fields=request_fields(), language="nl", now=at(MONDAY, 10))


@time_machine.travel(at(MONDAY, 11), tick=False)
def test_a_call_the_office_moved_is_the_one_the_customer_sees_and_may_move_again(web_request):
    moved = promise_move(promise=web_request.promise, due_at=at(date(2026, 12, 2), 10), reason="krank")

    web_request = WebRequest.objects.get(pk=web_request.pk)
    assert web_request.promise == moved
    assert call_changeable(web_request, now=timezone.now())

    web_request = request_move_call(web_request=web_request, due_at=at(date(2026, 12, 3), 14), now=timezone.now())
    assert web_request.promise.due_at == at(date(2026, 12, 3), 14)
    assert web_request.promise.state == PromiseState.OPEN


@time_machine.travel(at(MONDAY, 11), tick=False)
def test_the_move_itself_points_the_request_at_the_new_promise_once(web_request):
    with CaptureQueriesContext(connection) as queries:
        moved = promise_move(promise=web_request.promise, due_at=at(date(2026, 12, 2), 10), reason="krank")

    updates = [query["sql"] for query in queries if query["sql"].startswith('UPDATE "desk_webrequest"')]
    assert len(updates) == 1
    assert WebRequest.objects.get(pk=web_request.pk).promise == moved
